/**
 * The durable message log: an append-only sequence of segment files with group commit.
 *
 * API
 *   MessageLog.open({ dir, segmentBytes?, onDurable, onError, log? })
 *       → Promise<{ log, recovered }>
 *     Replays the segments in `dir` (creating it if needed), then starts a new
 *     segment for writing (recovered segments are never appended to).
 *     `recovered.queues` maps queue name → its unsettled messages in publish order.
 *   log.appendPublish(msgId, queues, exchange, routingKey, properties, body) → { ticket, position }
 *   log.appendSettle(msgId, queue) → ticket         ack, reject/nack without requeue, purge, expiry
 *   log.appendDelivered(queue, upToMsgId) → ticket  "delivered up to": those come back redelivered
 *   log.appendQueueDeleted(queue) → ticket          settles every message of the queue
 *   log.readBodies(positions) → Promise<Buffer[]>   bodies read back, adjacent records in one read
 *   log.pendingBytes, log.diskBytes, log.durableTicket, log.failed, log.segmentIds
 *   log.whenIdle()   resolves when nothing is pending, in flight or being deleted
 *   log.close()      flushes, syncs, closes files
 *
 * Calling rules
 *   - msgIds must increase from one appendPublish to the next (start at
 *     recovered.nextMsgId); the index relies on it. A smaller one throws RangeError.
 *   - Appends are synchronous and only copy into the current in-memory batch; the
 *     first append of an event-loop turn schedules one flush (setImmediate).
 *   - Every append returns a ticket; tickets increase. onDurable(upTo) is called once
 *     per batch after its write completed on disk (O_DSYNC), with the highest ticket of
 *     the batch: every ticket <= upTo is on disk. A settle of something the log does
 *     not hold (unknown queue or message, already settled) writes nothing and returns
 *     the latest ticket issued; compare with `durableTicket` if you need to wait.
 *   - onDurable and onError must not throw: onDurable runs inside the batch completion
 *     and an exception there rejects whenIdle()/close() (or is an unhandled rejection).
 *     They may append (the next batch is already being written when onDurable runs).
 *   - A position returned by appendPublish can be read at once (served from the
 *     batch in memory until written), so the caller may drop the body as soon as
 *     it likes; it is valid until every queue of the message has settled it.
 *
 * Durability guarantees
 *   - onDurable(t) is only called after every record with ticket <= t was written with
 *     O_DSYNC (or fdatasync'd, for a handle opened otherwise)
 *     (and fsync of the directory after a new segment file was created).
 *   - One batch in flight at a time: while a write+sync runs, appends go to the next
 *     batch, which is written when the current one completes.
 *   - No space to create the first segment at open (ENOSPC, EDQUOT: a full disk):
 *     open succeeds, onNoSpace(error) is called, and appends wait in memory (readable,
 *     never reported durable) while the log retries every SPACE_RETRY_MS; once the
 *     segment is created, onWritable() is called and what waited is written as one
 *     batch. Nothing was lost, so nothing needs distrusting. Settled segments are still
 *     deleted meanwhile (checked at each retry), so consumers that drain a log that
 *     filled its disk give the space back.
 *   - On a write or sync error (disk full, EIO): onError(error) once, `failed` is set,
 *     onDurable is never called again and later appends are accepted but dropped
 *     (never reported durable). The log does not retry: after a failed fsync the
 *     kernel may have dropped the dirty pages, so nothing unsynced is trusted.
 *   - A segment file is deleted when none of its messages is live, none of its
 *     settle records refers to a message in a segment that still exists, and it
 *     holds no queue's latest watermark while that queue has live messages (the
 *     watermark is re-appended first). Deletions are made durable (dir fsync)
 *     before a segment depending on them can be deleted.
 *   - Recovery: a record cut short at the end of a segment (torn tail) is
 *     truncated away; a record with a bad CRC is skipped by its length and logged;
 *     a header whose length fails its check stops the reading of that segment
 *     (logged) and recovery goes on with the next; a segment listed as existing by
 *     the newest segment but absent is logged as missing.
 *
 * Where the parts live
 *   message-log.ts    the index (queues, live pairs per segment, watermarks), appends,
 *                     segment roll, startup and the wait for space, close
 *   group-commit.ts   batches and chunks, flush scheduling, O_DSYNC writes, tickets on disk
 *   replay.ts         recovery: reading segments record by record, collecting RecoveredQueues
 *   segment-gc.ts     which settled segments may be deleted, and deleting them
 *   segment-reads.ts  reading records back (merged reads, records still in the batch)
 *   record-codec.ts   record payload writers, header sealing, decoding a publish record
 *   record.ts, segment.ts, crc32.ts   the on-disk format, one segment's index, the checksum
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32 } from './crc32.js';
import { GroupCommit, openForAppend, type Chunk } from './group-commit.js';
import { HEADER_BYTES, T_DELIVERED, T_PUBLISH, T_QDELETED, T_SEGDELETED, T_SETTLE, segmentFileName, strLen, writeStr } from './record.js';
import {
  type LogPosition,
  type StoredMessage,
  bodyOf,
  messageOf,
  sealRecord,
  copyStr,
  encodeStr,
  writeIdQueueRecord,
  writeStartRecord,
} from './record-codec.js';
import type { RecoveredState } from './recovered-queue.js';
import { type ReplayIndex, type StorageLogger, recoverSegments } from './replay.js';
import { Segment } from './segment.js';
import { pickVictims, unlinkSegments } from './segment-gc.js';
import { SegmentReader } from './segment-reads.js';

export type { LogPosition, StoredMessage } from './record-codec.js';
export { RecoveredQueue, type RecoveredMessage, type RecoveredState } from './recovered-queue.js';
export type { StorageLogger } from './replay.js';

export interface MessageLogOptions {
  dir: string;
  /** Roll to a new segment file when the current one would pass this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Called once per batch with the highest ticket now on disk. */
  onDurable(upTo: number): void;
  /** A write or sync failed: nothing more will be reported durable. */
  onError(error: Error): void;
  /** No space to start writing at open: appends wait in memory until onWritable. */
  onNoSpace?(error: Error): void;
  /** The log has started writing after onNoSpace. */
  onWritable?(): void;
  log?: StorageLogger;
  /**
   * Read during recovery from each stored message's properties (bytes
   * [start, end) of `record`): its priority, kept in RecoveredQueue so a
   * priority queue can place messages it leaves paged out. Default 0.
   */
  priorityOf?(record: Buffer, start: number, end: number): number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

