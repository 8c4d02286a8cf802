// The frame fuzzer's case generator: a seeded PRNG per case (so case I of seed
// N is the same bytes on every run and can be replayed alone), and the kinds of
// bad and odd input a client can send. Frames are built with the raw-socket
// client's encoders (raw-amqp.ts), independent of Warren's codec. Each case says
// what a broker that follows RabbitMQ 3.10 must do with it (`expect`).
import { Args, FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, PROTOCOL_HEADER, frame, m, method } from './raw-amqp.js';

/** mulberry32: small, fast, good enough to pick mutations; deterministic for a seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 .. n-1 */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }
  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n + 3);
    for (let i = 0; i < n; i += 4) b.writeUInt32LE(this.next(), i);
    return b.subarray(0, n);
  }
}

/** One independent stream per (seed, case index). */
export function caseRng(seed: number, index: number): Rng {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return new Rng(h ^ (h >>> 15));
}

/**
 * Where the case's bytes start: `pre` from the first byte (the protocol header
 * is part of the case), `start` after connection.start arrived (the case
 * replaces start-ok), `tune` after connection.tune arrived (the case replaces
 * tune-ok), `open` after a whole handshake.
 */
export type Phase = 'pre' | 'start' | 'tune' | 'open';

/**
 * What the broker must do:
 * - close: close the connection (connection.close or a socket close) within 5 s of the last byte;
 * - close-broken: the framing is broken, so after its connection.close the broker can no longer
 *   read a close-ok: the socket must be closed promptly without one;
 * - survive: valid input: no close of any kind, and a channel.open sent after it is answered;
 * - any: either close (within 5 s) or stay usable (a channel.open sent after it is answered within 5 s);
 * - pending: the bytes end inside a frame, so the broker may keep waiting for the rest.
 */
export type Expect = 'close' | 'close-broken' | 'survive' | 'any' | 'pending';

export interface FuzzCase {
  seed: number;
  index: number;
  kind: string;
  phase: Phase;
  /** tune-ok values (phase open): the frame_max every frame the broker sends must fit in. */
  frameMax: number;
  channelMax: number;
  bytes: Buffer;
  /** Offsets where the bytes are cut into separate writes. */
  splits: number[];
  expect: Expect;
  /** After the broker's connection.close: answer close-ok, stay silent (the broker must cut us), or hang up. */
  onClose: 'close-ok' | 'silent' | 'hang-up';
  /** A reply text that mentions the message size must print this exact integer. */
  declaredBodySize?: bigint;
}

/** Queues the harness declares before the run (fuzz.ts); cases publish into them. */
export const FUZZ_QUEUES = {
  /** Bounded (x-max-length) so a long run does not grow a backlog. */
  sink: 'fuzz.sink',
  /** x-message-ttl 20 ms, dead-lettered into fuzz.dead: properties get decoded later, on a timer. */
  ttl: 'fuzz.ttl',
  dead: 'fuzz.dead',
  /** The healthy amqplib client consumes here. */
  healthy: 'fuzz.healthy',
} as const;

const SERVER_FRAME_MAX = 131072;
/** "AMQP" 1 1 0 9, which RabbitMQ (and Warren) take as 0-9-1. */
const PROTOCOL_HEADER_0_9 = Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 9]);
const SERVER_CHANNEL_MAX = 2047;
export const MAX_MESSAGE_SIZE = 134217728;

// ---- valid building blocks -------------------------------------------------------

/** Known (class, method) ids of AMQP 0-9-1 (client and server methods). */
const KNOWN_METHODS: Record<number, number[]> = {
  10: [10, 11, 20, 21, 30, 31, 40, 41, 50, 51, 60, 61, 70, 71],
  20: [10, 11, 20, 21, 40, 41],
  40: [10, 11, 20, 21, 30, 31, 40, 51],
  50: [10, 11, 20, 21, 30, 31, 40, 41, 50, 51],
  60: [10, 11, 20, 21, 30, 31, 40, 50, 60, 70, 71, 72, 80, 90, 100, 110, 111, 120],
  85: [10, 11],
  90: [10, 11, 20, 21, 30, 31],
};

/** Field-table type tags no AMQP 0-9-1 peer defines. */
const UNKNOWN_TAGS = 'Z?!#0*~zQ'.split('').map((c) => c.charCodeAt(0));

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function shortstr(s: string): Buffer {
  return new Args().shortstr(s).build();
}

/** A table from already-encoded fields (key shortstr + tag + value). */
function tableOf(fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields);
  return Buffer.concat([u32(body.length), body]);
}

