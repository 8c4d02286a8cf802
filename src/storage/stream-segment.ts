/**
 * One segment file of a stream log and what the log keeps in memory about it.
 *
 * Per segment: first/last offset, first/last timestamp, byte sizes and a sparse
 * offset → file position index (one entry per INDEX_EVERY_BYTES of file), so a
 * reader positions itself with one block read and the memory per segment does not
 * depend on how many messages it holds.
 */
import type { FileHandle } from 'node:fs/promises';
import type { CachedBlock } from './stream-blocks.js';

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

/** Closes seg's read handle unless a read is using it (that read closes it after, if seg is gone). */
export async function closeReadHandle(seg: StreamSegment): Promise<void> {
  if (seg.readRefs > 0) return;
  const fh = seg.readFh;
  seg.readFh = undefined;
  seg.readOpening = undefined;
  if (fh !== undefined) await fh.close().catch(() => {});
}
