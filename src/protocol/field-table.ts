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
 * How deep the tables and arrays in a method's arguments (queue, exchange,
 * binding and consumer arguments, client properties) may nest. Those tables
 * go on into the broker's model, its canonical texts and the definitions
 * file, which are written recursively (JSON.stringify fails near 5,000
 * levels); message headers are kept as bytes and nest to any depth.
 */
export const MAX_ARGUMENT_NESTING = 1000;

/**
 * Decodes a field table at `offset` (starting with its 32-bit length) from
 * `buf`. Returns the table and the offset just past it. Tables and arrays
 * nested more than `maxNesting` levels inside it are refused.
 */
export function decodeTable(buf: Buffer, offset = 0, maxNesting = Infinity, timestampsAsDates = false): { table: FieldTable; offset: number } {
  need(buf, offset, 4, buf.length, 'table length');
  const len = buf.readUInt32BE(offset);
  const start = offset + 4;
  const end = start + len;
  need(buf, start, len, buf.length, 'table');
  return { table: decodeFields(buf, start, end, false, maxNesting, timestampsAsDates) as FieldTable, offset: end };
}

/**
 * A table among a method's arguments (queue, exchange, binding and consumer
 * arguments, client properties): nested at most MAX_ARGUMENT_NESTING deep,
 * and a timestamp (T) decodes as a Date, so that the broker can tell it from
 * an integer (a stream consumer's x-stream-offset means a time then, not an
 * offset). Message headers keep timestamps as numbers (seconds).
 */
export function decodeArguments(buf: Buffer, offset: number): { table: FieldTable; offset: number } {
  return decodeTable(buf, offset, MAX_ARGUMENT_NESTING, true);
}

/** Decodes a complete encoded table (with its 32-bit length prefix) that fills `buf`. */
export function decodeTableBuffer(buf: Buffer): FieldTable {
  const r = decodeTable(buf, 0);
  if (r.offset !== buf.length) throw malformed('field table: trailing bytes');
  return r.table;
}

function setField(container: FieldTable | FieldValue[], isArray: boolean, key: string, value: FieldValue): void {
  if (isArray) (container as FieldValue[]).push(value);
  else if (key === '__proto__') Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
  else (container as FieldTable)[key] = value;
}

/**
 * Decodes the fields of a table (or the values of an array) in [p, end).
 * Nested tables and arrays are entered without recursion: the containers
 * still open wait on an explicit stack, so no nesting depth a client can
 * send (RabbitMQ takes 15,000 levels) exhausts the call stack.
 */
function decodeFields(buf: Buffer, p: number, end: number, isArray: boolean, maxNesting: number, timestampsAsDates = false): FieldTable | FieldValue[] {
  const root: FieldTable | FieldValue[] = isArray ? [] : {};
  let container = root;
  let containerEnd = end;
  let inArray = isArray;
  // Parents of the open container: container, end, isArray, repeated.
  const open: (FieldTable | FieldValue[] | number | boolean)[] = [];
  for (;;) {
    if (p === containerEnd) {
      if (open.length === 0) return root;
      inArray = open.pop() as boolean;
      containerEnd = open.pop() as number;
      container = open.pop() as FieldTable | FieldValue[];
      continue;
    }
    let key = '';
    if (!inArray) {
      const klen = buf[p]!;
      need(buf, p + 1, klen, containerEnd, 'field name');
      key = buf.toString('utf8', p + 1, p + 1 + klen);
      p += 1 + klen;
    }
    need(buf, p, 1, containerEnd, 'field type');
    const type = buf[p]!;
    if (type === 0x46 /* F */ || type === 0x41 /* A */) {
      const what = type === 0x46 ? 'nested table' : 'array';
      need(buf, p + 1, 4, containerEnd, `${what} length`);
      const len = buf.readUInt32BE(p + 1);
      need(buf, p + 5, len, containerEnd, what);
      if (open.length / 3 >= maxNesting) throw malformed(`field table: tables and arrays nested more than ${maxNesting} levels deep`);
      const child: FieldTable | FieldValue[] = type === 0x46 ? {} : [];
      setField(container, inArray, key, child);
      open.push(container, containerEnd, inArray);
      container = child;
      containerEnd = p + 5 + len;
      inArray = type === 0x41;
      p += 5;
      continue;
    }
    const v = decodeScalar(buf, type, p + 1, containerEnd);
    setField(container, inArray, key, timestampsAsDates && type === 0x54 ? timestampDate(v.value as number) : v.value);
    p = v.offset;
  }
}