/** A valid field of a random type. */
function randomField(rng: Rng, key = `k${rng.int(100)}`): Buffer {
  const k = shortstr(key);
  switch (rng.int(9)) {
    case 0:
      return Buffer.concat([k, Buffer.from([0x74, rng.int(2)])]); // t
    case 1:
      return Buffer.concat([k, Buffer.from('S'), new Args().longstr(`v${rng.next()}`).build()]);
    case 2:
      return Buffer.concat([k, Buffer.from('I'), u32(rng.next())]);
    case 3:
      return Buffer.concat([k, Buffer.from('l'), new Args().longlong(BigInt(rng.next()) << 20n).build()]);
    case 4:
      return Buffer.concat([k, Buffer.from('V')]);
    case 5:
      return Buffer.concat([k, Buffer.from('F'), tableOf([randomField(rng, 'in')])]);
    case 6:
      return Buffer.concat([k, Buffer.from('A'), u32(0)]);
    case 7: {
      // A double with a fraction (integral doubles past 2^63 are their own kind below).
      const d = Buffer.alloc(8);
      d.writeDoubleBE(rng.next() / 8 + 0.5);
      return Buffer.concat([k, Buffer.from('d'), d]);
    }
    default:
      return Buffer.concat([k, Buffer.from('x'), new Args().longstr(rng.bytes(rng.int(8))).build()]);
  }
}

function randomTable(rng: Rng, n = rng.int(4)): Buffer {
  const fields: Buffer[] = [];
  for (let i = 0; i < n; i++) fields.push(randomField(rng, `k${i}`));
  return tableOf(fields);
}

/** A field `d` whose value is `depth` tables (F) or arrays (A) nested in each other. */
function deepField(depth: number, kind: 'F' | 'A'): Buffer {
  // Written back to front into one buffer: each level's length is everything after it.
  const tag = kind.charCodeAt(0);
  const total = 2 + 5 + (depth - 1) * (kind === 'F' ? 7 : 5);
  const b = Buffer.alloc(total);
  let p = total - 4; // innermost: an empty table or array
  b[--p] = tag;
  for (let i = 1; i < depth; i++) {
    if (kind === 'F') {
      p -= 2;
      b[p] = 1; // the inner value's key: shortstr "d"
      b[p + 1] = 0x64;
    }
    const len = total - p;
    p -= 4;
    b.writeUInt32BE(len, p);
    b[--p] = tag;
  }
  b[0] = 1; // this field's key: shortstr "d"
  b[1] = 0x64;
  return b;
}

/** Basic properties: flags + fields, from a list of (flag bit, encoded value). */
function basicProperties(parts: Array<[number, Buffer]>): Buffer {
  let flags = 0;
  const sorted = [...parts].sort((a, b) => b[0] - a[0]);
  for (const [bit] of sorted) flags |= 1 << bit;
  const f = Buffer.alloc(2);
  f.writeUInt16BE(flags);
  return Buffer.concat([f, ...sorted.map(([, v]) => v)]);
}

function randomValidProperties(rng: Rng): Buffer {
  const parts: Array<[number, Buffer]> = [];
  if (rng.chance(0.5)) parts.push([15, shortstr('text/plain')]);
  if (rng.chance(0.3)) parts.push([14, shortstr('utf-8')]);
  if (rng.chance(0.4)) parts.push([13, randomTable(rng)]);
  if (rng.chance(0.4)) parts.push([12, Buffer.from([rng.range(1, 2)])]);
  if (rng.chance(0.2)) parts.push([11, Buffer.from([rng.int(10)])]);
  if (rng.chance(0.2)) parts.push([10, shortstr(`c${rng.next()}`)]);
  if (rng.chance(0.2)) parts.push([8, shortstr(String(rng.int(100_000)))]);
  if (rng.chance(0.2)) parts.push([6, new Args().longlong(rng.next()).build()]);
  if (rng.chance(0.1)) parts.push([3, shortstr('fuzz')]);
  return basicProperties(parts);
}

function contentHeader(channel: number, bodySize: bigint | number, properties: Buffer, classId = 60): Buffer {
  const p = Buffer.alloc(12);
  p.writeUInt16BE(classId, 0);
  p.writeUInt16BE(0, 2);
  p.writeBigUInt64BE(BigInt(bodySize), 4);
  return frame(FRAME_HEADER, channel, Buffer.concat([p, properties]));
}

