import { ReplyCode } from '../protocol/reply-codes.js';
import { type Permission, PermissionTable, type TopicPermission } from './access/permissions.js';
import { hashPassword, type User } from './access/users.js';
import { Alarms } from './alarms.js';
import type { DefinitionsJournal } from './definitions.js';
import type { DeduplicationStore } from './dedup.js';
import type { Durability } from './durability.js';
import type { StreamStore } from './queues/stream.js';
import { BrokerStats } from './stats.js';
import { reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';
import { VHost, type VHostMetadata } from './vhost.js';

export type { User } from './access/users.js';

/** An open client connection as the broker sees it: whom it belongs to, and how to close it. */
export interface Session {
  readonly user: User | undefined;
  readonly vhost: VHost | undefined;
  forceClose(replyCode: number, text: string): void;
}

/** The user and vhost a node makes when it starts with nothing (RabbitMQ: default_user, default_vhost…). */
export interface DefaultAccess {
  user: string;
  pass: string;
  tags: readonly string[];
  vhost: string;
}

/** The broker model: vhosts, users and their permissions. No sockets, no files. */
export class Broker {
  /** Errors raised in timers and I/O callbacks of the model; the server points this at its log. */
  reportError: UnexpectedErrorReporter = reportToStderr;
  /** What the model's parts report through (it follows reportError when that is replaced). */
  readonly report: UnexpectedErrorReporter = (error, what, context) => this.reportError(error, what, context);
  readonly vhosts = new Map<string, VHost>();
  readonly users = new Map<string, User>();
  readonly permissions = new PermissionTable();
  readonly alarms = new Alarms(this.report);
  /** Open connections, so that deleting a user or vhost can close theirs. */
  readonly sessions = new Set<Session>();
  /** Login attempts by outcome (for metrics). */
  readonly logins = { succeeded: 0, failed: 0 };
  /** Message counters over every vhost, and the node's churn and dead-letter counters. */
  readonly stats = new BrokerStats();
  /** The message log, given to every vhost, including those created later. */
  durability: Durability | null = null;
  /** Where durable queues and exchanges keep deduplication caches, given to every vhost. */
  deduplicationStore: DeduplicationStore | null = null;
  /** Told when durable definitions change (users, vhosts, permissions included). */
  definitions: DefinitionsJournal | null = null;
  /** Where streams keep their logs, given to every vhost. */
  streamStore: StreamStore | null = null;

  vhost(name: string): VHost | undefined {
    return this.vhosts.get(name);
  }

  /** Creates a vhost, or updates the metadata of an existing one. */
  putVhost(name: string, metadata: Partial<VHostMetadata> = {}): VHost {
    let vhost = this.vhosts.get(name);
    if (vhost === undefined) {
      vhost = new VHost(name, this.report, this.stats);
      vhost.durability = this.durability;
      vhost.deduplicationStore = this.deduplicationStore;
      vhost.streamStore = this.streamStore;
      vhost.definitions = this.definitions;
      this.vhosts.set(name, vhost);
    }
    if (metadata.description !== undefined) vhost.metadata.description = metadata.description;
    if (metadata.tags !== undefined) vhost.metadata.tags = [...metadata.tags];
    if (metadata.defaultQueueType !== undefined) vhost.metadata.defaultQueueType = metadata.defaultQueueType;
    this.definitions?.changed();
    return vhost;
  }

  /**
   * Deletes a vhost with everything in it (stored messages included), its
   * permissions, and closes its connections (320, as RabbitMQ).
   */
  deleteVhost(name: string): boolean {
    const vhost = this.vhosts.get(name);
    if (vhost === undefined) return false;
    this.closeSessions((session) => session.vhost === vhost, `vhost '${name}' is deleted`);
    this.vhosts.delete(name);
    vhost.deleteAll();
    this.permissions.forget((_user, v) => v === name);
    this.definitions?.changed();
    return true;
  }

  /** Creates or replaces a user. */
  putUser(user: User): void {
    this.users.set(user.name, { ...user, tags: [...user.tags] });
    this.definitions?.changed();
  }

  /** Deletes a user and its permissions, and closes its connections (320, as RabbitMQ). */
  deleteUser(name: string): boolean {
    if (!this.users.delete(name)) return false;
    this.permissions.forget((user) => user === name);
    this.closeSessions((session) => session.user?.name === name, `user '${name}' is deleted`);
    this.definitions?.changed();
    return true;
  }

  /** Sets a user's permissions in a vhost; throws if the user or vhost does not exist or a pattern does not compile. */
  setPermission(permission: Permission): void {
    this.requireUserAndVhost(permission.user, permission.vhost);
    this.permissions.set(permission);
    this.definitions?.changed();
  }

  clearPermission(user: string, vhost: string): boolean {
    const removed = this.permissions.clear(user, vhost);
    if (removed) this.definitions?.changed();
    return removed;
  }

  setTopicPermission(permission: TopicPermission): void {
    this.requireUserAndVhost(permission.user, permission.vhost);
    this.permissions.setTopic(permission);
    this.definitions?.changed();
  }

  clearTopicPermission(user: string, vhost: string, exchange?: string): boolean {
    const removed = this.permissions.clearTopic(user, vhost, exchange);
    if (removed) this.definitions?.changed();
    return removed;
  }

  /** What a node without definitions starts with: the default user, with full permissions on the default vhost. */
  provisionDefaults(defaults: DefaultAccess): void {
    this.putVhost(defaults.vhost);
    if (!this.users.has(defaults.user)) {
      this.putUser({ name: defaults.user, passwordHash: hashPassword(defaults.pass), hashingAlgorithm: 'rabbit_password_hashing_sha256', tags: defaults.tags });
    }
    this.setPermission({ user: defaults.user, vhost: defaults.vhost, configure: '.*', write: '.*', read: '.*' });
  }

  /** Stops the queues' timers: nothing changes the model after the broker closed. */
  stop(): void {
    for (const vhost of this.vhosts.values()) vhost.stop();
  }

  private requireUserAndVhost(user: string, vhost: string): void {
    if (!this.users.has(user)) throw new Error(`no such user '${user}'`);
    if (!this.vhosts.has(vhost)) throw new Error(`no such vhost '${vhost}'`);
  }

  private closeSessions(match: (session: Session) => boolean, reason: string): void {
    for (const session of [...this.sessions]) {
      if (match(session)) session.forceClose(ReplyCode.CONNECTION_FORCED, reason);
    }
  }
}
