import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AmqpError } from '../../src/protocol/errors.js';
import { FrameWriter } from '../../src/protocol/frame-writer.js';
import * as G from '../../src/protocol/methods.generated.js';
import {
  ALL_METHOD_IDS,
  BASIC_ACK,
  BASIC_DELIVER,
  BASIC_GET_OK,
  BASIC_PUBLISH,
  BASIC_RETURN,
  CONNECTION_CLOSE_OK,
  decodeMethod,
  encodeMethod,
  EXCHANGE_DECLARE,
  type IncomingMethod,
  type MethodArgsById,
  methodHasContent,
  methodIsSynchronous,
  methodName,
  QUEUE_DECLARE,
} from '../../src/protocol/methods.generated.js';
import { ReplyCode } from '../../src/protocol/reply-codes.js';

type Arg = [string, string];
interface SpecMethod { name: string; id: number; synchronous: boolean; content: boolean; arguments: Arg[] }
interface SpecClass { name: string; id: number; methods: SpecMethod[] }
const spec = JSON.parse(readFileSync(new URL('../../spec/amqp0-9-1.json', import.meta.url), 'utf8')) as {
  classes: SpecClass[];
};

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const upper = (s: string) => s.replace(/-/g, '_').toUpperCase();

const all = spec.classes.flatMap((c) => c.methods.map((m) => ({ c, m, id: ((c.id << 16) | m.id) >>> 0 })));

/** Distinct, non-default sample values per argument; bits follow `bits`. */
function sample(args: Arg[], bits: (i: number) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  args.forEach(([name, type], i) => {
    const k = camel(name);
    switch (type) {
      case 'octet': out[k] = (i * 37 + 200) & 0xff; break;
      case 'short': out[k] = 60000 + i; break;
      case 'long': out[k] = 0xfedcba98 - i; break;
      case 'longlong': out[k] = 2 ** 52 + 12345 + i; break;
      case 'timestamp': out[k] = 1_700_000_000 + i; break;
      case 'bit': out[k] = bits(i); break;
      case 'shortstr': out[k] = `${name}-ü-${i}`; break;
      case 'longstr': out[k] = Buffer.from(`\u0000${name}\u0000long ${i}`); break;
      case 'table': out[k] = { n: i, s: name, nested: { ok: true, list: [1, 'two', null] } }; break;
      default: throw new Error(type);
    }
  });
  return out;
}

/** Encodes one method and returns the single frame's bytes. */
function frameOf(channel: number, id: number, args: unknown): Buffer {
  const w = new FrameWriter();
  encodeMethod(w, channel, id as keyof MethodArgsById, args as never);
  const out = w.flush();
  expect(out).not.toBeNull();
  return Buffer.concat(out!);
}

function payloadOf(frame: Buffer): Buffer {
  expect(frame[0]).toBe(1);
  const size = frame.readUInt32BE(3);
  expect(frame.length).toBe(size + 8);
  expect(frame[frame.length - 1]).toBe(0xce);
  return frame.subarray(7, 7 + size);
}

