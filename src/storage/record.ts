/**
 * On-disk record format of the message log (little endian throughout).
 *
 *   record  = header payload
 *   header  = len:u32  check:u32  crc:u32            (12 bytes)
 *     len   = payload length in bytes (>= 1)
 *     check = headerCheck(len): lets recovery tell a damaged length (stop reading
 *             the segment) from a damaged payload (skip `len` bytes and go on)
 *     crc   = CRC-32 of the payload
 *   payload = type:u8 ...
 *
 *   START      1  segment:u32 n:u32 existing:u32*n     first record of every segment file; the
 *                                                      segments that existed when it was created
 *   PUBLISH    2  msgId:u48 bodyLen:u32 nQueues:u16 (queue:str16)*n exchange:str16
 *                 routingKey:str16 propsLen:u32 props body
 *                 (the body is last, so body = record[record.length - bodyLen ...])
 *   SETTLE     3  msgId:u48 queue:str16
 *   DELIVERED  4  upToMsgId:u48 queue:str16
 *   QDELETED   5  queue:str16
 *   SEGDELETED 6  segment:u32
 *
 *   str16 = byteLength:u16 utf8 bytes
 */

export const HEADER_BYTES = 12;
/** Largest payload recovery accepts as a sane length. */
export const MAX_PAYLOAD = 1 << 30;

export const T_START = 1;
export const T_PUBLISH = 2;
export const T_SETTLE = 3;
export const T_DELIVERED = 4;
export const T_QDELETED = 5;
export const T_SEGDELETED = 6;

/** A bijection of the length (multiplication by an odd constant), so any damage to either word shows. */
export function headerCheck(len: number): number {
  return (Math.imul(len, 0x9e3779b1) ^ 0x5741524e) >>> 0;
}

/** Fills in the 12-byte header of a record whose payload of `len` bytes (CRC-32 `crc`) follows buf[start + HEADER_BYTES]. */
export function writeRecordHeader(buf: Buffer, start: number, len: number, crc: number): void {
  buf.writeUInt32LE(len, start);
  buf.writeUInt32LE(headerCheck(len), start + 4);
  buf.writeUInt32LE(crc, start + 8);
}

/** UTF-8 length of a str16 field's text; longer than a u16 can say is a RangeError. */
export function strLen(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 0xffff) throw new RangeError('name longer than 65535 bytes');
  return n;
}

/** Writes s as a str16 at buf[o]; returns the offset after it. */
export function writeStr(buf: Buffer, o: number, s: string): number {
  const n = buf.write(s, o + 2, 'utf8');
  buf.writeUInt16LE(n, o);
  return o + 2 + n;
}

export function segmentFileName(id: number): string {
  return `${String(id).padStart(10, '0')}.wlog`;
}

export const SEGMENT_FILE_RE = /^(\d{10})\.wlog$/;
