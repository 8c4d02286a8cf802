/**
 * Encoding and decoding of message-log records in memory (the format itself is
 * described in record.ts): writing payloads into a batch buffer, sealing their
 * header, and reading a publish record back into a message.
 */
import { crc32 } from './crc32.js';
import { HEADER_BYTES, T_PUBLISH, T_START, headerCheck, strLen, writeRecordHeader, writeStr } from './record.js';

/** Where a message's whole record is: read it back with readBodies. */
export interface LogPosition {
  segment: number;
  offset: number;
  length: number;
}

/** A message as the log holds it. */
export interface StoredMessage {
  msgId: number;
  exchange: string;
  routingKey: string;
  properties: Buffer;
  body: Buffer;
}

/**
 * A name encoded once as a str16 (length prefix and UTF-8 bytes), to copy into
 * records. Kept for as long as the log knows the queue, so not a slice of
 * Node's shared 8 KB pool, which it would keep alive whole.
 */
export function encodeStr(s: string): Buffer {
  const buf = Buffer.allocUnsafeSlow(2 + strLen(s));
  writeStr(buf, 0, s);
  return buf;
}

/** Encoded names up to this long are copied by a loop: cheaper than Buffer.copy's native call. */
const SHORT_STR16 = 66;

/** Copies an encoded str16 into buf at o; returns the offset after it. */
export function copyStr(buf: Buffer, o: number, str16: Buffer): number {
  const n = str16.length;
  if (n <= SHORT_STR16) for (let i = 0; i < n; i++) buf[o + i] = str16[i]!;
  else str16.copy(buf, o);
  return o + n;
}

/** Fills in the header (length, its check, CRC of the payload) of the record at buf[start, end). */
export function sealRecord(buf: Buffer, start: number, end: number): void {
  writeRecordHeader(buf, start, end - start - HEADER_BYTES, crc32(buf, start + HEADER_BYTES, end));
}

/** Writes the payload of a START record after its header; returns its end. */
export function writeStartRecord(buf: Buffer, start: number, id: number, existing: readonly number[]): number {
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

/** Writes the payload of a SETTLE or DELIVERED record (type, u48 id, queue as encodeStr made it) after its header; returns its end. */
export function writeIdQueueRecord(buf: Buffer, start: number, type: number, id: number, queue: Buffer): number {
  let o = start + HEADER_BYTES;
  buf[o++] = type;
  buf.writeUIntLE(id, o, 6);
  return copyStr(buf, o + 6, queue);
}

/** Decodes a whole publish record read back (checked as bodyOf does). */
export function messageOf(rec: Buffer, pos: LogPosition): StoredMessage {
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
export function bodyOf(rec: Buffer, pos: LogPosition): Buffer {
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
