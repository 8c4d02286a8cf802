import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import type { Broker } from './broker.js';
import { isExchange } from './exchange.js';
import { isExchangeType } from './exchanges/index.js';
import { reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';
import { isPersistentBinding, isPersistentQueue, type VHost } from './vhost.js';

/** Something waiting for the definitions to be on disk (a channel holding a declare-ok). */
export interface DefinitionsWaiter {
  definitionsStored(): void;
}

/**
 * Counts changes to durable definitions and which of them are on disk, so
 * that a declare-ok is sent only once its declaration would survive a crash.
 */
export class DefinitionsJournal {
  private version = 0;
  private storedVersion = 0;
  private waiters: { version: number; waiter: DefinitionsWaiter }[] = [];

  constructor(
    private readonly onChange: () => void,
    private readonly reportError: UnexpectedErrorReporter = reportToStderr,
  ) {}

  changed(): void {
    this.version++;
    this.onChange();
  }

  /** Changes not yet on disk. */
  get pending(): boolean {
    return this.storedVersion < this.version;
  }

  /** The version a write about to start will store. */
  get current(): number {
    return this.version;
  }

  whenStored(waiter: DefinitionsWaiter): void {
    this.waiters.push({ version: this.version, waiter });
  }

  stored(version: number): void {
    this.storedVersion = Math.max(this.storedVersion, version);
    const ready = this.waiters.filter((w) => w.version <= this.storedVersion);
    this.waiters = this.waiters.filter((w) => w.version > this.storedVersion);
    for (const { waiter } of ready) {
      try {
        waiter.definitionsStored();
      } catch (error) {
        this.reportError(error, 'reply held for the definitions write');
      }
    }
  }
}

/**
 * Durable definitions in RabbitMQ's definitions format (the document
 * `rabbitmqctl export_definitions` writes), so the same tooling reads both.
 */
export interface DefinitionsDocument {
  warren_version?: string;
  vhosts: { name: string }[];
  queues: { name: string; vhost: string; durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> }[];
  exchanges: {
    name: string;
    vhost: string;
    type: string;
    durable: boolean;
    auto_delete: boolean;
    internal: boolean;
    arguments: Record<string, unknown>;
  }[];
  bindings: {
    source: string;
    vhost: string;
    destination: string;
    destination_type: 'queue' | 'exchange';
    routing_key: string;
    arguments: Record<string, unknown>;
  }[];
}

export function exportDefinitions(broker: Broker, version: string): DefinitionsDocument {
  const document: DefinitionsDocument = { warren_version: version, vhosts: [], queues: [], exchanges: [], bindings: [] };
  for (const vhost of broker.vhosts.values()) {
    document.vhosts.push({ name: vhost.name });
    for (const exchange of vhost.exchanges.values()) {
      if (exchange.name === '' || exchange.name.startsWith('amq.') || !exchange.options.durable) continue;
      document.exchanges.push({
        name: exchange.name,
        vhost: vhost.name,
        type: exchange.type,
        durable: true,
        auto_delete: exchange.options.autoDelete,
        internal: exchange.options.internal,
        arguments: tableToJson(exchange.options.arguments),
      });
    }
    for (const queue of vhost.queues.values()) {
      if (!isPersistentQueue(queue)) continue;
      document.queues.push({
        name: queue.name,
        vhost: vhost.name,
        durable: true,
        auto_delete: queue.options.autoDelete,
        arguments: tableToJson(queue.options.arguments),
      });
    }
    for (const exchange of vhost.exchanges.values()) {
      for (const binding of exchange.bindings.values()) {
        if (!isPersistentBinding(binding)) continue;
        document.bindings.push({
          source: exchange.name,
          vhost: vhost.name,
          destination: binding.destination.name,
          destination_type: isExchange(binding.destination) ? 'exchange' : 'queue',
          routing_key: binding.bindingKey,
          arguments: tableToJson(binding.args),
        });
      }
    }
  }
  return document;
}

/**
 * Restores what a definitions document describes, as stored: names a client
 * may not declare (a server-named amq.gen-* queue) included. One object that
 * cannot be restored is skipped and the rest comes up; returns what was
 * skipped, with the reason.
 */
export function importDefinitions(broker: Broker, document: DefinitionsDocument): string[] {
  if (document === null || typeof document !== 'object') return ['the document is not an object'];
  const problems: string[] = [];
  const owner = {};
  const each = <T>(kind: string, items: T[] | undefined, restore: (item: T) => void): void => {
    if (items !== undefined && !Array.isArray(items)) {
      problems.push(`${kind}s: not a list`);
      return;
    }
    for (const item of items ?? []) {
      try {
        restore(item);
      } catch (error) {
        problems.push(`${kind} ${describe(item)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  each('exchange', document.exchanges, (exchange) => {
    const vhost = vhostOf(broker, exchange);
    if (!isExchangeType(exchange.type)) throw new Error(`unknown exchange type '${String(exchange.type)}'`);
    vhost.declareExchange(text(exchange.name, 'name'), exchange.type, false, {
      durable: true,
      autoDelete: exchange.auto_delete === true,
      internal: exchange.internal === true,
      arguments: jsonToTable(exchange.arguments),
    });
  });
  each('queue', document.queues, (queue) => {
    vhostOf(broker, queue).restoreQueue(text(queue.name, 'name'), {
      durable: true,
      exclusive: false,
      autoDelete: queue.auto_delete === true,
      arguments: jsonToTable(queue.arguments),
    });
  });
  each('binding', document.bindings, (binding) => {
    const vhost = vhostOf(broker, binding);
    const args = jsonToTable(binding.arguments);
    const key = text(binding.routing_key, 'routing_key');
    if (binding.destination_type === 'exchange') vhost.bindExchange(text(binding.destination, 'destination'), text(binding.source, 'source'), key, args);
    else if (binding.destination_type === 'queue') vhost.bindQueue(text(binding.destination, 'destination'), text(binding.source, 'source'), key, args, owner);
    else throw new Error(`unknown destination_type '${String(binding.destination_type)}'`);
  });
  return problems;
}

function vhostOf(broker: Broker, item: { vhost: string }): VHost {
  const vhost = broker.vhost(item.vhost);
  if (vhost === undefined) throw new Error(`unknown vhost '${String(item.vhost)}'`);
  return vhost;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new Error(`${field} is not a string`);
  return value;
}

/** An object of the document, for a log line. */
function describe(item: unknown): string {
  const json = JSON.stringify(item) ?? String(item);
  return json.length > 300 ? `${json.slice(0, 300)}…` : json;
}

function tableToJson(table: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: FieldValue): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (Array.isArray(value)) return value.map(valueToJson);
  if ('scale' in value && 'value' in value && typeof value.scale === 'number') return Number(value.value) / 10 ** value.scale;
  if ('type' in value && 'value' in value && typeof value.type === 'string') return valueToJson(value.value as FieldValue);
  return tableToJson(value as FieldTable);
}

function jsonToTable(json: Record<string, unknown> | undefined): FieldTable {
  if (json !== undefined && json !== null && (typeof json !== 'object' || Array.isArray(json))) throw new Error('arguments is not a table');
  const table: FieldTable = {};
  for (const [key, value] of Object.entries(json ?? {})) table[key] = jsonToValue(value);
  return table;
}

function jsonToValue(value: unknown): FieldValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(jsonToValue);
  if (typeof value === 'object') return jsonToTable(value as Record<string, unknown>);
  return null;
}