/** Body frames of at most `maxPayload` bytes each, cut at random sizes. */
function bodyFrames(rng: Rng, channel: number, data: Buffer, maxPayload: number): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  const tiny = data.length <= 4096 && rng.chance(0.3);
  while (off < data.length) {
    const n = Math.min(data.length - off, tiny ? rng.range(1, 16) : rng.range(1, maxPayload));
    out.push(frame(FRAME_BODY, channel, data.subarray(off, off + n)));
    off += n;
  }
  return out;
}

function routingKey(rng: Rng): string {
  return rng.pick([FUZZ_QUEUES.sink, FUZZ_QUEUES.sink, FUZZ_QUEUES.ttl, 'fuzz.nowhere']);
}

/** basic.publish + header + body in frames; a valid message. */
function publish(rng: Rng, channel: number, frameMax: number, opts: { routingKey?: string; properties?: Buffer; size?: number; mandatory?: boolean } = {}): Buffer {
  const size = opts.size ?? rng.pick([0, 1, rng.int(100), rng.int(3000)]);
  const data = rng.bytes(size);
  return Buffer.concat([
    m.basicPublish(channel, '', opts.routingKey ?? routingKey(rng), { mandatory: opts.mandatory ?? false }),
    contentHeader(channel, size, opts.properties ?? randomValidProperties(rng)),
    ...bodyFrames(rng, channel, data, frameMax - 8),
  ]);
}

function queueDeclare(channel: number, name: string, args: Buffer, exclusive = true): Buffer {
  return method(channel, 50, 10, new Args().short(0).shortstr(name).bit(false).bit(false).bit(exclusive).bit(true).bit(false).raw(args).build());
}

/** A few valid operations on an open channel. */
function validOperations(rng: Rng, ch: number, frameMax: number, index: number): Buffer {
  const ops: Buffer[] = [];
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    switch (rng.int(7)) {
      case 0:
      case 1:
      case 2:
        ops.push(publish(rng, ch, frameMax));
        break;
      case 3:
        ops.push(queueDeclare(ch, `fuzz.q.${index}.${i}`, randomTable(rng)));
        break;
      case 4:
        ops.push(m.basicQos(ch, 0, rng.int(100), false));
        break;
      case 5: {
        // One name per type: exchanges are not exclusive, so a name per case would pile up over a long run.
        const type = rng.pick(['direct', 'fanout', 'topic', 'headers']);
        ops.push(m.exchangeDeclare(ch, `fuzz.x.${type}`, type));
        break;
      }
      default:
        ops.push(method(ch, 60, 70, new Args().short(0).shortstr(FUZZ_QUEUES.sink).bit(false).build())); // basic.get, no-ack false
    }
  }
  return Buffer.concat(ops);
}

function flipBits(rng: Rng, b: Buffer, n: number, from = 0): Buffer {
  const out = Buffer.from(b);
  if (out.length <= from) return out;
  for (let i = 0; i < n; i++) {
    const at = rng.range(from, out.length - 1);
    out[at] = out[at]! ^ (1 << rng.int(8));
  }
  return out;
}

// ---- framing oracle --------------------------------------------------------------

/**
 * What the frame layer alone makes of `bytes`: `broken` if a frame declares a
 * payload above frame_max (RabbitMQ tolerates up to frame_max) or lacks its
 * end octet, `partial` if the bytes stop inside a frame, else `whole`.
 */
export function framing(bytes: Buffer, frameMax: number): 'whole' | 'partial' | 'broken' {
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 7) return 'partial';
    const size = bytes.readUInt32BE(off + 3);
    if (frameMax !== 0 && size > frameMax) return 'broken';
    if (bytes.length - off < 8 + size) return 'partial';
    if (bytes[off + 7 + size] !== FRAME_END) return 'broken';
    off += 8 + size;
  }
  return 'whole';
}

/** Whether every frame of the case is well framed (the broker can still read what follows, e.g. our close-ok). */
export function wellFramed(c: FuzzCase): boolean {
  let bytes = c.bytes;
  if (c.phase === 'pre') {
    if (bytes.length < 8 || !(bytes.subarray(0, 8).equals(PROTOCOL_HEADER) || bytes.subarray(0, 8).equals(PROTOCOL_HEADER_0_9))) return false;
    bytes = bytes.subarray(8);
  }
  return framing(bytes, c.phase === 'open' ? c.frameMax : SERVER_FRAME_MAX) === 'whole';
}

