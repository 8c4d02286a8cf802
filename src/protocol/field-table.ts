import { AmqpError } from './errors.js';
import { ByteSink, readUInt64At, writeUInt64At } from './byte-sink.js';
import { MALFORMED_TABLE_REPLY_CODE } from './constants.js';

/** AMQP decimal: value / 10^scale. scale is an octet, value an unsigned 32-bit integer. */
export class Decimal {
  constructor(
    readonly scale: number,
    readonly value: number,
  ) {}
}

/** The field-value type octets RabbitMQ understands. */
export type FieldType =
  | 't' | 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'l' | 'f' | 'd' | 'D' | 'S' | 'x' | 'A' | 'T' | 'F' | 'V';

/** Forces the encoder to use a specific field type, e.g. new TypedValue('b', 5) or ('T', seconds). */
export class TypedValue {
  constructor(
    readonly type: FieldType,
    readonly value: FieldValue,
  ) {}
}

export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | null
  | Decimal
  | FieldValue[]
  | FieldTable
  | TypedValue;

export interface FieldTable {
  [key: string]: FieldValue;
}

// ---------------------------------------------------------------------------
// Decoding

function malformed(detail: string): AmqpError {
  return AmqpError.connection(MALFORMED_TABLE_REPLY_CODE, detail);
}

function need(buf: Buffer, p: number, n: number, end: number, what: string): void {
  if (p + n > end) throw malformed(`field table: ${what} runs past the end`);
}

/**
 * Decodes a field table at `offset` (starting with its 32-bit length) from
 * `buf`. Returns the table and the offset just past it.
 */
export function decodeTable(buf: Buffer, offset = 0): { table: FieldTable; offset: number } {
  need(buf, offset, 4, buf.length, 'table length');
  const len = buf.readUInt32BE(offset);
  const start = offset + 4;
  const end = start + len;
  need(buf, start, len, buf.length, 'table');
  return { table: decodeTableBody(buf, start, end), offset: end };
}

/** Decodes a complete encoded table (with its 32-bit length prefix) that fills `buf`. */
export function decodeTableBuffer(buf: Buffer): FieldTable {
  const r = decodeTable(buf, 0);
  if (r.offset !== buf.length) throw malformed('field table: trailing bytes');
  return r.table;
}

function decodeTableBody(buf: Buffer, p: number, end: number): FieldTable {
  const table: FieldTable = {};
  while (p < end) {
    const klen = buf[p]!;
    need(buf, p + 1, klen, end, 'field name');
    const key = buf.toString('utf8', p + 1, p + 1 + klen);
    p += 1 + klen;
    const v = decodeValue(buf, p, end);
    if (key === '__proto__') {
      Object.defineProperty(table, key, { value: v.value, enumerable: true, writable: true, configurable: true });
    } else {
      table[key] = v.value;
    }
    p = v.offset;
  }
  return table;
}

function decodeArrayBody(buf: Buffer, p: number, end: number): FieldValue[] {
  const arr: FieldValue[] = [];
  while (p < end) {
    const v = decodeValue(buf, p, end);
    arr.push(v.value);
    p = v.offset;
  }
  return arr;
}

