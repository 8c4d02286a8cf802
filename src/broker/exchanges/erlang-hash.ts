/**
 * The two Erlang functions RabbitMQ's consistent-hash exchange (3.10) picks a
 * bucket with, reproduced bit for bit so that Warren places a key where
 * RabbitMQ does: erlang:phash2/1 (erts make_hash2: Bob Jenkins' mix over the
 * term, masked to 27 bits) and a jump consistent hash driven by rand's exs1024
 * generator (xorshift1024*) seeded with {K, K, K}. All 64-bit arithmetic runs
 * on pairs of 32-bit halves in preallocated arrays: routing allocates nothing.
 */

const HCONST = 0x9e3779b9;
const HCONST_2 = 0x3c6ef372;
const HCONST_3 = 0xdaa66d2b;
const HCONST_4 = 0x78dde6e4;
const HCONST_9 = 0x8ff34781;
const HCONST_10 = 0x2e2ac13a;
const HCONST_11 = 0xcc623af3;
const HCONST_12 = 0x6a99b4ac;
const HCONST_13 = 0x08d12e65;
/** What make_hash2 gives [] at the top of a term. */
const NIL_TOP_HASH = 3468870702;
/** erts tag value of [] (NIL_DEF), mixed in for a [] inside a term. */
const NIL_DEF = 0x2;
const PHASH2_MASK = (1 << 27) - 1;

// Bob Jenkins' mix of (a, b, c) in place; c is the result. A typed array, so no tuple is returned
// (and writes stay cheap: module variables written per call made hashing ten times slower).
const abc = new Uint32Array(3);

function mix(): void {
  let a = abc[0]!;
  let b = abc[1]!;
  let c = abc[2]!;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 13)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 8)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 13)) >>> 0;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 12)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 16)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 5)) >>> 0;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 3)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 10)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 15)) >>> 0;
  abc[0] = a;
  abc[1] = b;
  abc[2] = c;
}

/** UINT32_HASH_2(x, y, constant) of make_hash2: mixes two words into `hash`. */
function hash2Words(x: number, y: number, constant: number, hash: number): number {
  abc[0] = constant + x;
  abc[1] = constant + y;
  abc[2] = hash;
  mix();
  return abc[2]!;
}

/** make_hash2's block hash of bytes [start, end) of `bytes`, chained from `initval`. */
function blockHash(bytes: Uint8Array, start: number, end: number, initval: number): number {
  let a = HCONST;
  let b = HCONST;
  let c = initval >>> 0;
  let k = start;
  const length = end - start;
  while (end - k >= 12) {
    abc[0] = a + (bytes[k]! | (bytes[k + 1]! << 8) | (bytes[k + 2]! << 16) | (bytes[k + 3]! << 24));
    abc[1] = b + (bytes[k + 4]! | (bytes[k + 5]! << 8) | (bytes[k + 6]! << 16) | (bytes[k + 7]! << 24));
    abc[2] = c + (bytes[k + 8]! | (bytes[k + 9]! << 8) | (bytes[k + 10]! << 16) | (bytes[k + 11]! << 24));
    mix();
    a = abc[0]!;
    b = abc[1]!;
    c = abc[2]!;
    k += 12;
  }
  c = (c + length) >>> 0;
  const rest = end - k;
  // The tail, as the C switch that falls through from the highest byte down.
  if (rest >= 11) c = (c + (bytes[k + 10]! << 24)) >>> 0;
  if (rest >= 10) c = (c + (bytes[k + 9]! << 16)) >>> 0;
  if (rest >= 9) c = (c + (bytes[k + 8]! << 8)) >>> 0;
  if (rest >= 8) b = (b + (bytes[k + 7]! << 24)) >>> 0;
  if (rest >= 7) b = (b + (bytes[k + 6]! << 16)) >>> 0;
  if (rest >= 6) b = (b + (bytes[k + 5]! << 8)) >>> 0;
  if (rest >= 5) b = (b + bytes[k + 4]!) >>> 0;
  if (rest >= 4) a = (a + (bytes[k + 3]! << 24)) >>> 0;
  if (rest >= 3) a = (a + (bytes[k + 2]! << 16)) >>> 0;
  if (rest >= 2) a = (a + (bytes[k + 1]! << 8)) >>> 0;
  if (rest >= 1) a = (a + bytes[k]!) >>> 0;
  abc[0] = a;
  abc[1] = b;
  abc[2] = c;
  mix();
  return abc[2]!;
}

