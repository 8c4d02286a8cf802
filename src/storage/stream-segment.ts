/**
 * One segment file of a stream log, what the log keeps in memory about it, and
 * the block cache that stream readers share.
 *
 * Per segment: first/last offset, first/last timestamp, byte sizes and a sparse
 * offset → file position index (one entry per INDEX_EVERY_BYTES of file), so a
 * reader positions itself with one block read and the memory per segment does not
 * depend on how many messages it holds.
 */
import type { FileHandle } from 'node:fs/promises';

/** A sparse index entry is added at the first record starting at or after every this many bytes. */
export const INDEX_EVERY_BYTES = 64 * 1024;

export function streamSegmentFileName(firstOffset: number): string {
  return `${String(firstOffset).padStart(20, '0')}.stream`;
}

export const STREAM_SEGMENT_FILE_RE = /^(\d{20})\.stream$/;

export class StreamSegment {
  /** Logical end: bytes appended, including those not yet written. */
  size = 0;
  /** Bytes whose write completed. */
  written = 0;
  /** Bytes on disk after fdatasync: readers read below this only. */
  synced = 0;
  /** Offset of the last record held (-1: none). */
  lastOffset = -1;
  count = 0;
  firstTimestamp = 0;
  /** Largest timestamp of this segment's own records (max-age retention). */
  lastTimestamp = -Infinity;
  /**
   * Largest timestamp of this and every older record of the log: monotonic over
   * segments and index entries even if the clock stepped back, so lookups by time
   * can bisect.
   */
  runningMaxTimestamp = -Infinity;

  // sparse index: entry i = the record at idxPos[i] has offset idxOffset[i];
  // idxMaxTs[i] = running max timestamp up to the end of the records of entry i
  idxOffset = new Float64Array(16);
  idxPos = new Float64Array(16);
  idxMaxTs = new Float64Array(16);
  idxCount = 0;
  private nextIndexPos = 0;

  /** The file exists. */
  created = false;
  /** Write handle: open while the segment is the active one or has data to write. */
  fh: FileHandle | undefined;
  readFh: FileHandle | undefined;
  readOpening: Promise<FileHandle> | undefined;
  readRefs = 0;
  /** Removed by retention (or the log closed): readers move on, loads are dropped. */
  deleted = false;

  /** Cached blocks of this segment by block number (owned by the BlockCache). */
  readonly blocks = new Map<number, CachedBlock>();
  /** Block reads in flight, so readers at the same place share one read. */
  readonly loading = new Map<number, Promise<void>>();
  /**
   * The block appends are copied into: pinned while it holds bytes not yet synced;
   * once synced it may be evicted like any block (an idle stream then holds none).
   */
  tail: CachedBlock | undefined;

  constructor(
    readonly firstOffset: number,
    readonly path: string,
    previousMaxTimestamp: number,
  ) {
    this.runningMaxTimestamp = previousMaxTimestamp;
  }

  /** Accounts for a record of `total` bytes at file position pos. */
  noteRecord(offset: number, pos: number, total: number, timestampMs: number): void {
    if (this.count === 0) this.firstTimestamp = timestampMs;
    this.count++;
    this.lastOffset = offset;
    if (timestampMs > this.lastTimestamp) this.lastTimestamp = timestampMs;
    if (timestampMs > this.runningMaxTimestamp) this.runningMaxTimestamp = timestampMs;
    if (pos >= this.nextIndexPos) {
      if (this.idxCount === this.idxOffset.length) this.growIndex();
      this.idxOffset[this.idxCount] = offset;
      this.idxPos[this.idxCount] = pos;
      this.idxCount++;
      this.nextIndexPos = pos + INDEX_EVERY_BYTES;
    }
    this.idxMaxTs[this.idxCount - 1] = this.runningMaxTimestamp;
    if (pos + total > this.size) this.size = pos + total;
  }

  /** File position of the last indexed record with offset <= `offset` (0 if none). */
  positionOf(offset: number): number {
    let lo = 0;
    let hi = this.idxCount - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idxOffset[mid]! <= offset) {
        found = this.idxPos[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * First offset of the first index entry holding a record stamped at or after ms,
   * or undefined if every record here is older.
   */
  offsetAtTimestamp(ms: number): number | undefined {
    if (this.count === 0 || this.runningMaxTimestamp < ms) return undefined;
    let lo = 0;
    let hi = this.idxCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idxMaxTs[mid]! >= ms) hi = mid;
      else lo = mid + 1;
    }
    return this.idxOffset[lo]!;
  }

