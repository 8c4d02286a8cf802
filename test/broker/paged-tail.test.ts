import { describe, expect, it } from 'vitest';
import { Message, QueueEntry } from '../../src/broker/message.js';
import { PagedTail } from '../../src/broker/paged-tail.js';
import { FifoReady, PriorityReady } from '../../src/broker/ready-list.js';

/** A paged-out message's fields, derived from its index, distinct per field. */
function fields(i: number): [number, number, number, number, number, number, number, boolean, number] {
  const seq = 1 + i;
  const msgId = 1_000 + 3 * i;
  const segment = 7 + Math.floor(i / 1_000);
  const offset = (i % 1_000) * 1_100;
  const length = 1_100 + (i % 7);
  const bodySize = 1_024;
  const expiresAt = i % 5 === 0 ? 1_700_000_000_000 + i : 0;
  const redelivered = i % 11 === 0;
  const deliveryCount = i % 13 === 0 ? i : 0;
  return [seq, msgId, segment, offset, length, bodySize, expiresAt, redelivered, deliveryCount];
}

function expectEntry(entry: QueueEntry | undefined, i: number, priority = 0): void {
  const [seq, msgId, segment, offset, length, bodySize, expiresAt, redelivered, deliveryCount] = fields(i);
  expect(entry).toBeDefined();
  const e = entry as QueueEntry;
  expect([e.message, e.seq, e.msgId, e.segment, e.offset, e.length, e.bodySize]).toEqual([null, seq, msgId, segment, offset, length, bodySize]);
  expect([e.expiresAt, e.redelivered, e.deliveryCount, e.priority]).toEqual([expiresAt, redelivered, deliveryCount, priority]);
}

function resident(seq: number): QueueEntry {
  return new QueueEntry(new Message('', 'k', Buffer.alloc(2), Buffer.from('x'), 1), seq, 0, 0, 0, 0, 1);
}

