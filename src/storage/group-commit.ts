/**
 * Group commit for the message log: appends are copied into an in-memory batch
 * (one chunk per segment it touches); the first append of an event-loop turn
 * schedules one flush, which writes the batch to each segment it touches with
 * O_DSYNC writes (on disk when they complete: one fdatasync's worth per write).
 * One batch is in flight at a time; appends made meanwhile go to the next one.
 */
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { type LogPosition, sealRecord } from './record-codec.js';
import type { Segment } from './segment.js';

const INITIAL_BATCH_BYTES = 256 * 1024;
/** Batch buffers larger than this are not kept for reuse. */
const KEEP_BATCH_BYTES = 8 * 1024 * 1024;
/** Handles opened with O_DSYNC: a write to one is on disk when it completes. */
const syncedWrites = new WeakSet<FileHandle>();

/**
 * Opens a segment file for appending with O_DSYNC, so that each batch write
 * returns once its data is on disk, as write + fdatasync would, in one trip
 * to the thread pool instead of two.
 */
export async function openForAppend(file: string, existing: boolean): Promise<FileHandle> {
  const flags = existing ? fsc.O_RDWR | fsc.O_DSYNC : fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_DSYNC;
  const fh = await fsp.open(file, flags);
  syncedWrites.add(fh);
  return fh;
}

/** A slice of the pending batch destined for one segment. */
export interface Chunk {
  seg: Segment;
  buf: Buffer;
  len: number;
  /** File offset of buf[0]. */
  fileOffset: number;
  maxTicket: number;
  /** Its batch is being written: records in it can no longer change. */
  sealed: boolean;
}

/** What the writer needs from the log around it. */
export interface GroupCommitHost {
  /** The segment appends go to: its write handle stays open between batches. */
  isActive(seg: Segment): boolean;
  /** fsync of the log's directory, after a batch created a segment file. */
  syncDir(): Promise<void>;
  /** A batch is on disk; every ticket <= upTo is durable. */
  batchWritten(upTo: number): void;
  /** A batch's write or sync failed. */
  batchFailed(err: unknown): void;
}

export class GroupCommit {
  /** The batch being filled. */
  chunks: Chunk[] = [];
  /** The batch being written and synced. */
  inflight: Chunk[] = [];
  /** A batch write is under way (batchPromise settles when it is done). */
  flushing = false;
  batchPromise: Promise<void> | undefined;
  /** While set (no space to start a segment), batches wait in memory. */
  held = false;
  /** While set (the log failed), pending batches are dropped, never written. */
  dropping = false;

  private readonly spareBuffers: Buffer[] = [];
  private flushQueued = false;
  private readonly flushBound = this.flushNow.bind(this);
  private readonly batchDoneBound = this.batchDone.bind(this);
  private readonly batchFailedBound = this.batchFailed.bind(this);

  constructor(private readonly host: GroupCommitHost) {}

  /** The last chunk of the pending batch, if it is for seg, with room for n bytes; else a new chunk. */
  chunkFor(seg: Segment, n: number): Chunk {
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

  /** Starts a new chunk for a fresh segment (seg.size is 0) with room for n bytes. */
  newSegmentChunk(seg: Segment, n: number): Chunk {
    const c: Chunk = { seg, buf: this.takeBuffer(n), len: 0, fileOffset: 0, maxTicket: 0, sealed: false };
    this.pushChunk(c);
    return c;
  }

  /** Fills in the header of the record at buf[start, end) and accounts for it. */
  seal(c: Chunk, start: number, end: number, ticket: number): void {
    sealRecord(c.buf, start, end);
    c.len = end;
    c.seg.size += end - start;
    c.maxTicket = ticket;
  }

  /** Bytes appended but not yet on disk (pending and in-flight batches). */
  get pendingBytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.len;
    for (const c of this.inflight) n += c.len;
    return n;
  }

  /** Whether the pending batch (not the one in flight) has data for seg. */
  hasChunkFor(seg: Segment): boolean {
    for (const c of this.chunks) if (c.seg === seg) return true;
    return false;
  }

  /** Whether the batch in flight has data for seg. */
  inflightFor(seg: Segment): boolean {
    return this.inflight.some((x) => x.seg === seg);
  }

  /** A copy of a record not yet written, from the batch in memory. */
  copyRecord(seg: Segment, pos: LogPosition): Buffer {
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

  /** Drops the pending batch (nothing of it was reported durable). */
  discardPending(): void {
    this.chunks = [];
  }

  flushNow(): void {
    this.flushQueued = false;
    if (this.flushing || this.chunks.length === 0 || this.held) return;
    if (this.dropping) {
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

  /** Drops both batches after a failure. */
  failAll(): void {
    this.flushing = false;
    this.releaseChunks(this.inflight);
    this.inflight = [];
    this.releaseChunks(this.chunks);
    this.chunks = [];
  }

  private pushChunk(c: Chunk): void {
    this.chunks.push(c);
    if (!this.flushQueued && !this.flushing) {
      this.flushQueued = true;
      setImmediate(this.flushBound);
    }
  }

  private takeBuffer(min: number): Buffer {
    const b = this.spareBuffers.pop();
    if (b !== undefined && b.length >= min) return b;
    let size = INITIAL_BATCH_BYTES;
    while (size < min) size *= 2;
    return Buffer.allocUnsafe(size);
  }

  private async writeBatch(batch: Chunk[]): Promise<void> {
    let created = false;
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      const seg = c.seg;
      if (seg.fh === undefined) {
        seg.fh = await openForAppend(seg.path, seg.created);
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
        if (!syncedWrites.has(seg.fh)) await seg.fh.datasync();
        seg.synced = seg.written;
        if (!this.host.isActive(seg) && !this.hasChunkFor(seg)) {
          const fh = seg.fh;
          seg.fh = undefined;
          await fh.close();
        }
      }
    }
    if (created) await this.host.syncDir();
  }

  private batchDone(): void {
    const batch = this.inflight;
    this.inflight = [];
    this.flushing = false;
    let upTo = 0;
    for (const c of batch) if (c.maxTicket > upTo) upTo = c.maxTicket;
    this.releaseChunks(batch);
    this.host.batchWritten(upTo);
  }

  private batchFailed(err: unknown): void {
    this.host.batchFailed(err);
  }

  private releaseChunks(list: Chunk[]): void {
    for (const c of list) {
      if (c.buf.length <= KEEP_BATCH_BYTES && this.spareBuffers.length < 2) this.spareBuffers.push(c.buf);
    }
  }
}