  private growIndex(): void {
    const n = this.idxOffset.length * 2;
    const o = new Float64Array(n);
    o.set(this.idxOffset);
    this.idxOffset = o;
    const p = new Float64Array(n);
    p.set(this.idxPos);
    this.idxPos = p;
    const t = new Float64Array(n);
    t.set(this.idxMaxTs);
    this.idxMaxTs = t;
  }
}

/** blockBytes of one segment file, starting at index × blockBytes. */
export class CachedBlock {
  /** End of the valid bytes, from the block's start. */
  length = 0;
  /**
   * Start of the valid bytes: 0, except for a tail re-created after its predecessor
   * was evicted, whose earlier bytes are on disk (a load reads them in place).
   */
  start = 0;
  /** Not evictable: holds bytes not yet on disk. */
  pinned = true;
  /** Read from the file (its records' CRCs are checked when read), not written by this process. */
  fromDisk = false;
  /** Still in the cache (a reader may check a block it looked up earlier). */
  cached = true;
  prev: CachedBlock | undefined;
  next: CachedBlock | undefined;

  constructor(
    readonly seg: StreamSegment,
    readonly index: number,
    readonly buf: Buffer,
  ) {}
}

/**
 * File blocks shared by every reader of the streams that use this cache, bounded in
 * bytes, least recently used evicted first. Pinned blocks (appends not yet synced)
 * count towards the total but are not evicted; the bound holds whenever the writes
 * keep up.
 */
export class BlockCache {
  /** Bytes of every block held, pinned or not. */
  bytes = 0;
  /** Blocks read from disk (a hit is a lookup that needed none). */
  loads = 0;
  private head: CachedBlock | undefined; // least recently used
  private tail: CachedBlock | undefined; // most recently used

  constructor(
    readonly maxBytes = 64 * 1024 * 1024,
    readonly blockBytes = 1024 * 1024,
  ) {
    if (!(blockBytes >= 64) || !(maxBytes >= blockBytes)) throw new RangeError('block cache: need blockBytes >= 64 and maxBytes >= blockBytes');
  }

  /** Adds a block (pinned or not) to seg's blocks and the total, evicting as needed. */
  add(block: CachedBlock): void {
    const old = block.seg.blocks.get(block.index);
    if (old !== undefined) this.remove(old);
    block.seg.blocks.set(block.index, block);
    this.bytes += block.buf.length;
    if (!block.pinned) this.link(block);
    this.evict();
  }

  /** Marks a lookup: the block becomes the most recently used. */
  touch(block: CachedBlock): void {
    if (block.pinned || this.tail === block) return;
    this.unlink(block);
    this.link(block);
  }

  pin(block: CachedBlock): void {
    if (block.pinned) return;
    if (block.cached) this.unlink(block);
    block.pinned = true;
  }

  unpin(block: CachedBlock): void {
    if (!block.pinned) return;
    block.pinned = false;
    if (block.cached) {
      this.link(block);
      this.evict();
    }
  }

  remove(block: CachedBlock): void {
    if (!block.cached) return;
    block.cached = false;
    if (!block.pinned) this.unlink(block);
    if (block.seg.blocks.get(block.index) === block) block.seg.blocks.delete(block.index);
    if (block.seg.tail === block) block.seg.tail = undefined;
    this.bytes -= block.buf.length;
  }

  /** Drops every block of seg (deleted by retention, or its log closed). */
  dropSegment(seg: StreamSegment): void {
    for (const b of [...seg.blocks.values()]) this.remove(b);
    seg.tail = undefined;
  }

  private evict(): void {
    while (this.bytes > this.maxBytes && this.head !== undefined) this.remove(this.head);
  }

  private link(b: CachedBlock): void {
    b.prev = this.tail;
    b.next = undefined;
    if (this.tail !== undefined) this.tail.next = b;
    else this.head = b;
    this.tail = b;
  }

  private unlink(b: CachedBlock): void {
    if (b.prev !== undefined) b.prev.next = b.next;
    else this.head = b.next;
    if (b.next !== undefined) b.next.prev = b.prev;
    else this.tail = b.prev;
    b.prev = b.next = undefined;
  }
}

let shared: BlockCache | undefined;

/** The process-wide cache streams use unless given their own: one bound for all streams. */
export function sharedBlockCache(): BlockCache {
  return (shared ??= new BlockCache());
}