function decodeValue(buf: Buffer, p: number, end: number): { value: FieldValue; offset: number } {
  need(buf, p, 1, end, 'field type');
  const type = buf[p++]!;
  switch (type) {
    case 0x74: // t
      need(buf, p, 1, end, 'boolean');
      return { value: buf[p] !== 0, offset: p + 1 };
    case 0x62: // b
      need(buf, p, 1, end, 'int8');
      return { value: buf.readInt8(p), offset: p + 1 };
    case 0x42: // B
      need(buf, p, 1, end, 'uint8');
      return { value: buf[p]!, offset: p + 1 };
    case 0x73: // s
      need(buf, p, 2, end, 'int16');
      return { value: buf.readInt16BE(p), offset: p + 2 };
    case 0x75: // u
      need(buf, p, 2, end, 'uint16');
      return { value: buf.readUInt16BE(p), offset: p + 2 };
    case 0x49: // I
      need(buf, p, 4, end, 'int32');
      return { value: buf.readInt32BE(p), offset: p + 4 };
    case 0x69: // i
      need(buf, p, 4, end, 'uint32');
      return { value: buf.readUInt32BE(p), offset: p + 4 };
    case 0x6c: {
      // l
      need(buf, p, 8, end, 'int64');
      const big = buf.readBigInt64BE(p);
      const n = Number(big);
      return { value: Number.isSafeInteger(n) ? n : big, offset: p + 8 };
    }
    case 0x66: // f
      need(buf, p, 4, end, 'float');
      return { value: buf.readFloatBE(p), offset: p + 4 };
    case 0x64: // d
      need(buf, p, 8, end, 'double');
      return { value: buf.readDoubleBE(p), offset: p + 8 };
    case 0x44: // D
      need(buf, p, 5, end, 'decimal');
      return { value: new Decimal(buf[p]!, buf.readUInt32BE(p + 1)), offset: p + 5 };
    case 0x53: {
      // S
      need(buf, p, 4, end, 'long string length');
      const len = buf.readUInt32BE(p);
      need(buf, p + 4, len, end, 'long string');
      return { value: buf.toString('utf8', p + 4, p + 4 + len), offset: p + 4 + len };
    }
    case 0x78: {
      // x: copied, so a stored table does not pin the frame it came in
      need(buf, p, 4, end, 'byte array length');
      const len = buf.readUInt32BE(p);
      need(buf, p + 4, len, end, 'byte array');
      return { value: Buffer.from(buf.subarray(p + 4, p + 4 + len)), offset: p + 4 + len };
    }
    case 0x41: {
      // A
      need(buf, p, 4, end, 'array length');
      const len = buf.readUInt32BE(p);
      need(buf, p + 4, len, end, 'array');
      return { value: decodeArrayBody(buf, p + 4, p + 4 + len), offset: p + 4 + len };
    }
    case 0x54: // T
      need(buf, p, 8, end, 'timestamp');
      return { value: readUInt64At(buf, p), offset: p + 8 };
    case 0x46: {
      // F
      need(buf, p, 4, end, 'nested table length');
      const len = buf.readUInt32BE(p);
      need(buf, p + 4, len, end, 'nested table');
      return { value: decodeTableBody(buf, p + 4, p + 4 + len), offset: p + 4 + len };
    }
    case 0x56: // V
      return { value: null, offset: p };
    default:
      throw malformed(`field table: unknown field type 0x${type.toString(16).padStart(2, '0')}`);
  }
}

// ---------------------------------------------------------------------------
// Encoding

/** Writes a table (32-bit length + fields) into the sink. `undefined` writes an empty table. */
export function writeTable(w: ByteSink, table: FieldTable | undefined | null): void {
  w.ensure(4);
  const lenAt = w.pos;
  w.pos += 4;
  if (table) {
    for (const key in table) {
      if (!Object.prototype.hasOwnProperty.call(table, key)) continue;
      w.writeShortstr(key);
      writeValue(w, table[key]);
    }
  }
  w.buf.writeUInt32BE(w.pos - lenAt - 4, lenAt);
}

function writeArray(w: ByteSink, arr: readonly FieldValue[]): void {
  w.ensure(4);
  const lenAt = w.pos;
  w.pos += 4;
  for (let i = 0; i < arr.length; i++) writeValue(w, arr[i]);
  w.buf.writeUInt32BE(w.pos - lenAt - 4, lenAt);
}

function writeValue(w: ByteSink, v: FieldValue | undefined): void {
  switch (typeof v) {
    case 'boolean':
      w.ensure(2);
      w.buf[w.pos] = 0x74;
      w.buf[w.pos + 1] = v ? 1 : 0;
      w.pos += 2;
      return;
    case 'number':
      if (Number.isInteger(v)) {
        if (v >= -0x80000000 && v <= 0x7fffffff) writeTyped(w, 'I', v);
        else writeTyped(w, 'l', v);
      } else {
        writeTyped(w, 'd', v);
      }
      return;
    case 'bigint':
      writeTyped(w, 'l', v);
      return;
    case 'string':
      writeTyped(w, 'S', v);
      return;
    case 'undefined':
      writeTyped(w, 'V', null);
      return;
    case 'object':
      if (v === null) writeTyped(w, 'V', null);
      else if (v instanceof TypedValue) writeTyped(w, v.type, v.value);
      else if (Buffer.isBuffer(v)) writeTyped(w, 'x', v);
      else if (Array.isArray(v)) writeTyped(w, 'A', v);
      else if (v instanceof Date) writeTyped(w, 'T', v);
      else if (v instanceof Decimal) writeTyped(w, 'D', v);
      else writeTyped(w, 'F', v);
      return;
    default:
      throw new TypeError(`cannot encode a ${typeof v} in a field table`);
  }
}

