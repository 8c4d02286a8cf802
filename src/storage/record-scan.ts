/**
 * Reads a log file record by record (the framing of record.ts) for recovery:
 * a record cut short at the end is a torn tail (reported, for the caller to
 * truncate), a payload whose CRC fails is skipped by its length, and a header whose
 * length fails its check stops the scan (nothing after it can be framed).
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from './crc32.js';
import { HEADER_BYTES, MAX_PAYLOAD, headerCheck } from './record.js';

const READ_BYTES = 8 * 1024 * 1024;

export interface ScanResult {
  /** File position after the last record framed (the damaged header's position if damaged). */
  end: number;
  /** Position of a record cut short at the end of the file, or -1. */
  tornAt: number;
  /** Position of a header whose length failed its check, or -1. */
  damagedAt: number;
  /** Records skipped for a CRC mismatch. */
  badCrc: number;
}

/**
 * Calls visit(buf, start, total, pos) for each record whose CRC checks: the record is
 * buf[start, start + total), header included, at file position pos; buf is reused
 * after visit returns. onBadCrc(pos, total) for each record skipped.
 */
export async function scanRecords(
  fh: FileHandle,
  fileSize: number,
  visit: (buf: Buffer, start: number, total: number, pos: number) => void,
  onBadCrc: (pos: number, total: number) => void,
): Promise<ScanResult> {
  let buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(fileSize, HEADER_BYTES)));
  let bufStart = 0;
  let bufLen = 0;
  let pos = 0;
  const result: ScanResult = { end: 0, tornAt: -1, damagedAt: -1, badCrc: 0 };
  const fill = async (need: number): Promise<void> => {
    if (buf.length < need) buf = Buffer.allocUnsafe(need);
    const want = Math.min(buf.length, fileSize - pos);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    bufStart = pos;
    bufLen = got;
  };
  for (;;) {
    if (pos + HEADER_BYTES > fileSize) {
      if (pos < fileSize) result.tornAt = pos;
      break;
    }
    if (pos - bufStart + HEADER_BYTES > bufLen) await fill(HEADER_BYTES);
    let rel = pos - bufStart;
    const len = buf.readUInt32LE(rel);
    if (buf.readUInt32LE(rel + 4) !== headerCheck(len) || len < 1 || len > MAX_PAYLOAD) {
      result.damagedAt = pos;
      break;
    }
    const total = HEADER_BYTES + len;
    if (pos + total > fileSize) {
      result.tornAt = pos;
      break;
    }
    if (rel + total > bufLen) {
      await fill(total);
      rel = 0;
    }
    if (crc32(buf, rel + HEADER_BYTES, rel + total) !== buf.readUInt32LE(rel + 8)) {
      result.badCrc++;
      onBadCrc(pos, total);
    } else visit(buf, rel, total, pos);
    pos += total;
  }
  result.end = pos;
  return result;
}
