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
 *     per batch after its write and fdatasync completed, with the highest ticket of
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
 *   - onDurable(t) is only called after fdatasync of every record with ticket <= t
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
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32 } from './crc32.js';
import {
  HEADER_BYTES,
  MAX_PAYLOAD,
  SEGMENT_FILE_RE,
  T_DELIVERED,
  T_PUBLISH,
  T_QDELETED,
  T_SEGDELETED,
  T_SETTLE,
  T_START,
  headerCheck,
  segmentFileName,
  strLen,
  writeRecordHeader,
  writeStr,
} from './record.js';
import { Segment } from './segment.js';

/** Where a message's whole record is: read it back with readBodies. */
export interface LogPosition {
  segment: number;
  offset: number;
  length: number;
}

/**
 * A queue's unsettled messages after recovery, in publish order, kept as
 * parallel arrays of numbers: a million recovered messages cost tens of MB,
 * not an object each. Exchange, routing key and properties stay in the log
 * (readMessages); `at(i)` makes one message's reference on demand.
 */
export class RecoveredQueue {
  private count = 0;
  msgIds = new Float64Array(16);
  segments = new Uint32Array(16);
  offsets = new Float64Array(16);
  lengths = new Uint32Array(16);
  bodySizes = new Uint32Array(16);
  redelivered = new Uint8Array(16);
  /** The message's priority, as MessageLogOptions.priorityOf read it. */
  priorities = new Uint8Array(16);

  get length(): number {
    return this.count;
  }

  push(msgId: number, segment: number, offset: number, length: number, bodySize: number, redelivered: boolean, priority: number): void {
    const i = this.count;
    if (i === this.msgIds.length) this.grow();
    this.msgIds[i] = msgId;
    this.segments[i] = segment;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.bodySizes[i] = bodySize;
    this.redelivered[i] = redelivered ? 1 : 0;
    this.priorities[i] = priority;
    this.count = i + 1;
  }

  position(i: number): LogPosition {
    return { segment: this.segments[i]!, offset: this.offsets[i]!, length: this.lengths[i]! };
  }

  at(i: number): RecoveredMessage {
    return { msgId: this.msgIds[i]!, position: this.position(i), bodySize: this.bodySizes[i]!, redelivered: this.redelivered[i] === 1 };
  }

  /** Every message as an object: for tests and small queues. */
  toArray(): RecoveredMessage[] {
    return Array.from({ length: this.count }, (_, i) => this.at(i));
  }

  private grow(): void {
    const size = this.msgIds.length * 2;
    this.msgIds = grown(this.msgIds, new Float64Array(size));
    this.segments = grown(this.segments, new Uint32Array(size));
    this.offsets = grown(this.offsets, new Float64Array(size));
    this.lengths = grown(this.lengths, new Uint32Array(size));
    this.bodySizes = grown(this.bodySizes, new Uint32Array(size));
    this.redelivered = grown(this.redelivered, new Uint8Array(size));
    this.priorities = grown(this.priorities, new Uint8Array(size));
  }
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

export interface RecoveredMessage {
  msgId: number;
  bodySize: number;
  position: LogPosition;
  redelivered: boolean;
}

export interface RecoveredState {
  /** Queue name → its unsettled messages, in publish order. */
  queues: Map<string, RecoveredQueue>;
  nextMsgId: number;
  stats: { segments: number; records: number; corrupt: number; truncatedBytes: number; missingSegments: number; ms: number };
}

export interface StorageLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

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
const INITIAL_BATCH_BYTES = 256 * 1024;
/** Batch buffers larger than this are not kept for reuse. */
const KEEP_BATCH_BYTES = 8 * 1024 * 1024;
const RECOVERY_READ_BYTES = 8 * 1024 * 1024;
/** readBodies merges records at most this far apart into one read... */
const READ_GAP_BYTES = 16 * 1024;
/** ...up to this many bytes per read. */
const READ_RUN_BYTES = 1024 * 1024;

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

/** A slice of the pending batch destined for one segment. */
interface Chunk {
  seg: Segment;
  buf: Buffer;
  len: number;
  /** File offset of buf[0]. */
  fileOffset: number;
  maxTicket: number;
  sealed: boolean;
}

const NO_POSITION: LogPosition = Object.freeze({ segment: -1, offset: 0, length: 0 });

export class MessageLog {
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
  private readonly qLive: number[] = [];
  private readonly wmUpTo: number[] = [];
  private readonly wmSeg: (Segment | undefined)[] = [];
  // the queue's watermark record in the pending batch, overwritten in place by the next one
  private readonly wmSlotChunk: (Chunk | undefined)[] = [];
  private readonly wmSlotOffset: number[] = [];
  private readonly wmSlotTicket: number[] = [];

