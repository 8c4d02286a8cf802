import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import { rabbitTypeName, stringValue } from '../field-values.js';
import {
  ATOM,
  hashAtomInto,
  hashBinaryInto,
  hashFloatInto,
  hashIntegerInto,
  hashNilInto,
  hashTupleStart,
  jumpConsistentHash,
  PHASH2_UNDEFINED,
  phash2Binary,
  phash2Of,
} from './erlang-hash.js';
import type { RoutedMessage, Router } from './router.js';

/** The properties `hash-property` may name (RabbitMQ's plugin, 3.10). */
const HASH_PROPERTIES = ['correlation_id', 'message_id', 'timestamp'] as const;
type HashProperty = (typeof HASH_PROPERTIES)[number];

/** What the exchange hashes: the routing key, a header, or a property. */
export type HashOn = { kind: 'routing-key' } | { kind: 'header'; name: Buffer } | { kind: 'property'; name: HashProperty };

/**
 * Checks the exchange arguments as the plugin's validate/1 does. Returns null
 * when they are acceptable, else the 406 text: RabbitMQ's for an unknown
 * property or both arguments; for an argument that is not a longstr, where the
 * plugin crashes (541 INTERNAL_ERROR closes the connection), Warren's own.
 */
export function validateConsistentHashArgs(args: FieldTable): string | null {
  for (const key of ['hash-header', 'hash-property']) {
    if (!Object.prototype.hasOwnProperty.call(args, key)) continue;
    const value = args[key];
    if (stringValue(value) === undefined) return `invalid arg '${key}': expected a longstr, not a ${rabbitTypeName(value as FieldValue)}`;
  }
  const header = stringArg(args, 'hash-header');
  const property = stringArg(args, 'hash-property');
  if (property !== undefined && header === undefined && !(HASH_PROPERTIES as readonly string[]).includes(property)) {
    return `Unsupported property: ${property}`;
  }
  if (header !== undefined && property !== undefined) return 'hash-header and hash-property are mutually exclusive';
  return null;
}

/** What an exchange with these (valid) arguments hashes. */
export function hashOnOf(args: FieldTable): HashOn {
  const header = stringArg(args, 'hash-header');
  if (header !== undefined) return { kind: 'header', name: Buffer.from(header, 'utf8') };
  const property = stringArg(args, 'hash-property');
  if (property !== undefined) return { kind: 'property', name: property as HashProperty };
  return { kind: 'routing-key' };
}

function stringArg(args: FieldTable, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(args, key) ? stringValue(args[key]) : undefined;
}

/**
 * The weight a binding key gives, or RabbitMQ's 406 text when it is none: a
 * decimal integer as Erlang's list_to_integer reads it (an optional sign, digits
 * only), at least 1. Weights past 2^53 are refused: jump hashing over that many
 * buckets is not exact in doubles (RabbitMQ would try to allocate every bucket).
 */
export function bindingWeight(bindingKey: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(bindingKey)) return `The binding key must be an integer: ${erlangBinary(bindingKey)}`;
  const weight = Number(bindingKey);
  if (weight < 1) return 'The binding key must be greater than 0';
  if (!Number.isSafeInteger(weight)) return `The binding key must be at most ${Number.MAX_SAFE_INTEGER}`;
  return weight;
}

/** An Erlang binary as ~p prints it: <<"text">> when printable Latin-1, else <<1,2,3>>. */
function erlangBinary(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return '<<>>';
  const escapes: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\e', 34: '\\"', 92: '\\\\' };
  let printable = '';
  for (const byte of bytes) {
    const escape = escapes[byte];
    if (escape !== undefined) printable += escape;
    else if ((byte >= 32 && byte <= 126) || byte >= 160) printable += String.fromCharCode(byte);
    else return `<<${[...bytes].join(',')}>>`;
  }
  // Bytes past 127 go back out as the same bytes: RabbitMQ sends the Latin-1 characters as octets.
  return `<<"${Buffer.from(printable, 'latin1').toString('utf8')}">>`;
}

/**
 * The consistent-hash exchange of RabbitMQ's rabbitmq_consistent_hash_exchange
 * plugin (3.10): each destination owns `weight` consecutive buckets, in the
 * order it was first bound; a message goes to the owner of bucket
 * jump_consistent_hash(phash2(input), total buckets), so a key lands where it
 * lands on RabbitMQ given the same bindings in the same order. Routing is
 * O(log n) in buckets (jump hash) plus O(log d) in destinations (a binary
 * search over the range starts), and allocates nothing.
 *
 * As in the plugin, a destination bound a second time (any key) keeps its
 * first weight, and removing any of its bindings takes its buckets away; the
 * buckets after them move down, so keys move between the destinations that
 * stay unless the last-bound one is removed.
 */