describe('PagedTail', () => {
  it('gives entries back in order, with every field, across chunk boundaries', () => {
    const tail = new PagedTail();
    const n = 3 * 4096 + 17;
    for (let i = 0; i < n; i++) tail.pushPaged(...fields(i));
    expect(tail.length).toBe(n);
    for (let i = 0; i < n; i++) expectEntry(tail.shift(3), i, 3);
    expect(tail.length).toBe(0);
    expect(tail.shift(0)).toBeUndefined();
  });

  it('gives back exact values when entries follow the pattern (no columns) and when one field breaks it mid-chunk', () => {
    type Row = [number, number, number, number, number, number];
    // seq, msgId, segment, offset, length, bodySize: one more, one more, same, right after, same, same;
    // or, as one queue of 4 published round-robin: msgIds 4 apart, 3 other records before each.
    const alone = (k: number): Row => [100 + k, 5_000 + k, 3, 64 + k * 1_100, 1_100, 1_024];
    const roundRobin = (k: number): Row => [100 + k, 5_000 + 4 * k, 3, 64 + 4 * k * 1_100, 1_100, 1_024];
    const breaks: ((row: Row) => Row)[] = [
      ([seq, ...rest]) => [seq + 5, ...rest],
      ([seq, msgId, ...rest]) => [seq, msgId + 7, ...rest],
      ([seq, msgId, segment, ...rest]) => [seq, msgId, segment + 1, ...rest],
      ([seq, msgId, segment, offset, length, bodySize]) => [seq, msgId, segment, offset + 40, length, bodySize],
      ([seq, msgId, segment, offset, length, bodySize]) => [seq, msgId, segment, offset, length + 9, bodySize + 9],
      ([seq, msgId, segment, offset, length, bodySize]) => [seq, msgId, segment, offset, length, bodySize - 3],
    ];
    for (const [pattern, broken] of [alone, roundRobin].flatMap((p) => breaks.map((b) => [p, b] as const))) {
      const tail = new PagedTail();
      const rows: Row[] = [];
      // Past one chunk: the second chunk follows the pattern from its own first entry. A break at
      // entry 1 sets another stride, which entry 2 then breaks.
      for (let k = 0; k < 5_000; k++) {
        const row = k === 1 || (k >= 3_000 && k < 3_010) || k === 4_097 ? broken(pattern(k)) : pattern(k);
        rows.push(row);
        tail.pushPaged(...row, 0, false, 0);
      }
      for (const row of rows) {
        const e = tail.shift(0) as QueueEntry;
        expect([e.seq, e.msgId, e.segment, e.offset, e.length, e.bodySize]).toEqual(row);
      }
    }
  });

  it('keeps whole the entries that do not fit its columns, in their place', () => {
    const tail = new PagedTail();
    const odd: [number, number, number, number, number, number][] = [
      [2, 10, 1, 2 ** 33, 1_000, 900], // offset past 4 GB
      [3, 11, 1, 0, 100_000, 10], // more than 64 KB of the record is not body
      [4, 12, 70_000, 0, 100, 50], // segment far from the chunk's first
      [2 ** 33, 13, 1, 0, 100, 50], // seq far from the chunk's first
      [2 ** 33 + 1, 2 ** 40, 1, 0, 100, 50], // msgId far from the chunk's first
      [2 ** 33 + 2, 5, 1, 0, 100, 50], // msgId below the chunk's first
    ];
    tail.pushPaged(1, 9, 1, 0, 100, 50, 0, false, 0);
    for (const [seq, msgId, segment, offset, length, bodySize] of odd) tail.pushPaged(seq, msgId, segment, offset, length, bodySize, 0, false, 0);
    expect(tail.shift(0)?.msgId).toBe(9);
    for (const [seq, msgId, segment, offset, length, bodySize] of odd) {
      const e = tail.shift(0) as QueueEntry;
      expect([e.seq, e.msgId, e.segment, e.offset, e.length, e.bodySize]).toEqual([seq, msgId, segment, offset, length, bodySize]);
    }
  });

  it('keeps resident entries pushed behind paged-out ones in their place', () => {
    const tail = new PagedTail();
    const kept: QueueEntry[] = [];
    for (let i = 0; i < 5_000; i++) {
      if (i % 1_000 === 999) {
        const entry = resident(fields(i)[0]);
        kept.push(entry);
        tail.pushEntry(entry);
      } else tail.pushPaged(...fields(i));
    }
    for (let i = 0; i < 5_000; i++) {
      const e = tail.shift(0);
      if (i % 1_000 === 999) expect(e).toBe(kept.shift());
      else expectEntry(e, i);
    }
  });

  it('is emptied by clear, which reports every msgId, and is written again without stale optional values', () => {
    const tail = new PagedTail();
    for (let i = 0; i < 5_000; i++) tail.pushPaged(...fields(i));
    tail.pushEntry(resident(10_000));
    for (let i = 0; i < 100; i++) tail.shift(0);
    const msgIds: number[] = [];
    expect(tail.clear((msgId) => msgIds.push(msgId))).toBe(4_901);
    expect(msgIds).toEqual([...Array.from({ length: 4_900 }, (_, k) => fields(k + 100)[1]), 0]);
    expect(tail.length).toBe(0);
    tail.pushPaged(1, 2, 3, 4, 5, 5, 0, false, 0);
    const e = tail.shift(0) as QueueEntry;
    expect([e.msgId, e.expiresAt, e.redelivered, e.deliveryCount]).toEqual([2, 0, false, 0]);
  });

  it('reuses its last chunk once drained: optional columns of earlier entries do not leak', () => {
    const tail = new PagedTail();
    tail.pushPaged(1, 1, 1, 0, 10, 5, 123, true, 4);
    expect(tail.shift(0)?.expiresAt).toBe(123);
    tail.pushPaged(2, 2, 1, 10, 10, 5, 0, false, 0);
    const e = tail.shift(0) as QueueEntry;
    expect([e.seq, e.expiresAt, e.redelivered, e.deliveryCount]).toEqual([2, 0, false, 0]);
  });
});

