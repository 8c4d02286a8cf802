/**
 * Reading records back from the message log's segments: positions next to each
 * other in one segment are merged into one read; records not yet written are
 * copied from the batch in memory.
 */
import * as fsp from 'node:fs/promises';
import type { GroupCommit } from './group-commit.js';
import type { LogPosition } from './record-codec.js';
import type { Segment } from './segment.js';

/** Records at most this far apart are merged into one read... */
const READ_GAP_BYTES = 16 * 1024;
/** ...up to this many bytes per read. */
const READ_RUN_BYTES = 1024 * 1024;
/**
 * A read whose bytes between the wanted records (other queues' messages,
 * settle records) exceed 1/2^this of the wanted bytes is packed: the wanted
 * records are copied into one buffer of their exact size, so that what is
 * read back does not keep the other records' bytes in memory with it.
 */
const PACK_GAP_SHIFT = 3;

export class SegmentReader {
  constructor(
    private readonly segById: ReadonlyMap<number, Segment>,
    private readonly writer: GroupCommit,
  ) {}

  async readRecords<T>(positions: readonly LogPosition[], decode: (record: Buffer, pos: LogPosition) => T): Promise<T[]> {
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
        out[i] = decode(this.writer.copyRecord(seg, pos), pos);
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

  /** Closes seg's read handle unless a read is using it. */
  async closeReadHandle(seg: Segment): Promise<void> {
    if (seg.readRefs > 0) return;
    const fh = seg.readFh;
    seg.readFh = undefined;
    seg.readOpening = undefined;
    if (fh !== undefined) await fh.close().catch(() => {});
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
    let wanted = 0;
    for (let i = from; i < to; i++) wanted += positions[i]!.length;
    if (buf.length - wanted > wanted >>> PACK_GAP_SHIFT) {
      // Messages read back stay in memory until delivered, each holding a view
      // into its read: a queue's messages interleaved with three other queues'
      // kept four times their size (a restart with 2,000,000 messages of 1,000
      // bytes over 4 queues: 301 MB of buffers unpacked, 91 MB packed).
      this.decodePacked(buf, positions, from, to, start, wanted, out, decode);
      return;
    }
    for (let i = from; i < to; i++) {
      const pos = positions[i]!;
      const rel = pos.offset - start;
      out[i] = decode(buf.subarray(rel, rel + pos.length), pos);
    }
  }

  /** Decodes records from[from, to) of a read after copying them, one after the other, into a buffer of their size. */
  private decodePacked<T>(
    buf: Buffer,
    positions: readonly LogPosition[],
    from: number,
    to: number,
    start: number,
    wanted: number,
    out: T[],
    decode: (record: Buffer, pos: LogPosition) => T,
  ): void {
    // Not from the shared pool: a small packed read would keep a whole pool slab alive.
    const packed = Buffer.allocUnsafeSlow(wanted);
    let o = 0;
    for (let i = from; i < to; i++) {
      const pos = positions[i]!;
      const rel = pos.offset - start;
      buf.copy(packed, o, rel, rel + pos.length);
      out[i] = decode(packed.subarray(o, o + pos.length), pos);
      o += pos.length;
    }
  }
}
