import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import { isValidPasswordHash, hashPassword, parseHashingAlgorithm, parseTags } from './access/users.js';
import type { Broker } from './broker.js';
import { isExchange } from './exchange.js';
import { isExchangeType } from './exchanges/index.js';
import { exportPolicies, importPolicies, type ParameterDocument, type PolicyDocument } from './policy-definitions.js';
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
  /** Absent in documents written before Warren had users: guest on / was implied. */
  users?: UserDefinition[];
  vhosts: VHostDefinition[];
  permissions?: { user: string; vhost: string; configure: string; write: string; read: string }[];
  topic_permissions?: { user: string; vhost: string; exchange: string; write: string; read: string }[];
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

/** A user as definitions carry it: a hash (HTTP and rabbitmqctl exports) or a plain password (hand-written files). */
export interface UserDefinition {
  name: string;
  password_hash?: string;
  password?: string;
  hashing_algorithm?: string;
  tags?: string | string[];
  limits?: Record<string, unknown>;
}

/** A vhost: the HTTP export's {name}, or rabbitmqctl's with metadata; both are read. */
export interface VHostDefinition {
  name: string;
  description?: string;
  tags?: string | string[];
  default_queue_type?: string;
  metadata?: { description?: string; tags?: string | string[]; default_queue_type?: string };
  limits?: unknown;
}

