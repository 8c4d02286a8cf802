import { describe, expect, it } from 'vitest';
import { QueueEntry } from '../../src/broker/message.js';
import { FifoReady, PriorityReady, type ReadyList } from '../../src/broker/ready-list.js';

function entry(seq: number, priority = 0): QueueEntry {
  const e = new QueueEntry(null, seq, 0, 0, 0, 0, 0);
  e.priority = priority;
  return e;
}

function seqs(list: ReadyList): number[] {
  return Array.from({ length: list.length }, (_, i) => list.at(i).seq);
}

describe('FifoReady', () => {
  it('keeps seq order, and puts a requeued entry back in its place', () => {
    const list = new FifoReady();
    const [a, b, c, d] = [entry(1), entry(2), entry(3), entry(4)];
    for (const e of [a, b, c, d]) list.push(e);
    expect(list.shift()).toBe(a);
    expect(list.shift()).toBe(b);
    list.remove(c);
    expect(list.includes(c)).toBe(false);
    list.reinsert(b);
    list.reinsert(c);
    list.reinsert(a);
    expect(seqs(list)).toEqual([1, 2, 3, 4]);
  });
});

describe('PriorityReady', () => {
  it('hands out the highest priority first, in seq order within a priority', () => {
    const list = new PriorityReady(5);
    const entries = [entry(1, 0), entry(2, 3), entry(3, 5), entry(4, 3), entry(5, 0), entry(6, 5)];
    for (const e of entries) list.push(e);
    expect(list.length).toBe(6);
    expect(seqs(list)).toEqual([3, 6, 2, 4, 1, 5]);
    expect(list.peek()?.seq).toBe(3);
    const order: number[] = [];
    for (let e = list.shift(); e !== undefined; e = list.shift()) order.push(e.seq);
    expect(order).toEqual([3, 6, 2, 4, 1, 5]);
    expect(list.length).toBe(0);
    expect(list.peek()).toBeUndefined();
  });

  it('requeues into the entry\'s own priority at its place, and removes and clears by priority', () => {
    const list = new PriorityReady(2);
    const [a, b, c, d] = [entry(1, 1), entry(2, 2), entry(3, 1), entry(4, 2)];
    for (const e of [a, b, c, d]) list.push(e);
    const taken = [list.shift(), list.shift(), list.shift()];
    expect(taken.map((e) => e?.seq)).toEqual([2, 4, 1]);
    list.reinsert(a);
    list.reinsert(d);
    list.reinsert(b);
    expect(seqs(list)).toEqual([2, 4, 1, 3]);
    expect(list.includes(c)).toBe(true);
    list.remove(c);
    list.remove(c);
    expect(list.length).toBe(3);
    expect(list.includes(c)).toBe(false);
    const cleared: number[] = [];
    expect(list.clear((msgId) => cleared.push(msgId))).toBe(3);
    expect(cleared).toEqual([a, b, d].map((e) => e.msgId));
    expect(list.length).toBe(0);
  });
});
