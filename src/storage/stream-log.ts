/**
 * The log of one stream (`x-queue-type: stream`): an append-only sequence of
 * segment files in its own directory, messages numbered by offset 0, 1, 2, ...,
 * read by any number of independent cursors, trimmed only by retention.
 *
 * API
 *   StreamLog.open({ dir, maxSegmentBytes, maxBytes?, maxAgeMs?, onDurable, onError, log?, cache? })
 *     Recovers the segments in `dir` (creating it if needed) and starts a new segment
 *     for appends (recovered segments are never appended to).
 *   log.append(timestampMs, exchange, routingKey, properties, body) → offset
 *     Synchronous: copies the record once into the tail blocks; the first append of an
 *     event-loop turn schedules one write + fdatasync (group commit, one batch in flight).
 *   log.firstOffset, nextOffset, durableOffset, messageCount, diskBytes, pendingBytes, failed
 *   log.offsetAtTimestamp(ms), log.setRetention(maxBytes?, maxAgeMs?), log.applyRetention()
 *   log.reader(fromOffset, notBeforeMs?) → StreamReader; log.close(); log.destroy()
 *
 * Readers
 *   A reader returns records that are durable (offset <= durableOffset), as RabbitMQ
 *   consumers only see committed chunks: what a consumer saw is never lost or
 *   renumbered by a crash. So a reader at the end waits for onDurable, not append.
 *   next() is synchronous and returns undefined when the next record is not durable
 *   yet (atEnd) or not in memory; then fill(done) reads it ahead and calls done.
 *   Records are views into shared cache blocks: use them and let go (copy to keep).
 *
 * Memory
 *   Reads go through a BlockCache of file blocks (default: one shared by every stream,
 *   64 MiB of 1 MiB blocks, LRU): a reader holds at most the one record its last fill
 *   read, so memory does not grow with readers or stream length; many readers at one
 *   place read the disk once. The blocks appends are copied into are the cache's
 *   blocks too, so live readers are served without reading the disk; they are pinned
 *   only until synced, so an idle stream holds no memory once others need it. Per
 *   segment the log keeps a sparse index (an entry per 64 KiB). A record larger than
 *   a block that is not cached is read on its own into the reader that needs it.
 *
 * Durability
 *   onDurable(upTo) after write + fdatasync (+ directory fsync after a new segment
 *   file): every offset <= upTo is on disk. On a write or sync error: onError once,
 *   `failed` set, later appends get offsets but are not stored or reported durable.
 *   Recovery: a torn tail is truncated, a record with a bad CRC is skipped (logged),
 *   a damaged header ends that segment's readable part (logged); offsets continue
 *   after the highest recovered one (a segment file's name is its first offset, so
 *   an empty last segment keeps its offsets taken too).
 *
 * Retention: whole segments, oldest first, never the active one; evaluated when a
 * segment rolls, on setRetention, and every RETENTION_TICK (bounded by max-age) when
 * a max-age is set. Readers below the new first offset continue from it.
 *
 * Files: <dir>/<first offset, 20 digits>.stream, records framed as in record.ts
 * with the payload of stream-record.ts. Modules: stream-segment (a segment's index),
 * stream-blocks (BlockCache and the reads through it), stream-reader (the cursor),
 * stream-recovery (open), record-scan (the framing scan recovery uses).
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32 } from './crc32.js';
import type { StorageLogger } from './message-log.js';
import { HEADER_BYTES, MAX_PAYLOAD, strLen, writeRecordHeader, writeStr } from './record.js';
import { type BlockCache, BlockReads, CachedBlock, sharedBlockCache } from './stream-blocks.js';
import { META_FIXED, T_STREAM_MESSAGE } from './stream-record.js';
import { StreamReader } from './stream-reader.js';
import { recoverStream } from './stream-recovery.js';
import { StreamSegment, closeReadHandle, streamSegmentFileName } from './stream-segment.js';

export { BlockCache, sharedBlockCache } from './stream-blocks.js';
export { StreamReader } from './stream-reader.js';
export { type StreamRecord, decodeRecord, T_STREAM_MESSAGE } from './stream-record.js';

/** The longest max-age check period; shorter ages are checked at a quarter of the age. */
const RETENTION_TICK_MS = 60_000;
const MIN_RETENTION_TICK_MS = 50;