describe('method ids and metadata', () => {
  it('every spec method has a constant equal to classId << 16 | methodId', () => {
    expect(all.length).toBe(66);
    for (const { c, m, id } of all) {
      const name = `${upper(c.name)}_${upper(m.name)}`;
      expect((G as Record<string, unknown>)[name], name).toBe(id);
    }
    expect(ALL_METHOD_IDS).toEqual(all.map((x) => x.id));
  });

  it('class ids', () => {
    expect([G.CLASS_CONNECTION, G.CLASS_CHANNEL, G.CLASS_EXCHANGE, G.CLASS_QUEUE, G.CLASS_BASIC, G.CLASS_CONFIRM, G.CLASS_TX]).toEqual([
      10, 20, 40, 50, 60, 85, 90,
    ]);
  });

  it('a few ids by hand', () => {
    expect(G.BASIC_PUBLISH).toBe(0x003c0028);
    expect(G.BASIC_NACK).toBe((60 << 16) | 120);
    expect(G.BASIC_RECOVER_ASYNC).toBe((60 << 16) | 100);
    expect(G.EXCHANGE_UNBIND_OK).toBe((40 << 16) | 51);
    expect(G.CONNECTION_UPDATE_SECRET_OK).toBe((10 << 16) | 71);
    expect(G.CONFIRM_SELECT).toBe((85 << 16) | 10);
    expect(G.TX_COMMIT_OK).toBe((90 << 16) | 21);
  });

  it('methodName, methodHasContent, methodIsSynchronous', () => {
    for (const { c, m, id } of all) {
      expect(methodName(id)).toBe(`${c.name}.${m.name}`);
      expect(methodHasContent(id)).toBe(m.content);
      expect(methodIsSynchronous(id)).toBe(m.synchronous);
    }
    expect([BASIC_PUBLISH, BASIC_RETURN, BASIC_DELIVER, BASIC_GET_OK].every(methodHasContent)).toBe(true);
    expect(all.filter((x) => methodHasContent(x.id)).length).toBe(4);
    expect(methodName(0x003c03e7)).toBe('unknown method 60/999');
    expect(methodHasContent(0x12345678)).toBe(false);
  });
});

describe('every method round-trips', () => {
  for (const { c, m, id } of all) {
    it(`${c.name}.${m.name}`, () => {
      const nbits = m.arguments.filter(([, t]) => t === 'bit').length;
      const patterns: ((i: number) => boolean)[] = [() => true, () => false, (i) => i % 2 === 0];
      for (let j = 0; j < nbits; j++) patterns.push((i) => m.arguments.filter(([, t]) => t === 'bit').indexOf(m.arguments[i]!) === j);
      for (const bits of patterns) {
        const args = sample(m.arguments, bits);
        const frame = frameOf(7, id, args);
        expect(frame.readUInt16BE(1)).toBe(7);
        const payload = payloadOf(frame);
        expect(payload.readUInt16BE(0)).toBe(c.id);
        expect(payload.readUInt16BE(2)).toBe(m.id);
        const decoded = decodeMethod(payload);
        expect(decoded.id).toBe(id);
        expect(decoded.args).toEqual(args);
      }
    });
  }
});

describe('bit packing', () => {
  it("exchange.declare's five bits share one octet, low bit first", () => {
    const args = {
      ticket: 0, exchange: 'x', type: 'topic', passive: true, durable: false, autoDelete: true, internal: false, nowait: true,
      arguments: {},
    };
    const p = payloadOf(frameOf(1, EXCHANGE_DECLARE, args));
    // 4 ids + 2 ticket + 2 "x" + 6 "topic" = 14: the bit octet, then a 4-byte empty table
    expect(p.length).toBe(14 + 1 + 4);
    expect(p[14]).toBe(0b10101);
    expect(p.readUInt32BE(15)).toBe(0);
  });

  it("queue.declare's bits", () => {
    const args = { ticket: 0, queue: '', passive: false, durable: true, exclusive: true, autoDelete: false, nowait: false, arguments: {} };
    const p = payloadOf(frameOf(1, QUEUE_DECLARE, args));
    expect(p[7]).toBe(0b00110);
  });

  it("basic.deliver's redelivered sits between the delivery tag and the exchange", () => {
    const args = { consumerTag: 'c', deliveryTag: 2 ** 40 + 1, redelivered: true, exchange: 'ex', routingKey: 'rk' };
    const p = payloadOf(frameOf(1, BASIC_DELIVER, args));
    expect(p.subarray(4, 6).toString('latin1')).toBe('\u0001c');
    expect(p.readBigUInt64BE(6)).toBe(2n ** 40n + 1n);
    expect(p[14]).toBe(1);
    expect(p.subarray(15).toString('latin1')).toBe('\u0002ex\u0002rk');
    const d = decodeMethod(p);
    expect(d.id === BASIC_DELIVER && d.args.redelivered).toBe(true);
  });

  it('basic.nack: multiple and requeue in one octet', () => {
    const p = payloadOf(frameOf(1, G.BASIC_NACK, { deliveryTag: 5, multiple: false, requeue: true }));
    expect(p.length).toBe(4 + 8 + 1);
    expect(p[12]).toBe(2);
  });

  it('decoding a spare high bit set does not affect other fields', () => {
    const p = Buffer.from(payloadOf(frameOf(1, BASIC_ACK, { deliveryTag: 9, multiple: false })));
    p[12] = 0x80;
    expect(decodeMethod(p)).toEqual({ id: BASIC_ACK, args: { deliveryTag: 9, multiple: false } });
  });
});

