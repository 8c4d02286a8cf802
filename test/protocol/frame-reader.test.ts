import { describe, expect, it } from 'vitest';
import { AmqpError } from '../../src/protocol/errors.js';
import { FrameReader, type FrameSink } from '../../src/protocol/frame-reader.js';
import { ReplyCode } from '../../src/protocol/reply-codes.js';

interface Got { type: number; channel: number; payload: Buffer }

function frame(type: number, channel: number, payload: Buffer | number[], end = 0xce): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(7);
  h[0] = type;
  h.writeUInt16BE(channel, 1);
  h.writeUInt32BE(p.length, 3);
  return Buffer.concat([h, p, Buffer.from([end])]);
}

function collector(): FrameSink & { got: Got[] } {
  const got: Got[] = [];
  return { got, onFrame: (type, channel, buf, start, end) => got.push({ type, channel, payload: Buffer.from(buf.subarray(start, end)) }) };
}

function expectFrameError(fn: () => void): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AmqpError);
  expect((err as AmqpError).replyCode).toBe(ReplyCode.FRAME_ERROR);
  expect((err as AmqpError).scope).toBe('connection');
}

const F1 = frame(1, 0, [0, 10, 0, 11, 1, 2, 3]);
const F2 = frame(8, 0, []);
const F3 = frame(3, 65535, Buffer.alloc(300, 0xab));
const STREAM = Buffer.concat([F1, F2, F3]);
const EXPECTED: Got[] = [
  { type: 1, channel: 0, payload: Buffer.from([0, 10, 0, 11, 1, 2, 3]) },
  { type: 8, channel: 0, payload: Buffer.alloc(0) },
  { type: 3, channel: 65535, payload: Buffer.alloc(300, 0xab) },
];