  // batching
  private chunks: Chunk[] = [];
  private inflight: Chunk[] = [];
  private readonly spareBuffers: Buffer[] = [];
  private flushQueued = false;
  private flushing = false;
  private batchPromise: Promise<void> | undefined;
  private failure: Error | undefined;
  private waiting: WaitingForSpace | undefined;
  private closed = false;

  // segment deletion
  private gcDirty = true;
  private gcAfterSync = false;
  private closing = false;
  private gcPromise: Promise<void> | undefined;

  private readonly flushBound = this.flushNow.bind(this);
  private readonly batchDoneBound = this.batchDone.bind(this);
  private readonly batchFailedBound = this.batchFailed.bind(this);
  private readonly gcDoneBound = this.gcDone.bind(this);
  private readonly gcFailedBound = this.gcFailed.bind(this);
  private readonly retrySpaceBound = this.retrySpace.bind(this);

  private constructor(options: MessageLogOptions) {
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.onDurable = options.onDurable;
    this.onError = options.onError;
    this.logger = options.log ?? noLog;
    this.priorityOf = options.priorityOf;
    this.onNoSpace = options.onNoSpace;
    this.onWritable = options.onWritable;
  }

  private readonly onNoSpace: ((error: Error) => void) | undefined;
  private readonly onWritable: (() => void) | undefined;

  static async open(options: MessageLogOptions): Promise<{ log: MessageLog; recovered: RecoveredState }> {
    const log = new MessageLog(options);
    await fsp.mkdir(options.dir, { recursive: true });
    log.dirFh = await fsp.open(options.dir, 'r');
    try {
      const recovered = await log.recover();
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
    for (let i = 0; i < queues.length; i++) qBytes += 2 + strLen(queues[i]!);
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
      const q = queues[i]!;
      o = writeStr(buf, o, q);
      const qid = this.qid(q);
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
    this.seal(c, start, o, ticket);
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
    const c = this.reserve(HEADER_BYTES + 1 + 6 + 2 + strLen(queue));
    if (c.seg !== msgSeg) c.seg.deps.add(msgSeg);
    const start = c.len;
    this.seal(c, start, writeIdQueueRecord(c.buf, start, T_SETTLE, msgId, queue), ticket);
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
    const c = this.failure === undefined ? this.reserve(HEADER_BYTES + 1 + 2 + strLen(queue)) : undefined;
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
    o = writeStr(buf, o, queue);
    this.seal(c, start, o, ticket);
    return ticket;
  }

  /** Bytes appended but not yet on disk (pending and in-flight batches). */
  get pendingBytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.len;
    for (const c of this.inflight) n += c.len;
    return n;
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
   * views into that read's buffer. Each record's CRC is checked; a mismatch, or a
   * position in a deleted segment, rejects the whole call.
   */
  async readBodies(positions: readonly LogPosition[]): Promise<Buffer[]> {
    return this.readRecords(positions, bodyOf);
  }

  /** Reads whole messages back (exchange, routing key, properties, body), as readBodies does bodies. */
  async readMessages(positions: readonly LogPosition[]): Promise<StoredMessage[]> {
    return this.readRecords(positions, messageOf);
  }

  private async readRecords<T>(positions: readonly LogPosition[], decode: (record: Buffer, pos: LogPosition) => T): Promise<T[]> {
    const out: T[] = new Array<T>(positions.length);
    const reads: Promise<void>[] = [];
    let runSeg: Segment | undefined;
    let runFrom = 0;
    let runStart = 0;
    let runEnd = 0;
    for (let i = 0; i < positions.length; i++) {
      const pos = positions[i]!;
      const seg = this.segById.get(pos.segment);
      if (seg === undefined || seg.deleting) {
        throw new Error(`message log: segment ${pos.segment} is gone (position ${pos.offset}+${pos.length})`);
      }
      const end = pos.offset + pos.length;
      if (end > seg.written) {
        // not written yet: serve it from the batch in memory
        if (runSeg !== undefined) reads.push(this.readRun(runSeg, positions, runFrom, i, runStart, runEnd, out, decode));
        runSeg = undefined;
        out[i] = decode(this.copyFromBatch(seg, pos), pos);
        continue;
      }
      if (
        runSeg === seg &&
        pos.offset >= runEnd &&
        pos.offset - runEnd <= READ_GAP_BYTES &&
        end - runStart <= READ_RUN_BYTES
      ) {
        runEnd = end;
        continue;
      }
      if (runSeg !== undefined) reads.push(this.readRun(runSeg, positions, runFrom, i, runStart, runEnd, out, decode));
      runSeg = seg;
      runFrom = i;
      runStart = pos.offset;
      runEnd = end;
    }
    if (runSeg !== undefined) reads.push(this.readRun(runSeg, positions, runFrom, positions.length, runStart, runEnd, out, decode));
    await Promise.all(reads);
    return out;
  }

  private async readRun<T>(
    seg: Segment,
    positions: readonly LogPosition[],
    from: number,
    to: number,
    start: number,
    end: number,
    out: T[],
    decode: (record: Buffer, pos: LogPosition) => T,
  ): Promise<void> {
    const buf = Buffer.allocUnsafe(end - start);
    seg.readRefs++;
    try {
      const fh = seg.readFh ?? (await (seg.readOpening ??= fsp.open(seg.path, 'r')));
      seg.readFh = fh;
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) throw new Error(`message log: ${seg.path} ends before ${end}`);
        got += bytesRead;
      }
    } finally {
      seg.readRefs--;
      if (seg.deleted) void this.closeReadHandle(seg);
    }
    for (let i = from; i < to; i++) {
      const pos = positions[i]!;
      const rel = pos.offset - start;
      out[i] = decode(buf.subarray(rel, rel + pos.length), pos);
    }
  }

