import { describe, expect, it } from 'vitest';
import { RecoveredQueue } from '../../src/storage/recovered-queue.js';

type Row = [number, number, number, number, number, boolean, number];

/** msgId one more, same segment, record right after the last one, same length and body size, not redelivered, priority 0. */
const pattern = (k: number): Row => [77 + k, 4, 64 + k * 1_100, 1_100, 1_000, false, 0];

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
    for (const broken of breaks) {
      const q = new RecoveredQueue();
      const rows: Row[] = [];
      for (let k = 0; k < 9_000; k++) rows.push(k >= 5_000 && k < 5_003 ? broken(pattern(k)) : pattern(k));
      for (const row of rows) q.push(...row);
      expect(q.length).toBe(rows.length);
      expect(readBack(q)).toEqual(rows);
      expect(q.at(5_001)).toEqual({ msgId: rows[5_001]![0], position: { segment: rows[5_001]![1], offset: rows[5_001]![2], length: rows[5_001]![3] }, bodySize: rows[5_001]![4], redelivered: rows[5_001]![5] });
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