export class ConsistentHashRouter<T> implements Router<T> {
  /** Destinations in ring order, the first bucket each owns, and its weight. */
  private readonly destinations: T[] = [];
  private readonly starts: number[] = [];
  private readonly weights: number[] = [];
  private total = 0;
  private readonly hashOn: HashOn;
  /**
   * Bucket by input hash, direct-mapped (slot = hash mod size), for hashes seen
   * before: a repeated key skips the jump hash (seeding exs1024 is most of a
   * route's cost). Slots hold hash + 1 (0 = empty); cleared when the ring changes.
   */
  private readonly cachedHash = new Int32Array(BUCKET_CACHE_SLOTS);
  private readonly cachedBucket = new Float64Array(BUCKET_CACHE_SLOTS);

  constructor(args: FieldTable = {}) {
    this.hashOn = hashOnOf(args);
  }

  /** Total buckets (the sum of the weights). */
  get bucketCount(): number {
    return this.total;
  }

  bind(destination: T, bindingKey: string, _args: FieldTable): void {
    if (this.destinations.includes(destination)) return;
    const weight = bindingWeight(bindingKey);
    if (typeof weight === 'string') return; // refused before it gets here
    this.destinations.push(destination);
    this.starts.push(this.total);
    this.weights.push(weight);
    this.total += weight;
    this.cachedHash.fill(0);
  }

  unbind(destination: T, _bindingKey: string, _args: FieldTable): void {
    const index = this.destinations.indexOf(destination);
    if (index < 0) return;
    const weight = this.weights[index]!;
    this.destinations.splice(index, 1);
    this.starts.splice(index, 1);
    this.weights.splice(index, 1);
    for (let i = index; i < this.starts.length; i++) this.starts[i] = this.starts[i]! - weight;
    this.total -= weight;
    this.cachedHash.fill(0);
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: T[], message?: RoutedMessage): void {
    if (this.total === 0) return;
    out.push(this.destinations[this.ownerOf(this.bucketOf(message?.routingKey ?? routingKey, message?.rawProperties))]!);
  }

  /** The bucket a message with this routing key and these encoded properties falls in. */
  bucketOf(routingKey: string, rawProperties?: Buffer): number {
    if (this.total <= 1) return 0;
    const hash = this.inputHash(routingKey, rawProperties);
    const slot = hash & (BUCKET_CACHE_SLOTS - 1);
    if (this.cachedHash[slot] === hash + 1) return this.cachedBucket[slot]!;
    const bucket = jumpConsistentHash(hash, this.total);
    this.cachedHash[slot] = hash + 1;
    this.cachedBucket[slot] = bucket;
    return bucket;
  }

