// A stream (x-queue-type: stream): an append-only log that consuming never
// empties. Its messages live once, in its own StreamLog; each consumer reads
// it from the offset it asked for (x-stream-offset) through a reader of its
// own, within its prefetch: an ack returns credit and deletes nothing.
// Retention (x-max-length-bytes, x-max-age, by whole segments) is the only
// removal.
import { AmqpError } from '../../protocol/errors.js';
import { TypedValue } from '../../protocol/field-table.js';
import { decodeProperties, encodeProperties } from '../../protocol/methods.generated.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { effectiveDefinition, type Policy } from '../access/policies.js';
import type { Consumer } from '../consumer.js';
import type { Durability } from '../durability.js';
import { HEADERS_FLAG, Message, QueueEntry } from '../message.js';
import { Queue, type QueueOptions } from '../queue.js';
import { type StreamOffsetSpec, type StreamRetention, streamRetention } from './stream-arguments.js';

/** A message as the stream's log gives it back. */
export interface StreamRecord {
  readonly offset: number;
  readonly timestampMs: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: Buffer;
  readonly body: Buffer;
}

/** One consumer's position in a stream's log (storage's StreamReader): it reads only what is on disk. */
export interface StreamLogReader {
  /** The next record, from memory; undefined when none is in memory or none is on disk yet. */
  next(): StreamRecord | undefined;
  /** Nothing more is on disk after what next() gave: more comes with the next group commit. */
  readonly atEnd: boolean;
  /** Reads ahead from disk; `done` runs once, with the error if the read failed. */
  fill(done: (error?: Error) => void): void;
  close(): void;
}

/** What a stream needs of its log (storage's StreamLog). */
export interface StreamLogHandle {
  readonly firstOffset: number;
  readonly nextOffset: number;
  /** Every offset up to this one is on disk. */
  readonly durableOffset: number;
  readonly messageCount: number;
  /** The write error that stopped the log, if any. */
  readonly failed: Error | undefined;
  append(timestampMs: number, exchange: string, routingKey: string, propertiesRaw: Buffer, body: Buffer): number;
  offsetAtTimestamp(ms: number): number;
  setRetention(maxBytes?: number, maxAgeMs?: number): void;
  /** A reader from `fromOffset`, skipping records stamped before `notBeforeMs` when given. */
  reader(fromOffset: number, notBeforeMs?: number): StreamLogReader;
  close(): Promise<void>;
  /** Closes the log and removes its files. */
  destroy(): Promise<void>;
}

/** What a stream hears from its log: group commits (a write failure is the store's to log; `failed` then refuses publishes). */
export interface StreamLogEvents {
  /** Every offset up to and including `upTo` is on disk. */
  onDurable(upTo: number): void;
}

/** Opens the logs of streams (one directory each under the data dir); the broker's persistence provides it. */
export interface StreamStore {
  open(vhost: string, queue: string, retention: StreamRetention, events: StreamLogEvents): Promise<StreamLogHandle>;
  /** The stream is deleted: its files go (a stream declared again under the name opens after that). */
  remove(vhost: string, queue: string, log: StreamLogHandle): Promise<void>;
}

/** A publisher confirm waiting for a stream's group commit (a channel in confirm mode). */
export interface StreamDurabilityWaiter {
  streamDurable(): void;
}

/** Something waiting for a stream's log to open (a declare-ok). */
export interface StreamOpenWaiter {
  streamOpened(): void;
}

/** A consumer of the stream and where it reads. */
class StreamCursor {
  filling = false;
  /** Given to reader.fill: one per consumer, not per message. */
  readonly filled: (error?: Error) => void;

  constructor(
    readonly consumer: Consumer,
    readonly reader: StreamLogReader,
    stream: StreamQueue,
  ) {
    this.filled = (error?: Error) => stream.filled(this, error);
  }
}

/** Bytes of the field x-stream-offset with type 'l', without its 8-byte value. */
const OFFSET_FIELD = Buffer.concat([Buffer.from([15]), Buffer.from('x-stream-offset', 'latin1'), Buffer.from('l', 'latin1')]);
const OFFSET_FIELD_BYTES = OFFSET_FIELD.length + 8;
/** The field's name with its length octet: what a headers table that already has it contains. */
const OFFSET_FIELD_NAME = OFFSET_FIELD.subarray(0, OFFSET_FIELD.length - 1);
const CONTENT_TYPE_FLAG = 0x8000;
const CONTENT_ENCODING_FLAG = 0x4000;