/** A timestamp (seconds) as a Date; one past what a Date holds stays a number. */
function timestampDate(seconds: number): Date | number {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? seconds : date;
}

/** A value of a type other than F and A; `p` is just past the type octet. */
function decodeScalar(buf: Buffer, type: number, p: number, end: number): { value: FieldValue; offset: number } {
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
    case 0x54: // T
      need(buf, p, 8, end, 'timestamp');
      return { value: readUInt64At(buf, p), offset: p + 8 };
    case 0x56: // V
      return { value: null, offset: p };
    default:
      throw malformed(`field table: unknown field type 0x${type.toString(16).padStart(2, '0')}`);
  }
}

// ---------------------------------------------------------------------------
// Checking without decoding

/** Sizes of the fixed-size field values by type octet; -1: length-prefixed (S x A F), -2: unknown. */
const FIXED_SIZE = new Int8Array(256).fill(-2);
for (const [type, size] of [['t', 1], ['b', 1], ['B', 1], ['s', 2], ['u', 2], ['I', 4], ['i', 4], ['l', 8], ['f', 4], ['d', 8], ['D', 5], ['T', 8], ['V', 0], ['S', -1], ['x', -1], ['A', -1], ['F', -1]] as const) {
  FIXED_SIZE[type.charCodeAt(0)] = size;
}

/** A big-endian uint32 the caller has bounds-checked (cheaper than readUInt32BE's own checks). */
function uint32At(buf: Buffer, p: number): number {
  return buf[p]! * 0x100_0000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
}

/** Ends of the containers open during a scan (index 2k) and whether each is an array (2k+1); grows for deep input, never shrinks. */
let scanStack = new Float64Array(64);

/**
 * Checks that a field table at `offset` (32-bit length first) lies within
 * `end` and decodes, without decoding it: no objects, no strings, no
 * recursion. Returns the offset just past the table, or -1 when
 * decodeTable would throw. It accepts exactly what decodeTable accepts.
 */
export function scanTable(buf: Buffer, offset: number, end: number): number {
  if (offset + 4 > end) return -1;
  let containerEnd = offset + 4 + uint32At(buf, offset);
  if (containerEnd > end) return -1;
  const tableEnd = containerEnd;
  let inArray = false;
  let depth = 0;
  let stack = scanStack;
  let p = offset + 4;
  for (;;) {
    if (p === containerEnd) {
      if (depth === 0) return tableEnd;
      depth--;
      containerEnd = stack[2 * depth]!;
      inArray = stack[2 * depth + 1] === 1;
      continue;
    }
    if (!inArray) {
      p += 1 + buf[p]!;
      if (p > containerEnd) return -1;
    }
    if (p >= containerEnd) return -1;
    const type = buf[p++]!;
    const size = FIXED_SIZE[type]!;
    if (size >= 0) {
      p += size;
      if (p > containerEnd) return -1;
      continue;
    }
    if (size === -2 || p + 4 > containerEnd) return -1;
    const valueEnd = p + 4 + uint32At(buf, p);
    if (valueEnd > containerEnd) return -1;
    if (type === 0x53 /* S */ || type === 0x78 /* x */) {
      p = valueEnd;
      continue;
    }
    if (2 * depth + 2 > stack.length) {
      const grown = new Float64Array(stack.length * 2);
      grown.set(stack);
      scanStack = stack = grown;
    }
    stack[2 * depth] = containerEnd;
    stack[2 * depth + 1] = inArray ? 1 : 0;
    depth++;
    containerEnd = valueEnd;
    inArray = type === 0x41;
    p += 4;
  }
}

