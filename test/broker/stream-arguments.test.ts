// Streams: x-max-age and x-stream-offset as RabbitMQ 3.10 reads them, the
// declare checks and texts, retention from arguments and policies, and the
// x-stream-offset header spliced into encoded properties.
import { describe, expect, it } from 'vitest';
import { withStreamOffset } from '../../src/broker/queues/stream.js';
import { checkStreamProperties, parseMaxAge, parseStreamOffset, streamRetention } from '../../src/broker/queues/stream-arguments.js';
import { validateQueueArguments } from '../../src/broker/queue-arguments.js';
import { decodeArguments, encodeTable, TypedValue, type FieldTable } from '../../src/protocol/field-table.js';
import { type BasicProperties, decodeProperties, encodeProperties } from '../../src/protocol/methods.generated.js';
import { amqpError } from './helpers.js';

const STREAM = { 'x-queue-type': 'stream' };

describe('x-max-age', () => {
  it('is a positive integer and one of Y M D h m s (365 d, 30 d, 24 h, 60 min, 60 s, 1 s)', () => {
    expect(parseMaxAge('1Y')).toBe(365 * 86_400_000);
    expect(parseMaxAge('2M')).toBe(60 * 86_400_000);
    expect(parseMaxAge('7D')).toBe(7 * 86_400_000);
    expect(parseMaxAge('3h')).toBe(3 * 3_600_000);
    expect(parseMaxAge('10m')).toBe(600_000);
    expect(parseMaxAge('30s')).toBe(30_000);
    expect(parseMaxAge('007s')).toBe(7_000);
  });

  it('refuses zero, a missing number or unit, other units, case changes, signs and spaces', () => {
    for (const bad of ['0s', 's', '10', '10d', '10H', '10ms', '-1s', '+1s', ' 1s', '1s ', '1.5h', '', '1 s']) expect(parseMaxAge(bad), bad).toBeUndefined();
  });

  it('is validated at declare with RabbitMQ texts, and the type is the field type', () => {
    expect(amqpError(() => validateQueueArguments('q', '/', { ...STREAM, 'x-max-age': '10x' }))).toEqual({
      scope: 'channel',
      code: 406,
      text: "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 'q' in vhost '/': invalid_max_age",
    });
    expect(amqpError(() => validateQueueArguments('q', '/', { ...STREAM, 'x-max-age': 10 })).text).toBe(
      "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 'q' in vhost '/': {unacceptable_type,signedint}",
    );
    expect(() => validateQueueArguments('q', '/', { ...STREAM, 'x-max-age': '1D', 'x-max-length-bytes': 1000, 'x-stream-max-segment-size-bytes': 5000 })).not.toThrow();
  });
});

describe('stream declare', () => {
  const options = (o: object, args: FieldTable = {}) => ({ durable: true, exclusive: false, autoDelete: false, ...o, arguments: { ...STREAM, ...args } });

  it('refuses the arguments of other types with the type named rabbit_stream_queue', () => {
    for (const arg of ['x-max-priority', 'x-message-ttl', 'x-max-length', 'x-single-active-consumer', 'x-overflow', 'x-expires', 'x-delivery-limit']) {
      const value = arg === 'x-single-active-consumer' ? true : arg === 'x-overflow' ? 'drop-head' : 5;
      expect(amqpError(() => validateQueueArguments('q', '/', { ...STREAM, [arg]: value })).text).toBe(
        `PRECONDITION_FAILED - invalid arg '${arg}' for queue 'q' in vhost '/' of queue type rabbit_stream_queue`,
      );
    }
  });

  it('is durable, not exclusive nor auto-delete (in that order of checks), with segments of at most 3,000,000,000 bytes', () => {
    const text = (o: object, args: FieldTable = {}) => amqpError(() => checkStreamProperties('q', '/', options(o, args))).text;
    expect(text({ autoDelete: true, exclusive: true, durable: false })).toBe("PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'q' in vhost '/'");
    expect(text({ exclusive: true, durable: false })).toBe("PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'q' in vhost '/'");
    expect(text({ durable: false })).toBe("PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '/'");
    expect(text({}, { 'x-stream-max-segment-size-bytes': 3_000_000_001 })).toBe('PRECONDITION_FAILED - Exceeded max value for x-stream-max-segment-size-bytes');
    expect(() => checkStreamProperties('q', '/', options({}, { 'x-stream-max-segment-size-bytes': 3_000_000_000 }))).not.toThrow();
  });

  it('retention: the lower of argument and policy; the segment size defaults to 500,000,000', () => {
    expect(streamRetention(STREAM)).toEqual({ maxSegmentBytes: 500_000_000, maxBytes: undefined, maxAgeMs: undefined });
    expect(streamRetention({ ...STREAM, 'x-max-length-bytes': 1000, 'x-max-age': '1h' }, { 'max-length-bytes': 500, 'max-age': '2h' })).toEqual({
      maxSegmentBytes: 500_000_000,
      maxBytes: 500,
      maxAgeMs: 3_600_000,
    });
    expect(streamRetention(STREAM, { 'stream-max-segment-size-bytes': 4096, 'max-age': '1m' })).toEqual({ maxSegmentBytes: 4096, maxBytes: undefined, maxAgeMs: 60_000 });
  });
});

