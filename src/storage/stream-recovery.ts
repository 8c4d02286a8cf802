/**
 * Recovery of a stream log's directory at open: each segment file read record by
 * record (record-scan.ts), its in-memory index rebuilt. A torn tail is truncated, a
 * record with a bad CRC or out of order is skipped (logged), a damaged header ends the
 * segment's readable part (logged), a segment with nothing readable is removed. The
 * next offset is past the highest record and past every segment file's first offset,
 * so offsets are never reused.
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { StorageLogger } from './message-log.js';
import { scanRecords } from './record-scan.js';
import { decodeRecord } from './stream-record.js';
import { STREAM_SEGMENT_FILE_RE, StreamSegment, streamSegmentFileName } from './stream-segment.js';

export interface RecoveredStream {
  /** Segments with records, in offset order. */
  segments: StreamSegment[];
  nextOffset: number;
}

export async function recoverStream(dir: string, dirFh: FileHandle, logger: StorageLogger): Promise<RecoveredStream> {
  const firsts: number[] = [];
  for (const name of await fsp.readdir(dir)) {
    const m = STREAM_SEGMENT_FILE_RE.exec(name);
    if (m !== null) firsts.push(Number(m[1]));
  }
  firsts.sort((a, b) => a - b);
  const segments: StreamSegment[] = [];
  let next = 0;
  let maxTs = -Infinity;
  let records = 0;
  let badCrc = 0;
  let truncated = 0;
  for (const first of firsts) {
    const seg = new StreamSegment(first, path.join(dir, streamSegmentFileName(first)), maxTs);
    seg.created = true;
    const r = await recoverSegment(seg, Math.max(next, first), logger);
    records += seg.count;
    badCrc += r.badCrc;
    truncated += r.truncated;
    next = Math.max(next, first, seg.lastOffset + 1);
    if (seg.count === 0) {
      // nothing readable: drop the file (its name's offsets stay taken through `next`)
      if (r.fileBytes > 0) logger.warn({ file: seg.path, bytes: r.fileBytes }, 'stream log: segment with no readable record removed');
      await fsp.unlink(seg.path);
      await dirFh.sync();
      continue;
    }
    maxTs = seg.runningMaxTimestamp;
    segments.push(seg);
  }
  if (firsts.length > 0) {
    logger.info({ dir, segments: segments.length, records, badCrc, truncatedBytes: truncated, nextOffset: next }, 'stream log recovered');
  }
  return { segments, nextOffset: next };
}

async function recoverSegment(seg: StreamSegment, minOffset: number, logger: StorageLogger): Promise<{ badCrc: number; truncated: number; fileBytes: number }> {
  const fh = await fsp.open(seg.path, 'r+');
  try {
    const { size: fileSize } = await fh.stat();
    let nextMin = minOffset;
    const r = await scanRecords(
      fh,
      fileSize,
      (buf, start, total, pos) => {
        const rec = decodeRecord(buf, start, total);
        if (rec === undefined || rec.offset < nextMin) {
          logger.warn({ file: seg.path, position: pos }, 'stream log: malformed or out-of-order record; skipped');
          return;
        }
        seg.noteRecord(rec.offset, pos, total, rec.timestampMs);
        nextMin = rec.offset + 1;
      },
      (pos, total) => logger.warn({ file: seg.path, position: pos, length: total }, 'stream log: record checksum mismatch; record skipped'),
    );
    let truncated = 0;
    if (r.tornAt >= 0) {
      truncated = fileSize - r.tornAt;
      logger.warn({ file: seg.path, position: r.tornAt, bytes: truncated }, 'stream log: torn tail truncated');
      await fh.truncate(r.tornAt);
      await fh.datasync();
    } else if (r.damagedAt >= 0) {
      logger.warn({ file: seg.path, position: r.damagedAt }, 'stream log: damaged record header; rest of segment unreadable');
    }
    seg.size = seg.written = seg.synced = r.end;
    return { badCrc: r.badCrc, truncated, fileBytes: fileSize };
  } finally {
    await fh.close();
  }
}
