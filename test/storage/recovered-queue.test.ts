import { describe, expect, it } from 'vitest';
import { RecoveredQueue } from '../../src/storage/recovered-queue.js';

type Row = [number, number, number, number, number, boolean, number];

/** msgId one more, same segment, record right after the last one, same length and body size, not redelivered, priority 0. */
const alone = (k: number): Row => [77 + k, 4, 64 + k * 1_100, 1_100, 1_000, false, 0];
/** One queue of 4 published round-robin: msgIds 4 apart, 3 other records before each. */
const roundRobin = (k: number): Row => [77 + 4 * k, 4, 64 + 4 * k * 1_100, 1_100, 1_000, false, 0];

function readBack(q: RecoveredQueue): Row[] {
  return Array.from({ length: q.length }, (_, i) => [q.msgId(i), q.segment(i), q.offset(i), q.recordLength(i), q.bodySize(i), q.redelivered(i), q.priority(i)]);
}

describe('RecoveredQueue', () => {
  it('gives back exact values whether messages follow the pattern or one field breaks it, across chunks', () => {
    const breaks: ((row: Row) => Row)[] = [
      ([msgId, ...rest]) => [msgId + 2 ** 33, ...rest],
      ([msgId, ...rest]) => [msgId - 70, ...rest],
      ([msgId, segment, ...rest]) => [msgId, segment + 1, ...rest],
      ([msgId, segment, offset, ...rest]) => [msgId, segment, offset + 3, ...rest],
      ([msgId, segment, offset, length, ...rest]) => [msgId, segment, offset, length + 5, ...rest],
      ([msgId, segment, offset, length, bodySize, ...rest]) => [msgId, segment, offset, length, bodySize - 1, ...rest],
      ([msgId, segment, offset, length, bodySize, , priority]) => [msgId, segment, offset, length, bodySize, true, priority],
      ([msgId, segment, offset, length, bodySize, redelivered]) => [msgId, segment, offset, length, bodySize, redelivered, 7],
    ];
    for (const [pattern, broken] of [alone, roundRobin].flatMap((p) => breaks.map((b) => [p, b] as const))) {
      const q = new RecoveredQueue();
      const rows: Row[] = [];
      // A break at message 1 sets another stride, which message 2 then breaks.
      for (let k = 0; k < 9_000; k++) rows.push(k === 1 || (k >= 5_000 && k < 5_003) || k === 8_193 ? broken(pattern(k)) : pattern(k));
      for (const row of rows) q.push(...row);
      expect(q.length).toBe(rows.length);
      expect(readBack(q)).toEqual(rows);
      expect(q.at(5_001)).toEqual({ msgId: rows[5_001]![0], position: { segment: rows[5_001]![1], offset: rows[5_001]![2], length: rows[5_001]![3] }, bodySize: rows[5_001]![4], redelivered: rows[5_001]![5] });
    }
  });

  it('holds under a byte per message for one queue alone or one of 4 published round-robin', () => {
    for (const pattern of [alone, roundRobin]) {
      const q = new RecoveredQueue();
      const before = process.memoryUsage().arrayBuffers;
      for (let k = 0; k < 100_000; k++) q.push(...pattern(k));
      expect((process.memoryUsage().arrayBuffers - before) / q.length).toBeLessThan(1);
      expect(q.msgId(99_999)).toBe(pattern(99_999)[0]);
      expect(q.offset(99_999)).toBe(pattern(99_999)[2]);
    }
  });

  it('refuses an index outside it', () => {
    const q = new RecoveredQueue();
    q.push(1, 1, 0, 10, 5, false, 0);
    expect(() => q.msgId(1)).toThrow(RangeError);
    expect(() => q.position(-1)).toThrow(RangeError);
    expect(q.toArray()).toHaveLength(1);
  });
});