describe('x-stream-offset', () => {
  const now = 1_700_000_000_000;

  it('absent is next; first, last, next by name', () => {
    expect(parseStreamOffset(undefined)).toEqual({ kind: 'next' });
    for (const kind of ['first', 'last', 'next'] as const) expect(parseStreamOffset(kind)).toEqual({ kind });
  });

  it('an integer is an offset, a negative one is first (RabbitMQ 3.10)', () => {
    expect(parseStreamOffset(0)).toEqual({ kind: 'offset', offset: 0 });
    expect(parseStreamOffset(42)).toEqual({ kind: 'offset', offset: 42 });
    expect(parseStreamOffset(5n)).toEqual({ kind: 'offset', offset: 5 });
    expect(parseStreamOffset(-3)).toEqual({ kind: 'first' });
  });

  it('an AMQP timestamp (seconds) is a time, decoded from the consume arguments as a Date', () => {
    const table = decodeArguments(encodeTable({ 'x-stream-offset': new TypedValue('T', 1_700_000_000) }), 0).table;
    expect(parseStreamOffset(table['x-stream-offset'])).toEqual({ kind: 'timestamp', ms: 1_700_000_000_000 });
    // The same number sent as a long is an offset.
    const asLong = decodeArguments(encodeTable({ 'x-stream-offset': new TypedValue('l', 1_700_000_000) }), 0).table;
    expect(parseStreamOffset(asLong['x-stream-offset'])).toEqual({ kind: 'offset', offset: 1_700_000_000 });
  });

  it('an interval string (as x-max-age) is that long before now', () => {
    expect(parseStreamOffset('10m', now)).toEqual({ kind: 'timestamp', ms: now - 600_000 });
    expect(parseStreamOffset(Buffer.from('1D'), now)).toEqual({ kind: 'timestamp', ms: now - 86_400_000 });
  });

  it('anything else is a 406 on the channel', () => {
    for (const bad of ['First', 'later', '10x', 1.5, true, null, [1]]) {
      const answer = amqpError(() => parseStreamOffset(bad as never));
      expect(answer.scope).toBe('channel');
      expect(answer.code).toBe(406);
      expect(answer.text).toMatch(/^PRECONDITION_FAILED - invalid x-stream-offset /);
    }
  });
});

describe('x-stream-offset header', () => {
  it('is added as a long to properties with and without headers, keeping every other property', () => {
    const cases: BasicProperties[] = [
      {},
      { contentType: 'text/plain', deliveryMode: 2 },
      { contentType: 'a', contentEncoding: 'gzip', headers: { a: 1, b: 'x' }, priority: 3, messageId: 'm', timestamp: 5 },
      { headers: {} },
    ];
    for (const properties of cases) {
      const spliced = withStreamOffset(encodeProperties(properties), 2 ** 40 + 7);
      const decoded = decodeProperties(spliced);
      expect(decoded).toEqual({ ...properties, headers: { ...properties.headers, 'x-stream-offset': 2 ** 40 + 7 } });
    }
  });

  it('replaces one already there (a message republished from a stream)', () => {
    const raw = encodeProperties({ headers: { 'x-stream-offset': new TypedValue('l', 3), k: 'v' } });
    expect(decodeProperties(withStreamOffset(raw, 9)).headers).toEqual({ 'x-stream-offset': 9, k: 'v' });
  });
});