describe('FrameReader', () => {
  it('one frame per chunk', () => {
    const r = new FrameReader();
    const s = collector();
    for (const f of [F1, F2, F3]) r.push(f, s);
    expect(s.got).toEqual(EXPECTED);
  });

  it('many frames in one chunk', () => {
    const r = new FrameReader();
    const s = collector();
    r.push(Buffer.concat([STREAM, STREAM]), s);
    expect(s.got).toEqual([...EXPECTED, ...EXPECTED]);
  });

  it('byte by byte', () => {
    const r = new FrameReader();
    const s = collector();
    for (let i = 0; i < STREAM.length; i++) r.push(STREAM.subarray(i, i + 1), s);
    expect(s.got).toEqual(EXPECTED);
  });

  it('split at every offset (two chunks) and at every pair of offsets (three chunks)', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const r = new FrameReader();
      const s = collector();
      r.push(STREAM.subarray(0, i), s);
      r.push(STREAM.subarray(i), s);
      expect(s.got, `split at ${i}`).toEqual(EXPECTED);
    }
    const small = Buffer.concat([F1, F2, frame(2, 5, [1, 2, 3, 4])]);
    const smallExpected = [EXPECTED[0], EXPECTED[1], { type: 2, channel: 5, payload: Buffer.from([1, 2, 3, 4]) }];
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        const r = new FrameReader();
        const s = collector();
        r.push(small.subarray(0, i), s);
        r.push(small.subarray(i, j), s);
        r.push(small.subarray(j), s);
        expect(s.got, `split at ${i},${j}`).toEqual(smallExpected);
      }
    }
  });

  it('a frame whole within a chunk is not copied', () => {
    const r = new FrameReader();
    const chunk = Buffer.concat([F1, F3]);
    const payloads: Buffer[] = [];
    r.push(chunk, { onFrame: (_t, _c, buf, start, end) => {
      // Handed over in place: the chunk itself, with the payload's bounds.
      expect(buf).toBe(chunk);
      payloads.push(buf.subarray(start, end));
    } });
    expect(payloads.length).toBe(2);
    for (const p of payloads) expect(p.buffer).toBe(chunk.buffer);
    expect(payloads[0]!.byteOffset).toBe(chunk.byteOffset + 7);
    expect(payloads[0]).toEqual(EXPECTED[0]!.payload);
    // after a split frame, the following whole frames are zero-copy again
    const r2 = new FrameReader();
    const got: Buffer[] = [];
    const sink: FrameSink = { onFrame: (_t, _c, buf, start, end) => got.push(buf.subarray(start, end)) };
    const a = STREAM.subarray(0, 10);
    const b = Buffer.alloc(STREAM.length - 10); // not from the shared pool
    STREAM.copy(b, 0, 10);
    r2.push(a, sink);
    r2.push(b, sink);
    expect(got.length).toBe(3);
    expect(got[0]!.buffer).not.toBe(b.buffer);
    expect(got[0]).toEqual(EXPECTED[0]!.payload);
    expect(got[1]!.buffer).toBe(b.buffer);
    expect(got[2]!.buffer).toBe(b.buffer);
  });

  it('a body frame split across chunks goes to onBodyFrame as subarrays of the chunks, other frames are assembled', () => {
    // A piece-taking sink, flattened to the same Got records as collector() for comparison.
    const piecewise = () => {
      const got: Got[] = [];
      const pieces: Buffer[][] = [];
      const sink: FrameSink = {
        onFrame: (type, channel, buf, start, end) => got.push({ type, channel, payload: Buffer.from(buf.subarray(start, end)) }),
        onBodyFrame: (channel, p) => {
          pieces.push(p);
          got.push({ type: 3, channel, payload: Buffer.concat(p) });
        },
      };
      return { got, pieces, sink };
    };
    const body = Buffer.alloc(300);
    for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
    const stream = Buffer.concat([F1, frame(3, 7, body), F2]);
    const expected = [EXPECTED[0], { type: 3, channel: 7, payload: body }, EXPECTED[1]];
    // every first split point around the body frame's header and end; a few second ones
    const firstSplits = [...Array(30).keys()].map((k) => k).concat([...Array(30).keys()].map((k) => stream.length - 30 + k));
    for (const i of firstSplits) {
      for (const j of [i, i + 1, i + 100, stream.length]) {
        if (j > stream.length) continue;
        const chunks = [stream.subarray(0, i), Buffer.from(stream.subarray(i, j)), Buffer.from(stream.subarray(j))];
        const s = piecewise();
        const r = new FrameReader();
        for (const c of chunks) r.push(c, s.sink);
        expect(s.got, `split at ${i},${j}`).toEqual(expected);
        for (const p of s.pieces) {
          expect(p.length).toBeGreaterThan(1);
          for (const piece of p) expect(chunks.some((c) => c.buffer === piece.buffer && piece.length > 0)).toBe(true);
        }
      }
    }
    // a body frame over three chunks: three pieces, in order
    const big = frame(3, 1, body);
    const s = piecewise();
    const r = new FrameReader();
    r.push(big.subarray(0, 100), s.sink);
    r.push(big.subarray(100, 200), s.sink);
    r.push(big.subarray(200), s.sink);
    expect(s.pieces.map((p) => p.map((b) => b.length))).toEqual([[93, 100, 107]]);
    // a bad end octet after the pieces: nothing delivered
    const bad = frame(3, 1, body, 0x00);
    const s2 = piecewise();
    const r2 = new FrameReader();
    r2.push(bad.subarray(0, 150), s2.sink);
    expectFrameError(() => r2.push(bad.subarray(150), s2.sink));
    expect(s2.got).toEqual([]);
  });

  it('splitBodyBytes counts the payload bytes of body frames taken as pieces, and nothing else', () => {
    const sink: FrameSink = { onFrame: () => undefined, onBodyFrame: () => undefined };
    const r = new FrameReader();
    const body = frame(3, 1, Buffer.alloc(1000, 1));
    // Whole frames (a body frame among them) and a split method frame: no pieces.
    r.push(Buffer.concat([F1, F2, body]), sink);
    r.push(F1.subarray(0, 9), sink);
    r.push(F1.subarray(9), sink);
    expect(r.splitBodyBytes).toBe(0);
    // A body frame over three chunks: its payload, not its header nor its end octet.
    r.push(body.subarray(0, 100), sink);
    r.push(body.subarray(100, 600), sink);
    r.push(Buffer.concat([body.subarray(600), F2]), sink);
    expect(r.splitBodyBytes).toBe(1000);
    // A sink without onBodyFrame gets split body frames assembled: no pieces either.
    const assembled = new FrameReader();
    assembled.push(body.subarray(0, 100), collector());
    assembled.push(body.subarray(100), collector());
    expect(assembled.splitBodyBytes).toBe(0);
  });

  it('a payload of up to frameMax is taken, one more octet is a FRAME_ERROR, as RabbitMQ', () => {
    // RabbitMQ 3.10 takes payloads up to frame_max (the overhead not counted) and refuses frame_max + 1.
    const ok = frame(3, 1, Buffer.alloc(4096));
    const s = collector();
    new FrameReader(4096).push(ok, s);
    expect(s.got.length).toBe(1);
    const tooBig = frame(3, 1, Buffer.alloc(4097));
    expectFrameError(() => new FrameReader(4096).push(tooBig, collector()));
    expect(() => new FrameReader(4096).push(tooBig, collector())).toThrow('FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}');
    // detected from the header alone, before the payload arrives
    expectFrameError(() => new FrameReader(4096).push(tooBig.subarray(0, 7), collector()));
    const split = new FrameReader(4096);
    split.push(tooBig.subarray(0, 3), collector());
    expectFrameError(() => split.push(tooBig.subarray(3, 7), collector()));
  });

  it('channel numbers and sizes with the top bit set are read unsigned', () => {
    const c = collector();
    const payload = Buffer.alloc(0x8081, 0x5a);
    new FrameReader(0).push(Buffer.concat([frame(1, 0xffff, [1, 2]), frame(3, 0x8001, payload)]), c);
    expect(c.got.map((g) => [g.type, g.channel, g.payload.length])).toEqual([[1, 0xffff, 2], [3, 0x8001, 0x8081]]);
    // A declared size of 2^31 + 1 is refused as that many octets, not as a negative number.
    const huge = Buffer.from([3, 0, 1, 0x80, 0, 0, 1]);
    expect(() => new FrameReader(4096).push(huge, collector())).toThrow('{frame_too_large,2147483649,4088}');
  });

  it('frameMax is settable and 0 means no limit', () => {
    const big = frame(3, 1, Buffer.alloc(200_000));
    expectFrameError(() => new FrameReader().push(big, collector()));
    const r = new FrameReader();
    r.frameMax = 0;
    const s = collector();
    r.push(big, s);
    expect(s.got[0]!.payload.length).toBe(200_000);
    const r2 = new FrameReader();
    r2.frameMax = 4096;
    expectFrameError(() => r2.push(frame(3, 1, Buffer.alloc(5000)), collector()));
  });

  it('a bad end octet is a FRAME_ERROR, whole or split', () => {
    const bad = frame(1, 0, [0, 10, 0, 11], 0xcd);
    expectFrameError(() => new FrameReader().push(bad, collector()));
    for (let i = 1; i < bad.length; i++) {
      const r = new FrameReader();
      r.push(bad.subarray(0, i), collector());
      expectFrameError(() => r.push(bad.subarray(i), collector()));
    }
    // frames before the bad one are delivered
    const s = collector();
    expectFrameError(() => new FrameReader().push(Buffer.concat([F1, bad]), s));
    expect(s.got).toEqual([EXPECTED[0]]);
  });

  it('empty chunks are harmless', () => {
    const r = new FrameReader();
    const s = collector();
    r.push(Buffer.alloc(0), s);
    r.push(F1.subarray(0, 3), s);
    r.push(Buffer.alloc(0), s);
    r.push(F1.subarray(3), s);
    expect(s.got).toEqual([EXPECTED[0]]);
  });
});