  private ownerOf(bucket: number): number {
    const starts = this.starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (starts[middle]! <= bucket) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** erlang:phash2 of what the plugin hashes for this message. */
  private inputHash(routingKey: string, raw: Buffer | undefined): number {
    const on = this.hashOn;
    if (on.kind === 'routing-key') return phash2String(routingKey);
    if (raw === undefined) return PHASH2_UNDEFINED;
    if (on.kind === 'header') return headerHash(raw, on.name);
    return propertyHash(raw, on.name);
  }
}

/** Slots of a router's bucket cache (a power of two): 12 KiB per exchange. */
const BUCKET_CACHE_SLOTS = 1024;

/** Scratch space for a routing key's UTF-8 bytes (grown for a longer key, then kept). */
let keyBytes = Buffer.alloc(1024);

function phash2String(text: string): number {
  if (text.length * 3 > keyBytes.length) keyBytes = Buffer.alloc(text.length * 3);
  const length = keyBytes.write(text, 0, 'utf8');
  return phash2Binary(keyBytes, 0, length);
}

// ---- reading encoded basic properties in place ------------------------------------

const HEADERS_FLAG = 0x2000;
const CORRELATION_ID_FLAG = 0x0400;
const MESSAGE_ID_FLAG = 0x0080;
const TIMESTAMP_FLAG = 0x0040;

/** Bytes each property before timestamp takes, by flag: -1 a shortstr, -4 a table, else a fixed size. */
const PROPERTY_SIZES: readonly [number, number][] = [
  [0x8000, -1], [0x4000, -1], [0x2000, -4], [0x1000, 1], [0x0800, 1], [0x0400, -1], [0x0200, -1], [0x0100, -1], [0x0080, -1], [0x0040, 8],
];

/** Offset of the property with `flag` in encoded properties, or -1 when it is absent (or the bytes are short). */
function propertyOffset(raw: Buffer, flag: number): number {
  if (raw.length < 2) return -1;
  const flags = raw.readUInt16BE(0);
  if ((flags & flag) === 0) return -1;
  let offset = 2;
  for (let word = flags; (word & 1) !== 0 && offset + 2 <= raw.length; offset += 2) word = raw.readUInt16BE(offset);
  for (let i = 0; i < PROPERTY_SIZES.length; i++) {
    const [bit, size] = PROPERTY_SIZES[i]!;
    if (bit === flag) return offset < raw.length ? offset : -1;
    if ((flags & bit) === 0) continue;
    if (size === -1) offset += 1 + (raw[offset] ?? 0);
    else if (size === -4) offset += offset + 4 <= raw.length ? 4 + raw.readUInt32BE(offset) : raw.length;
    else offset += size;
  }
  return -1;
}

/** phash2 of a property as the plugin reads it: the shortstr's bytes, the timestamp's decimal digits, or undefined. */
function propertyHash(raw: Buffer, property: HashProperty): number {
  if (property === 'timestamp') {
    const at = propertyOffset(raw, TIMESTAMP_FLAG);
    if (at < 0 || at + 8 > raw.length) return PHASH2_UNDEFINED;
    return phash2String(raw.readBigUInt64BE(at).toString());
  }
  const at = propertyOffset(raw, property === 'message_id' ? MESSAGE_ID_FLAG : CORRELATION_ID_FLAG);
  if (at < 0) return PHASH2_UNDEFINED;
  const end = Math.min(at + 1 + raw[at]!, raw.length);
  return phash2Binary(raw, at + 1, end);
}

/** phash2 of the header's {Type, Value} as rabbit_misc:table_lookup gives it (the first entry of that name), or of undefined. */
function headerHash(raw: Buffer, name: Buffer): number {
  const at = propertyOffset(raw, HEADERS_FLAG);
  if (at < 0 || at + 4 > raw.length) return PHASH2_UNDEFINED;
  const end = Math.min(at + 4 + raw.readUInt32BE(at), raw.length);
  let p = at + 4;
  while (p < end) {
    const nameLength = raw[p]!;
    const nameStart = p + 1;
    p = nameStart + nameLength;
    if (p >= end) break;
    if (nameLength === name.length && raw.compare(name, 0, name.length, nameStart, p) === 0) {
      const hash = hashFieldValue(raw, p, end, 0);
      return hash < 0 ? PHASH2_UNDEFINED : phash2Of(hash);
    }
    p = skipFieldValue(raw, p, end);
    if (p < 0) break;
  }
  return PHASH2_UNDEFINED;
}

/** Set by hashFieldValue: the offset just past the value it hashed. */
let valueEnd = 0;

/** Bytes of each fixed-size field value after its type octet (0 where the size is not fixed or the type unknown). */
const FIXED_SIZES = new Uint8Array(128);
for (const [type, size] of [['t', 1], ['b', 1], ['B', 1], ['s', 2], ['u', 2], ['I', 4], ['i', 4], ['f', 4], ['l', 8], ['L', 8], ['d', 8], ['T', 8], ['D', 5]] as const) {
  FIXED_SIZES[type.charCodeAt(0)] = size;
}

/** Offset just past the field value whose type octet is at `p`, or -1 when it is malformed. */
function skipFieldValue(raw: Buffer, p: number, end: number): number {
  const type = raw[p]!;
  let next: number;
  if (type === 0x56) next = p + 1; // V
  else if (type === 0x53 || type === 0x78 || type === 0x46 || type === 0x41) next = p + 1 + 4 + (p + 5 <= end ? raw.readUInt32BE(p + 1) : end); // S x F A
  else if (type < 128 && FIXED_SIZES[type] !== 0) next = p + 1 + FIXED_SIZES[type]!;
  else return -1;
  return next <= end ? next : -1;
}

/**
 * make_hash2 state after the term RabbitMQ decodes the field value at `p`
 * into, {Type, Value} (rabbit_binary_parser: tables are lists of {Name, Type,
 * Value}, arrays lists of {Type, Value}), chained from `hash`; -1 when the
 * bytes do not hold a value. Sets valueEnd.
 */
function hashFieldValue(raw: Buffer, p: number, end: number, hash: number): number {
  if (p >= end) return -1;
  const type = raw[p]!;
  const v = p + 1;
  hash = hashTupleStart(2, hash);
  return hashTypedValue(raw, type, v, end, hash);
}

/** make_hash2 state after the atom of `type` and its value at `v` (valueEnd set), or -1. */
function hashTypedValue(raw: Buffer, type: number, v: number, end: number, hash: number): number {
  switch (type) {
    case 0x53: // S
    case 0x78: { // x
      if (v + 4 > end) return -1;
      const stop = v + 4 + raw.readUInt32BE(v);
      if (stop > end) return -1;
      valueEnd = stop;
      return hashBinaryInto(raw, v + 4, stop, hashAtomInto(type === 0x53 ? ATOM.longstr : ATOM.binary, hash));
    }
    case 0x62: return fixed(v, 1, end) ? hashSigned(raw.readInt8(v), hashAtomInto(ATOM.byte, hash)) : -1;
    case 0x42: return fixed(v, 1, end) ? hashSigned(raw[v]!, hashAtomInto(ATOM.unsignedbyte, hash)) : -1;
    case 0x73: return fixed(v, 2, end) ? hashSigned(raw.readInt16BE(v), hashAtomInto(ATOM.short, hash)) : -1;
    case 0x75: return fixed(v, 2, end) ? hashSigned(raw.readUInt16BE(v), hashAtomInto(ATOM.unsignedshort, hash)) : -1;
    case 0x49: return fixed(v, 4, end) ? hashSigned(raw.readInt32BE(v), hashAtomInto(ATOM.signedint, hash)) : -1;
    case 0x69: return fixed(v, 4, end) ? hashSigned(raw.readUInt32BE(v), hashAtomInto(ATOM.unsignedint, hash)) : -1;
    case 0x6c: // l
    case 0x4c: // L
    case 0x54: { // T
      if (!fixed(v, 8, end)) return -1;
      let hi = raw.readUInt32BE(v);
      let lo = raw.readUInt32BE(v + 4);
      const negative = type !== 0x54 && hi >= 0x80000000;
      if (negative) {
        lo = (~lo + 1) >>> 0;
        hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
      }
      return hashIntegerInto(hi, lo, negative, hashAtomInto(type === 0x54 ? ATOM.timestamp : ATOM.long, hash));
    }
    case 0x64: return fixed(v, 8, end) ? hashFloatInto(raw.readDoubleBE(v), hashAtomInto(ATOM.double, hash)) : -1;
    case 0x66: return fixed(v, 4, end) ? hashFloatInto(raw.readFloatBE(v), hashAtomInto(ATOM.float, hash)) : -1;
    case 0x74: return fixed(v, 1, end) ? hashAtomInto(raw[v] !== 0 ? ATOM.true : ATOM.false, hashAtomInto(ATOM.bool, hash)) : -1;
    case 0x56: // V
      valueEnd = v;
      return hashAtomInto(ATOM.undefined, hashAtomInto(ATOM.void, hash));
    case 0x44: { // D: {decimal, {Scale, Value}}
      if (!fixed(v, 5, end)) return -1;
      hash = hashTupleStart(2, hashAtomInto(ATOM.decimal, hash));
      return hashSigned(raw.readUInt32BE(v + 1), hashSigned(raw[v]!, hash));
    }
    case 0x46: // F: {table, [{Name, Type, Value}]}
    case 0x41: { // A: {array, [{Type, Value}]}
      if (v + 4 > end) return -1;
      const stop = v + 4 + raw.readUInt32BE(v);
      if (stop > end) return -1;
      hash = hashAtomInto(type === 0x46 ? ATOM.table : ATOM.array, hash);
      let p = v + 4;
      while (p < stop) {
        if (type === 0x46) {
          const nameStart = p + 1;
          const nameEnd = nameStart + raw[p]!;
          if (nameEnd >= stop) return -1;
          hash = hashBinaryInto(raw, nameStart, nameEnd, hashTupleStart(3, hash));
          hash = hashTypedValue(raw, raw[nameEnd]!, nameEnd + 1, stop, hash);
        } else {
          hash = hashFieldValue(raw, p, stop, hash);
        }
        if (hash < 0) return -1;
        p = valueEnd;
      }
      valueEnd = stop;
      return hashNilInto(hash);
    }
    default:
      return -1;
  }
}

/** Whether a value of `size` bytes at `at` fits before `limit`; if so, valueEnd is set past it. */
function fixed(at: number, size: number, limit: number): boolean {
  if (at + size > limit) return false;
  valueEnd = at + size;
  return true;
}

/** make_hash2 state after a small integer (|n| < 2^32). */
function hashSigned(n: number, hash: number): number {
  return n < 0 ? hashIntegerInto(0, -n, true, hash) : hashIntegerInto(0, n, false, hash);
}