const noLog: StorageLogger = { warn() {}, info() {} };

/** How often a log with no space to start its segment tries again. */
const SPACE_RETRY_MS = 1_000;

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The segment the log could not create at open, and what it will start with once it can. */
interface WaitingForSpace {
  segment: Segment;
  startRecord: Buffer;
  timer: NodeJS.Timeout | undefined;
  attempt: Promise<void> | undefined;
}

const NO_POSITION: LogPosition = Object.freeze({ segment: -1, offset: 0, length: 0 });

export class MessageLog implements ReplayIndex {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly onDurable: (upTo: number) => void;
  private readonly onError: (error: Error) => void;
  private readonly logger: StorageLogger;
  private dirFh!: FileHandle;

  /** Live segments in id order; the last is the active one. */
  private segments: Segment[] = [];
  private readonly segById = new Map<number, Segment>();
  private active!: Segment;

  private lastTicket = 0;
  private durable = 0;
  private lastMsgId = 0;

  // queues, by small integer id
  private readonly qidByName = new Map<string, number>();
  private readonly qNames: string[] = [];
  /** Each queue's name encoded as a str16, copied into its records. */
  private readonly qStr: Buffer[] = [];
  private readonly qLive: number[] = [];
  private readonly wmUpTo: number[] = [];
  private readonly wmSeg: (Segment | undefined)[] = [];
  // the queue's watermark record in the pending batch, overwritten in place by the next one
  private readonly wmSlotChunk: (Chunk | undefined)[] = [];
  private readonly wmSlotOffset: number[] = [];
  private readonly wmSlotTicket: number[] = [];

  // writing and reading
  private readonly writer: GroupCommit;
  private readonly reader: SegmentReader;
  private failure: Error | undefined;
  private waiting: WaitingForSpace | undefined;
  private closed = false;

  // segment deletion
  private gcDirty = true;
  private gcAfterSync = false;
  private closing = false;
  private gcPromise: Promise<void> | undefined;