  private copyFromBatch(seg: Segment, pos: LogPosition): Buffer {
    for (const list of [this.inflight, this.chunks]) {
      for (const c of list) {
        if (c.seg === seg && pos.offset >= c.fileOffset && pos.offset + pos.length <= c.fileOffset + c.len) {
          const rel = pos.offset - c.fileOffset;
          return Buffer.from(c.buf.subarray(rel, rel + pos.length));
        }
      }
    }
    throw new Error(`message log: no record at segment ${pos.segment} offset ${pos.offset}`);
  }

  /**
   * Resolves when nothing is pending or in flight and no segment deletion runs
   * (for tests and orderly shutdown; not needed on the hot path).
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.gcPromise !== undefined) await this.gcPromise;
      else if (this.flushing) await this.batchPromise;
      else if (this.chunks.length > 0 && this.failure === undefined && this.waiting === undefined) this.flushNow();
      else return;
    }
  }

  // ------------------------------------------------------------------ close

  /** Writes and syncs what is pending, waits for segment deletion, closes the files. */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    if (this.waiting !== undefined) {
      clearTimeout(this.waiting.timer);
      await this.waiting.attempt;
      // still no space: what waited cannot be written (none of it was reported durable)
      if (this.waiting !== undefined) this.chunks = [];
    }
    while (this.gcPromise !== undefined) await this.gcPromise;
    while (this.flushing || (this.chunks.length > 0 && this.failure === undefined)) {
      if (!this.flushing) this.flushNow();
      await this.batchPromise;
    }
    this.closed = true;
    await this.closeHandles();
  }

  private async closeHandles(): Promise<void> {
    for (const seg of this.segments) {
      await seg.fh?.close().catch(() => {});
      seg.fh = undefined;
      await this.closeReadHandle(seg);
    }
    await this.dirFh?.close().catch(() => {});
  }

  private async closeReadHandle(seg: Segment): Promise<void> {
    if (seg.readRefs > 0) return;
    const fh = seg.readFh;
    seg.readFh = undefined;
    seg.readOpening = undefined;
    if (fh !== undefined) await fh.close().catch(() => {});
  }

  // ------------------------------------------------------------------ batching internals

  private checkOpen(): void {
    if (this.closed) throw new Error('message log is closed');
  }

  private qid(name: string): number {
    let id = this.qidByName.get(name);
    if (id === undefined) {
      id = this.qNames.length;
      this.qidByName.set(name, id);
      this.qNames.push(name);
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
    let c = this.chunks.length > 0 ? this.chunks[this.chunks.length - 1]! : undefined;
    if (c === undefined || c.seg !== seg) {
      c = { seg, buf: this.takeBuffer(n), len: 0, fileOffset: seg.size, maxTicket: 0, sealed: false };
      this.pushChunk(c);
    } else if (c.buf.length - c.len < n) {
      let size = c.buf.length * 2;
      while (size - c.len < n) size *= 2;
      const bigger = Buffer.allocUnsafe(size);
      c.buf.copy(bigger, 0, 0, c.len);
      c.buf = bigger;
    }
    return c;
  }

  private pushChunk(c: Chunk): void {
    this.chunks.push(c);
    if (!this.flushQueued && !this.flushing) {
      this.flushQueued = true;
      setImmediate(this.flushBound);
    }
  }

  /** Fills in the header of the record at buf[start, end) and accounts for it. */
  private seal(c: Chunk, start: number, end: number, ticket: number): void {
    const buf = c.buf;
    writeRecordHeader(buf, start, end - start - HEADER_BYTES, crc32(buf, start + HEADER_BYTES, end));
    c.len = end;
    c.seg.size += end - start;
    c.maxTicket = ticket;
  }

  private takeBuffer(min: number): Buffer {
    const b = this.spareBuffers.pop();
    if (b !== undefined && b.length >= min) return b;
    let size = INITIAL_BATCH_BYTES;
    while (size < min) size *= 2;
    return Buffer.allocUnsafe(size);
  }

  private roll(): void {
    const prev = this.active;
    const seg = new Segment(prev.id + 1, path.join(this.dir, segmentFileName(prev.id + 1)));
    const existing = this.segments.map((s) => s.id);
    this.segments.push(seg);
    this.segById.set(seg.id, seg);
    this.active = seg;
    this.gcDirty = true;
    const c: Chunk = { seg, buf: this.takeBuffer(64 + 4 * existing.length), len: 0, fileOffset: 0, maxTicket: 0, sealed: false };
    this.pushChunk(c);
    const ticket = ++this.lastTicket;
    const end = writeStartRecord(c.buf, 0, seg.id, existing);
    this.seal(c, 0, end, ticket);
    seg.startBytes = end;
    if (prev.fh !== undefined && !this.hasChunkFor(prev) && !this.inflight.some((x) => x.seg === prev)) {
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
    const name = this.qNames[qid]!;
    const c = this.reserve(HEADER_BYTES + 1 + 6 + 2 + strLen(name));
    const start = c.len;
    this.seal(c, start, writeIdQueueRecord(c.buf, start, T_DELIVERED, upTo, name), ticket);
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

  private flushNow(): void {
    this.flushQueued = false;
    if (this.flushing || this.chunks.length === 0 || this.waiting !== undefined) return;
    if (this.failure !== undefined) {
      this.releaseChunks(this.chunks);
      this.chunks = [];
      return;
    }
    const batch = this.chunks;
    for (const c of batch) c.sealed = true;
    this.chunks = [];
    this.inflight = batch;
    this.flushing = true;
    this.batchPromise = this.writeBatch(batch).then(this.batchDoneBound, this.batchFailedBound);
  }

  private async writeBatch(batch: Chunk[]): Promise<void> {
    let created = false;
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      const seg = c.seg;
      if (seg.fh === undefined) {
        seg.fh = await fsp.open(seg.path, seg.created ? 'r+' : 'wx');
        created ||= !seg.created;
        seg.created = true;
      }
      let off = 0;
      while (off < c.len) {
        const { bytesWritten } = await seg.fh.write(c.buf, off, c.len - off, c.fileOffset + off);
        if (bytesWritten <= 0) throw new Error(`message log: write to ${seg.path} made no progress`);
        off += bytesWritten;
      }
      seg.written = c.fileOffset + c.len;
      const next = batch[i + 1];
      if (next === undefined || next.seg !== seg) {
        await seg.fh.datasync();
        seg.synced = seg.written;
        if (seg !== this.active && !this.hasChunkFor(seg)) {
          const fh = seg.fh;
          seg.fh = undefined;
          await fh.close();
        }
      }
    }
    if (created) await this.dirFh.sync();
  }

  /** Whether the pending batch (not the one in flight) has data for seg. */
  private hasChunkFor(seg: Segment): boolean {
    for (const c of this.chunks) if (c.seg === seg) return true;
    return false;
  }

  private batchDone(): void {
    const batch = this.inflight;
    this.inflight = [];
    this.flushing = false;
    const upTo = this.lastTicketOf(batch);
    this.releaseChunks(batch);
    if (this.gcAfterSync) {
      this.gcAfterSync = false;
      this.gcDirty = true;
    }
    for (const seg of this.segments) {
      if (seg !== this.active && seg.fh !== undefined && !this.hasChunkFor(seg)) {
        const fh = seg.fh;
        seg.fh = undefined;
        void fh.close().catch(() => {});
      }
    }
    if (upTo > this.durable) this.durable = upTo;
    if (this.chunks.length > 0) this.flushNow();
    this.onDurable(this.durable);
    this.maybeGc();
  }

  private lastTicketOf(batch: Chunk[]): number {
    let t = 0;
    for (const c of batch) if (c.maxTicket > t) t = c.maxTicket;
    return t;
  }

  private batchFailed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.flushing = false;
    this.releaseChunks(this.inflight);
    this.inflight = [];
    this.releaseChunks(this.chunks);
    this.chunks = [];
    if (this.failure !== undefined) return;
    this.failure = error;
    this.logger.warn({ err: error, dir: this.dir }, 'message log write failed; nothing more will be confirmed');
    this.onError(error);
  }

  private releaseChunks(list: Chunk[]): void {
    for (const c of list) {
      if (c.buf.length <= KEEP_BATCH_BYTES && this.spareBuffers.length < 2) this.spareBuffers.push(c.buf);
    }
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

  private async gc(): Promise<void> {
    const victims: Segment[] = [];
    for (const seg of this.segments) {
      if (seg === this.active || seg.deleting) continue;
      if (seg.live > 0) continue;
      if (seg.synced < seg.size || seg.carryTicket > this.durable) {
        this.gcAfterSync = true;
        continue;
      }
      let blocked = false;
      for (const d of seg.deps) {
        if (!d.deleted) {
          blocked = true;
          break;
        }
      }
      if (blocked) continue;
      for (let qid = 0; qid < this.wmSeg.length; qid++) {
        if (this.wmSeg[qid] === seg && this.qLive[qid]! > 0) {
          // the queue's latest watermark still matters: write it again, delete later
          if (this.failure === undefined) this.writeWatermark(qid, this.wmUpTo[qid]!);
          blocked = true;
        }
      }
      if (blocked) {
        this.gcAfterSync = true;
        continue;
      }
      seg.deleting = true;
      victims.push(seg);
    }
    if (victims.length === 0) return;
    for (const seg of victims) {
      try {
        await fsp.unlink(seg.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await this.dirFh.sync();
    for (const seg of victims) {
      seg.deleted = true;
      seg.clearIndex();
      this.segById.delete(seg.id);
      void this.closeReadHandle(seg);
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
    this.seal(c, start, o, ticket);
  }

  // ------------------------------------------------------------------ startup

  private async startActiveSegment(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    const id = Math.max(last === undefined ? 0 : last.id, this.highestSeenSegment) + 1;
    const seg = new Segment(id, path.join(this.dir, segmentFileName(id)));
    const buf = Buffer.allocUnsafe(64 + 4 * this.segments.length);
    const end = writeStartRecord(buf, 0, id, this.segments.map((s) => s.id));
    writeRecordHeader(buf, 0, end - HEADER_BYTES, crc32(buf, HEADER_BYTES, end));
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
    const fh = await fsp.open(seg.path, 'wx');
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
        this.logger.info({ dir: this.dir, pendingBytes: this.pendingBytes }, 'message log: space found; writing what waited');
        this.onWritable?.();
        this.gcDirty = true;
        this.flushNow();
        this.maybeGc();
      },
      (err: unknown) => {
        waiting.attempt = undefined;
        if (isNoSpace(err)) {
          if (!this.closing) waiting.timer = setTimeout(this.retrySpaceBound, SPACE_RETRY_MS).unref();
          return;
        }
        this.waiting = undefined;
        this.batchFailed(err);
      },
    );
  }

  private highestSeenSegment = 0;

  private async recover(): Promise<RecoveredState> {
    const t0 = performance.now();
    const names = await fsp.readdir(this.dir);
    const ids: number[] = [];
    for (const n of names) {
      const m = SEGMENT_FILE_RE.exec(n);
      if (m !== null) ids.push(Number(m[1]));
    }
    ids.sort((a, b) => a - b);
    const r = new Replay(this);
    for (const id of ids) {
      const seg = new Segment(id, path.join(this.dir, segmentFileName(id)));
      seg.created = true;
      this.segments.push(seg);
      this.segById.set(id, seg);
      await r.readSegment(seg);
    }
    if (ids.length > 0) this.highestSeenSegment = ids[ids.length - 1]!;
    // missing segments: the newest START record lists what existed when it was written
    let missing = 0;
    if (r.newestStartList !== undefined) {
      const found = new Set(ids);
      for (const id of r.newestStartList) {
        if (!found.has(id) && !r.deletedAfterNewestStart.has(id)) {
          missing++;
          this.logger.warn({ dir: this.dir, segment: id, file: segmentFileName(id) }, 'message log: segment file missing; its messages are lost');
        }
        if (id > this.highestSeenSegment) this.highestSeenSegment = id;
      }
    }
    const queues = r.collect();
    this.lastMsgId = r.lastMsgId;
    const stats = {
      segments: ids.length,
      records: r.records,
      corrupt: r.corrupt,
      truncatedBytes: r.truncatedBytes,
      missingSegments: missing,
      ms: Math.round(performance.now() - t0),
    };
    if (ids.length > 0) this.logger.info({ dir: this.dir, ...stats, queues: queues.size }, 'message log recovered');
    return { queues, nextMsgId: r.lastMsgId + 1, stats };
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
  get warnLog(): StorageLogger {
    return this.logger;
  }
  /** @internal */
  readonly priorityOf: MessageLogOptions['priorityOf'];
}

// ---------------------------------------------------------------------- recovery

/** Reads segments record by record and rebuilds the index and the recovered messages. */
class Replay {
  records = 0;
  corrupt = 0;
  truncatedBytes = 0;
  lastMsgId = 0;
  newestStartList: number[] | undefined;
  deletedAfterNewestStart = new Set<number>();
  /** Per segment, its publish records in order (only what recovery needs, as numbers). */
  private readonly recs = new Map<Segment, RecoveredQueue>();
  private buf = Buffer.allocUnsafe(RECOVERY_READ_BYTES);
  /** Queue ids of the record being applied (reused). */
  private readonly qids: number[] = [];

  constructor(private readonly log: MessageLog) {}

  async readSegment(seg: Segment): Promise<void> {
    const logger = this.log.warnLog;
    let fh: FileHandle;
    try {
      fh = await fsp.open(seg.path, 'r+');
    } catch (err) {
      logger.warn({ err, file: seg.path }, 'message log: cannot open segment; skipped');
      return;
    }
    const recs = new RecoveredQueue();
    this.recs.set(seg, recs);
    try {
      const { size: fileSize } = await fh.stat();
      let bufStart = 0; // file offset of buf[0]
      let bufLen = 0;
      let pos = 0; // file offset of the next record
      let truncateAt = -1;
      for (;;) {
        // make sure the header (and later the record) is in the buffer
        let rel = pos - bufStart;
        if (rel + HEADER_BYTES > bufLen) {
          if (pos + HEADER_BYTES > fileSize) {
            if (pos < fileSize) truncateAt = pos;
            break;
          }
          ({ bufStart, bufLen } = await this.fill(fh, pos, HEADER_BYTES, fileSize));
          rel = 0;
        }
        const buf = this.buf;
        const len = buf.readUInt32LE(rel);
        const check = buf.readUInt32LE(rel + 4);
        if (check !== headerCheck(len) || len < 1 || len > MAX_PAYLOAD) {
          logger.warn({ file: seg.path, offset: pos }, 'message log: damaged record header; rest of segment skipped');
          this.corrupt++;
          break;
        }
        const total = HEADER_BYTES + len;
        if (pos + total > fileSize) {
          truncateAt = pos;
          break;
        }
        if (rel + total > bufLen) {
          ({ bufStart, bufLen } = await this.fill(fh, pos, total, fileSize));
          rel = 0;
        }
        const b = this.buf;
        const payloadStart = rel + HEADER_BYTES;
        if (crc32(b, payloadStart, payloadStart + len) !== b.readUInt32LE(rel + 8)) {
          logger.warn({ file: seg.path, offset: pos, length: total }, 'message log: record checksum mismatch; record skipped');
          this.corrupt++;
        } else {
          this.records++;
          this.apply(seg, recs, b, payloadStart, len, pos, total);
        }
        pos += total;
      }
      if (truncateAt >= 0) {
        this.truncatedBytes += fileSize - truncateAt;
        logger.warn({ file: seg.path, offset: truncateAt, bytes: fileSize - truncateAt }, 'message log: torn tail truncated');
        await fh.truncate(truncateAt);
        await fh.datasync();
        seg.size = truncateAt;
      } else seg.size = fileSize;
      seg.written = seg.synced = seg.size;
    } finally {
      await fh.close();
    }
  }

  /** Reads from file offset `pos` at least `need` bytes into the buffer (growing it if a record is bigger). */
  private async fill(fh: FileHandle, pos: number, need: number, fileSize: number): Promise<{ bufStart: number; bufLen: number }> {
    if (this.buf.length < need) this.buf = Buffer.allocUnsafe(need);
    const want = Math.min(this.buf.length, fileSize - pos);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(this.buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { bufStart: pos, bufLen: got };
  }

  private apply(seg: Segment, recs: RecoveredQueue, b: Buffer, p: number, len: number, recordOffset: number, total: number): void {
    const end = p + len;
    const type = b[p]!;
    let o = p + 1;
    const log = this.log;
    switch (type) {
      case T_PUBLISH: {
        const msgId = b.readUIntLE(o, 6);
        o += 6;
        const bodySize = b.readUInt32LE(o);
        o += 4;
        if (msgId <= this.lastMsgId) {
          log.warnLog.warn({ file: seg.path, offset: recordOffset, msgId }, 'message log: message id out of order; record skipped');
          return;
        }
        const nq = b.readUInt16LE(o);
        o += 2;
        const qids = this.qids;
        qids.length = 0;
        for (let i = 0; i < nq; i++) {
          const l = b.readUInt16LE(o);
          qids.push(log.queueId(b.toString('utf8', o + 2, o + 2 + l)));
          o += 2 + l;
        }
        // Exchange, routing key and properties stay in the log; skip over them.
        o += 2 + b.readUInt16LE(o);
        o += 2 + b.readUInt16LE(o);
        const pl = b.readUInt32LE(o);
        o += 4;
        if (o + pl + bodySize !== end) {
          log.warnLog.warn({ file: seg.path, offset: recordOffset }, 'message log: malformed publish record; skipped');
          this.corrupt++;
          return;
        }
        log.replayPublish(seg, msgId, qids);
        this.lastMsgId = msgId;
        recs.push(msgId, seg.id, recordOffset, total, bodySize, false, log.priorityOf === undefined ? 0 : log.priorityOf(b, o, o + pl));
        return;
      }
      case T_SETTLE: {
        const msgId = b.readUIntLE(o, 6);
        o += 6;
        const l = b.readUInt16LE(o);
        log.replaySettle(seg, msgId, log.queueId(b.toString('utf8', o + 2, o + 2 + l)));
        return;
      }
      case T_DELIVERED: {
        const upTo = b.readUIntLE(o, 6);
        o += 6;
        const l = b.readUInt16LE(o);
        log.replayDelivered(seg, log.queueId(b.toString('utf8', o + 2, o + 2 + l)), upTo);
        return;
      }
      case T_QDELETED: {
        const l = b.readUInt16LE(o);
        log.replayQueueDeleted(seg, log.queueId(b.toString('utf8', o + 2, o + 2 + l)));
        return;
      }
      case T_START: {
        const id = b.readUInt32LE(o);
        const n = b.readUInt32LE(o + 4);
        if (id !== seg.id) log.warnLog.warn({ file: seg.path, recorded: id }, 'message log: segment file carries another segment number');
        const list: number[] = [];
        for (let i = 0; i < n; i++) list.push(b.readUInt32LE(o + 8 + 4 * i));
        this.newestStartList = list;
        this.deletedAfterNewestStart.clear();
        return;
      }
      case T_SEGDELETED:
        this.deletedAfterNewestStart.add(b.readUInt32LE(o));
        return;
      default:
        log.warnLog.warn({ file: seg.path, offset: recordOffset, type }, 'message log: unknown record type; skipped');
    }
  }

  /** Builds queue name → unsettled messages in publish order. */
  collect(): Map<string, RecoveredQueue> {
    const out = new Map<string, RecoveredQueue>();
    const log = this.log;
    for (const seg of log.allSegments) {
      const recs = this.recs.get(seg);
      if (recs === undefined) continue;
      for (let i = 0; i < seg.count; i++) {
        const msgId = recs.msgIds[i]!;
        for (let p = seg.pairStart[i]!, end = seg.pairStart[i + 1]!; p < end; p++) {
          if (seg.pairDone[p] !== 0) continue;
          const qid = seg.pairQ[p]!;
          const name = log.queueName(qid);
          let queue = out.get(name);
          if (queue === undefined) out.set(name, (queue = new RecoveredQueue()));
          queue.push(msgId, seg.id, recs.offsets[i]!, recs.lengths[i]!, recs.bodySizes[i]!, msgId <= log.watermark(qid), recs.priorities[i]!);
        }
      }
      // Free each segment's records as soon as they are folded in: recovery's peak memory.
      this.recs.delete(seg);
    }
    return out;
  }
}

// ---------------------------------------------------------------------- helpers

function writeStartRecord(buf: Buffer, start: number, id: number, existing: readonly number[]): number {
  let o = start + HEADER_BYTES;
  buf[o++] = T_START;
  buf.writeUInt32LE(id, o);
  buf.writeUInt32LE(existing.length, o + 4);
  o += 8;
  for (const e of existing) {
    buf.writeUInt32LE(e, o);
    o += 4;
  }
  return o;
}

/** Writes the payload of a SETTLE or DELIVERED record (type, u48 id, queue) after its header; returns its end. */
function writeIdQueueRecord(buf: Buffer, start: number, type: number, id: number, queue: string): number {
  let o = start + HEADER_BYTES;
  buf[o++] = type;
  buf.writeUIntLE(id, o, 6);
  return writeStr(buf, o + 6, queue);
}

/** A message as the log holds it. */
export interface StoredMessage {
  msgId: number;
  exchange: string;
  routingKey: string;
  properties: Buffer;
  body: Buffer;
}

function messageOf(rec: Buffer, pos: LogPosition): StoredMessage {
  const body = bodyOf(rec, pos);
  let o = HEADER_BYTES + 1;
  const msgId = rec.readUIntLE(o, 6);
  o += 6 + 4;
  const queues = rec.readUInt16LE(o);
  o += 2;
  for (let i = 0; i < queues; i++) o += 2 + rec.readUInt16LE(o);
  const exchangeLength = rec.readUInt16LE(o);
  const exchange = rec.toString('utf8', o + 2, o + 2 + exchangeLength);
  o += 2 + exchangeLength;
  const routingKeyLength = rec.readUInt16LE(o);
  const routingKey = rec.toString('utf8', o + 2, o + 2 + routingKeyLength);
  o += 2 + routingKeyLength;
  const propertiesLength = rec.readUInt32LE(o);
  o += 4;
  return { msgId, exchange, routingKey, properties: rec.subarray(o, o + propertiesLength), body };
}

/** Checks a whole publish record read back and returns its body (a view). */
function bodyOf(rec: Buffer, pos: LogPosition): Buffer {
  const len = rec.length - HEADER_BYTES;
  if (
    rec.length < HEADER_BYTES + 11 ||
    rec.readUInt32LE(0) !== len ||
    rec.readUInt32LE(4) !== headerCheck(len) ||
    rec.readUInt32LE(8) !== crc32(rec, HEADER_BYTES, rec.length) ||
    rec[HEADER_BYTES] !== T_PUBLISH
  ) {
    throw new Error(`message log: record at segment ${pos.segment} offset ${pos.offset} is damaged or not a message`);
  }
  const bodyLen = rec.readUInt32LE(HEADER_BYTES + 7);
  return rec.subarray(rec.length - bodyLen);
}
