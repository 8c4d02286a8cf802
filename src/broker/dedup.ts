import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import { canonicalValue, stringValue } from './field-values.js';
import type { Message } from './message.js';

/**
 * Message deduplication as LavinMQ defines it (and the
 * rabbitmq-message-deduplication plugin): a queue or exchange declared with
 * `x-message-deduplication: true` remembers the value of each accepted
 * message's deduplication header in a bounded cache, and drops a message whose
 * value it holds. The cache evicts the oldest inserted entry when full (FIFO,
 * as LavinMQ), entries expire after `x-cache-ttl` ms (or the message's own
 * `x-cache-ttl` header), lazily on lookup: no timers, O(1) per message.
 */

export const DEFAULT_DEDUPLICATION_HEADER = 'x-deduplication-header';

/** The arguments that set deduplication up: a redeclare must repeat them (LavinMQ compares every argument). */
export const DEDUPLICATION_ARGUMENTS: readonly string[] = ['x-message-deduplication', 'x-cache-size', 'x-cache-ttl', 'x-deduplication-header'];
export const DEFAULT_CACHE_SIZE = 128;
/** The message header that sets one entry's lifetime in ms. */
const MESSAGE_TTL_HEADER = 'x-cache-ttl';

export interface DeduplicationSettings {
  /** Most entries the cache holds. */
  readonly cacheSize: number;
  /** Lifetime of an entry in ms; null for entries that never expire. */
  readonly ttlMs: number | null;
  /** The message header whose value identifies a message. */
  readonly header: string;
}

/** The integer in a field value (any width, or a typed wrapper), else undefined. */
function integerValue(value: FieldValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'object' && value !== null && 'type' in value && 'value' in value && Object.keys(value).length === 2) {
    return integerValue((value as { value: FieldValue }).value);
  }
  return undefined;
}

/**
 * Checks the deduplication arguments of a queue.declare or exchange.declare.
 * Returns null when they are acceptable, else the 406 text (LavinMQ's wording).
 * RabbitMQ ignores these arguments, so only values that cannot work are refused.
 */
export function validateDeduplicationArgs(args: FieldTable): string | null {
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(args, key) && args[key] !== undefined && args[key] !== null;
  if (has('x-message-deduplication') && typeof unwrap(args['x-message-deduplication']) !== 'boolean') {
    return 'x-message-deduplication header not a boolean';
  }
  for (const [key, min] of [['x-cache-size', 1], ['x-cache-ttl', 0]] as const) {
    if (!has(key)) continue;
    const value = integerValue(args[key]);
    if (value === undefined) return `${key} header not an integer`;
    if (value < min) return `${key} header less than minimum value ${min}`;
  }
  if (has('x-deduplication-header') && stringValue(unwrap(args['x-deduplication-header'])) === undefined) {
    return 'x-deduplication-header header not a string';
  }
  return null;
}

function unwrap(value: FieldValue | undefined): FieldValue | undefined {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date)) {
    if ('type' in value && 'value' in value && Object.keys(value).length === 2) return unwrap((value as { value: FieldValue }).value);
  }
  return value;
}

/** The settings of valid arguments, or null when deduplication is not enabled (only `true` enables it). */
export function deduplicationSettings(args: FieldTable): DeduplicationSettings | null {
  if (unwrap(args['x-message-deduplication']) !== true) return null;
  return {
    cacheSize: integerValue(args['x-cache-size']) ?? DEFAULT_CACHE_SIZE,
    ttlMs: integerValue(args['x-cache-ttl']) ?? null,
    header: stringValue(unwrap(args['x-deduplication-header'])) ?? DEFAULT_DEDUPLICATION_HEADER,
  };
}

/** Where a durable queue's or exchange's cache is kept (the storage layer implements it). */
export interface DeduplicationJournal {
  /** The entries stored before, oldest first (expired ones may be among them). */
  load(): { key: string; expiresAt: number }[];
  /** An entry was inserted; it must survive a crash of the process once this returns. */
  append(key: string, expiresAt: number): void;
  /** Replaces everything stored with these entries (compaction). */
  rewrite(entries: Iterable<[string, number]>): void;
  /** The object is deleted: the journal goes. */
  remove(): void;
  close(): void;
}

