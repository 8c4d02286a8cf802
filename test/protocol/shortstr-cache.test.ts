import { describe, expect, it } from 'vitest';
import { ShortstrCache } from '../../src/protocol/shortstr-cache.js';

describe('ShortstrCache', () => {
  it('reads what toString reads, whatever came before', () => {
    const cache = new ShortstrCache();
    const frame = Buffer.from('xxorders.eu\u00e9s-1xx', 'utf8');
    const n = frame.length - 4;
    expect(cache.read(frame, 2, n)).toBe(frame.toString('utf8', 2, 2 + n));
    // Same length, one byte different: not the cached string.
    const other = Buffer.from(frame);
    other[4] = 0x41;
    expect(cache.read(other, 2, n)).toBe(other.toString('utf8', 2, 2 + n));
    expect(cache.read(frame, 2, n)).toBe(frame.toString('utf8', 2, 2 + n));
    // Different length, empty, invalid UTF-8 (replacement characters, as the generic decoder gives).
    expect(cache.read(frame, 2, 3)).toBe('ord');
    expect(cache.read(frame, 2, 0)).toBe('');
    const invalid = Buffer.from([0xff, 0xfe, 0x41]);
    expect(cache.read(invalid, 0, 3)).toBe(invalid.toString('utf8'));
    expect(cache.read(Buffer.from('zz'), 0, 0)).toBe('');
  });

  it('keys going round, more of them than it holds, and non-ASCII ones, read right every time', () => {
    const cache = new ShortstrCache();
    const keys = ['amqpperf-q-0', 'amqpperf-q-1', 'amqpperf-q-2', 'amqpperf-q-3', 'amqpperf-q-4', 'caf\u00e9-q', 'q', ''];
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < keys.length; k++) {
        // Keys held twice in a row, then going round 4, 5 and all of them.
        const key = keys[(round === 0 ? Math.floor(k / 2) : k) % (round === 1 ? 4 : keys.length)]!;
        const frame = Buffer.concat([Buffer.from([0x2e]), Buffer.from(key, 'utf8'), Buffer.from([0x2e])]);
        expect(cache.read(frame, 1, frame.length - 2)).toBe(key);
      }
    }
  });

  it('repeated bytes at another place give the same string', () => {
    const cache = new ShortstrCache();
    const a = Buffer.from('..amq.topic');
    const b = Buffer.from('amq.topic....');
    const first = cache.read(a, 2, 9);
    const second = cache.read(b, 0, 9);
    expect(second).toBe('amq.topic');
    expect(second).toBe(first);
  });
});