function asNumber(v: FieldValue, type: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  throw new TypeError(`field type '${type}' needs a number`);
}

function writeTyped(w: ByteSink, type: FieldType, v: FieldValue): void {
  w.ensure(1);
  w.buf[w.pos++] = type.charCodeAt(0);
  switch (type) {
    case 't':
      w.writeUInt8(v ? 1 : 0);
      return;
    case 'b':
      w.ensure(1);
      w.buf.writeInt8(asNumber(v, type), w.pos);
      w.pos += 1;
      return;
    case 'B':
      w.ensure(1);
      w.buf.writeUInt8(asNumber(v, type), w.pos);
      w.pos += 1;
      return;
    case 's':
      w.ensure(2);
      w.buf.writeInt16BE(asNumber(v, type), w.pos);
      w.pos += 2;
      return;
    case 'u':
      w.ensure(2);
      w.buf.writeUInt16BE(asNumber(v, type), w.pos);
      w.pos += 2;
      return;
    case 'I':
      w.ensure(4);
      w.buf.writeInt32BE(asNumber(v, type), w.pos);
      w.pos += 4;
      return;
    case 'i':
      w.ensure(4);
      w.buf.writeUInt32BE(asNumber(v, type), w.pos);
      w.pos += 4;
      return;
    case 'l':
      w.ensure(8);
      w.buf.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(asNumber(v, type)), w.pos);
      w.pos += 8;
      return;
    case 'f':
      w.ensure(4);
      w.buf.writeFloatBE(asNumber(v, type), w.pos);
      w.pos += 4;
      return;
    case 'd':
      w.ensure(8);
      w.buf.writeDoubleBE(asNumber(v, type), w.pos);
      w.pos += 8;
      return;
    case 'D': {
      if (!(v instanceof Decimal)) throw new TypeError("field type 'D' needs a Decimal");
      w.ensure(5);
      w.buf.writeUInt8(v.scale, w.pos);
      w.buf.writeUInt32BE(v.value, w.pos + 1);
      w.pos += 5;
      return;
    }
    case 'S':
      if (typeof v === 'string') w.writeLongstr(v);
      else if (Buffer.isBuffer(v)) w.writeLongstr(v);
      else throw new TypeError("field type 'S' needs a string or Buffer");
      return;
    case 'x':
      if (Buffer.isBuffer(v)) w.writeLongstr(v);
      else if (typeof v === 'string') w.writeLongstr(v);
      else throw new TypeError("field type 'x' needs a Buffer");
      return;
    case 'A':
      if (!Array.isArray(v)) throw new TypeError("field type 'A' needs an array");
      writeArray(w, v);
      return;
    case 'T':
      w.ensure(8);
      writeUInt64At(w.buf, asNumber(v, type), w.pos);
      w.pos += 8;
      return;
    case 'F':
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v) || v instanceof TypedValue || v instanceof Decimal || v instanceof Date) {
        throw new TypeError("field type 'F' needs a plain object");
      }
      writeTable(w, v);
      return;
    case 'V':
      return;
    default:
      throw new TypeError(`unknown field type '${String(type)}'`);
  }
}

const scratch = new ByteSink(4096);

/** Encodes a table as it appears on the wire: 32-bit length, then the fields. */
export function encodeTable(table: FieldTable): Buffer {
  scratch.pos = 0;
  writeTable(scratch, table);
  return Buffer.from(scratch.buf.subarray(0, scratch.pos));
}