describe('decode narrows by id', () => {
  it('switch over m.id gives typed args', () => {
    const m: IncomingMethod = decodeMethod(
      payloadOf(frameOf(1, BASIC_PUBLISH, { ticket: 0, exchange: 'e', routingKey: 'k', mandatory: true, immediate: false })),
    );
    let seen = '';
    switch (m.id) {
      case BASIC_PUBLISH:
        seen = `${m.args.exchange}/${m.args.routingKey}/${m.args.mandatory}`;
        break;
      default:
        seen = 'other';
    }
    expect(seen).toBe('e/k/true');
  });
});

describe('malformed method frames', () => {
  const good = () =>
    payloadOf(
      frameOf(1, EXCHANGE_DECLARE, {
        ticket: 0, exchange: 'abc', type: 'direct', passive: false, durable: true, autoDelete: false, internal: false, nowait: false,
        arguments: { a: 1 },
      }),
    );

  function expectError(fn: () => unknown, code: number, classId: number, methodId: number): AmqpError {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AmqpError);
    const a = err as AmqpError;
    expect(a.scope).toBe('connection');
    expect(a.replyCode).toBe(code);
    expect(a.classId).toBe(classId);
    expect(a.methodId).toBe(methodId);
    return a;
  }

  it('every truncation of a method payload throws FRAME_ERROR with the class and method', () => {
    const p = good();
    for (let len = 4; len < p.length; len++) {
      expectError(() => decodeMethod(p.subarray(0, len)), ReplyCode.FRAME_ERROR, 40, 10);
    }
    // a cut anywhere in every method's sample payload
    for (const { c, m, id } of all) {
      if (m.arguments.length === 0) continue;
      const q = payloadOf(frameOf(1, id, sample(m.arguments, () => true)));
      for (let len = 4; len < q.length; len++) expectError(() => decodeMethod(q.subarray(0, len)), ReplyCode.FRAME_ERROR, c.id, m.id);
    }
  });

  it('trailing bytes throw', () => {
    const p = Buffer.concat([good(), Buffer.from([0])]);
    expectError(() => decodeMethod(p), ReplyCode.FRAME_ERROR, 40, 10);
    expectError(() => decodeMethod(Buffer.from([0, 10, 0, 51, 1])), ReplyCode.FRAME_ERROR, 10, 51);
  });

  it('a shortstr length past the end throws', () => {
    const p = Buffer.from([0, 60, 0, 80 + 0, 0, 0, 0, 0, 0, 0, 0, 1]); // basic.ack with no bits octet
    expectError(() => decodeMethod(p), ReplyCode.FRAME_ERROR, 60, 80);
    const q = Buffer.from([0, 60, 0, 21, 5, 0x61]); // basic.consume-ok tag length 5, 1 byte present
    expectError(() => decodeMethod(q), ReplyCode.FRAME_ERROR, 60, 21);
  });

  it('a malformed table inside a method throws SYNTAX_ERROR with the ids', () => {
    const p = Buffer.from(good());
    // the arguments table is last: 4-byte length, key "a", type 'I'
    const tableAt = p.length - (4 + 2 + 1 + 4);
    expect(p.readUInt32BE(tableAt)).toBe(2 + 1 + 4);
    p[tableAt + 6] = 0x3f; // '?' is not a field type
    expectError(() => decodeMethod(p), ReplyCode.SYNTAX_ERROR, 40, 10);
  });

  it('unknown class or method is NOT_IMPLEMENTED', () => {
    expectError(() => decodeMethod(Buffer.from([0, 60, 0, 99])), ReplyCode.NOT_IMPLEMENTED, 60, 99);
    expectError(() => decodeMethod(Buffer.from([0, 77, 0, 10])), ReplyCode.NOT_IMPLEMENTED, 77, 10);
  });

  it('a payload shorter than the ids throws FRAME_ERROR', () => {
    expectError(() => decodeMethod(Buffer.from([0, 60, 0])), ReplyCode.FRAME_ERROR, 0, 0);
  });
});

