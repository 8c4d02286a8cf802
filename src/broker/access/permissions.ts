import { accessRefused } from '../../protocol/errors.js';

export type Operation = 'configure' | 'write' | 'read';
export type ResourceKind = 'queue' | 'exchange';

/**
 * A RabbitMQ permission pattern compiled for JavaScript. RabbitMQ runs PCRE
 * unanchored (`lim` matches `xlim.q`) and reads '' as `^$`. PCRE's \A, \Z and
 * \z are translated; what still does not compile throws, so that a pattern is
 * refused rather than matched differently.
 */
export function compilePattern(pattern: string): RegExp {
  if (pattern === '') return /^$/;
  const translated = translatePcre(pattern);
  try {
    return new RegExp(translated, 'u');
  } catch (unicodeError) {
    // 'u' refuses escapes PCRE allows (`\-`, `\_`); without it they mean the
    // character itself, as in PCRE. \p{…} would change meaning, so it may not fall back.
    if (/\\[pPu]/.test(translated)) throw invalidPattern(pattern, unicodeError);
    try {
      return new RegExp(translated);
    } catch (error) {
      throw invalidPattern(pattern, error);
    }
  }
}

function invalidPattern(pattern: string, error: unknown): Error {
  return new Error(`invalid regular expression '${pattern}': ${(error as Error).message}`);
}

/** \A → ^, \Z → end or before a final newline, \z → $; outside character classes, escapes kept. */
function translatePcre(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1];
      i++;
      if (!inClass && next === 'A') out += '^';
      else if (!inClass && next === 'Z') out += '(?=\\n?$)';
      else if (!inClass && next === 'z') out += '$';
      else out += c + next;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

/** configure/write/read patterns of one user in one vhost. */
export interface Permission {
  readonly user: string;
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

/** write/read patterns on the routing keys of one topic exchange, for one user in one vhost. */
export interface TopicPermission {
  readonly user: string;
  readonly vhost: string;
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}

interface CompiledPermission {
  readonly permission: Permission;
  readonly configure: RegExp;
  readonly write: RegExp;
  readonly read: RegExp;
}

interface CompiledTopicPermission {
  readonly permission: TopicPermission;
  readonly write: RegExp;
  readonly read: RegExp;
}

function key(user: string, vhost: string): string {
  return `${user}\u0000${vhost}`;
}

/** {username} and {vhost} in a topic pattern stand for the user and vhost it belongs to. */
function expandTopicPattern(pattern: string, user: string, vhost: string): string {
  return pattern.replaceAll('{username}', user).replaceAll('{vhost}', vhost);
}

/**
 * Every permission and topic permission of a broker. `version` grows with
 * each change, so a cached decision knows when it is stale.
 */
export class PermissionTable {
  private readonly permissions = new Map<string, CompiledPermission>();
  private readonly topicPermissions = new Map<string, Map<string, CompiledTopicPermission>>();
  version = 0;

  /** Sets a user's permissions in a vhost; throws (changing nothing) if a pattern does not compile. */
  set(permission: Permission): void {
    const compiled: CompiledPermission = {
      permission: { ...permission },
      configure: compilePattern(permission.configure),
      write: compilePattern(permission.write),
      read: compilePattern(permission.read),
    };
    this.permissions.set(key(permission.user, permission.vhost), compiled);
    this.version++;
  }

  get(user: string, vhost: string): Permission | undefined {
    return this.permissions.get(key(user, vhost))?.permission;
  }

  /** Removes a user's permissions in a vhost; its topic permissions stay (RabbitMQ clears those separately). */
  clear(user: string, vhost: string): boolean {
    const removed = this.permissions.delete(key(user, vhost));
    if (removed) this.version++;
    return removed;
  }

