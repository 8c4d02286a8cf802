/**
 * A cursor over a stream log: next() is synchronous and serves durable records
 * from memory; fill(done) reads ahead what the next record needs. A reader holds
 * no buffers beyond the one record its last fill read, so memory does not grow with
 * the number of readers.
 */
import { crc32 } from './crc32.js';
import { HEADER_BYTES, MAX_PAYLOAD, headerCheck } from './record.js';
import type { StreamLog } from './stream-log.js';
import { OFFSET_AT, T_STREAM_MESSAGE, TIMESTAMP_AT, decodeRecord, type StreamRecord } from './stream-record.js';
import type { StreamSegment } from './stream-segment.js';

/** What a reader's next record needs: its position (len 0 until the header is read). */
const FOUND = 1;
const MISSING = 2;
const NOTHING = 3;

export class StreamReader {
  private off: number;
  private seg: StreamSegment | undefined;
  private pos = 0;
  private notBeforeMs: number | undefined;
  /** The record fill read for this reader (released by next()). */
  private held: Buffer | undefined;
  private heldSeg: StreamSegment | undefined;
  private heldPos = 0;
  // what the next record needs, when scan() returned MISSING
  private needSeg: StreamSegment | undefined;
  private needPos = 0;
  private needLen = 0;
  private closed = false;
  private found: StreamRecord | undefined;

  /** @internal use StreamLog.reader */
  constructor(
    private readonly log: StreamLog,
    fromOffset: number,
    notBeforeMs: number | undefined,
  ) {
    this.off = fromOffset;
    this.notBeforeMs = notBeforeMs;
  }

  /** Next offset this reader returns. Setting it repositions the reader. */
  get offset(): number {
    return this.off;
  }
  set offset(value: number) {
    this.off = Math.max(0, Math.floor(value));
    this.seg = undefined;
    this.held = undefined;
  }

  /** Nothing more is readable now: wait for onDurable. */
  get atEnd(): boolean {
    return this.closed || this.log.closed || Math.max(this.off, this.log.firstOffset) > this.log.durableOffset;
  }

  /** The next record if it is durable and in memory, else undefined (see atEnd, fill). */
  next(): StreamRecord | undefined {
    if (this.scan(true) !== FOUND) return undefined;
    const r = this.found!;
    this.found = undefined;
    return r;
  }

  /**
   * Reads ahead what the next record needs (no-op if it is in memory or nothing is
   * readable); calls done once, never synchronously.
   */
  fill(done: (error?: Error) => void): void {
    const state = this.scan(false);
    if (state !== MISSING) {
      queueMicrotask(() => this.finish(done, undefined));
      return;
    }
    const seg = this.needSeg!;
    const pos = this.needPos;
    this.log.reads.load(seg, pos, this.needLen).then(
      (record) => {
        if (record !== undefined && !this.closed) {
          this.held = record;
          this.heldSeg = seg;
          this.heldPos = pos;
        }
        this.finish(done, undefined);
      },
      // retention removed the segment under the read: not an error, the reader moves on
      (err: unknown) => this.finish(done, seg.deleted ? undefined : err instanceof Error ? err : new Error(String(err))),
    );
  }

  close(): void {
    this.closed = true;
    this.held = undefined;
    this.seg = undefined;
    this.needSeg = undefined;
  }

  private finish(done: (error?: Error) => void, error: Error | undefined): void {
    try {
      done(error);
    } catch (err) {
      this.log.logger.warn({ err, dir: this.log.dir }, 'stream reader: fill callback threw');
    }
  }

  /**
   * Walks to the next record at or after `off`. consume: decode it into `found` and
   * step past it; else leave the reader before it. Records below `off` (or before
   * notBeforeMs) are stepped over either way.
   */
  private scan(consume: boolean): number {
    const log = this.log;
    this.needSeg = undefined;
    if (this.closed || log.closed) return NOTHING;
    const first = log.firstOffset;
    if (this.off < first) {
      this.off = first;
      this.seg = undefined;
    }
    if (this.off > log.durableOffset) return NOTHING;
    if (this.seg === undefined || this.seg.deleted) {
      this.seg = log.locate(this.off);
      this.pos = this.seg.positionOf(this.off);
      this.held = undefined;
    }
    for (;;) {
      const seg = this.seg;
      if (this.pos >= seg.synced) {
        if (seg === log.active || seg.synced < seg.size) return NOTHING;
        const after = log.segmentAfter(seg);
        if (after === undefined) return NOTHING;
        this.seg = after;
        this.pos = after.positionOf(this.off);
        continue;
      }
      let rec: Buffer | undefined;
      let check: boolean;
      if (this.held !== undefined && this.heldSeg === seg && this.heldPos === this.pos) {
        rec = this.held;
        check = true;
      } else {
        const head = log.reads.gather(seg, this.pos, HEADER_BYTES);
        if (head === undefined) return this.missing(seg, 0);
        const len = head.readUInt32LE(0);
        if (head.readUInt32LE(4) !== headerCheck(len) || len < 1 || len > MAX_PAYLOAD || this.pos + HEADER_BYTES + len > seg.synced) {
          log.logger.warn({ file: seg.path, position: this.pos }, 'stream log: damaged record header while reading; rest of segment skipped');
          this.pos = seg.synced;
          continue;
        }
        rec = log.reads.gather(seg, this.pos, HEADER_BYTES + len);
        if (rec === undefined) return this.missing(seg, HEADER_BYTES + len);
        check = log.reads.gatheredFromDisk;
      }
      const total = rec.length;
      if (check && crc32(rec, HEADER_BYTES, total) !== rec.readUInt32LE(8)) {
        log.logger.warn({ file: seg.path, position: this.pos, length: total }, 'stream log: record checksum mismatch while reading; record skipped');
        this.skip(total);
        continue;
      }
      const offset = rec.readUIntLE(OFFSET_AT, 6);
      if (offset < this.off || rec[HEADER_BYTES] !== T_STREAM_MESSAGE) {
        this.skip(total);
        continue;
      }
      if (this.notBeforeMs !== undefined) {
        if (rec.readDoubleLE(TIMESTAMP_AT) < this.notBeforeMs) {
          this.off = offset + 1;
          this.skip(total);
          continue;
        }
        this.notBeforeMs = undefined;
      }
      if (!consume) return FOUND;
      const decoded = decodeRecord(rec, 0, total);
      this.skip(total);
      if (decoded === undefined) {
        log.logger.warn({ file: seg.path, position: this.pos - total }, 'stream log: malformed record while reading; skipped');
        continue;
      }
      this.off = offset + 1;
      this.found = decoded;
      return FOUND;
    }
  }

  private skip(total: number): void {
    if (this.held !== undefined && this.heldPos === this.pos) this.held = undefined;
    this.pos += total;
  }

  private missing(seg: StreamSegment, len: number): number {
    this.needSeg = seg;
    this.needPos = this.pos;
    this.needLen = len;
    return MISSING;
  }
}