/** hashpjw, erts's hash of an atom's name (ASCII names only here). */
function atomHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) {
      h = (h ^ (g >>> 24)) >>> 0;
      h = (h ^ g) >>> 0;
    }
  }
  return h;
}

/** make_hash2 state after an atom inside a term. */
export function hashAtomInto(atom: number, hash: number): number {
  return hash === 0 ? atom : hash2Words(atom, 0, HCONST_3, hash);
}

/** make_hash2 state after a binary (bytes [start, end)) inside a term, or at its top with hash 0. */
export function hashBinaryInto(bytes: Uint8Array, start: number, end: number, hash: number): number {
  const constant = (HCONST_13 + hash) >>> 0;
  return end === start ? constant : blockHash(bytes, start, end, constant);
}

/**
 * make_hash2 state after an integer inside a term: `hi`/`lo` are the 32-bit
 * halves of its absolute value, `negative` its sign (integers of up to 64 bits).
 */
export function hashIntegerInto(hi: number, lo: number, negative: boolean, hash: number): number {
  // Within 28 signed bits: SINT32_HASH (a negative one is mixed twice, first as its absolute value).
  if (hi === 0 && (lo < 0x8000000 || (negative && lo === 0x8000000))) {
    if (negative && lo !== 0) {
      hash = hash2Words(lo, 0, HCONST, hash);
      return hash2Words((-lo) >>> 0, 0, HCONST, hash);
    }
    return hash2Words(lo, 0, HCONST, hash);
  }
  return hash2Words(lo >>> 0, hi >>> 0, negative ? HCONST_10 : HCONST_11, hash);
}

/** make_hash2 state after a float (a double's bit pattern as two words; -0.0 hashes as 0.0). */
export function hashFloatInto(value: number, hash: number): number {
  floatView[0] = value === 0 ? 0 : value;
  return hash2Words(floatWords[1]!, floatWords[0]!, HCONST_12, hash);
}
const floatView = new Float64Array(1);
const floatWords = new Uint32Array(floatView.buffer);

/** make_hash2 state at the start of a tuple of `arity` elements (its elements follow in order). */
export function hashTupleStart(arity: number, hash: number): number {
  return hash2Words(arity, 0, HCONST_9, hash);
}

/** make_hash2 state after the [] that ends a list inside a term (a list's elements come before it, in order). */
export function hashNilInto(hash: number): number {
  return hash === 0 ? NIL_TOP_HASH : hash2Words(NIL_DEF, 0, HCONST_2, hash);
}

/** erlang:phash2/1 from a finished make_hash2 state. */
export function phash2Of(hash: number): number {
  return hash & PHASH2_MASK;
}

/** erlang:phash2(Binary) of bytes [start, end). */
export function phash2Binary(bytes: Uint8Array, start: number, end: number): number {
  return phash2Of(hashBinaryInto(bytes, start, end, 0));
}

/** Atom hashes RabbitMQ's field values are tagged with (rabbit_binary_parser's type names). */
export const ATOM = {
  undefined: atomHash('undefined'),
  true: atomHash('true'),
  false: atomHash('false'),
  longstr: atomHash('longstr'),
  timestamp: atomHash('timestamp'),
  byte: atomHash('byte'),
  unsignedbyte: atomHash('unsignedbyte'),
  short: atomHash('short'),
  unsignedshort: atomHash('unsignedshort'),
  signedint: atomHash('signedint'),
  unsignedint: atomHash('unsignedint'),
  double: atomHash('double'),
  float: atomHash('float'),
  long: atomHash('long'),
  bool: atomHash('bool'),
  decimal: atomHash('decimal'),
  table: atomHash('table'),
  array: atomHash('array'),
  binary: atomHash('binary'),
  void: atomHash('void'),
} as const;

/** erlang:phash2(undefined): what a missing header or property hashes as. */
export const PHASH2_UNDEFINED = phash2Of(ATOM.undefined);

// ---- 64-bit words as 32-bit halves --------------------------------------------

/** Result of mul64: [high word, low word] (a typed array: faster to write than module variables, no tuple per call). */
const product = new Uint32Array(2);

