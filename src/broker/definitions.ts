import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import type { Broker } from './broker.js';
import { isExchange } from './exchange.js';
import { isExchangeType } from './exchanges/index.js';
import { exportPolicies, importPolicies, type ParameterDocument, type PolicyDocument } from './policy-definitions.js';
import { isPersistentBinding, isPersistentQueue } from './vhost.js';

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

  constructor(private readonly onChange: () => void) {}

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
    for (const { waiter } of ready) waiter.definitionsStored();
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
  policies?: PolicyDocument[];
  /** Vhost runtime parameters: operator policies (component operator_policy). */
  parameters?: ParameterDocument[];
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
  Object.assign(document, exportPolicies(broker));
  return document;
}

/** Declares what a definitions document describes; returns what it could not (with the reason). */
export function importDefinitions(broker: Broker, document: DefinitionsDocument): string[] {
  const problems: string[] = [];
  const owner = {};
  // Before the queues and exchanges, as RabbitMQ imports them: each is declared with its policy.
  problems.push(...importPolicies(broker, document));
  for (const exchange of document.exchanges ?? []) {
    const vhost = broker.vhost(exchange.vhost);
    if (vhost === undefined || !isExchangeType(exchange.type)) {
      problems.push(`exchange '${exchange.name}': unknown vhost '${exchange.vhost}' or type '${exchange.type}'`);
      continue;
    }
    vhost.declareExchange(exchange.name, exchange.type, false, {
      durable: true,
      autoDelete: exchange.auto_delete,
      internal: exchange.internal,
      arguments: jsonToTable(exchange.arguments),
    });
  }
  for (const queue of document.queues ?? []) {
    const vhost = broker.vhost(queue.vhost);
    if (vhost === undefined) {
      problems.push(`queue '${queue.name}': unknown vhost '${queue.vhost}'`);
      continue;
    }
    vhost.declareQueue(
      queue.name,
      false,
      { durable: true, exclusive: false, autoDelete: queue.auto_delete, arguments: jsonToTable(queue.arguments) },
      owner,
    );
  }
  for (const binding of document.bindings ?? []) {
    const vhost = broker.vhost(binding.vhost);
    try {
      if (vhost === undefined) throw new Error(`unknown vhost '${binding.vhost}'`);
      const args = jsonToTable(binding.arguments);
      if (binding.destination_type === 'exchange') vhost.bindExchange(binding.destination, binding.source, binding.routing_key, args);
      else vhost.bindQueue(binding.destination, binding.source, binding.routing_key, args, owner);
    } catch (error) {
      problems.push(`binding ${binding.source} -> ${binding.destination}: ${(error as Error).message}`);
    }
  }
  return problems;
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