export class StreamQueue extends Queue {
  private log: StreamLogHandle | null = null;
  private store: StreamStore | null = null;
  /** The log failed to open, or the stream is gone: it takes no more messages. */
  private closed = false;
  /** Its log is being opened: a declare-ok waits. */
  private opening = false;
  private readonly cursors = new Map<Consumer, StreamCursor>();
  private feeding = false;
  /** Highest offset on disk; -1 before the first group commit. */
  private durableUpTo = -1;
  private readonly durabilityWaiters = new Set<StreamDurabilityWaiter>();
  private openWaiters: StreamOpenWaiter[] = [];
  /** The offset the last enqueue got: a publisher confirm waits for it. */
  lastOffset = -1;
  private retention: StreamRetention;
  /** Resolves once the log is open (or failed to open, reported). */
  opened: Promise<void> = Promise.resolve();

  constructor(name: string, vhost: string, options: QueueOptions) {
    super(name, vhost, options, null);
    this.retention = streamRetention(options.arguments);
  }

  /** Opens the stream's log through `store`; until then it takes no message and answers no declare. */
  open(store: StreamStore): Promise<void> {
    const events: StreamLogEvents = { onDurable: (upTo) => this.logDurable(upTo) };
    this.opening = true;
    this.store = store;
    this.opened = store.open(this.vhost, this.name, this.retention, events).then(
      (log) => {
        this.opening = false;
        if (this.deleted) {
          this.removeLog(store, log);
          return;
        }
        this.log = log;
        // Retention may have changed (a policy) while it opened.
        log.setRetention(this.retention.maxBytes, this.retention.maxAgeMs);
        this.durableUpTo = log.durableOffset;
        this.wakeOpenWaiters();
      },
      (error: unknown) => {
        this.opening = false;
        this.closed = true;
        this.reportFailure(error, 'opening the stream log');
        this.wakeOpenWaiters();
      },
    );
    return this.opened;
  }

  /** Whether its log is open, or failed to open, or has no store to open in (a declare-ok waits until then). */
  get isOpen(): boolean {
    return !this.opening;
  }

  whenOpen(waiter: StreamOpenWaiter): void {
    if (this.isOpen) waiter.streamOpened();
    else this.openWaiters.push(waiter);
  }