  setTopic(permission: TopicPermission): void {
    const compiled: CompiledTopicPermission = {
      permission: { ...permission },
      write: compilePattern(expandTopicPattern(permission.write, permission.user, permission.vhost)),
      read: compilePattern(expandTopicPattern(permission.read, permission.user, permission.vhost)),
    };
    const k = key(permission.user, permission.vhost);
    let byExchange = this.topicPermissions.get(k);
    if (byExchange === undefined) this.topicPermissions.set(k, (byExchange = new Map()));
    byExchange.set(permission.exchange, compiled);
    this.version++;
  }

  clearTopic(user: string, vhost: string, exchange?: string): boolean {
    const k = key(user, vhost);
    const byExchange = this.topicPermissions.get(k);
    if (byExchange === undefined) return false;
    const removed = exchange === undefined ? byExchange.size > 0 : byExchange.delete(exchange);
    if (exchange === undefined || byExchange.size === 0) this.topicPermissions.delete(k);
    if (removed) this.version++;
    return removed;
  }

  /** Whether the user may do anything in the vhost (connection.open). */
  hasAccess(user: string, vhost: string): boolean {
    return this.permissions.has(key(user, vhost));
  }

  /** RabbitMQ's rule: no record for the vhost refuses everything; the pattern matches anywhere in the name. */
  allows(user: string, vhost: string, operation: Operation, name: string): boolean {
    const compiled = this.permissions.get(key(user, vhost));
    return compiled !== undefined && compiled[operation].test(name);
  }

  /** Whether a routing key passes the user's topic permission on an exchange; none for it passes everything. */
  allowsTopic(user: string, vhost: string, exchange: string, operation: 'write' | 'read', routingKey: string): boolean {
    const compiled = this.topicPermissions.get(key(user, vhost))?.get(exchange);
    return compiled === undefined || compiled[operation].test(routingKey);
  }

  /** Whether the user has a topic permission on this exchange (else routing keys need no check). */
  restrictsTopic(user: string, vhost: string, exchange: string): boolean {
    return this.topicPermissions.get(key(user, vhost))?.has(exchange) === true;
  }

  all(): Permission[] {
    return [...this.permissions.values()].map((c) => c.permission);
  }

  allTopic(): TopicPermission[] {
    const out: TopicPermission[] = [];
    for (const byExchange of this.topicPermissions.values()) for (const c of byExchange.values()) out.push(c.permission);
    return out;
  }

  /** A user or vhost is gone: so are its permissions. */
  forget(match: (user: string, vhost: string) => boolean): void {
    for (const [k, c] of this.permissions) if (match(c.permission.user, c.permission.vhost)) this.permissions.delete(k);
    for (const [k, byExchange] of this.topicPermissions) {
      const first = byExchange.values().next().value as CompiledTopicPermission | undefined;
      if (first !== undefined && match(first.permission.user, first.permission.vhost)) this.topicPermissions.delete(k);
    }
    this.version++;
  }
}

/**
 * What one authenticated user may do in one vhost: the checks the AMQP
 * methods make, each throwing RabbitMQ's 403 text when refused. Reads the
 * table live, so a change applies to open connections at once.
 */
export class Access {
  constructor(
    readonly table: PermissionTable,
    readonly user: string,
    readonly vhost: string,
  ) {}

  check(operation: Operation, kind: ResourceKind, name: string): void {
    // RabbitMQ checks the default exchange under the name amq.default.
    const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
    if (!this.table.allows(this.user, this.vhost, operation, resource)) {
      throw accessRefused(`access to ${kind} '${resource}' in vhost '${this.vhost}' refused for user '${this.user}'`);
    }
  }

  checkTopic(operation: 'write' | 'read', exchange: string, routingKey: string): void {
    if (!this.table.allowsTopic(this.user, this.vhost, exchange, operation, routingKey)) {
      throw accessRefused(
        `access to topic '${routingKey}' in exchange '${exchange}' in vhost '${this.vhost}' refused for user '${this.user}'`,
      );
    }
  }
}