/** Opens the journal of a durable object's cache by a stable id. */
export interface DeduplicationStore {
  open(id: string): DeduplicationJournal;
}

/** A journal is rewritten once it holds this many records per live entry (and at least a few hundred). */
const COMPACT_FACTOR = 2;
const COMPACT_MIN_RECORDS = 256;

export class DeduplicationCache {
  /** Key → when it expires (ms since the epoch), 0 for never; Map order is insertion order, so the first is the oldest. */
  private readonly entries = new Map<string, number>();
  /** Messages dropped as duplicates (a counter for statistics). */
  deduplicated = 0;
  private journalRecords = 0;

  constructor(
    readonly settings: DeduplicationSettings,
    private readonly journal: DeduplicationJournal | null = null,
    private readonly clock: () => number = Date.now,
  ) {
    if (journal !== null) this.recover(journal);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cache key of a message: its header's value as typed text, or undefined when it has none. */
  keyOf(message: Message): string | undefined {
    const headers = message.properties.headers;
    if (headers === undefined || !Object.prototype.hasOwnProperty.call(headers, this.settings.header)) return undefined;
    const value = headers[this.settings.header];
    return value === undefined ? undefined : canonicalValue(value);
  }

  /**
   * Whether a message with this key (keyOf) is a duplicate of one accepted
   * before. One that is not is not recorded yet: call accept() once it is taken in.
   */
  isDuplicate(key: string | undefined): boolean {
    if (key === undefined || !this.has(key)) return false;
    this.deduplicated++;
    return true;
  }

  /** Records a message that was taken in, by its key (keyOf; no-op without the header). */
  accept(key: string | undefined, message: Message): void {
    if (key === undefined) return;
    const own = integerValue(message.properties.headers?.[MESSAGE_TTL_HEADER]);
    const ttlMs = own !== undefined && own >= 0 ? own : this.settings.ttlMs;
    // 0 in the cache means "never": an entry that expires at once still gets a time (at least 1).
    this.insert(key, ttlMs === null ? 0 : Math.max(1, this.clock() + ttlMs));
  }

  /** Whether `key` is cached and not expired (an expired entry is removed on the way). */
  has(key: string): boolean {
    const expiresAt = this.entries.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt === 0 || expiresAt > this.clock()) return true;
    this.entries.delete(key);
    return false;
  }

  /** Inserts `key` (expiring at `expiresAt`, 0 never), evicting the oldest entry when full. */
  insert(key: string, expiresAt: number): void {
    this.put(key, expiresAt);
    const journal = this.journal;
    if (journal === null) return;
    journal.append(key, expiresAt);
    if (++this.journalRecords > Math.max(COMPACT_MIN_RECORDS, COMPACT_FACTOR * this.settings.cacheSize)) this.compact();
  }

  /** The object is deleted: so is what it stored. */
  drop(): void {
    this.entries.clear();
    this.journal?.remove();
  }

  close(): void {
    this.journal?.close();
  }

  private put(key: string, expiresAt: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.settings.cacheSize) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, expiresAt);
  }

  private recover(journal: DeduplicationJournal): void {
    const now = this.clock();
    const stored = journal.load();
    for (const { key, expiresAt } of stored) {
      if (expiresAt === 0 || expiresAt > now) this.put(key, expiresAt);
      else this.entries.delete(key);
    }
    this.journalRecords = stored.length;
    if (stored.length > this.entries.size) this.compact();
  }

  private compact(): void {
    const now = this.clock();
    for (const [key, expiresAt] of this.entries) if (expiresAt !== 0 && expiresAt <= now) this.entries.delete(key);
    this.journal?.rewrite(this.entries);
    this.journalRecords = this.entries.size;
  }
}
