// The frame fuzzer's generator (interop/support/fuzz-cases.ts): a case is the
// same bytes for the same seed and index (so it can be replayed), and what a
// case expects agrees with its framing.
import { describe, expect, it } from 'vitest';
import { framing, generateCase, wellFramed } from '../interop/support/fuzz-cases.js';
import { frame, heartbeat, m } from '../interop/support/raw-amqp.js';

describe('fuzz case generator', () => {
  it('gives the same case for the same seed and index, and other cases otherwise', () => {
    const a = generateCase(42, 1234);
    const b = generateCase(42, 1234);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    expect({ ...b, bytes: undefined }).toEqual({ ...a, bytes: undefined });
    const distinct = new Set<string>();
    for (let i = 0; i < 50; i++) distinct.add(generateCase(42, i).bytes.toString('hex'));
    expect(distinct.size).toBeGreaterThan(45);
    expect(generateCase(43, 1234).bytes.equals(a.bytes)).toBe(false);
  });

  it('covers every kind of case within a few thousand indices', () => {
    const kinds = new Set<string>();
    for (let i = 0; i < 4000; i++) kinds.add(generateCase(7, i).kind.replace(/:.*/, ''));
    for (const kind of [
      'random-bytes',
      'random-frames',
      'bit-flip',
      'bad-frame-end',
      'huge-frame-size',
      'frame-at-frame-max',
      'table-unknown-tag',
      'table-length-overruns',
      'unknown-method',
      'content-out-of-order',
      'channel-past-channel-max',
      'method-on-closed-channel',
      'heartbeat-on-channel',
      'deep-F-queue-arguments',
      'deep-A-headers',
      'properties-unknown-tag',
      'huge-body-size',
      'headers-double-beyond-int64',
      'round-trip-at-frame-max',
      'odd-but-valid-1',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('judges framing: whole, cut short, above frame_max, wrong end octet', () => {
    const open = m.channelOpen(1);
    expect(framing(Buffer.concat([open, heartbeat()]), 4096)).toBe('whole');
    expect(framing(open.subarray(0, open.length - 1), 4096)).toBe('partial');
    expect(framing(open.subarray(0, 5), 4096)).toBe('partial');
    expect(framing(frame(3, 1, Buffer.alloc(4096)), 4096)).toBe('whole'); // RabbitMQ accepts a payload of frame_max
    expect(framing(frame(3, 1, Buffer.alloc(4097)), 4096)).toBe('broken');
    expect(framing(frame(1, 1, Buffer.from([0, 20, 0, 10, 0]), { end: 0 }), 4096)).toBe('broken');
  });

  it('expects a prompt close only where the framing is broken, and a usable connection only where it is whole', () => {
    for (let i = 0; i < 3000; i++) {
      const c = generateCase(9, i);
      if (c.expect === 'close-broken') expect(wellFramed(c), `case ${i} ${c.kind}`).toBe(false);
      if (c.expect === 'survive') expect(wellFramed(c), `case ${i} ${c.kind}`).toBe(true);
      if (c.expect === 'pending') expect(wellFramed(c), `case ${i} ${c.kind}`).toBe(false);
    }
  });
});
