import { describe, expect, it } from 'vitest';
import { Segment } from '../../src/storage/segment.js';

function add(seg: Segment, msgId: number, qids: number[]): void {
  seg.beginMessage(msgId);
  for (const qid of qids) seg.addPair(qid);
  seg.endMessage();
}

function pairsOf(seg: Segment, i: number): number[] {
  const qids: number[] = [];
  for (let p = seg.firstPair(i), end = seg.firstPair(i + 1); p < end; p++) qids.push(seg.qidAt(p));
  return qids;
}

describe('Segment index', () => {
  it('finds messages and their pairs while every message has one queue, and after one with several', () => {
    const seg = new Segment(1, 'unused');
    for (let i = 0; i < 100; i++) add(seg, 10 + 2 * i, [i % 3]);
    expect([seg.firstId, seg.lastId, seg.indexOf(50), seg.indexOf(51)]).toEqual([10, 208, 20, -1]);
    expect(pairsOf(seg, 99)).toEqual([0]);
    add(seg, 300, [4, 5, 6]);
    add(seg, 301, []);
    add(seg, 302, [7]);
    expect([pairsOf(seg, 0), pairsOf(seg, 99), pairsOf(seg, 100), pairsOf(seg, 101), pairsOf(seg, 102)]).toEqual([[0], [0], [4, 5, 6], [], [7]]);
    const p = seg.livePair(300, 5);
    expect(p).toBe(101);
    seg.settlePair(p);
    expect([seg.livePair(300, 5), seg.livePair(302, 7), seg.live]).toEqual([-1, 103, 103]);
  });

  it('keeps ids 2^32 apart and queue ids past 16 bits exact', () => {
    const seg = new Segment(1, 'unused');
    add(seg, 5, [1]);
    add(seg, 6, [70_000]);
    add(seg, 2 ** 33, [2]);
    expect([seg.firstId, seg.lastId, seg.indexOf(6), seg.indexOf(2 ** 33)]).toEqual([5, 2 ** 33, 1, 2]);
    expect([pairsOf(seg, 1), seg.livePair(6, 70_000), seg.livePair(5, 1)]).toEqual([[70_000], 1, 0]);
  });

  it('implies ids while each is one more than the one before, and queue ids while all pairs go to one queue; exact after either changes', () => {
    const seg = new Segment(1, 'unused');
    for (let i = 0; i < 1_000; i++) add(seg, 500 + i, [70_000]);
    expect([seg.indexOf(500), seg.indexOf(1_499), seg.indexOf(1_500), seg.indexOf(499), seg.idAt(999)]).toEqual([0, 999, -1, -1, 1_499]);
    add(seg, 5_000, [3]);
    for (let i = 0; i < 1_000; i++) add(seg, 5_001 + i, [70_000]);
    const ids = Array.from({ length: seg.count }, (_, i) => seg.idAt(i));
    expect(ids.every((id, i) => seg.indexOf(id) === i)).toBe(true);
    expect([seg.indexOf(1_500), seg.indexOf(4_999), seg.idAt(1_000), seg.lastId]).toEqual([-1, -1, 5_000, 6_000]);
    expect([seg.qidAt(0), seg.qidAt(999), seg.qidAt(1_000), seg.qidAt(1_001)]).toEqual([70_000, 70_000, 3, 70_000]);
    expect([seg.livePair(5_000, 3), seg.livePair(5_000, 70_000), seg.livePair(700, 70_000)]).toEqual([1_000, -1, 200]);
    expect(seg.settleQueue(70_000)).toBe(2_000);
    expect(seg.live).toBe(1);
  });

  it('answers the same once trimmed to fit', () => {
    const seg = new Segment(1, 'unused');
    for (let i = 0; i < 1_000; i++) add(seg, 1 + i, i === 500 ? [1, 2] : [1]);
    seg.trim();
    expect([seg.count, seg.pairs, seg.lastId, seg.livePair(501, 2), seg.livePair(1_000, 1)]).toEqual([1_000, 1_001, 1_000, 501, 1_000]);
    expect(seg.settleQueue(1)).toBe(1_000);
    expect(seg.live).toBe(1);
  });
});

describe('Segment index memory', () => {
  it('holds at most 7 bytes per single-queue message once trimmed, about 1 while ids follow one another (README.md, Durability)', () => {
    const n = 100_000;
    const seg = new Segment(1, 'unused');
    for (let i = 0; i < n; i++) add(seg, 1 + 2 * i, [3]);
    seg.trim();
    // What the segment holds is what its columns point at (the arrays outgrown while adding are garbage).
    const held = bytesHeld(seg);
    expect(held / n).toBeLessThanOrEqual(7);
    const consecutive = new Segment(2, 'unused');
    for (let i = 0; i < n; i++) add(consecutive, 1 + i, [3]);
    consecutive.trim();
    expect(bytesHeld(consecutive) / n).toBeLessThanOrEqual(1);
  });

  it('holds at most 3 bytes per message while one publisher sends to 4 queues in turn (README.md, Durability: about three in all)', () => {
    const n = 100_000;
    const seg = new Segment(1, 'unused');
    for (let i = 0; i < n; i++) add(seg, 1 + i, [10 + (i % 4)]);
    seg.trim();
    // Ids follow one another, so no id column; the queue ids alternate, so they take a column. (The queue's own
    // share, under a byte: test/broker/paged-tail.test.ts.)
    expect(bytesHeld(seg) / n).toBeLessThanOrEqual(3);
  });
});

/** What the segment's index columns point at (the arrays outgrown while adding are garbage). */
function bytesHeld(seg: Segment): number {
  return (['ids', 'pairQ', 'pairDone', 'pairStart'] as const)
    .map((name) => (seg as unknown as Record<string, ArrayBufferView | null>)[name])
    .reduce((sum, column) => sum + (column?.byteLength ?? 0), 0);
}