// ---------------------------------------------------------------------------
// Encoding

/** Writes a table (32-bit length + fields) into the sink. `undefined` writes an empty table. */
export function writeTable(w: ByteSink, table: FieldTable | undefined | null): void {
  writeContainer(w, table ?? {}, false);
}

/** A table or array being written: where its length goes, and the next field. */
interface OpenContainer {
  lenAt: number;
  /** The table's keys; null for an array. */
  keys: string[] | null;
  values: FieldTable | readonly FieldValue[];
  next: number;
}

/**
 * Writes a table or array (32-bit length, then its fields or values). Nested
 * tables and arrays are entered without recursion, as in decoding: a table
 * decoded from a client (15,000 levels deep, say) can always be written again.
 */
function writeContainer(w: ByteSink, root: FieldTable | readonly FieldValue[], isArray: boolean): void {
  const open: OpenContainer[] = [];
  let current: OpenContainer = { lenAt: beginLength(w), keys: isArray ? null : Object.keys(root), values: root, next: 0 };
  for (;;) {
    const keys = current.keys;
    if (current.next === (keys === null ? (current.values as readonly FieldValue[]).length : keys.length)) {
      w.buf.writeUInt32BE(w.pos - current.lenAt - 4, current.lenAt);
      const parent = open.pop();
      if (parent === undefined) return;
      current = parent;
      continue;
    }
    let value: FieldValue | undefined;
    if (keys === null) {
      value = (current.values as readonly FieldValue[])[current.next++];
    } else {
      const key = keys[current.next++]!;
      w.writeShortstr(key);
      value = (current.values as FieldTable)[key];
    }
    const nested = nestedContainer(value);
    if (nested === null) {
      writeValue(w, value);
      continue;
    }
    w.writeUInt8(Array.isArray(nested) ? 0x41 /* A */ : 0x46 /* F */);
    open.push(current);
    current = { lenAt: beginLength(w), keys: Array.isArray(nested) ? null : Object.keys(nested), values: nested, next: 0 };
  }
}

function beginLength(w: ByteSink): number {
  w.ensure(4);
  const at = w.pos;
  w.pos += 4;
  return at;
}

function isPlainTable(v: FieldValue | undefined): v is FieldTable {
  return (
    v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) &&
    !(v instanceof TypedValue) && !(v instanceof Decimal) && !(v instanceof Date)
  );
}

/** The table or array a value is written as (F or A), or null for any other value. */
function nestedContainer(v: FieldValue | undefined): FieldTable | readonly FieldValue[] | null {
  if (Array.isArray(v)) return v;
  if (isPlainTable(v)) return v;
  if (v instanceof TypedValue) {
    if (v.type === 'A') {
      if (!Array.isArray(v.value)) throw new TypeError("field type 'A' needs an array");
      return v.value;
    }
    if (v.type === 'F') {
      if (!isPlainTable(v.value)) throw new TypeError("field type 'F' needs a plain object");
      return v.value;
    }
  }
  return null;
}

/** Writes a value that is not a table or an array. */
function writeValue(w: ByteSink, v: FieldValue | undefined): void {
  switch (typeof v) {
    case 'boolean':
      w.ensure(2);
      w.buf[w.pos] = 0x74;
      w.buf[w.pos + 1] = v ? 1 : 0;
      w.pos += 2;
      return;
    case 'number':
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
        writeTyped(w, 'I', v);
      } else if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
        writeTyped(w, 'l', v);
      } else {
        // Fractions, and whole numbers no int64 holds (a decoded double such as 1.5e20).
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
      else if (v instanceof Date) writeTyped(w, 'T', v);
      else if (v instanceof Decimal) writeTyped(w, 'D', v);
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
      writeContainer(w, v, true);
      return;
    case 'T':
      w.ensure(8);
      writeUInt64At(w.buf, asNumber(v, type), w.pos);
      w.pos += 8;
      return;
    case 'F':
      if (!isPlainTable(v)) throw new TypeError("field type 'F' needs a plain object");
      writeContainer(w, v, false);
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
