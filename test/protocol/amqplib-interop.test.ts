// Cross-checks Warren's codec against a real client's: amqplib's generated
// defs.js (from RabbitMQ's codegen definition). Frames amqplib encodes must
// decode with Warren's codec to the same values, and vice versa.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { FrameWriter } from '../../src/protocol/frame-writer.js';
import {
  BASIC_DELIVER,
  BASIC_PUBLISH,
  type BasicProperties,
  CONNECTION_START_OK,
  decodeMethod,
  decodeProperties,
  encodeMethod,
  encodeProperties,
  type MethodArgsById,
} from '../../src/protocol/methods.generated.js';

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  info(id: number): { name: string } | undefined;
}

const require = createRequire(import.meta.url);
// amqplib's package "exports" hides lib/, so resolve the file by path.
const defs = require(join(dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as AmqplibDefs;

type Arg = [string, string];
const spec = JSON.parse(readFileSync(new URL('../../spec/amqp0-9-1.json', import.meta.url), 'utf8')) as {
  classes: { name: string; id: number; methods: { name: string; id: number; arguments: Arg[] }[] }[];
};
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function sample(args: Arg[], seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  args.forEach(([name, type], i) => {
    const k = camel(name);
    const n = seed * 31 + i;
    switch (type) {
      case 'octet': out[k] = (n * 13) & 0xff; break;
      case 'short': out[k] = (n * 977) & 0xffff; break;
      case 'long': out[k] = (n * 2654435761) % 2 ** 32; break;
      case 'longlong': out[k] = 2 ** 40 + n; break;
      case 'timestamp': out[k] = 1_700_000_000 + n; break;
      case 'bit': out[k] = ((seed >> (i % 8)) & 1) === 1; break;
      case 'shortstr': out[k] = `${name}.${n}.ñ`; break;
      case 'longstr': out[k] = Buffer.from(`PLAIN\u0000guest\u0000${n}`); break;
      case 'table': out[k] = { int: n, neg: -n - 1000, str: `v${n}`, yes: true, nil: null, list: [1, 'a', [2]], sub: { d: 1.5, big: 2 ** 40 } }; break;
      default: throw new Error(type);
    }
  });
  return out;
}

const stripUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function warrenFrame(channel: number, id: number, args: unknown): Buffer {
  const w = new FrameWriter();
  encodeMethod(w, channel, id as keyof MethodArgsById, args as never);
  return Buffer.concat(w.flush()!);
}

const methods = spec.classes.flatMap((c) => c.methods.map((m) => ({ name: `${c.name}.${m.name}`, id: ((c.id << 16) | m.id) >>> 0, m })));

describe('amqplib interop: every method both ways', () => {
  it('amqplib knows every method we define (same ids)', () => {
    for (const { id, name } of methods) expect(defs.info(id), name).toBeDefined();
  });

  for (const { name, id, m } of methods) {
    it(name, () => {
      for (const seed of [0, 1, 0xaa, 0xff]) {
        const args = sample(m.arguments, seed);
        // amqplib -> Warren: the whole frame, byte for byte, and the values
        const theirs = defs.encodeMethod(id, 5, args);
        const ours = warrenFrame(5, id, args);
        // amqplib picks the smallest integer type in tables; Warren uses I/l, so only table-free frames match byte for byte
        if (!m.arguments.some(([, t]) => t === 'table')) expect(ours).toEqual(theirs);
        const decoded = decodeMethod(theirs.subarray(7, theirs.length - 1));
        expect(decoded.id).toBe(id);
        expect(decoded.args).toEqual(args);
        // Warren -> amqplib
        const back = defs.decode(id, ours.subarray(11, ours.length - 1));
        expect(stripUndefined(back)).toEqual(args);
      }
    });
  }

  it('byte-identical frames for table-free methods', () => {
    const pub = { ticket: 0, exchange: 'amq.topic', routingKey: 'a.b.c', mandatory: true, immediate: false };
    expect(warrenFrame(3, BASIC_PUBLISH, pub)).toEqual(defs.encodeMethod(BASIC_PUBLISH, 3, pub));
    const del = { consumerTag: 'amq.ctag-xyz', deliveryTag: 123456789, redelivered: true, exchange: '', routingKey: 'q' };
    expect(warrenFrame(65535, BASIC_DELIVER, del)).toEqual(defs.encodeMethod(BASIC_DELIVER, 65535, del));
  });

  it('connection.start-ok as amqplib sends it', () => {
    const fields = {
      clientProperties: { product: 'amqplib', version: '2.3.1', capabilities: { publisher_confirms: true, consumer_cancel_notify: true } },
      mechanism: 'PLAIN',
      response: Buffer.from('\u0000guest\u0000guest'),
      locale: 'en_US',
    };
    const f = defs.encodeMethod(CONNECTION_START_OK, 0, fields);
    const r = new FrameReader();
    let got: ReturnType<typeof decodeMethod> | undefined;
    r.push(f, { onFrame: (type, channel, buf, start, end) => { expect([type, channel]).toEqual([1, 0]); got = decodeMethod(buf.subarray(start, end)); } });
    expect(got).toEqual({ id: CONNECTION_START_OK, args: fields });
  });
});

describe('amqplib interop: content properties', () => {
  const cases: BasicProperties[] = [
    {},
    { contentType: 'text/plain', deliveryMode: 2 },
    {
      contentType: 'application/json', contentEncoding: 'utf-8',
      headers: { 'x-match': 'all', n: 42, neg: -70000, flag: false, list: ['a', 1, { deep: null }], nested: { f: 2.25 }, bytes: Buffer.from([1, 2, 3]) },
      deliveryMode: 1, priority: 7, correlationId: 'c-1', replyTo: 'amq.rabbitmq.reply-to', expiration: '1000', messageId: 'm-1',
      timestamp: 1_699_999_999, type: 't', userId: 'guest', appId: 'app', clusterId: 'cl',
    },
  ];

  it.each(cases.map((c, i) => [i, c] as const))('case %i: amqplib header frame -> Warren', (_i, props) => {
    const frame = defs.encodeProperties(60, 1, 1234, props as Record<string, unknown>);
    expect(frame[0]).toBe(2);
    const payload = frame.subarray(7, frame.length - 1);
    expect(payload.readUInt16BE(0)).toBe(60);
    expect(Number(payload.readBigUInt64BE(4))).toBe(1234);
    expect(decodeProperties(payload.subarray(12))).toEqual(props);
  });

  it.each(cases.map((c, i) => [i, c] as const))('case %i: Warren header frame -> amqplib', (_i, props) => {
    const w = new FrameWriter();
    w.writeContent(1, 60, 3, encodeProperties(props), Buffer.from('abc'));
    const out = Buffer.concat(w.flush()!);
    const size = out.readUInt32BE(3);
    const header = out.subarray(7, 7 + size);
    expect(stripUndefined(defs.decode(60, header.subarray(12)))).toEqual(props);
    // without headers (where integer types differ) Warren's header frame is byte-identical to amqplib's
    if (!props.headers) expect(out.subarray(0, size + 8)).toEqual(defs.encodeProperties(60, 1, 3, props as Record<string, unknown>));
    // followed by one body frame with the body
    expect(out.subarray(size + 8)).toEqual(Buffer.from([3, 0, 1, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0xce]));
  });
});