export interface StreamLogOptions {
  /** One directory per stream. */
  dir: string;
  /** x-stream-max-segment-size-bytes (RabbitMQ default 500_000_000). */
  maxSegmentBytes: number;
  /** x-max-length-bytes: retention by total size (undefined: none). */
  maxBytes?: number;
  /** x-max-age in ms: segments whose newest message is older go. */
  maxAgeMs?: number;
  /** After write + fdatasync: every offset <= upToOffset is on disk. Must not throw. */
  onDurable(upToOffset: number): void;
  /** A write or sync failed (called once): nothing more will be durable. Must not throw. */
  onError(error: Error): void;
  log?: StorageLogger;
  /** Block cache for reads; default the process-wide sharedBlockCache(). */
  cache?: BlockCache;
}

const noLog: StorageLogger = { warn() {}, info() {} };

export class StreamLog {
  readonly dir: string;
  readonly cache: BlockCache;
  /** @internal The reads through the cache, for the readers. */
  readonly reads: BlockReads;
  private readonly maxSegmentBytes: number;
  private maxBytes: number | undefined;
  private maxAgeMs: number | undefined;
  private readonly onDurable: (upTo: number) => void;
  private readonly onError: (error: Error) => void;
  /** @internal */ readonly logger: StorageLogger;
  private dirFh!: FileHandle;

  /** Segments in offset order; the last is the active one. */
  private segments: StreamSegment[] = [];
  /** @internal */ active!: StreamSegment;
  private next = 0;
  private durable = -1;
  private count = 0;
  private bytes = 0;
  private failure: Error | undefined;
  /** @internal */ closed = false;
  private closing = false;

  private flushQueued = false;
  private flushing = false;
  private batchPromise: Promise<void> | undefined;
  /** Blocks holding bytes not yet synced (unpinned once synced). */
  private pinned: CachedBlock[] = [];
  private scratch = Buffer.allocUnsafe(1024);

  private retentionDue = false;
  private retentionRunning: Promise<void> | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;

  private readonly flushBound = this.flushNow.bind(this);
  private readonly batchFailedBound = this.batchFailed.bind(this);
  private readonly retentionTickBound = this.retentionTick.bind(this);

  private constructor(options: StreamLogOptions) {
    if (!(options.maxSegmentBytes > 0)) throw new RangeError('maxSegmentBytes must be positive');
    this.dir = options.dir;
    this.maxSegmentBytes = options.maxSegmentBytes;
    this.maxBytes = options.maxBytes;
    this.maxAgeMs = options.maxAgeMs;
    this.onDurable = options.onDurable;
    this.onError = options.onError;
    this.logger = options.log ?? noLog;
    this.cache = options.cache ?? sharedBlockCache();
    this.reads = new BlockReads(this.cache, (err) => this.logger.warn({ err, dir: this.dir }, 'stream log: read-ahead failed'));
  }

  static async open(options: StreamLogOptions): Promise<StreamLog> {
    const log = new StreamLog(options);
    await fsp.mkdir(options.dir, { recursive: true });
    log.dirFh = await fsp.open(options.dir, 'r');
    try {
      const recovered = await recoverStream(options.dir, log.dirFh, log.logger);
      for (const seg of recovered.segments) {
        log.segments.push(seg);
        log.count += seg.count;
        log.bytes += seg.size;
      }
      log.next = recovered.nextOffset;
      log.durable = log.next - 1;
      await log.startActiveSegment();
    } catch (err) {
      await log.closeHandles();
      throw err;
    }
    log.armRetentionTimer();
    log.runRetention();
    return log;
  }

  // ------------------------------------------------------------------ state