  private wakeOpenWaiters(): void {
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const waiter of waiters) {
      try {
        waiter.streamOpened();
      } catch (error) {
        this.reportFailure(error, 'answering a declare after the stream log opened');
      }
    }
  }

  // ---- what a classic queue does that a stream does not -----------------------

  /** A stream's messages live in its own log, never in the broker's message log. */
  override attachStorage(_durability: Durability, _key: string): void {}

  /** No x-expires on a stream: the argument is refused, and an expires policy does not delete one. */
  override used(): void {}

  override get messageCount(): number {
    return this.log === null ? 0 : this.log.messageCount;
  }

  /** Only a log that cannot write turns publishes away (they are nacked); no length limit refuses one. */
  override refuses(): boolean {
    return this.log === null || this.log.failed !== undefined;
  }

  /** Policies change retention (max-length-bytes, max-age), at once; no other key applies to a stream. */
  override applyPolicies(policy: Policy | undefined, operatorPolicy: Policy | undefined): void {
    this.policy = policy;
    this.operatorPolicy = operatorPolicy;
    this.retention = streamRetention(this.options.arguments, effectiveDefinition(policy, operatorPolicy));
    this.log?.setRetention(this.retention.maxBytes, this.retention.maxAgeMs);
  }

  /** Nothing to purge (the channel refuses queue.purge): deleting the stream removes its log. */
  override purge(): number {
    return 0;
  }

  /** The stream is deleted: readers close, its files go, confirms waiting for it are let go. */
  override dropStorage(): void {
    for (const cursor of this.cursors.values()) cursor.reader.close();
    this.cursors.clear();
    this.closed = true;
    const log = this.log;
    this.log = null;
    if (log !== null && this.store !== null) this.removeLog(this.store, log);
    this.wakeDurabilityWaiters();
  }

  private removeLog(store: StreamStore, log: StreamLogHandle): void {
    store.remove(this.vhost, this.name, log).catch((error: unknown) => this.reportFailure(error, 'removing the log of a deleted stream'));
  }

  /** The broker stops: the log closes (what it has is on disk or is lost as in a crash). */
  closeLog(): Promise<void> {
    for (const cursor of this.cursors.values()) cursor.reader.close();
    this.cursors.clear();
    const log = this.log;
    this.log = null;
    this.closed = true;
    return log === null ? Promise.resolve() : log.close();
  }

  // ---- publishing ---------------------------------------------------------------

  override enqueue(message: Message): void {
    const log = this.log;
    if (log === null) return;
    const body = Buffer.isBuffer(message.body) ? message.body : Buffer.concat(message.body as readonly Buffer[], message.bodySize);
    this.lastOffset = log.append(Date.now(), message.exchange, message.routingKey, message.rawProperties, body);
    this.stats.publish++;
    // Consumers get it after the group commit (readers read what is on disk): see logDurable.
  }

  /** Whether `offset` is on disk (or the stream is gone, and nothing more will be). */
  isDurable(offset: number): boolean {
    return offset <= this.durableUpTo || this.closed;
  }

  waitForDurable(waiter: StreamDurabilityWaiter): void {
    this.durabilityWaiters.add(waiter);
  }

  stopWaitingForDurable(waiter: StreamDurabilityWaiter): void {
    this.durabilityWaiters.delete(waiter);
  }

  /** A group commit: confirms waiting for it go, and consumers at the end get what it wrote. */
  private logDurable(upTo: number): void {
    if (upTo > this.durableUpTo) this.durableUpTo = upTo;
    this.wakeDurabilityWaiters();
    if (this.cursors.size === 0) return;
    try {
      this.dispatch();
    } catch (error) {
      this.reportFailure(error, 'stream delivery after a group commit');
    }
  }

  private wakeDurabilityWaiters(): void {
    for (const waiter of this.durabilityWaiters) {
      try {
        waiter.streamDurable();
      } catch (error) {
        this.durabilityWaiters.delete(waiter);
        this.reportFailure(error, 'publisher confirms after a stream group commit');
      }
    }
  }

  // ---- consuming ------------------------------------------------------------------

  /** Subscribes a consumer at its x-stream-offset (`next` when it has none). */
  override addConsumer(consumer: Consumer, dispatchNow = true): void {
    const log = this.log;
    if (log === null) throw AmqpError.channel(ReplyCode.RESOURCE_ERROR, `stream queue '${this.name}' in vhost '${this.vhost}' is not available`);
    const spec = consumer.streamOffset ?? { kind: 'next' };
    const reader = log.reader(this.startOffset(log, spec), spec.kind === 'timestamp' ? spec.ms : undefined);
    super.addConsumer(consumer, false);
    this.cursors.set(consumer, new StreamCursor(consumer, reader, this));
    if (dispatchNow) this.dispatch();
  }

  /**
   * Where a consumer starts. `last` is the newest message (RabbitMQ: the
   * first of the newest chunk, which is the newest message when chunks hold
   * one); an offset before the first retained starts at the first; past the
   * end it waits for that offset.
   */
  private startOffset(log: StreamLogHandle, spec: StreamOffsetSpec): number {
    switch (spec.kind) {
      case 'first':
        return log.firstOffset;
      case 'last':
        return log.nextOffset > log.firstOffset ? log.nextOffset - 1 : log.nextOffset;
      case 'next':
        return log.nextOffset;
      case 'offset':
        return Math.max(spec.offset, log.firstOffset);
      case 'timestamp':
        return log.offsetAtTimestamp(spec.ms);
    }
  }

  override removeConsumer(consumer: Consumer): boolean {
    const cursor = this.cursors.get(consumer);
    if (cursor !== undefined) {
      this.cursors.delete(consumer);
      cursor.reader.close();
    }
    return super.removeConsumer(consumer);
  }

  /** Delivers to each consumer from its reader while it has credit (prefetch) and the reader has messages in memory. */
  override dispatch(): void {
    if (this.feeding) return;
    this.feeding = true;
    try {
      for (const cursor of this.cursors.values()) this.feed(cursor);
    } finally {
      this.feeding = false;
    }
  }

  private feed(cursor: StreamCursor): void {
    const consumer = cursor.consumer;
    const reader = cursor.reader;
    while (consumer.canAccept()) {
      const record = reader.next();
      if (record === undefined) {
        // Behind what memory holds: read ahead, and go on when it is in.
        if (!reader.atEnd && !cursor.filling) {
          cursor.filling = true;
          reader.fill(cursor.filled);
        }
        return;
      }
      const message = new Message(record.exchange, record.routingKey, record.properties, record.body, record.body.length);
      // The entry's seq is the message's offset (deliveryProperties writes it as x-stream-offset).
      const entry = new QueueEntry(message, record.offset, 0, 0, 0, 0, record.body.length);
      this.unackedCount++;
      this.unackedBytes += record.body.length;
      try {
        consumer.deliver(this, entry, message);
      } catch (error) {
        this.consumerFailed(consumer, error);
        return;
      }
      // The record is a view into the log's block cache: an unacked delivery must not keep the block alive.
      entry.message = null;
    }
  }

  /** A reader's read-ahead completed: deliver on, or cancel that consumer if it failed (the others go on). */
  filled(cursor: StreamCursor, error?: Error): void {
    cursor.filling = false;
    if (this.cursors.get(cursor.consumer) !== cursor) return;
    try {
      if (error !== undefined) {
        this.reportFailure(error, `reading the stream for consumer '${cursor.consumer.tag}'; the consumer is cancelled`);
        this.removeConsumer(cursor.consumer);
        cursor.consumer.cancelledByBroker(this);
        return;
      }
      this.dispatch();
    } catch (failure) {
      this.reportFailure(failure, 'stream delivery after a read');
    }
  }

  /** An ack: the credit returns (the channel dispatches again); nothing is removed. */
  override settle(entry: QueueEntry): void {
    this.unackedCount--;
    this.unackedBytes -= entry.bodySize;
  }

  /** The consumer's channel closed (or basic.recover): the credit is freed, nothing goes back. */
  override requeue(entries: readonly QueueEntry[]): void {
    for (const entry of entries) this.settle(entry);
    if (!this.deleted && this.cursors.size > 0) this.dispatch();
  }

  /** Every delivery carries its offset in header x-stream-offset (a long). */
  override deliveryProperties(entry: QueueEntry): Buffer {
    return withStreamOffset(entry.message?.rawProperties ?? Buffer.alloc(2), entry.seq);
  }
}