  private readonly gcDoneBound = this.gcDone.bind(this);
  private readonly gcFailedBound = this.gcFailed.bind(this);
  private readonly retrySpaceBound = this.retrySpace.bind(this);
  private readonly rewriteWatermarkBound = this.rewriteWatermark.bind(this);

  private highestSeenSegment = 0;

  private constructor(options: MessageLogOptions) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.onDurable = options.onDurable;
    this.onError = options.onError;
    this.logger = options.log ?? noLog;
    this.priorityOf = options.priorityOf;
    this.onNoSpace = options.onNoSpace;
    this.onWritable = options.onWritable;
    this.writer = new GroupCommit({
      isActive: (seg) => seg === this.active,
      syncDir: () => this.dirFh.sync(),
      batchWritten: (upTo) => this.batchWritten(upTo),
      batchFailed: (err) => this.batchFailed(err),
    });
    this.reader = new SegmentReader(this.segById, this.writer);
  }

  private readonly onNoSpace: ((error: Error) => void) | undefined;
  private readonly onWritable: (() => void) | undefined;
  /** @internal read by replay */
  readonly priorityOf: MessageLogOptions['priorityOf'];

  static async open(options: MessageLogOptions): Promise<{ log: MessageLog; recovered: RecoveredState }> {
    const log = new MessageLog(options);
    await fsp.mkdir(options.dir, { recursive: true });
    log.dirFh = await fsp.open(options.dir, 'r');
    try {
      const { recovered, lastMsgId, highestSeenSegment } = await recoverSegments(log.dir, log, log.logger);
      log.lastMsgId = lastMsgId;
      log.highestSeenSegment = highestSeenSegment;
      await log.startActiveSegment();
      log.maybeGc();
      if (log.gcPromise !== undefined) await log.gcPromise;
      return { log, recovered };
    } catch (err) {
      await log.closeHandles();
      throw err;
    }
  }

  // ------------------------------------------------------------------ appends

  appendPublish(
    msgId: number,
    queues: readonly string[],
    exchange: string,
    routingKey: string,
    properties: Buffer,
    body: Buffer | readonly Buffer[],
  ): { ticket: number; position: LogPosition } {
    this.checkOpen();
    if (!(msgId > this.lastMsgId) || !Number.isSafeInteger(msgId) || msgId >= 2 ** 48) {
      throw new RangeError(`msgId ${msgId} must be an integer greater than the last one appended (${this.lastMsgId})`);
    }
    if (queues.length === 0 || queues.length > 0xffff) throw new RangeError('a message needs 1 to 65535 queues');
    let bodyLen: number;
    if (Buffer.isBuffer(body)) bodyLen = body.length;
    else {
      bodyLen = 0;
      for (let i = 0; i < body.length; i++) bodyLen += body[i]!.length;
    }
    const exLen = strLen(exchange);
    const rkLen = strLen(routingKey);
    let qBytes = 0;
    for (let i = 0; i < queues.length; i++) {
      const qid = this.qidByName.get(queues[i]!);
      qBytes += qid === undefined ? 2 + strLen(queues[i]!) : this.qStr[qid]!.length;
    }
    const payload = 1 + 6 + 4 + 2 + qBytes + 2 + exLen + 2 + rkLen + 4 + properties.length + bodyLen;
    const ticket = ++this.lastTicket;
    this.lastMsgId = msgId;
    if (this.failure !== undefined) return { ticket, position: NO_POSITION };

    const c = this.reserve(HEADER_BYTES + payload);
    const buf = c.buf;
    const start = c.len;
    let o = start + HEADER_BYTES;
    buf[o++] = T_PUBLISH;
    buf.writeUIntLE(msgId, o, 6);
    o += 6;
    buf.writeUInt32LE(bodyLen, o);
    o += 4;
    buf.writeUInt16LE(queues.length, o);
    o += 2;
    const seg = c.seg;
    seg.beginMessage(msgId);
    for (let i = 0; i < queues.length; i++) {
      const qid = this.qid(queues[i]!);
      o = copyStr(buf, o, this.qStr[qid]!);
      seg.addPair(qid);
      this.qLive[qid]!++;
    }
    seg.endMessage();
    o = writeStr(buf, o, exchange);
    o = writeStr(buf, o, routingKey);
    buf.writeUInt32LE(properties.length, o);
    o += 4;
    o += properties.copy(buf, o);
    if (Buffer.isBuffer(body)) o += body.copy(buf, o);
    else for (let i = 0; i < body.length; i++) o += body[i]!.copy(buf, o);
    this.writer.seal(c, start, o, ticket);
    return { ticket, position: { segment: seg.id, offset: c.fileOffset + start, length: o - start } };
  }

  appendSettle(msgId: number, queue: string): number {
    this.checkOpen();
    const qid = this.qidByName.get(queue);
    if (qid === undefined) return this.lastTicket;
    const msgSeg = this.findSegment(msgId);
    if (msgSeg === undefined) return this.lastTicket;
    const p = msgSeg.livePair(msgId, qid);
    if (p < 0) return this.lastTicket;
    msgSeg.settlePair(p);
    this.qLive[qid]!--;
    if (msgSeg.live === 0) this.gcDirty = true;
    const ticket = ++this.lastTicket;
    if (this.failure !== undefined) return ticket;
    const name = this.qStr[qid]!;
    const c = this.reserve(HEADER_BYTES + 1 + 6 + name.length);
    if (c.seg !== msgSeg) c.seg.deps.add(msgSeg);
    const start = c.len;
    this.writer.seal(c, start, writeIdQueueRecord(c.buf, start, T_SETTLE, msgId, name), ticket);
    return ticket;
  }

  appendDelivered(queue: string, upToMsgId: number): number {
    this.checkOpen();
    const qid = this.qidByName.get(queue);
    if (qid === undefined || upToMsgId <= this.wmUpTo[qid]! || this.qLive[qid] === 0) return this.lastTicket;
    return this.writeWatermark(qid, upToMsgId);
  }

  appendQueueDeleted(queue: string): number {
    this.checkOpen();
    const qid = this.qidByName.get(queue);
    if (qid === undefined) return this.lastTicket;
    const ticket = ++this.lastTicket;
    const c = this.failure === undefined ? this.reserve(HEADER_BYTES + 1 + this.qStr[qid]!.length) : undefined;
    for (const seg of this.segments) {
      if (seg.settleQueue(qid) > 0) {
        if (c !== undefined && seg !== c.seg) c.seg.deps.add(seg);
        if (seg.live === 0) this.gcDirty = true;
      }
    }
    this.qLive[qid] = 0;
    this.moveWatermark(qid, undefined, ticket);
    this.wmUpTo[qid] = 0;
    this.wmSlotChunk[qid] = undefined;
    if (c === undefined) return ticket;
    const buf = c.buf;
    const start = c.len;
    let o = start + HEADER_BYTES;
    buf[o++] = T_QDELETED;
    o = copyStr(buf, o, this.qStr[qid]!);
    this.writer.seal(c, start, o, ticket);
    return ticket;
  }

  /** Bytes appended but not yet on disk (pending and in-flight batches). */
  get pendingBytes(): number {
    return this.writer.pendingBytes;
  }

  /** Size of the live segment files, counting batches not yet written. */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /** Highest ticket known to be on disk. */
  get durableTicket(): number {
    return this.durable;
  }

  /** The write error that stopped the log, if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Segment ids currently on disk (for tests and diagnostics). */
  get segmentIds(): number[] {
    return this.segments.map((s) => s.id);
  }

  // ------------------------------------------------------------------ reads

  /**
   * Reads the bodies of these records. Positions next to each other in one segment
   * (as consecutive publishes are) are merged into one read; the returned bodies are
   * views into that read's buffer, or into a copy of just the records asked for when
   * the read holds other records too (interleaved queues), so they keep no more alive.
   * Each record's CRC is checked; a mismatch, or a position in a deleted segment,
   * rejects the whole call.
   */
  async readBodies(positions: readonly LogPosition[]): Promise<Buffer[]> {
    return this.reader.readRecords(positions, bodyOf);
  }

  /** Reads whole messages back (exchange, routing key, properties, body), as readBodies does bodies. */
  async readMessages(positions: readonly LogPosition[]): Promise<StoredMessage[]> {
    return this.reader.readRecords(positions, messageOf);
  }

  /**
   * Resolves when nothing is pending or in flight and no segment deletion runs
   * (for tests and orderly shutdown; not needed on the hot path).
   */
  async whenIdle(): Promise<void> {
    const w = this.writer;
    for (;;) {
      if (this.gcPromise !== undefined) await this.gcPromise;
      else if (w.flushing) await w.batchPromise;
      else if (w.chunks.length > 0 && this.failure === undefined && this.waiting === undefined) w.flushNow();
      else return;
    }
  }

  // ------------------------------------------------------------------ close

  /** Writes and syncs what is pending, waits for segment deletion, closes the files. */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    const w = this.writer;
    if (this.waiting !== undefined) {
      clearTimeout(this.waiting.timer);
      await this.waiting.attempt;
      // still no space: what waited cannot be written (none of it was reported durable)
      if (this.waiting !== undefined) w.discardPending();
    }
    while (this.gcPromise !== undefined) await this.gcPromise;
    while (w.flushing || (w.chunks.length > 0 && this.failure === undefined)) {
      if (!w.flushing) w.flushNow();
      await w.batchPromise;
    }
    this.closed = true;
    await this.closeHandles();
  }

  private async closeHandles(): Promise<void> {
    for (const seg of this.segments) {
      await seg.fh?.close().catch(() => {});
      seg.fh = undefined;
      await this.reader.closeReadHandle(seg);
    }
    await this.dirFh?.close().catch(() => {});
  }

  // ------------------------------------------------------------------ index and batching

  private checkOpen(): void {
    if (this.closed) throw new Error('message log is closed');
  }

  private qid(name: string): number {
    let id = this.qidByName.get(name);
    if (id === undefined) {
      const str16 = encodeStr(name);
      id = this.qNames.length;
      this.qidByName.set(name, id);
      this.qNames.push(name);
      this.qStr.push(str16);
      this.qLive.push(0);
      this.wmUpTo.push(0);
      this.wmSeg.push(undefined);
      this.wmSlotChunk.push(undefined);
      this.wmSlotOffset.push(0);
      this.wmSlotTicket.push(0);
    }
    return id;
  }

  /** Last segment holding messages with ids <= msgId. */
  private findSegment(msgId: number): Segment | undefined {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found: Segment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      // segments without messages do not bound the search; scan left to one with messages
      let k = mid;
      while (k >= lo && segs[k]!.count === 0) k--;
      if (k < lo) {
        lo = mid + 1;
        continue;
      }
      const sk = segs[k]!;
      if (sk.firstId <= msgId) {
        found = sk;
        lo = mid + 1;
      } else hi = k - 1;
    }
    return found;
  }

  /** A chunk of the pending batch with room for n bytes, rolling to a new segment if needed. */
  private reserve(n: number): Chunk {
    let seg = this.active;
    if (seg.size + n > this.segmentBytes && seg.size > seg.startBytes) {
      this.roll();
      seg = this.active;
    }
    return this.writer.chunkFor(seg, n);
  }

  private roll(): void {
    const prev = this.active;
    prev.trim();
    const seg = new Segment(prev.id + 1, path.join(this.dir, segmentFileName(prev.id + 1)));
    const existing = this.segments.map((s) => s.id);
    this.segments.push(seg);
    this.segById.set(seg.id, seg);
    this.active = seg;
    this.gcDirty = true;
    const c = this.writer.newSegmentChunk(seg, 64 + 4 * existing.length);
    const ticket = ++this.lastTicket;
    const end = writeStartRecord(c.buf, 0, seg.id, existing);
    this.writer.seal(c, 0, end, ticket);
    seg.startBytes = end;
    if (prev.fh !== undefined && !this.writer.hasChunkFor(prev) && !this.writer.inflightFor(prev)) {
      const fh = prev.fh;
      prev.fh = undefined;
      void fh.close().catch(() => {});
    }
  }

  private writeWatermark(qid: number, upTo: number): number {
    const slot = this.wmSlotChunk[qid];
    if (slot !== undefined && !slot.sealed) {
      // one watermark per queue per batch: overwrite the pending one
      const start = this.wmSlotOffset[qid]!;
      slot.buf.writeUIntLE(upTo, start + HEADER_BYTES + 1, 6);
      const len = slot.buf.readUInt32LE(start);
      slot.buf.writeUInt32LE(crc32(slot.buf, start + HEADER_BYTES, start + HEADER_BYTES + len), start + 8);
      this.wmUpTo[qid] = upTo;
      return this.wmSlotTicket[qid]!;
    }
    const ticket = ++this.lastTicket;
    this.wmUpTo[qid] = upTo;
    if (this.failure !== undefined) return ticket;
    const name = this.qStr[qid]!;
    const c = this.reserve(HEADER_BYTES + 1 + 6 + name.length);
    const start = c.len;
    this.writer.seal(c, start, writeIdQueueRecord(c.buf, start, T_DELIVERED, upTo, name), ticket);
    this.wmSlotChunk[qid] = c;
    this.wmSlotOffset[qid] = start;
    this.wmSlotTicket[qid] = ticket;
    this.moveWatermark(qid, c.seg, ticket);
    return ticket;
  }

  /** The latest watermark of qid now lives in `to`; the old holder may go once `ticket` is durable. */
  private moveWatermark(qid: number, to: Segment | undefined, ticket: number): void {
    const from = this.wmSeg[qid];
    if (from !== undefined && from !== to && from.carryTicket < ticket) from.carryTicket = ticket;
    this.wmSeg[qid] = to;
  }

  private batchWritten(upTo: number): void {
    if (this.gcAfterSync) {
      this.gcAfterSync = false;
      this.gcDirty = true;
    }
    for (const seg of this.segments) {
      if (seg !== this.active && seg.fh !== undefined && !this.writer.hasChunkFor(seg)) {
        const fh = seg.fh;
        seg.fh = undefined;
        void fh.close().catch(() => {});
      }
    }
    if (upTo > this.durable) this.durable = upTo;
    if (this.writer.chunks.length > 0) this.writer.flushNow();
    this.onDurable(this.durable);
    this.maybeGc();
  }

  private batchFailed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.writer.failAll();
    if (this.failure !== undefined) return;
    this.failure = error;
    this.writer.dropping = true;
    this.logger.warn({ err: error, dir: this.dir }, 'message log write failed; nothing more will be confirmed');
    this.onError(error);
  }

  // ------------------------------------------------------------------ segment deletion

  private maybeGc(): void {
    if (this.gcPromise !== undefined || !this.gcDirty || this.closing || this.failure !== undefined) return;
    this.gcDirty = false;
    this.gcPromise = this.gc().then(this.gcDoneBound, this.gcFailedBound);
  }

  private gcDone(): void {
    this.gcPromise = undefined;
    this.maybeGc();
  }

  private gcFailed(err: unknown): void {
    this.gcPromise = undefined;
    this.logger.warn({ err, dir: this.dir }, 'message log: deleting settled segments failed');
  }

  private rewriteWatermark(qid: number): void {
    if (this.failure === undefined) this.writeWatermark(qid, this.wmUpTo[qid]!);
  }

  private async gc(): Promise<void> {
    const view = { segments: this.segments, active: this.active, durable: this.durable, wmSeg: this.wmSeg, qLive: this.qLive };
    const { victims, retryAfterSync } = pickVictims(view, this.rewriteWatermarkBound);
    if (retryAfterSync) this.gcAfterSync = true;
    if (victims.length === 0) return;
    await unlinkSegments(victims, this.dirFh);
    for (const seg of victims) {
      seg.deleted = true;
      seg.clearIndex();
      this.segById.delete(seg.id);
      void this.reader.closeReadHandle(seg);
      for (let qid = 0; qid < this.wmSeg.length; qid++) if (this.wmSeg[qid] === seg) this.wmSeg[qid] = undefined;
    }
    this.segments = this.segments.filter((s) => !s.deleted);
    if (!this.closed && this.failure === undefined) for (const seg of victims) this.appendSegmentDeleted(seg.id);
    this.gcDirty = true;
    this.logger.info({ segments: victims.map((s) => s.id) }, 'message log: deleted settled segments');
  }

  private appendSegmentDeleted(id: number): void {
    const ticket = ++this.lastTicket;
    const c = this.reserve(HEADER_BYTES + 5);
    const start = c.len;
    let o = start + HEADER_BYTES;
    c.buf[o++] = T_SEGDELETED;
    c.buf.writeUInt32LE(id, o);
    o += 4;
    this.writer.seal(c, start, o, ticket);
  }

  // ------------------------------------------------------------------ startup

  private async startActiveSegment(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    const id = Math.max(last === undefined ? 0 : last.id, this.highestSeenSegment) + 1;
    const seg = new Segment(id, path.join(this.dir, segmentFileName(id)));
    const buf = Buffer.allocUnsafe(64 + 4 * this.segments.length);
    const end = writeStartRecord(buf, 0, id, this.segments.map((s) => s.id));
    sealRecord(buf, 0, end);
    seg.startBytes = seg.size = end;
    this.segments.push(seg);
    this.segById.set(id, seg);
    this.active = seg;
    const startRecord = buf.subarray(0, end);
    try {
      await this.createSegmentFile(seg, startRecord);
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      this.waitForSpace(seg, startRecord, err as Error);
    }
  }

  /** Creates seg's file holding only its START record, durably; on failure leaves no file. */
  private async createSegmentFile(seg: Segment, startRecord: Buffer): Promise<void> {
    const fh = await openForAppend(seg.path, false);
    try {
      await fh.write(startRecord, 0, startRecord.length, 0);
      await fh.datasync();
      await this.dirFh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await fsp.unlink(seg.path).catch(() => {});
      throw err;
    }
    seg.fh = fh;
    seg.created = true;
    seg.written = seg.synced = startRecord.length;
  }

  private waitForSpace(segment: Segment, startRecord: Buffer, error: Error): void {
    this.waiting = { segment, startRecord: Buffer.from(startRecord), timer: setTimeout(this.retrySpaceBound, SPACE_RETRY_MS).unref(), attempt: undefined };
    this.writer.held = true;
    this.logger.warn({ err: error, dir: this.dir }, 'message log: no space to start a segment; appends wait in memory until there is');
    this.onNoSpace?.(error);
  }

  private retrySpace(): void {
    const waiting = this.waiting;
    if (waiting === undefined || this.closing) return;
    waiting.timer = undefined;
    // Segments whose messages consumers have settled since can go, and give their space back.
    this.maybeGc();
    waiting.attempt = this.createSegmentFile(waiting.segment, waiting.startRecord).then(
      () => {
        this.waiting = undefined;
        this.writer.held = false;
        this.logger.info({ dir: this.dir, pendingBytes: this.pendingBytes }, 'message log: space found; writing what waited');
        this.onWritable?.();
        this.gcDirty = true;
        this.writer.flushNow();
        this.maybeGc();
      },
      (err: unknown) => {
        waiting.attempt = undefined;
        if (isNoSpace(err)) {
          if (!this.closing) waiting.timer = setTimeout(this.retrySpaceBound, SPACE_RETRY_MS).unref();
          return;
        }
        this.waiting = undefined;
        this.writer.held = false;
        this.batchFailed(err);
      },
    );
  }

  /** @internal used by Replay */
  replayPublish(seg: Segment, msgId: number, qids: number[]): void {
    seg.beginMessage(msgId);
    for (const q of qids) {
      seg.addPair(q);
      this.qLive[q]!++;
    }
    seg.endMessage();
    this.lastMsgId = msgId;
  }
  /** @internal */
  replaySettle(recordSeg: Segment, msgId: number, qid: number): void {
    const msgSeg = this.findSegment(msgId);
    if (msgSeg === undefined) return;
    const p = msgSeg.livePair(msgId, qid);
    if (p < 0) return;
    msgSeg.settlePair(p);
    this.qLive[qid]!--;
    if (msgSeg !== recordSeg) recordSeg.deps.add(msgSeg);
  }
  /** @internal */
  replayDelivered(recordSeg: Segment, qid: number, upTo: number): void {
    this.wmUpTo[qid] = upTo;
    this.wmSeg[qid] = recordSeg;
  }
  /** @internal */
  replayQueueDeleted(recordSeg: Segment, qid: number): void {
    for (const seg of this.segments) {
      if (seg.settleQueue(qid) > 0 && seg !== recordSeg) recordSeg.deps.add(seg);
    }
    this.qLive[qid] = 0;
    this.wmUpTo[qid] = 0;
    this.wmSeg[qid] = undefined;
  }
  /** @internal */
  queueId(name: string): number {
    return this.qid(name);
  }
  /** @internal */
  queueName(qid: number): string {
    return this.qNames[qid]!;
  }
  /** @internal */
  watermark(qid: number): number {
    return this.wmUpTo[qid]!;
  }
  /** @internal */
  get allSegments(): readonly Segment[] {
    return this.segments;
  }
  /** @internal */
  addSegment(seg: Segment): void {
    this.segments.push(seg);
    this.segById.set(seg.id, seg);
  }
}