describe('FifoReady with a paged-out tail', () => {
  it('puts what comes after the tail behind it, and hands all out in seq order', () => {
    const list = new FifoReady();
    const head = resident(1);
    list.push(head);
    list.pushPaged(2, 20, 1, 0, 100, 50, 0, false, 0);
    list.pushPaged(3, 21, 1, 100, 100, 50, 0, false, 0);
    const transient = resident(4);
    list.push(transient);
    expect(list.length).toBe(4);
    expect(list.shift()).toBe(head);
    expect(list.peek()?.msgId).toBe(20);
    expect(list.shift()?.msgId).toBe(20);
    expect(list.shift()?.msgId).toBe(21);
    expect(list.shift()).toBe(transient);
    expect(list.shift()).toBeUndefined();
    expect(list.length).toBe(0);
  });

  it('makes a batch of paged-out entries, skipping resident ones, and puts a requeued entry before the tail', () => {
    const list = new FifoReady();
    for (let i = 0; i < 3; i++) list.push(resident(1 + i));
    for (let i = 0; i < 10; i++) list.pushPaged(10 + i, 100 + i, 1, i * 100, 100, 50, 0, false, 0);
    const batch = list.pagedBatch(4);
    expect(batch.map((e) => e.msgId)).toEqual([100, 101, 102, 103]);
    expect(list.includes(batch[2]!)).toBe(true);
    // The next batch starts with those not read back yet.
    expect(list.pagedBatch(6).map((e) => e.msgId)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(list.remove(batch[1]!)).toBe(true);
    expect(list.length).toBe(12);
    const taken = [list.shift(), list.shift(), list.shift()] as QueueEntry[];
    // Front drained to the paged-out entries; a requeued one goes back first.
    list.reinsert(taken[1]!);
    expect(list.peek()).toBe(taken[1]);
    expect(list.length).toBe(10);
    expect(list.at(9).msgId).toBe(109);
    expect(() => list.at(10)).toThrow(RangeError);
  });
});

describe('PriorityReady with paged-out tails', () => {
  it('keeps each priority in its band and makes batches highest priority first', () => {
    const list = new PriorityReady(3);
    list.push(Object.assign(resident(1), { priority: 1 }));
    for (let i = 0; i < 6; i++) list.pushPaged(2 + i, 10 + i, 1, i * 100, 100, 50, 0, false, 0, i % 2 === 0 ? 3 : 0);
    expect(list.length).toBe(7);
    const batch = list.pagedBatch(4);
    expect(batch.map((e) => [e.msgId, e.priority])).toEqual([
      [10, 3],
      [12, 3],
      [14, 3],
      [11, 0],
    ]);
    const order: number[] = [];
    for (let e = list.shift(); e !== undefined; e = list.shift()) order.push(e.seq);
    expect(order).toEqual([2, 4, 6, 1, 3, 5, 7]);
    expect(list.length).toBe(0);
  });

  it('clears every band, reporting each msgId', () => {
    const list = new PriorityReady(2);
    for (let i = 0; i < 5; i++) list.pushPaged(1 + i, 50 + i, 1, 0, 100, 50, 0, false, 0, i % 3);
    const msgIds: number[] = [];
    expect(list.clear((msgId) => msgIds.push(msgId))).toBe(5);
    expect(msgIds.sort()).toEqual([50, 51, 52, 53, 54]);
    expect(list.length).toBe(0);
  });
});

// The bound README.md states (Durability): a paged-out message costs at most about 20 bytes in its
// queue, well under one when messages follow one another. Typed arrays are counted in arrayBuffers
// as they are made; garbage collected meanwhile only lowers the figure.
describe('PagedTail memory', () => {
  function bytesPerEntry(push: (tail: PagedTail, i: number) => void): number {
    const n = 100_000;
    const tail = new PagedTail();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < n; i++) push(tail, i);
    const bytes = process.memoryUsage().arrayBuffers - before;
    expect(tail.length).toBe(n);
    return bytes / n;
  }

  it('holds at most 21 bytes per entry that follows no pattern', () => {
    expect(bytesPerEntry((tail, i) => tail.pushPaged(1 + 2 * i, 7 + 3 * i, 1 + (i % 2), i * 999, 900 + (i % 5), 800, 0, false, 0))).toBeLessThan(21);
  });

  it('holds under a byte per entry when each follows the one before', () => {
    expect(bytesPerEntry((tail, i) => tail.pushPaged(1 + i, 7 + i, 1, i * 1_100, 1_100, 1_000, 0, false, 0))).toBeLessThan(1);
  });

  it('holds under a byte per entry for one of 4 queues published round-robin', () => {
    expect(bytesPerEntry((tail, i) => tail.pushPaged(1 + i, 7 + 4 * i, 1, i * 4 * 1_100, 1_100, 1_000, 0, false, 0))).toBeLessThan(1);
  });
});