/** Expectation for bytes we cannot judge method by method (random, bit-flipped). */
function judged(bytes: Buffer, frameMax: number, phase: Phase): Expect {
  if (phase === 'pre') {
    if (bytes.length < 8) return 'pending';
    const header = bytes.subarray(0, 8);
    const ok = header.equals(PROTOCOL_HEADER) || header.equals(PROTOCOL_HEADER_0_9);
    if (!ok) return 'close';
    bytes = bytes.subarray(8);
  }
  const f = framing(bytes, frameMax);
  // A broken frame after others we cannot judge: the broker may already be
  // closing (waiting for close-ok) because of an earlier frame, so only a close is asked for.
  if (f === 'broken') return 'close';
  if (f === 'partial') return 'pending';
  return 'any';
}

// ---- the cases ------------------------------------------------------------------

interface Draft {
  kind: string;
  phase: Phase;
  bytes: Buffer;
  expect: Expect;
  frameMax?: number;
  channelMax?: number;
  declaredBodySize?: bigint;
}

type Generator = (rng: Rng, index: number) => Draft;

const open1 = m.channelOpen(1);

function smallFrameMax(rng: Rng): number {
  return rng.pick([4096, 8192, 4096 + rng.int(8192)]);
}

const GENERATORS: Array<[weight: number, Generator]> = [
  // Random bytes at any step of the connection.
  [6, (rng) => {
    const phase = rng.pick<Phase>(['pre', 'start', 'tune', 'open', 'open']);
    let bytes = rng.bytes(rng.range(1, 64));
    if (phase === 'pre' && rng.chance(0.5)) bytes = Buffer.concat([PROTOCOL_HEADER, bytes]);
    return { kind: 'random-bytes', phase, bytes, expect: judged(bytes, SERVER_FRAME_MAX, phase) };
  }],
  // Well-framed frames of random type, channel and payload.
  [6, (rng) => {
    const frames: Buffer[] = [open1];
    for (let i = rng.range(1, 4); i > 0; i--) {
      const type = rng.pick([FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT, rng.int(256)]);
      frames.push(frame(type, rng.pick([0, 1, 1, rng.int(65536)]), rng.bytes(rng.int(40))));
    }
    const bytes = Buffer.concat(frames);
    return { kind: 'random-frames', phase: 'open', bytes, expect: 'any' };
  }],
  // A mutated protocol header.
  [2, (rng) => {
    const bytes = flipBits(rng, PROTOCOL_HEADER, rng.range(1, 2));
    return { kind: 'header-bit-flip', phase: 'pre', bytes, expect: judged(bytes, SERVER_FRAME_MAX, 'pre') };
  }],
  // Bit flips in a valid start-ok or tune-ok.
  [3, (rng) => {
    const start = rng.chance(0.5);
    const valid = start ? m.startOk({ product: 'fuzz' }, 'guest', 'guest') : m.tuneOk(SERVER_CHANNEL_MAX, SERVER_FRAME_MAX, 0);
    const bytes = flipBits(rng, valid, rng.range(1, 3));
    const f = judged(bytes, SERVER_FRAME_MAX, start ? 'start' : 'tune');
    return { kind: start ? 'start-ok-bit-flip' : 'tune-ok-bit-flip', phase: start ? 'start' : 'tune', bytes, expect: f };
  }],
  // Bit flips in valid operations after the handshake (channel.open kept intact half the time).
  [14, (rng, index) => {
    const frameMax = rng.chance(0.3) ? smallFrameMax(rng) : SERVER_FRAME_MAX;
    const valid = Buffer.concat([open1, validOperations(rng, 1, frameMax, index)]);
    const bytes = flipBits(rng, valid, rng.range(1, 4), rng.chance(0.5) ? open1.length : 0);
    return { kind: 'bit-flip', phase: 'open', bytes, frameMax, expect: judged(bytes, frameMax, 'open') };
  }],
  // A valid frame whose end octet is wrong.
  [4, (rng, index) => {
    const phase = rng.pick<Phase>(['start', 'open', 'open']);
    let end = rng.int(256);
    if (end === FRAME_END) end = 0;
    const valid = phase === 'start' ? m.startOk({ product: 'fuzz' }, 'guest', 'guest') : validOperations(rng, 1, SERVER_FRAME_MAX, index).subarray(0);
    const firstFrame = valid.subarray(0, 8 + valid.readUInt32BE(3));
    const bad = Buffer.from(firstFrame);
    bad[bad.length - 1] = end;
    const bytes = phase === 'open' ? Buffer.concat([open1, bad]) : bad;
    return { kind: 'bad-frame-end', phase, bytes, expect: 'close-broken' };
  }],
  // A frame declaring a payload above frame_max (up to 4 GiB), with a little of it sent.
  [4, (rng) => {
    const phase = rng.pick<Phase>(['start', 'open', 'open']);
    const frameMax = phase === 'open' && rng.chance(0.5) ? smallFrameMax(rng) : SERVER_FRAME_MAX;
    const size = rng.pick([frameMax + 1, frameMax + rng.range(1, 1 << 20), 0xffffffff, rng.range(frameMax + 1, 0x7fffffff)]);
    const head = Buffer.alloc(7);
    head.writeUInt8(rng.pick([FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT]), 0);
    head.writeUInt16BE(phase === 'open' ? 1 : 0, 1);
    head.writeUInt32BE(size >>> 0, 3);
    const frames = Buffer.concat([head, rng.bytes(rng.int(64))]);
    const bytes = phase === 'open' ? Buffer.concat([open1, frames]) : frames;
    // Before tune-ok the server's own frame_max applies.
    return { kind: 'huge-frame-size', phase, bytes, frameMax, expect: 'close-broken' };
  }],
  // A body frame just below, at, or just above frame_max: RabbitMQ accepts a payload of up to frame_max.
  [3, (rng) => {
    const frameMax = smallFrameMax(rng);
    const payload = rng.range(frameMax - 8, frameMax + 1);
    const data = rng.bytes(payload);
    const bytes = Buffer.concat([
      open1,
      m.basicPublish(1, '', FUZZ_QUEUES.sink),
      contentHeader(1, payload, basicProperties([])),
      frame(FRAME_BODY, 1, data),
    ]);
    return { kind: 'frame-at-frame-max', phase: 'open', bytes, frameMax, expect: payload > frameMax ? 'close-broken' : 'survive' };
  }],
  // Field tables (method arguments, client properties) truncated or with a bad type tag.
  [8, (rng, index) => {
    const phase = rng.chance(0.2) ? 'start' : 'open';
    const good = [randomField(rng, 'a'), randomField(rng, 'b')];
    let table: Buffer;
    let kind: string;
    switch (rng.int(4)) {
      case 0: {
        kind = 'table-unknown-tag';
        const tag = rng.pick(UNKNOWN_TAGS);
        table = tableOf([...good, Buffer.concat([shortstr('bad'), Buffer.from([tag]), rng.bytes(rng.int(8))])]);
        break;
      }
      case 1: {
        kind = 'table-length-overruns';
        const t = tableOf(good);
        t.writeUInt32BE(t.length - 4 + rng.range(1, 1000), 0);
        table = t;
        break;
      }
      case 2: {
        kind = 'table-value-truncated';
        // A field whose value is cut short by the table's own length.
        const value = rng.pick([Buffer.concat([Buffer.from('S'), u32(100), Buffer.from('abc')]), Buffer.from('I\x00\x01'), Buffer.from('F\x00\x00\x00\x09'), Buffer.from('l\x00')]);
        table = tableOf([...good, Buffer.concat([shortstr('cut'), value])]);
        break;
      }
      default: {
        kind = 'table-key-overruns';
        table = tableOf([...good, Buffer.from([200, 0x61, 0x62])]);
        break;
      }
    }
    if (phase === 'start') {
      const args = new Args().raw(table).shortstr('PLAIN').longstr('\0guest\0guest').shortstr('en_US').build();
      return { kind: `start-ok-${kind}`, phase, bytes: method(0, 10, 11, args), expect: 'close' };
    }
    const which = rng.int(3);
    const m2 =
      which === 0
        ? queueDeclare(1, `fuzz.q.${index}`, table)
        : which === 1
          ? method(1, 40, 10, new Args().short(0).shortstr(`fuzz.x.${index}`).shortstr('direct').bit(false).bit(false).bit(true).bit(false).bit(false).raw(table).build())
          : method(1, 60, 20, new Args().short(0).shortstr(FUZZ_QUEUES.sink).shortstr('').bit(false).bit(false).bit(false).bit(false).raw(table).build());
    // A table cut by the frame's end (its declared length runs past the payload).
    const bytes = Buffer.concat([open1, m2]);
    return { kind, phase, bytes, expect: 'close' };
  }],
  // Unknown class or method ids, and server-only methods sent by the client.
  [4, (rng) => {
    let classId: number;
    let methodId: number;
    if (rng.chance(0.5)) {
      do classId = rng.int(65536);
      while (KNOWN_METHODS[classId] !== undefined);
      methodId = rng.int(65536);
    } else {
      classId = rng.pick([10, 20, 40, 50, 60, 85, 90]);
      do methodId = rng.int(rng.chance(0.5) ? 256 : 65536);
      while (KNOWN_METHODS[classId]!.includes(methodId));
    }
    const channel = rng.pick([0, 1]);
    const bytes = Buffer.concat([open1, method(channel, classId, methodId, rng.bytes(rng.int(16)))]);
    return { kind: 'unknown-method', phase: 'open', bytes, expect: 'close' };
  }],
  [2, (rng) => {
    // basic.deliver, basic.return, channel.open-ok, connection.start: the server's methods, sent by a client.
    const [c, mm] = rng.pick([[60, 60], [60, 50], [20, 11], [60, 71], [40, 11]] as const);
    const bytes = Buffer.concat([open1, method(1, c, mm, rng.bytes(rng.int(24)))]);
    return { kind: 'server-method-from-client', phase: 'open', bytes, expect: 'close' };
  }],
  // Content frames out of order.
  [6, (rng) => {
    const props = randomValidProperties(rng);
    const variants: Array<[string, Buffer]> = [
      ['header-without-publish', contentHeader(1, 3, props)],
      ['body-without-header', frame(FRAME_BODY, 1, Buffer.from('abc'))],
      ['method-before-header', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), m.basicQos(1, 0, 1, false)])],
      ['method-before-body', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), contentHeader(1, 3, props), m.basicQos(1, 0, 1, false)])],
      ['body-longer-than-declared', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), contentHeader(1, 2, props), frame(FRAME_BODY, 1, Buffer.from('abcd'))])],
      ['two-headers', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), contentHeader(1, 3, props), contentHeader(1, 3, props)])],
      ['header-class-50', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), contentHeader(1, 3, props, 50)])],
      ['content-on-channel-0', Buffer.concat([contentHeader(0, 3, props)])],
      ['content-on-unopened-channel', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), contentHeader(7, 3, props)])],
      ['header-too-short', Buffer.concat([m.basicPublish(1, '', FUZZ_QUEUES.sink), frame(FRAME_HEADER, 1, rng.bytes(rng.int(12)))])],
    ];
    const [name, frames] = rng.pick(variants);
    // RabbitMQ does not notice a body longer than declared (it waits for the rest of the body).
    const expect = name === 'body-longer-than-declared' ? 'any' : 'close';
    return { kind: `content-out-of-order:${name}`, phase: 'open', bytes: Buffer.concat([open1, frames]), expect };
  }],
  // Channel numbers past a negotiated channel_max (RabbitMQ counts open channels, not numbers).
  [3, (rng) => {
    const channelMax = rng.range(1, 20);
    const ch = rng.range(channelMax + 1, 65535);
    const bytes = Buffer.concat([m.channelOpen(ch), validOperations(rng, ch, SERVER_FRAME_MAX, 0)]);
    return { kind: 'channel-past-channel-max', phase: 'open', bytes, channelMax, expect: 'any' };
  }],
  // A method on a channel that is not open: never opened, or closed by the client just before.
  [4, (rng) => {
    const ch = rng.range(2, 65535);
    if (rng.chance(0.5)) {
      const bytes = Buffer.concat([open1, m.basicQos(ch, 0, 1, false)]);
      return { kind: 'method-on-unopened-channel', phase: 'open', bytes, expect: 'close' };
    }
    // RabbitMQ ignores it while the channel's close is under way (504 if the close is already done).
    const close = method(1, 20, 40, new Args().short(200).shortstr('bye').short(0).short(0).build());
    const bytes = Buffer.concat([open1, close, m.basicQos(1, 0, 1, false)]);
    return { kind: 'method-on-closed-channel', phase: 'open', bytes, expect: 'any' };
  }],
  // Heartbeats on a channel other than 0, and heartbeats with a payload.
  [3, (rng) => {
    if (rng.chance(0.7)) {
      const bytes = Buffer.concat([open1, frame(FRAME_HEARTBEAT, rng.range(1, 65535), Buffer.alloc(0))]);
      return { kind: 'heartbeat-on-channel', phase: 'open', bytes, expect: 'close' };
    }
    const bytes = frame(FRAME_HEARTBEAT, 0, rng.bytes(rng.range(1, 32)));
    return { kind: 'heartbeat-with-payload', phase: 'open', bytes, expect: 'any' };
  }],
  // Deeply nested tables and arrays: in queue arguments, or in a message's headers (decoded later: routing, dead-lettering).
  [3, (rng, index) => {
    const kind = rng.chance(0.5) ? 'F' : 'A';
    const perLevel = kind === 'F' ? 7 : 5;
    const depth = rng.range(100, Math.floor((SERVER_FRAME_MAX - 200) / perLevel));
    const deep = tableOf([deepField(depth, kind)]);
    if (rng.chance(0.5)) {
      const bytes = Buffer.concat([open1, queueDeclare(1, `fuzz.q.${index}`, deep)]);
      return { kind: `deep-${kind}-queue-arguments`, phase: 'open', bytes, expect: 'any' };
    }
    const properties = basicProperties([[13, deep]]);
    const bytes = Buffer.concat([open1, publish(rng, 1, SERVER_FRAME_MAX, { properties, routingKey: rng.pick([FUZZ_QUEUES.ttl, FUZZ_QUEUES.sink]), size: 3 })]);
    return { kind: `deep-${kind}-headers`, phase: 'open', bytes, expect: 'any' };
  }],
  // Basic properties that do not decode. RabbitMQ checks them when the header arrives and closes the connection.
  [5, (rng) => {
    let properties: Buffer;
    let kind: string;
    switch (rng.int(5)) {
      case 0:
        kind = 'properties-unknown-tag';
        properties = basicProperties([[13, tableOf([Buffer.concat([shortstr('x'), Buffer.from([rng.pick(UNKNOWN_TAGS)]), rng.bytes(4)])])]]);
        break;
      case 1:
        kind = 'properties-missing';
        // Flags announce fields that are not there.
        properties = Buffer.from([rng.range(0x80, 0xff), rng.int(256) & 0xfe]);
        break;
      case 2:
        kind = 'properties-shortstr-overruns';
        properties = Buffer.concat([Buffer.from([0x80, 0x00]), Buffer.from([200]), Buffer.from('text/plain')]);
        break;
      case 3:
        kind = 'properties-headers-overrun';
        properties = Buffer.concat([Buffer.from([0x20, 0x00]), u32(rng.range(10, 100_000)), shortstr('k'), Buffer.from('t')]);
        break;
      default:
        kind = 'properties-header-value-truncated';
        properties = basicProperties([[13, tableOf([Buffer.concat([shortstr('k'), Buffer.from('S'), u32(50), Buffer.from('short')])])]]);
        break;
    }
    const target = rng.pick([FUZZ_QUEUES.ttl, FUZZ_QUEUES.ttl, FUZZ_QUEUES.sink, FUZZ_QUEUES.healthy]);
    const bytes = Buffer.concat([open1, publish(rng, 1, SERVER_FRAME_MAX, { properties, routingKey: target, size: rng.int(5) })]);
    return { kind, phase: 'open', bytes, expect: 'close' };
  }],
  // A header value that decodes but cannot be re-encoded as the same type by a
  // naive encoder: an integral double beyond int64 (re-encoded when dead-lettered).
  [2, (rng) => {
    const d = Buffer.alloc(8);
    d.writeDoubleBE(rng.pick([1e300, -1e19, 2 ** 63, 1.5e20]));
    const properties = basicProperties([[13, tableOf([Buffer.concat([shortstr('big'), Buffer.from('d'), d])])]]);
    const bytes = Buffer.concat([open1, publish(rng, 1, SERVER_FRAME_MAX, { properties, routingKey: FUZZ_QUEUES.ttl, size: rng.int(5) })]);
    return { kind: 'headers-double-beyond-int64', phase: 'open', bytes, expect: 'survive' };
  }],
  // Content header declaring a huge body. RabbitMQ either refuses it (406, printing the exact size) or waits for the body.
  [3, (rng) => {
    const size = rng.pick([2n ** 62n, 2n ** 63n - 1n, 2n ** 53n + 1n, BigInt(MAX_MESSAGE_SIZE) + 1n, 2n ** 64n - 1n]);
    const bytes = Buffer.concat([
      open1,
      m.basicPublish(1, '', FUZZ_QUEUES.sink),
      contentHeader(1, size, randomValidProperties(rng)),
      ...(rng.chance(0.5) ? [frame(FRAME_BODY, 1, rng.bytes(rng.int(100)))] : []),
    ]);
    return { kind: 'huge-body-size', phase: 'open', bytes, expect: 'any', declaredBodySize: size };
  }],
  // Valid but odd: bodies split into many frames, empty bodies, interleaved channels.
  [8, (rng) => {
    const frameMax = rng.chance(0.5) ? smallFrameMax(rng) : SERVER_FRAME_MAX;
    const parts: Buffer[] = [open1];
    const variant = rng.int(4);
    if (variant === 0) parts.push(publish(rng, 1, frameMax, { size: 0 }));
    else if (variant === 1) parts.push(publish(rng, 1, frameMax, { size: rng.range(1, 3 * frameMax) }));
    else if (variant === 2) {
      // Content on channel 1 interleaved with methods on channel 2.
      parts.push(m.channelOpen(2));
      const size = rng.range(1, 2000);
      parts.push(m.basicPublish(1, '', FUZZ_QUEUES.sink), m.basicQos(2, 0, 5, false), contentHeader(1, size, randomValidProperties(rng)));
      for (const f of bodyFrames(rng, 1, rng.bytes(size), frameMax - 8)) parts.push(f, frame(FRAME_HEARTBEAT, 0, Buffer.alloc(0)));
    } else {
      for (let i = rng.range(2, 8); i > 0; i--) parts.push(publish(rng, 1, frameMax));
    }
    return { kind: `odd-but-valid-${variant}`, phase: 'open', bytes: Buffer.concat(parts), frameMax, expect: 'survive' };
  }],
  // A large message round trip at a small frame_max: every frame the broker sends back must fit it.
  [3, (rng, index) => {
    const frameMax = smallFrameMax(rng);
    const q = `fuzz.rt.${index}`;
    const size = rng.range(frameMax - 16, 3 * frameMax);
    // The message comes back as basic.get-ok, basic.deliver or basic.return.
    const path = rng.pick(['get', 'deliver', 'return'] as const);
    const parts = [open1, queueDeclare(1, q, tableOf([]))];
    if (path === 'deliver') parts.push(method(1, 60, 20, new Args().short(0).shortstr(q).shortstr('').bit(false).bit(true).bit(false).bit(false).table({}).build()));
    parts.push(publish(rng, 1, frameMax, { routingKey: path === 'return' ? 'fuzz.nowhere' : q, size, mandatory: path === 'return' }));
    if (path === 'get') parts.push(method(1, 60, 70, new Args().short(0).shortstr(q).bit(true).build())); // no-ack
    return { kind: `round-trip-at-frame-max:${path}`, phase: 'open', bytes: Buffer.concat(parts), frameMax, expect: 'survive' };
  }],
  // Handshake steps out of order or with values RabbitMQ refuses.
  [3, (rng) => {
    const variants: Array<[string, Phase, Buffer, Expect]> = [
      ['tune-ok-frame-max-too-small', 'tune', m.tuneOk(SERVER_CHANNEL_MAX, rng.range(1, 4095), 0), 'close'],
      ['tune-ok-frame-max-too-large', 'tune', m.tuneOk(SERVER_CHANNEL_MAX, rng.range(SERVER_FRAME_MAX + 1, 0xffffffff), 0), 'close'],
      ['open-before-tune-ok', 'tune', m.open('/'), 'close'],
      ['channel-open-in-handshake', rng.pick<Phase>(['start', 'tune']), m.channelOpen(1), 'close'],
      ['connection-open-twice', 'open', m.open('/'), 'close'],
      ['start-ok-unknown-mechanism', 'start', method(0, 10, 11, new Args().table({}).shortstr('FUZZ').longstr('x').shortstr('en_US').build()), 'close'],
    ];
    const [kind, phase, bytes, expect] = rng.pick(variants);
    return { kind, phase, bytes, expect };
  }],
];

