/**
 * The stream log's record: its payload layout (after record.ts's 12-byte header;
 * little endian) and its decoding.
 *
 *   type:u8 = T_STREAM_MESSAGE  offset:u64  timestamp:f64 (ms)  exchange:str16
 *   routingKey:str16  propsLen:u32  props  body (the rest)
 */
import { HEADER_BYTES } from './record.js';

/** Record type of a stream message (distinct from the message log's types). */
export const T_STREAM_MESSAGE = 16;
/** type + offset + timestamp + two str16 lengths + propsLen */
export const META_FIXED = 1 + 8 + 8 + 2 + 2 + 4;
/** Where the offset and the timestamp are in a whole record. */
export const OFFSET_AT = HEADER_BYTES + 1;
export const TIMESTAMP_AT = HEADER_BYTES + 9;

export interface StreamRecord {
  offset: number;
  timestampMs: number;
  exchange: string;
  routingKey: string;
  /** Raw encoded basic properties (a view: copy to keep). */
  properties: Buffer;
  /** A view: copy to keep. */
  body: Buffer;
}

/** The record at buf[start, start + total) (header included) as a StreamRecord of views, or undefined if malformed. */
export function decodeRecord(buf: Buffer, start: number, total: number): StreamRecord | undefined {
  const end = start + total;
  let o = start + HEADER_BYTES;
  if (total < HEADER_BYTES + META_FIXED || buf[o] !== T_STREAM_MESSAGE || buf.readUInt16LE(o + 7) !== 0) return undefined;
  o++;
  const offset = buf.readUIntLE(o, 6);
  o += 8;
  const timestampMs = buf.readDoubleLE(o);
  o += 8;
  const exLen = buf.readUInt16LE(o);
  if (o + 2 + exLen + 2 > end) return undefined;
  const exchange = buf.toString('utf8', o + 2, o + 2 + exLen);
  o += 2 + exLen;
  const rkLen = buf.readUInt16LE(o);
  if (o + 2 + rkLen + 4 > end) return undefined;
  const routingKey = buf.toString('utf8', o + 2, o + 2 + rkLen);
  o += 2 + rkLen;
  const pl = buf.readUInt32LE(o);
  o += 4;
  if (o + pl > end) return undefined;
  return { offset, timestampMs, exchange, routingKey, properties: buf.subarray(o, o + pl), body: buf.subarray(o + pl, end) };
}