describe('encodeMethod', () => {
  it('appends frames back to back and leaves nothing behind after an encoding error', () => {
    const w = new FrameWriter();
    encodeMethod(w, 3, CONNECTION_CLOSE_OK, {});
    const before = w.pendingBytes;
    expect(before).toBe(12);
    expect(() =>
      encodeMethod(w, 3, BASIC_PUBLISH, { ticket: 0, exchange: 'x'.repeat(256), routingKey: '', mandatory: false, immediate: false }),
    ).toThrow(RangeError);
    expect(w.pendingBytes).toBe(before);
    encodeMethod(w, 4, BASIC_ACK, { deliveryTag: 1, multiple: true });
    const buf = Buffer.concat(w.flush()!);
    expect(buf.length).toBe(12 + 8 + 13);
    expect(buf.subarray(0, 12)).toEqual(Buffer.from([1, 0, 3, 0, 0, 0, 4, 0, 10, 0, 51, 0xce]));
    expect(decodeMethod(payloadOf(buf.subarray(12)))).toEqual({ id: BASIC_ACK, args: { deliveryTag: 1, multiple: true } });
  });

  it('a 255-byte multibyte shortstr fits, 256 bytes does not', () => {
    const ok = 'é'.repeat(127) + 'a'; // 255 bytes
    const p = payloadOf(frameOf(1, G.BASIC_CONSUME_OK, { consumerTag: ok }));
    expect(p[4]).toBe(255);
    expect(decodeMethod(p)).toEqual({ id: G.BASIC_CONSUME_OK, args: { consumerTag: ok } });
    expect(() => frameOf(1, G.BASIC_CONSUME_OK, { consumerTag: 'é'.repeat(128) })).toThrow(RangeError);
  });

  it('throws for an unknown id', () => {
    expect(() => frameOf(1, 0x003c03e7, {})).toThrow(RangeError);
  });

  it('encodes many methods through buffer growth intact', () => {
    const w = new FrameWriter(64);
    const n = 5000;
    for (let i = 0; i < n; i++) {
      encodeMethod(w, i & 0xffff, BASIC_DELIVER, { consumerTag: `ctag-${i}`, deliveryTag: i, redelivered: i % 3 === 0, exchange: 'ex', routingKey: `rk.${i}` });
    }
    const buf = Buffer.concat(w.flush()!);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const size = buf.readUInt32BE(off + 3);
      expect(buf.readUInt16BE(off + 1)).toBe(i & 0xffff);
      const m = decodeMethod(buf.subarray(off + 7, off + 7 + size));
      expect(m).toEqual({ id: BASIC_DELIVER, args: { consumerTag: `ctag-${i}`, deliveryTag: i, redelivered: i % 3 === 0, exchange: 'ex', routingKey: `rk.${i}` } });
      expect(buf[off + 7 + size]).toBe(0xce);
      off += size + 8;
    }
    expect(off).toBe(buf.length);
  });
});