const TOTAL_WEIGHT = GENERATORS.reduce((s, [w]) => s + w, 0);

/** Case `index` of `seed`: the same bytes every time. */
export function generateCase(seed: number, index: number): FuzzCase {
  const rng = caseRng(seed, index);
  let pick = rng.int(TOTAL_WEIGHT);
  let gen = GENERATORS[0]![1];
  for (const [w, g] of GENERATORS) {
    if (pick < w) {
      gen = g;
      break;
    }
    pick -= w;
  }
  const d = gen(rng, index);
  const splits: number[] = [];
  if (d.bytes.length > 1 && rng.chance(0.3)) {
    if (d.bytes.length <= 64 && rng.chance(0.3)) for (let i = 1; i < d.bytes.length; i++) splits.push(i);
    else {
      for (let i = rng.range(1, 3); i > 0; i--) splits.push(rng.range(1, d.bytes.length - 1));
      splits.sort((a, b) => a - b);
    }
  }
  const onClose = rng.chance(0.02) ? 'silent' : rng.chance(0.5) ? 'close-ok' : 'hang-up';
  return {
    seed,
    index,
    kind: d.kind,
    phase: d.phase,
    frameMax: d.frameMax ?? SERVER_FRAME_MAX,
    channelMax: d.channelMax ?? SERVER_CHANNEL_MAX,
    bytes: d.bytes,
    splits: [...new Set(splits)],
    expect: d.expect,
    onClose,
    ...(d.declaredBodySize !== undefined ? { declaredBodySize: d.declaredBodySize } : {}),
  };
}
