import { describe, expect, it } from 'vitest';
import type { QueueEntry } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import type { ChannelConsumer } from '../../src/session/channel.js';
import { UnackedDeliveries } from '../../src/session/deliveries.js';

// The list only holds queues and entries; these tests never touch them.
const queue = {} as Queue;
const entry = {} as QueueEntry;

function consumer(): ChannelConsumer {
  return { unacked: 0 } as ChannelConsumer;
}

function filled(tags: number[], to: ChannelConsumer | null = null): UnackedDeliveries {
  const unacked = new UnackedDeliveries();
  for (const tag of tags) unacked.add(tag, queue, entry, to);
  return unacked;
}

describe('UnackedDeliveries', () => {
  it('settles in order and keeps the consumer and channel counts', () => {
    const c = consumer();
    const unacked = filled([1, 2, 3], c);
    expect(c.unacked).toBe(3);
    expect(unacked.take(1).tag).toBe(1);
    expect(unacked.take(2).tag).toBe(2);
    expect(unacked.size).toBe(1);
    expect(c.unacked).toBe(1);
    expect(unacked.byConsumers).toBe(1);
  });

  it('settles out of order, with gaps in the tags (no-ack deliveries between), and refuses a tag twice', () => {
    const unacked = filled([2, 5, 6, 9]);
    expect(unacked.take(6).tag).toBe(6);
    expect(() => unacked.take(6)).toThrow('unknown delivery tag 6');
    expect(() => unacked.check(6, false)).toThrow('unknown delivery tag 6');
    expect(() => unacked.take(3)).toThrow('unknown delivery tag 3');
    expect(() => unacked.take(10)).toThrow('unknown delivery tag 10');
    expect(unacked.take(2).tag).toBe(2);
    expect(unacked.take(5).tag).toBe(5);
    expect(unacked.size).toBe(1);
    expect(unacked.takeAll().map((d) => d.tag)).toEqual([9]);
    expect(unacked.size).toBe(0);
  });

  it('takes up to a tag in tag order, skipping those already settled', () => {
    const unacked = filled([1, 2, 3, 4, 5]);
    unacked.take(2);
    unacked.check(4, true);
    expect(unacked.takeUpTo(4).map((d) => d.tag)).toEqual([1, 3, 4]);
    expect(() => unacked.check(3, true)).toThrow('unknown delivery tag 3');
    unacked.check(0, true);
    expect(unacked.takeUpTo(0).map((d) => d.tag)).toEqual([5]);
  });

  it('stays bounded when one delivery is held while many after it are acked', () => {
    const unacked = new UnackedDeliveries();
    unacked.add(1, queue, entry, null);
    for (let tag = 2; tag <= 10_000; tag++) {
      unacked.add(tag, queue, entry, null);
      unacked.take(tag);
    }
    expect(unacked.size).toBe(1);
    // Settled deliveries kept behind the held one: at most the unsettled ones plus a little slack.
    expect((unacked as unknown as { ordered: { length: number } }).ordered.length).toBeLessThan(100);
    expect(unacked.takeAll().map((d) => d.tag)).toEqual([1]);
  });
});

describe('UnackedDeliveries.recycle', () => {
  it('reuses a delivery settled in order for the next add, with its new fields', () => {
    const c = consumer();
    const unacked = filled([1, 2], c);
    const first = unacked.take(1);
    unacked.recycle(first);
    const otherEntry = {} as QueueEntry;
    unacked.add(3, queue, otherEntry, null);
    const reused = unacked.takeAll();
    expect(reused.map((d) => d.tag)).toEqual([2, 3]);
    expect(reused[1]).toBe(first);
    expect(reused[1]!.entry).toBe(otherEntry);
    expect(reused[1]!.consumer).toBeNull();
    expect(reused[1]!.settled).toBe(false);
    expect(c.unacked).toBe(0);
    expect(unacked.byConsumers).toBe(0);
  });

  it('does not reuse one settled out of order, which is still in the list', () => {
    const unacked = filled([1, 2, 3]);
    const middle = unacked.take(2);
    unacked.recycle(middle);
    unacked.add(4, queue, entry, null);
    expect(unacked.takeAll().map((d) => d.tag)).toEqual([1, 3, 4]);
    expect(middle.tag).toBe(2);
  });
});