  /** Oldest retained offset (== nextOffset when empty). */
  get firstOffset(): number {
    for (const s of this.segments) if (s.count > 0) return s.firstOffset;
    return this.next;
  }
  get nextOffset(): number {
    return this.next;
  }
  /** Highest offset on disk (-1: none). */
  get durableOffset(): number {
    return this.durable;
  }
  get messageCount(): number {
    return this.count;
  }
  /** Bytes of the retained segment files, counting appends not yet written. */
  get diskBytes(): number {
    return this.bytes;
  }
  /** Bytes appended but not yet on disk: for flow control (the blocks holding them cannot be evicted). */
  get pendingBytes(): number {
    let n = 0;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i]!;
      if (seg.synced === seg.size) break;
      n += seg.size - seg.synced;
    }
    return this.failure === undefined ? n : 0;
  }
  get failed(): Error | undefined {
    return this.failure;
  }
  /** Segment files' first offsets (diagnostics and tests). */
  get segmentFirstOffsets(): number[] {
    return this.segments.map((s) => s.firstOffset);
  }

  // ------------------------------------------------------------------ appends

  append(timestampMs: number, exchange: string, routingKey: string, properties: Buffer, body: Buffer): number {
    if (this.closed || this.closing) throw new Error('stream log is closed');
    const exLen = strLen(exchange);
    const rkLen = strLen(routingKey);
    const offset = this.next++;
    if (this.failure !== undefined) return offset;
    const metaEnd = HEADER_BYTES + META_FIXED + exLen + rkLen;
    const len = metaEnd - HEADER_BYTES + properties.length + body.length;
    if (len > MAX_PAYLOAD) throw new RangeError(`stream record of ${len} bytes is larger than ${MAX_PAYLOAD}`);
    const total = HEADER_BYTES + len;
    let seg = this.active;
    if (seg.size > 0 && seg.size + total > this.maxSegmentBytes) seg = this.roll(offset);
    if (this.scratch.length < metaEnd) this.scratch = Buffer.allocUnsafe(metaEnd * 2);
    const s = this.scratch;
    let o = HEADER_BYTES;
    s[o++] = T_STREAM_MESSAGE;
    s.writeUIntLE(offset, o, 6);
    s.writeUInt16LE(0, o + 6);
    o += 8;
    s.writeDoubleLE(timestampMs, o);
    o += 8;
    o = writeStr(s, o, exchange);
    o = writeStr(s, o, routingKey);
    s.writeUInt32LE(properties.length, o);
    o += 4;
    const crc = crc32(body, 0, body.length, crc32(properties, 0, properties.length, crc32(s, HEADER_BYTES, o)));
    writeRecordHeader(s, 0, len, crc);
    const pos = seg.size;
    let at = this.put(seg, pos, s, 0, o);
    at = this.put(seg, at, properties, 0, properties.length);
    this.put(seg, at, body, 0, body.length);
    seg.noteRecord(offset, pos, total, timestampMs);
    this.count++;
    this.bytes += total;
    if (!this.flushQueued && !this.flushing) {
      this.flushQueued = true;
      setImmediate(this.flushBound);
    }
    return offset;
  }

  /** Copies src[start, end) into seg's blocks at file position pos; returns the position after. */
  private put(seg: StreamSegment, pos: number, src: Buffer, start: number, end: number): number {
    const B = this.cache.blockBytes;
    while (start < end) {
      const index = Math.floor(pos / B);
      let b = seg.tail;
      const at = pos - index * B;
      if (b === undefined || b.index !== index) b = this.newTail(seg, index, at);
      else if (!b.pinned) {
        this.cache.pin(b);
        this.pinned.push(b);
      }
      const n = Math.min(end - start, B - at);
      src.copy(b.buf, at, start, start + n);
      b.length = at + n;
      pos += n;
      start += n;
    }
    return pos;
  }

  /** A block for appends from `at` on (0 but after an eviction of the tail: the bytes before are synced). */
  private newTail(seg: StreamSegment, index: number, at: number): CachedBlock {
    const b = new CachedBlock(seg, index, Buffer.allocUnsafeSlow(this.cache.blockBytes));
    b.start = b.length = at;
    this.cache.add(b);
    seg.tail = b;
    this.pinned.push(b);
    return b;
  }

  private roll(firstOffset: number): StreamSegment {
    const prev = this.active;
    const seg = new StreamSegment(firstOffset, path.join(this.dir, streamSegmentFileName(firstOffset)), prev.runningMaxTimestamp);
    this.segments.push(seg);
    this.active = seg;
    this.retentionDue = true;
    if (prev.fh !== undefined && prev.written === prev.size && !this.flushing) {
      const fh = prev.fh;
      prev.fh = undefined;
      void fh.close().catch(() => {});
    }
    return seg;
  }

  // ------------------------------------------------------------------ group commit

  private flushNow(): void {
    this.flushQueued = false;
    if (this.flushing || this.failure !== undefined || this.closed) return;
    let i = this.segments.length;
    while (i > 0 && this.segments[i - 1]!.written < this.segments[i - 1]!.size) i--;
    if (i === this.segments.length) return;
    const segs = this.segments.slice(i);
    const ends = segs.map((s) => s.size);
    const upTo = this.next - 1;
    this.flushing = true;
    this.batchPromise = this.writeBatch(segs, ends).then(() => this.batchDone(upTo), this.batchFailedBound);
  }

  private async writeBatch(segs: StreamSegment[], ends: number[]): Promise<void> {
    const B = this.cache.blockBytes;
    let created = false;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      const end = ends[i]!;
      if (seg.fh === undefined) {
        seg.fh = await fsp.open(seg.path, seg.created ? 'r+' : 'wx');
        created ||= !seg.created;
        seg.created = true;
      }
      let pos = seg.written;
      while (pos < end) {
        const index = Math.floor(pos / B);
        const b = seg.blocks.get(index);
        const at = pos - index * B;
        if (b === undefined || !b.pinned || b.start > at) throw new Error(`stream log: unwritten block ${index} of ${seg.path} is not in memory`);
        const n = Math.min(end - pos, B - at);
        let done = 0;
        while (done < n) {
          const { bytesWritten } = await seg.fh.write(b.buf, at + done, n - done, pos + done);
          if (bytesWritten <= 0) throw new Error(`stream log: write to ${seg.path} made no progress`);
          done += bytesWritten;
        }
        pos += n;
      }
      seg.written = end;
      await seg.fh.datasync();
      if (seg !== this.active) {
        const fh = seg.fh;
        seg.fh = undefined;
        await fh.close();
      }
    }
    if (created) await this.dirFh.sync();
    // readable only now: a new file's data is not durable before its directory entry is
    for (let i = 0; i < segs.length; i++) segs[i]!.synced = ends[i]!;
  }

  private batchDone(upTo: number): void {
    this.flushing = false;
    if (upTo > this.durable) this.durable = upTo;
    this.unpinSynced();
    if (this.retentionDue) this.runRetention();
    if (this.active.written < this.active.size) this.flushNow();
    this.onDurable(this.durable);
  }

  private unpinSynced(): void {
    const B = this.cache.blockBytes;
    let keep = 0;
    for (let i = 0; i < this.pinned.length; i++) {
      const b = this.pinned[i]!;
      const seg = b.seg;
      const done = seg.deleted || (b.index + 1) * B <= seg.synced || seg.synced === seg.size;
      if (done) {
        if (seg.tail === b && seg !== this.active) seg.tail = undefined;
        this.cache.unpin(b);
      } else this.pinned[keep++] = b;
    }
    this.pinned.length = keep;
  }

  private batchFailed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.flushing = false;
    if (this.failure !== undefined) return;
    this.failure = error;
    // what was not synced is never served; the blocks holding it go
    for (const b of this.pinned) {
      if (b.seg.tail === b) b.seg.tail = undefined;
      this.cache.remove(b);
    }
    this.pinned = [];
    this.logger.warn({ err: error, dir: this.dir }, 'stream log write failed; nothing more will be confirmed');
    this.onError(error);
  }

  // ------------------------------------------------------------------ reads

  /**
   * A cursor from fromOffset (clamped up to firstOffset; beyond the end it waits for
   * that offset). With notBeforeMs it also skips records stamped before that time
   * until the first one at or after it (message-granular timestamp start).
   */
  reader(fromOffset: number, notBeforeMs?: number): StreamReader {
    return new StreamReader(this, Math.max(0, Math.floor(fromOffset)), notBeforeMs);
  }

  /**
   * First offset of the first sparse-index chunk (<= 64 KiB of records) holding a
   * message stamped at or after ms; nextOffset if none is. Finer than RabbitMQ's chunk
   * start; reader(offset, ms) makes it exact.
   */
  offsetAtTimestamp(ms: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.runningMaxTimestamp >= ms) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < segs.length; i++) {
      const at = segs[i]!.offsetAtTimestamp(ms);
      if (at !== undefined) return Math.max(at, this.firstOffset);
    }
    return this.next;
  }

  /** @internal The segment a reader at `offset` starts in. */
  locate(offset: number): StreamSegment {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found = segs[0]!;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.firstOffset <= offset) {
        found = segs[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** @internal The segment after seg (undefined: seg is the newest or gone). */
  segmentAfter(seg: StreamSegment): StreamSegment | undefined {
    const i = this.segments.indexOf(seg);
    return i < 0 ? undefined : this.segments[i + 1];
  }

  // ------------------------------------------------------------------ retention

  /** Policies may change retention; applies it at once. */
  setRetention(maxBytes?: number, maxAgeMs?: number): void {
    this.maxBytes = maxBytes;
    this.maxAgeMs = maxAgeMs;
    this.armRetentionTimer();
    this.runRetention();
  }

  /** Applies retention now; resolves when the files are gone (for tests and policies). */
  async applyRetention(): Promise<void> {
    while (this.retentionRunning !== undefined) await this.retentionRunning;
    this.runRetention();
    while (this.retentionRunning !== undefined) await this.retentionRunning;
  }

  private armRetentionTimer(): void {
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    if (this.maxAgeMs === undefined || this.closing) return;
    const every = Math.max(MIN_RETENTION_TICK_MS, Math.min(RETENTION_TICK_MS, this.maxAgeMs / 4));
    this.retentionTimer = setInterval(this.retentionTickBound, every).unref();
  }

  private retentionTick(): void {
    try {
      this.runRetention();
    } catch (err) {
      this.logger.warn({ err, dir: this.dir }, 'stream log: retention check failed');
    }
  }

  private runRetention(): void {
    if (this.closing || this.closed) return;
    if (this.retentionRunning !== undefined) {
      this.retentionDue = true;
      return;
    }
    this.retentionDue = false;
    const victims = this.expiredSegments(Date.now());
    if (victims.length === 0) return;
    this.segments.splice(0, victims.length);
    for (const seg of victims) {
      seg.deleted = true;
      this.cache.dropSegment(seg);
      this.count -= seg.count;
      this.bytes -= seg.size;
    }
    this.retentionRunning = this.removeFiles(victims).then(
      () => this.retentionDone(),
      (err: unknown) => {
        this.logger.warn({ err, dir: this.dir }, 'stream log: removing segments for retention failed');
        this.retentionDone();
      },
    );
  }

  private retentionDone(): void {
    this.retentionRunning = undefined;
    if (this.retentionDue) this.runRetention();
  }

  /** The oldest segments retention removes: whole, in order, never the active one nor one with unsynced bytes. */
  private expiredSegments(now: number): StreamSegment[] {
    const out: StreamSegment[] = [];
    let total = this.bytes;
    for (const seg of this.segments) {
      if (seg === this.active || seg.synced < seg.size) break;
      const tooBig = this.maxBytes !== undefined && total > this.maxBytes;
      const tooOld = this.maxAgeMs !== undefined && (seg.count === 0 || seg.lastTimestamp < now - this.maxAgeMs);
      if (!tooBig && !tooOld) break;
      out.push(seg);
      total -= seg.size;
    }
    return out;
  }

  private async removeFiles(victims: StreamSegment[]): Promise<void> {
    for (const seg of victims) {
      await closeReadHandle(seg);
      try {
        await fsp.unlink(seg.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      // one at a time, oldest first: a crash never leaves a hole before a survivor
      await this.dirFh.sync();
    }
    this.logger.info({ dir: this.dir, segments: victims.map((s) => s.firstOffset), firstOffset: this.firstOffset }, 'stream log: retention removed segments');
  }

  // ------------------------------------------------------------------ close

  /** Writes and syncs what is pending, closes the files, drops the cached blocks. */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    for (;;) {
      if (this.flushing) await this.batchPromise;
      else if (this.failure === undefined && this.active.written < this.active.size) this.flushNow();
      else break;
    }
    while (this.retentionRunning !== undefined) await this.retentionRunning;
    this.closed = true;
    await this.closeHandles();
  }

  /** The stream was deleted: close and remove its directory. */
  async destroy(): Promise<void> {
    await this.close();
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  private async closeHandles(): Promise<void> {
    for (const seg of this.segments) {
      this.cache.dropSegment(seg);
      seg.deleted = true;
      await seg.fh?.close().catch(() => {});
      seg.fh = undefined;
      await closeReadHandle(seg);
    }
    this.pinned = [];
    await this.dirFh?.close().catch(() => {});
  }

  private async startActiveSegment(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    const seg = new StreamSegment(this.next, path.join(this.dir, streamSegmentFileName(this.next)), last?.runningMaxTimestamp ?? -Infinity);
    seg.fh = await fsp.open(seg.path, 'wx');
    seg.created = true;
    await this.dirFh.sync();
    this.segments.push(seg);
    this.active = seg;
  }
}