export function exportDefinitions(broker: Broker, version: string): DefinitionsDocument {
  const document: DefinitionsDocument = {
    warren_version: version,
    users: [],
    vhosts: [],
    permissions: broker.permissions.all().map((p) => ({ user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read })),
    topic_permissions: broker.permissions
      .allTopic()
      .map((p) => ({ user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read })),
    queues: [],
    exchanges: [],
    bindings: [],
  };
  for (const user of broker.users.values()) {
    document.users?.push({
      name: user.name,
      password_hash: user.passwordHash,
      hashing_algorithm: user.hashingAlgorithm,
      tags: [...user.tags],
      limits: {},
    });
  }
  for (const vhost of broker.vhosts.values()) {
    const { description, tags, defaultQueueType } = vhost.metadata;
    const definition: VHostDefinition = { name: vhost.name };
    // RabbitMQ 3.10's HTTP export has only the name; metadata goes in rabbitmqctl's form, which 3.10 imports too.
    if (description !== '' || tags.length > 0 || defaultQueueType !== 'classic') {
      definition.metadata = { description, tags: [...tags] };
      if (defaultQueueType !== 'classic') definition.metadata.default_queue_type = defaultQueueType;
    }
    document.vhosts.push(definition);
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

/**
 * Imports the users, vhosts, permissions and topic permissions of a document,
 * in RabbitMQ's order, adding to what exists (never deleting). Returns what it
 * could not import, with the reason.
 */
export function importAccess(broker: Broker, document: Partial<DefinitionsDocument>): string[] {
  const problems: string[] = [];
  for (const user of document.users ?? []) {
    try {
      if (typeof user.name !== 'string' || user.name === '') throw new Error('no name');
      const hashingAlgorithm = parseHashingAlgorithm(user.hashing_algorithm);
      let passwordHash = user.password_hash;
      if (passwordHash === undefined) passwordHash = typeof user.password === 'string' ? hashPassword(user.password, hashingAlgorithm) : '';
      if (!isValidPasswordHash(passwordHash)) throw new Error(`password_hash is not base64: '${passwordHash}'`);
      broker.putUser({ name: user.name, passwordHash, hashingAlgorithm, tags: parseTags(user.tags) });
    } catch (error) {
      problems.push(`user '${String(user.name)}': ${(error as Error).message}`);
    }
  }
  for (const vhost of document.vhosts ?? []) {
    if (typeof vhost.name !== 'string' || vhost.name === '') {
      problems.push(`vhost without a name`);
      continue;
    }
    const metadata = vhost.metadata ?? {};
    const description = vhost.description ?? metadata.description;
    const tags = vhost.tags ?? metadata.tags;
    const defaultQueueType = vhost.default_queue_type ?? metadata.default_queue_type;
    broker.putVhost(vhost.name, {
      description: typeof description === 'string' ? description : undefined,
      tags: tags === undefined ? undefined : parseTags(tags),
      defaultQueueType: typeof defaultQueueType === 'string' ? defaultQueueType : undefined,
    });
  }
  for (const permission of document.permissions ?? []) {
    try {
      broker.setPermission({
        user: permission.user,
        vhost: permission.vhost,
        configure: permission.configure ?? '',
        write: permission.write ?? '',
        read: permission.read ?? '',
      });
    } catch (error) {
      problems.push(`permissions of '${permission.user}' in vhost '${permission.vhost}': ${(error as Error).message}`);
    }
  }
  for (const permission of document.topic_permissions ?? []) {
    try {
      broker.setTopicPermission({
        user: permission.user,
        vhost: permission.vhost,
        exchange: permission.exchange,
        write: permission.write ?? '',
        read: permission.read ?? '',
      });
    } catch (error) {
      problems.push(`topic permissions of '${permission.user}' in vhost '${permission.vhost}': ${(error as Error).message}`);
    }
  }
  return problems;
}

/**
 * Restores what a definitions document describes, as stored: names a client
 * may not declare (a server-named amq.gen-* queue) included. Users, vhosts and
 * permissions first, then policies, then exchanges, queues and bindings, as
 * RabbitMQ imports them; an exchange or queue that exists is left as it is.
 * One object that cannot be restored is skipped and the rest comes up;
 * returns what was skipped, with the reason.
 */
export function importDefinitions(broker: Broker, document: DefinitionsDocument): string[] {
  if (document === null || typeof document !== 'object') return ['the document is not an object'];
  const problems = importAccess(broker, document);
  problems.push(...importPolicies(broker, document));
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
    const name = text(exchange.name, 'name');
    if (vhost.exchanges.has(name)) return;
    vhost.declareExchange(name, exchange.type, false, {
      durable: true,
      autoDelete: exchange.auto_delete === true,
      internal: exchange.internal === true,
      arguments: jsonToTable(exchange.arguments),
    });
  });
  each('queue', document.queues, (queue) => {
    const vhost = vhostOf(broker, queue);
    const name = text(queue.name, 'name');
    if (vhost.queues.has(name)) return;
    vhost.restoreQueue(name, {
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

/**
 * The per-vhost form (RabbitMQ's GET /api/definitions/{vhost}): the vhost's
 * policies, queues, exchanges and bindings without their `vhost` keys; no
 * users, vhosts or permissions.
 */
export function exportVhostDefinitions(broker: Broker, vhost: string, version: string): VhostDefinitionsDocument {
  const all = exportDefinitions(broker, version);
  const inVhost = <T extends { vhost: string }>(items: T[]): Omit<T, 'vhost'>[] =>
    items.filter((item) => item.vhost === vhost).map(({ vhost: _vhost, ...rest }) => rest);
  return {
    warren_version: version,
    policies: inVhost(all.policies ?? []),
    queues: inVhost(all.queues),
    exchanges: inVhost(all.exchanges),
    bindings: inVhost(all.bindings),
  };
}

export interface VhostDefinitionsDocument {
  warren_version?: string;
  policies?: Omit<PolicyDocument, 'vhost'>[];
  queues?: Omit<DefinitionsDocument['queues'][number], 'vhost'>[];
  exchanges?: Omit<DefinitionsDocument['exchanges'][number], 'vhost'>[];
  bindings?: Omit<DefinitionsDocument['bindings'][number], 'vhost'>[];
}

/**
 * Imports a per-vhost document (RabbitMQ's POST /api/definitions/{vhost}):
 * everything goes into `vhost`, whatever `vhost` keys the objects carry, so an
 * export of one vhost imports into another.
 */
export function importVhostDefinitions(broker: Broker, vhost: string, document: VhostDefinitionsDocument): string[] {
  if (broker.vhost(vhost) === undefined) return [`no such vhost '${vhost}'`];
  const into = <T extends object>(items: T[] | undefined): (T & { vhost: string })[] => (items ?? []).map((item) => ({ ...item, vhost }));
  return importDefinitions(broker, {
    vhosts: [],
    policies: into(document.policies),
    queues: into(document.queues),
    exchanges: into(document.exchanges),
    bindings: into(document.bindings),
  });
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
