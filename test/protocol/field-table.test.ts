import { describe, expect, it } from 'vitest';
import { ByteSink } from '../../src/protocol/byte-sink.js';
import { AmqpError } from '../../src/protocol/errors.js';
import {
  decodeTable,
  decodeTableBuffer,
  Decimal,
  encodeTable,
  type FieldTable,
  type FieldValue,
  TypedValue,
  writeTable,
} from '../../src/protocol/field-table.js';
import { ReplyCode } from '../../src/protocol/reply-codes.js';

const rt = (t: FieldTable): FieldTable => decodeTableBuffer(encodeTable(t));

/** The encoding of a one-field table {k: v}: returns the type octet and the value bytes. */
function encodedField(v: FieldValue): { type: string; bytes: Buffer } {
  const b = encodeTable({ k: v });
  expect(b.readUInt32BE(0)).toBe(b.length - 4);
  expect(b.subarray(4, 6).toString('latin1')).toBe('\u0001k');
  return { type: String.fromCharCode(b[6]!), bytes: b.subarray(7) };
}

/** Hand-built table with one field of the given type octet and raw value bytes. */
function rawTable(type: string, value: Buffer | number[]): Buffer {
  const body = Buffer.concat([Buffer.from([1, 0x6b, type.charCodeAt(0)]), Buffer.from(value)]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function expectSyntaxError(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AmqpError);
  expect((err as AmqpError).replyCode).toBe(ReplyCode.SYNTAX_ERROR);
  expect((err as AmqpError).scope).toBe('connection');
}

describe('encode type inference', () => {
  it.each<[string, FieldValue, string, number[]]>([
    ['true', true, 't', [1]],
    ['false', false, 't', [0]],
    ['small int', 5, 'I', [0, 0, 0, 5]],
    ['negative int', -1, 'I', [0xff, 0xff, 0xff, 0xff]],
    ['int32 max', 2147483647, 'I', [0x7f, 0xff, 0xff, 0xff]],
    ['int32 min', -2147483648, 'I', [0x80, 0, 0, 0]],
    ['int32 max + 1', 2147483648, 'l', [0, 0, 0, 0, 0x80, 0, 0, 0]],
    ['int32 min - 1', -2147483649, 'l', [0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]],
    ['bigint', 1n, 'l', [0, 0, 0, 0, 0, 0, 0, 1]],
    // A decoded double too large for an int64 (a client's 1.5e20) goes back out as a double, not a throw.
    ['whole number past int64', 1.5e20, 'd', [0x44, 0x20, 0x43, 0x56, 0x1a, 0x88, 0x29, 0x30]],
    ['2^63', 2 ** 63, 'd', [0x43, 0xe0, 0, 0, 0, 0, 0, 0]],
    ['string', 'hé', 'S', [0, 0, 0, 3, 0x68, 0xc3, 0xa9]],
    ['buffer', Buffer.from([1, 2]), 'x', [0, 0, 0, 2, 1, 2]],
    ['null', null, 'V', []],
    ['decimal', new Decimal(2, 12345), 'D', [2, 0, 0, 0x30, 0x39]],
    ['date', new Date(1_700_000_000_999), 'T', [0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]],
    ['array', [1, 'a'], 'A', [0, 0, 0, 11, 0x49, 0, 0, 0, 1, 0x53, 0, 0, 0, 1, 0x61]],
    ['table', { a: true }, 'F', [0, 0, 0, 4, 1, 0x61, 0x74, 1]],
  ])('%s', (_label, v, type, bytes) => {
    const e = encodedField(v);
    expect(e.type).toBe(type);
    expect([...e.bytes]).toEqual(bytes);
  });

  it('non-integers are doubles', () => {
    const e = encodedField(1.5);
    expect(e.type).toBe('d');
    expect(e.bytes.readDoubleBE(0)).toBe(1.5);
    expect(encodedField(NaN).type).toBe('d');
    expect(encodedField(Infinity).type).toBe('d');
  });

  it('undefined encodes as void', () => {
    const b = encodeTable({ k: undefined as unknown as FieldValue });
    expect(b[6]).toBe(0x56);
    expect(rt({ k: undefined as unknown as FieldValue })).toEqual({ k: null });
  });
});

describe('TypedValue forces the type', () => {
  it.each<[string, FieldValue, number[], FieldValue]>([
    ['b', -2, [0xfe], -2],
    ['B', 200, [200], 200],
    ['s', -300, [0xfe, 0xd4], -300],
    ['u', 65535, [0xff, 0xff], 65535],
    ['I', 7, [0, 0, 0, 7], 7],
    ['i', 4294967295, [0xff, 0xff, 0xff, 0xff], 4294967295],
    ['l', 7, [0, 0, 0, 0, 0, 0, 0, 7], 7],
    ['f', 0.5, [0x3f, 0, 0, 0], 0.5],
    ['d', 2, [0x40, 0, 0, 0, 0, 0, 0, 0], 2],
    ['T', 1_700_000_000, [0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00], 1_700_000_000],
    ['t', true, [1], true],
    ['S', 'x', [0, 0, 0, 1, 0x78], 'x'],
    ['x', Buffer.from('x'), [0, 0, 0, 1, 0x78], Buffer.from('x')],
    ['V', null, [], null],
  ])('%s', (type, v, bytes, back) => {
    const e = encodedField(new TypedValue(type as TypedValue['type'], v));
    expect(e.type).toBe(type);
    expect([...e.bytes]).toEqual(bytes);
    expect(rt({ k: new TypedValue(type as TypedValue['type'], v) })).toEqual({ k: back });
  });

  it('out-of-range values for a forced type throw', () => {
    expect(() => encodeTable({ k: new TypedValue('b', 128) })).toThrow(RangeError);
    expect(() => encodeTable({ k: new TypedValue('u', -1) })).toThrow(RangeError);
    expect(() => encodeTable({ k: new TypedValue('D', 1) })).toThrow(TypeError);
  });
});

describe('decode every RabbitMQ field type', () => {
  it.each<[string, number[], FieldValue]>([
    ['t', [0], false],
    ['t', [7], true],
    ['b', [0x80], -128],
    ['B', [0xff], 255],
    ['s', [0x80, 0], -32768],
    ['u', [0xff, 0xfe], 65534],
    ['I', [0xff, 0xff, 0xff, 0xfe], -2],
    ['i', [0x80, 0, 0, 0], 2147483648],
    ['l', [0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Number.MAX_SAFE_INTEGER],
    ['l', [0xff, 0xe0, 0, 0, 0, 0, 0, 1], Number.MIN_SAFE_INTEGER],
    ['l', [0, 0x20, 0, 0, 0, 0, 0, 0], 2n ** 53n],
    ['l', [0x80, 0, 0, 0, 0, 0, 0, 0], -(2n ** 63n)],
    ['l', [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 2n ** 63n - 1n],
    ['f', [0xc0, 0x20, 0, 0], -2.5],
    ['d', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], 1.5],
    ['D', [3, 0xff, 0xff, 0xff, 0xff], new Decimal(3, 4294967295)],
    ['S', [0, 0, 0, 2, 0xc3, 0xa9], 'é'],
    ['x', [0, 0, 0, 2, 0, 0xff], Buffer.from([0, 0xff])],
    ['A', [0, 0, 0, 6, 0x74, 1, 0x56, 0x42, 9, 0x56], [true, null, 9, null]],
    ['T', [0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00], 1_700_000_000],
    ['F', [0, 0, 0, 4, 1, 0x7a, 0x62, 0xff], { z: -1 }],
    ['V', [], null],
  ])('%s %j', (type, bytes, value) => {
    expect(decodeTableBuffer(rawTable(type, bytes))).toEqual({ k: value });
  });

  it('bigint longs round-trip and safe ones come back as numbers', () => {
    const t = { big: 2n ** 62n, neg: -(2n ** 63n), small: 42n };
    expect(rt(t)).toEqual({ big: 2n ** 62n, neg: -(2n ** 63n), small: 42 });
  });
});

describe('round trips', () => {
  it('every inferred type, nested tables and arrays', () => {
    const t: FieldTable = {
      bool: true,
      no: false,
      int: -7,
      max: 2147483647,
      min: -2147483648,
      long: 2 ** 40,
      neglong: -(2 ** 40),
      dbl: 3.25,
      str: 'héllo wörld',
      empty: '',
      bytes: Buffer.from([0, 1, 2, 255]),
      nothing: null,
      dec: new Decimal(4, 31415),
      arr: [1, 'two', [3, [4]], { five: 5 }, null, false, Buffer.from('x')],
      emptyArr: [],
      nested: { a: { b: { c: { d: 'deep' } } }, list: [{ x: 1 }, { y: [2] }] },
      emptyTable: {},
    };
    expect(rt(t)).toEqual(t);
  });

  it('dates decode as seconds', () => {
    expect(rt({ when: new Date(1_600_000_000_500) })).toEqual({ when: 1_600_000_000 });
  });

  it('keys: unicode, empty, 255 bytes; __proto__ stays an own key', () => {
    const key = 'k'.repeat(255);
    const t: FieldTable = { '': 1, 'ключ': 2, [key]: 3 };
    expect(rt(t)).toEqual(t);
    expect(() => encodeTable({ ['k'.repeat(256)]: 1 })).toThrow(RangeError);
    const crafted = Buffer.concat([Buffer.from([0, 0, 0, 12, 9]), Buffer.from('__proto__'), Buffer.from([0x74, 1])]);
    const d = decodeTableBuffer(crafted);
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(d['__proto__']).toBe(true);
  });

  it('decodeTable returns the offset after the table and honours a start offset', () => {
    const enc = encodeTable({ a: 1 });
    const buf = Buffer.concat([Buffer.from([9, 9, 9]), enc, Buffer.from([7])]);
    const r = decodeTable(buf, 3);
    expect(r.table).toEqual({ a: 1 });
    expect(r.offset).toBe(3 + enc.length);
  });

  it('writeTable into a sink grows it and writes undefined as an empty table', () => {
    const sink = new ByteSink(1);
    writeTable(sink, undefined);
    expect([...sink.buf.subarray(0, sink.pos)]).toEqual([0, 0, 0, 0]);
    const big: FieldTable = {};
    for (let i = 0; i < 500; i++) big[`key${i}`] = `value ${i}`.repeat(i % 7);
    writeTable(sink, big);
    expect(decodeTable(sink.buf.subarray(0, sink.pos), 4).table).toEqual(big);
  });
});

describe('malformed tables throw SYNTAX_ERROR', () => {
  it('unknown type octet', () => {
    expectSyntaxError(() => decodeTableBuffer(rawTable('Z', [])));
    expectSyntaxError(() => decodeTableBuffer(rawTable('\u0000', [])));
  });

  it('table length past the end of the buffer', () => {
    const b = encodeTable({ a: 'xyz' });
    expectSyntaxError(() => decodeTable(b.subarray(0, b.length - 1), 0));
    expectSyntaxError(() => decodeTable(Buffer.from([0, 0]), 0));
  });

  it('every truncation of a value inside the declared table length', () => {
    for (const [type, bytes] of [
      ['b', [1]], ['s', [1, 2]], ['I', [1, 2, 3, 4]], ['l', [1, 2, 3, 4, 5, 6, 7, 8]], ['d', [1, 2, 3, 4, 5, 6, 7, 8]],
      ['f', [1, 2, 3, 4]], ['D', [1, 2, 3, 4, 5]], ['T', [1, 2, 3, 4, 5, 6, 7, 8]], ['t', [1]], ['B', [1]], ['u', [1, 2]], ['i', [1, 2, 3, 4]],
      ['S', [0, 0, 0, 2, 0x61, 0x62]], ['x', [0, 0, 0, 1, 0]], ['A', [0, 0, 0, 2, 0x42, 1]], ['F', [0, 0, 0, 3, 1, 0x61, 0x56]],
    ] as [string, number[]][]) {
      const whole = rawTable(type, bytes);
      expect(() => decodeTableBuffer(whole)).not.toThrow();
      for (let cut = 1; cut <= bytes.length; cut++) {
        const t = rawTable(type, bytes.slice(0, bytes.length - cut));
        expectSyntaxError(() => decodeTableBuffer(t));
      }
    }
  });

  it('key length past the end', () => {
    expectSyntaxError(() => decodeTableBuffer(Buffer.from([0, 0, 0, 2, 5, 0x61])));
  });

  it('nested length past the enclosing table', () => {
    // outer length 7 holds key "n", 'F', inner length 10 -> past the outer end, though bytes follow
    const b = Buffer.from([0, 0, 0, 7, 1, 0x6e, 0x46, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expectSyntaxError(() => decodeTable(b, 0));
  });
});