/**
 * Encoded basic properties with header x-stream-offset (type 'l') added: the
 * bytes are spliced (one copy), not decoded and encoded again. Properties
 * that already carry the header, or more than one flags word, take the slow way.
 */
export function withStreamOffset(raw: Buffer, offset: number): Buffer {
  if (raw.length < 2 || (raw.readUInt16BE(0) & 1) !== 0) return reencoded(raw, offset);
  const flags = raw.readUInt16BE(0);
  let p = 2;
  if ((flags & CONTENT_TYPE_FLAG) !== 0) p += 1 + raw[p];
  if ((flags & CONTENT_ENCODING_FLAG) !== 0) p += 1 + raw[p];
  if ((flags & HEADERS_FLAG) !== 0) {
    const tableLength = raw.readUInt32BE(p);
    const tableEnd = p + 4 + tableLength;
    const existing = raw.indexOf(OFFSET_FIELD_NAME, p + 4);
    if (existing !== -1 && existing < tableEnd) return reencoded(raw, offset);
    const out = Buffer.allocUnsafe(raw.length + OFFSET_FIELD_BYTES);
    raw.copy(out, 0, 0, tableEnd);
    out.writeUInt32BE(tableLength + OFFSET_FIELD_BYTES, p);
    writeOffsetField(out, tableEnd, offset);
    raw.copy(out, tableEnd + OFFSET_FIELD_BYTES, tableEnd);
    return out;
  }
  const out = Buffer.allocUnsafe(raw.length + 4 + OFFSET_FIELD_BYTES);
  raw.copy(out, 0, 0, p);
  out.writeUInt16BE(flags | HEADERS_FLAG, 0);
  out.writeUInt32BE(OFFSET_FIELD_BYTES, p);
  writeOffsetField(out, p + 4, offset);
  raw.copy(out, p + 4 + OFFSET_FIELD_BYTES, p);
  return out;
}

function writeOffsetField(out: Buffer, at: number, offset: number): void {
  OFFSET_FIELD.copy(out, at);
  out.writeBigInt64BE(BigInt(offset), at + OFFSET_FIELD.length);
}

function reencoded(raw: Buffer, offset: number): Buffer {
  const properties = decodeProperties(raw);
  return encodeProperties({ ...properties, headers: { ...(properties.headers ?? {}), 'x-stream-offset': new TypedValue('l', offset) } });
}
