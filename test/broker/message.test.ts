import { describe, expect, it } from 'vitest';
import { rawDeliveryMode, rawPriority } from '../../src/broker/message.js';
import { type BasicProperties, encodeProperties } from '../../src/protocol/methods.generated.js';

describe('rawDeliveryMode', () => {
  const cases: [string, BasicProperties, number | undefined][] = [
    ['no properties', {}, undefined],
    ['only delivery mode 2', { deliveryMode: 2 }, 2],
    ['transient', { deliveryMode: 1 }, 1],
    ['after content type and encoding', { contentType: 'application/json', contentEncoding: 'gzip', deliveryMode: 2 }, 2],
    ['after a headers table', { headers: { a: 1, nested: { b: 'x' }, list: [1, 'two'] }, deliveryMode: 2, messageId: 'm' }, 2],
    ['all properties set', {
      contentType: 't', contentEncoding: 'e', headers: { h: true }, deliveryMode: 2, priority: 5, correlationId: 'c',
      replyTo: 'r', expiration: '1000', messageId: 'm', timestamp: 1700000000, type: 'y', userId: 'guest', appId: 'a', clusterId: 'x',
    }, 2],
    ['absent, with later properties set', { priority: 3, messageId: 'm' }, undefined],
  ];
  for (const [name, properties, expected] of cases) {
    it(`reads the same delivery mode as decoding: ${name}`, () => {
      expect(rawDeliveryMode(encodeProperties(properties))).toBe(expected);
    });
  }

  it('does not read past truncated bytes', () => {
    const raw = encodeProperties({ headers: { a: 'long enough value' }, deliveryMode: 2 });
    expect(rawDeliveryMode(raw.subarray(0, 6))).toBeUndefined();
  });
});

describe('rawPriority', () => {
  const cases: [string, BasicProperties, number | undefined][] = [
    ['no properties', {}, undefined],
    ['only a priority', { priority: 7 }, 7],
    ['after delivery mode', { deliveryMode: 2, priority: 3 }, 3],
    ['after a headers table and delivery mode', { contentType: 'c', headers: { a: [1, 'b'] }, deliveryMode: 1, priority: 9, messageId: 'm' }, 9],
    ['absent, with delivery mode and later properties set', { deliveryMode: 2, correlationId: 'c' }, undefined],
  ];
  for (const [name, properties, expected] of cases) {
    it(`reads the same priority as decoding: ${name}`, () => {
      expect(rawPriority(encodeProperties(properties))).toBe(expected);
    });
  }

  it('reads properties in place within a larger buffer, and not past their end', () => {
    const properties = encodeProperties({ deliveryMode: 2, priority: 4 });
    const record = Buffer.concat([Buffer.from('head'), properties, Buffer.from('tail')]);
    expect(rawPriority(record, 4, 4 + properties.length)).toBe(4);
    expect(rawPriority(record, 4, 4 + properties.length - 1)).toBeUndefined();
  });
});