/** (aHi:aLo × bHi:bLo) mod 2^64 into product: the low word by Math.imul, the carry from 16-bit partial products. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const high = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  product[1] = Math.imul(aLo, bLo);
  product[0] = high + Math.imul(aHi, bLo) + Math.imul(aLo, bHi);
}

// xorshift1024* multiplier 1181783497276652981 and exs64's 2685821657736338717, as halves.
const EXS1024_MUL_HI = 0x106689d4;
const EXS1024_MUL_LO = 0x5497fdb5;
const EXS64_MUL_HI = 0x2545f491;
const EXS64_MUL_LO = 0x4f6cdd1d;

/** exs1024's 16 words (hi, lo interleaved), and its cursor in word 32. */
const state = new Uint32Array(33);
const CURSOR = 32;

/** rand:seed_s(exs1024, {K, K, K}) for 0 =< K < 2^27. */
function seedExs1024(k: number): void {
  const low21 = k & 0x1fffff;
  const b1 = ((low21 + 1) * 2097131) % 0x200000;
  const b2 = ((low21 + 1) * 2097133) % 0x200000;
  const b3 = ((low21 + 1) * 2097143) % 0x200000;
  // R = B1 bsl 43 bor B2 bsl 22 bor B3 bsl 1 bor 1
  let hi = ((b1 << 11) | (b2 >>> 10)) >>> 0;
  let lo = (((b2 & 0x3ff) << 22) | (b3 << 1) | 1) >>> 0;
  // exs1024_gen1024: 16 outputs of exs64, the last one generated first in the list.
  for (let n = 15; n >= 0; n--) {
    // R1 = R bxor (R bsr 12)
    lo = (lo ^ ((lo >>> 12) | (hi << 20))) >>> 0;
    hi = (hi ^ (hi >>> 12)) >>> 0;
    // R2 = R1 bxor (R1 bsl 25) (mod 2^64)
    hi = (hi ^ ((hi << 25) | (lo >>> 7))) >>> 0;
    lo = (lo ^ (lo << 25)) >>> 0;
    // R3 = R2 bxor (R2 bsr 27)
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    mul64(hi, lo, EXS64_MUL_HI, EXS64_MUL_LO);
    state[2 * n] = product[0]!;
    state[2 * n + 1] = product[1]!;
  }
  state[CURSOR] = 0;
}

/** rand:uniform_s/1 for exs1024: the next output V as V / 2^64 (one rounding, as erts converts V). */
function uniformExs1024(): number {
  const i0 = state[CURSOR]!;
  const i1 = (i0 + 1) & 15;
  state[CURSOR] = i1;
  let s0Hi = state[2 * i0]!;
  let s0Lo = state[2 * i0 + 1]!;
  let s1Hi = state[2 * i1]!;
  let s1Lo = state[2 * i1 + 1]!;
  // S1 bxor (S1 bsl 31)
  s1Hi = (s1Hi ^ ((s1Hi << 31) | (s1Lo >>> 1))) >>> 0;
  s1Lo = (s1Lo ^ (s1Lo << 31)) >>> 0;
  // bxor (bsr 11)
  s1Lo = (s1Lo ^ ((s1Lo >>> 11) | (s1Hi << 21))) >>> 0;
  s1Hi = (s1Hi ^ (s1Hi >>> 11)) >>> 0;
  // S0 bxor (S0 bsr 30)
  s0Lo = (s0Lo ^ ((s0Lo >>> 30) | (s0Hi << 2))) >>> 0;
  s0Hi = (s0Hi ^ (s0Hi >>> 30)) >>> 0;
  const nHi = (s0Hi ^ s1Hi) >>> 0;
  const nLo = (s0Lo ^ s1Lo) >>> 0;
  state[2 * i1] = nHi;
  state[2 * i1 + 1] = nLo;
  mul64(nHi, nLo, EXS1024_MUL_HI, EXS1024_MUL_LO);
  return (product[0]! * 0x100000000 + product[1]!) / 18446744073709551616;
}

/**
 * The plugin's jump_consistent_hash(K, Buckets) for an integer K (a phash2):
 * Lamping and Veach's jump hash with rand's exs1024 as its generator.
 * Expected O(log buckets) steps, no allocation.
 */
export function jumpConsistentHash(key: number, buckets: number): number {
  if (buckets === 1) return 0;
  seedExs1024(key);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    j = Math.trunc((b + 1) / uniformExs1024());
  }
  return b;
}
