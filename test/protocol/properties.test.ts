import { describe, expect, it } from 'vitest';
import { AmqpError } from '../../src/protocol/errors.js';
import { encodeTable } from '../../src/protocol/field-table.js';
import { type BasicProperties, decodeProperties, encodeProperties } from '../../src/protocol/methods.generated.js';
import { ReplyCode } from '../../src/protocol/reply-codes.js';

const ALL: Required<BasicProperties> = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: { 'x-death': [{ count: 2, queue: 'q', time: 1 }], n: 5, s: 'é', b: true, nested: { deep: [null] } },
  deliveryMode: 2,
  priority: 9,
  correlationId: 'corr-1',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-1',
  timestamp: 1_700_000_123,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-test',
  clusterId: 'c1',
};
const ORDER = Object.keys(ALL) as (keyof BasicProperties)[];

describe('content properties', () => {
  it('empty properties are two zero flag octets', () => {
    const raw = encodeProperties({});
    expect([...raw]).toEqual([0, 0]);
    expect(decodeProperties(raw)).toEqual({});
  });

  it('all 14 set round-trip, flags 0xfffc', () => {
    const raw = encodeProperties(ALL);
    expect(raw.readUInt16BE(0)).toBe(0xfffc);
    expect(decodeProperties(raw)).toEqual(ALL);
  });

  it('each property alone sets its own flag bit (in spec order) and round-trips', () => {
    ORDER.forEach((k, i) => {
      const p = { [k]: ALL[k] } as BasicProperties;
      const raw = encodeProperties(p);
      expect(raw.readUInt16BE(0), k).toBe(1 << (15 - i));
      expect(decodeProperties(raw)).toEqual(p);
    });
  });

  it('a few set: exact bytes', () => {
    const raw = encodeProperties({ deliveryMode: 2, contentType: 'text/plain', timestamp: 0x01020304 });
    const expected = Buffer.concat([
      Buffer.from([0x90, 0x40]), // content-type (bit 15), delivery-mode (bit 12), timestamp (bit 6)
      Buffer.from([10]), Buffer.from('text/plain'),
      Buffer.from([2]),
      Buffer.from([0, 0, 0, 0, 1, 2, 3, 4]),
    ]);
    expect(raw).toEqual(expected);
    expect(decodeProperties(raw)).toEqual({ contentType: 'text/plain', deliveryMode: 2, timestamp: 0x01020304 });
  });

  it('undefined and null properties are absent', () => {
    const raw = encodeProperties({ contentType: undefined, headers: null as never, priority: 0 });
    expect(raw.readUInt16BE(0)).toBe(0x0800);
    expect(decodeProperties(raw)).toEqual({ priority: 0 });
  });

  it('headers table is encoded as a field table inside', () => {
    const headers = { a: 1, b: 'two' };
    const raw = encodeProperties({ headers });
    expect(raw.readUInt16BE(0)).toBe(0x2000);
    expect(raw.subarray(2)).toEqual(encodeTable(headers));
    expect(decodeProperties(raw).headers).toEqual(headers);
  });

  it('decodes flags with a continuation word', () => {
    const body = encodeProperties({ contentType: 'a', appId: 'b' });
    const flags = body.readUInt16BE(0) | 1;
    const raw = Buffer.concat([Buffer.from([flags >> 8, flags & 0xff, 0, 0]), body.subarray(2)]);
    expect(decodeProperties(raw)).toEqual({ contentType: 'a', appId: 'b' });
    // a chain of continuation words
    const chained = Buffer.concat([Buffer.from([flags >> 8, flags & 0xff, 0, 1, 0, 0]), body.subarray(2)]);
    expect(decodeProperties(chained)).toEqual({ contentType: 'a', appId: 'b' });
  });

  it('continuation words naming unknown properties, truncation and trailing bytes throw', () => {
    const body = encodeProperties({ contentType: 'abc', headers: { x: 1 }, messageId: 'm' });
    const bad: Buffer[] = [
      Buffer.from([0x80]),
      Buffer.from([0x00, 0x01]), // continuation word missing
      Buffer.from([0x00, 0x01, 0x80, 0x00]), // property 16 does not exist
      Buffer.concat([body, Buffer.from([0])]),
    ];
    for (let len = 2; len < body.length; len++) bad.push(body.subarray(0, len));
    for (const raw of bad) {
      let err: unknown;
      try {
        decodeProperties(raw);
      } catch (e) {
        err = e;
      }
      expect(err, raw.toString('hex')).toBeInstanceOf(AmqpError);
      expect((err as AmqpError).replyCode).toBe(ReplyCode.FRAME_ERROR);
      expect((err as AmqpError).classId).toBe(60);
    }
  });

  it('returns an independent buffer per call', () => {
    const a = encodeProperties({ contentType: 'first' });
    const b = encodeProperties({ contentType: 'second' });
    expect(decodeProperties(a)).toEqual({ contentType: 'first' });
    expect(decodeProperties(b)).toEqual({ contentType: 'second' });
  });
});
