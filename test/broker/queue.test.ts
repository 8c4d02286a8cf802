import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { Message, type QueueEntry } from '../../src/broker/message.js';
import { Queue } from '../../src/broker/queue.js';

const EMPTY_PROPERTIES = Buffer.from([0, 0]);

function message(body: string): Message {
  return new Message('', 'q', EMPTY_PROPERTIES, Buffer.from(body), body.length);
}

/** A consumer with a prefetch window that records what it got, like a channel would. */
class FakeConsumer implements Consumer {
  readonly got: { body: string; redelivered: boolean; entry: QueueEntry }[] = [];
  unacked = 0;
  readonly exclusive = false;
  constructor(
    readonly tag: string,
    readonly prefetch = 0,
    readonly noAck = false,
    readonly priority = 0,
  ) {}
  canAccept(): boolean {
    return this.noAck || this.prefetch === 0 || this.unacked < this.prefetch;
  }
  deliver(_queue: Queue, entry: QueueEntry, message: Message): void {
    if (!this.noAck) this.unacked++;
    this.got.push({ body: (message.body as Buffer).toString(), redelivered: entry.redelivered, entry });
  }
  cancelledByBroker(): void {}
  ack(queue: Queue, body: string): void {
    const index = this.got.findIndex((g) => g.body === body);
    queue.settle(this.got[index].entry);
    this.unacked--;
    queue.dispatch();
  }
}

function newQueue(): Queue {
  return new Queue('q', '/', { durable: false, exclusive: false, autoDelete: false, arguments: {} }, null);
}

describe('Queue dispatch', () => {
  it('keeps messages in order while nobody consumes, and counts them', () => {
    const queue = newQueue();
    for (const body of ['a', 'b', 'c']) queue.enqueue(message(body));
    expect(queue.messageCount).toBe(3);
    const consumer = new FakeConsumer('c1');
    queue.addConsumer(consumer);
    expect(consumer.got.map((g) => g.body)).toEqual(['a', 'b', 'c']);
    expect(queue.messageCount).toBe(0);
    expect(queue.unackedCount).toBe(3);
  });

  it('hands messages round-robin to consumers', () => {
    const queue = newQueue();
    const consumers = [new FakeConsumer('c1'), new FakeConsumer('c2'), new FakeConsumer('c3')];
    for (const c of consumers) queue.addConsumer(c);
    for (let i = 0; i < 7; i++) queue.enqueue(message(String(i)));
    expect(consumers.map((c) => c.got.map((g) => g.body))).toEqual([['0', '3', '6'], ['1', '4'], ['2', '5']]);
  });

  it('never exceeds a prefetch window and resumes on ack', () => {
    const queue = newQueue();
    const consumer = new FakeConsumer('c1', 2);
    queue.addConsumer(consumer);
    for (let i = 0; i < 5; i++) queue.enqueue(message(String(i)));
    expect(consumer.got.map((g) => g.body)).toEqual(['0', '1']);
    expect(queue.messageCount).toBe(3);
    consumer.ack(queue, '0');
    expect(consumer.got.map((g) => g.body)).toEqual(['0', '1', '2']);
    expect(queue.unackedCount).toBe(2);
  });

  it('gives a slow consumer\'s share to the consumers with room', () => {
    const queue = newQueue();
    const slow = new FakeConsumer('slow', 1);
    const fast = new FakeConsumer('fast', 1);
    queue.addConsumer(slow);
    queue.addConsumer(fast);
    for (let i = 0; i < 6; i++) queue.enqueue(message(String(i)));
    // slow never acks; fast acks each message as it arrives
    for (let i = 0; i < 10 && queue.messageCount > 0; i++) fast.ack(queue, fast.got[fast.got.length - 1].body);
    expect(slow.got.map((g) => g.body)).toEqual(['0']);
    expect(fast.got.map((g) => g.body)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('requeues entries at their original place, marked redelivered', () => {
    const queue = newQueue();
    const first = new FakeConsumer('c1', 3);
    queue.addConsumer(first);
    for (const body of ['a', 'b', 'c', 'd', 'e']) queue.enqueue(message(body));
    expect(first.got.map((g) => g.body)).toEqual(['a', 'b', 'c']);
    queue.removeConsumer(first);
    // requeue b then a (out of order), c stays unacked
    queue.requeue([first.got[1].entry, first.got[0].entry]);
    const second = new FakeConsumer('c2');
    queue.addConsumer(second);
    expect(second.got.map((g) => [g.body, g.redelivered])).toEqual([
      ['a', true],
      ['b', true],
      ['d', false],
      ['e', false],
    ]);
  });

  it('requeues an entry between ready ones when later ones were requeued first', () => {
    const queue = newQueue();
    const consumer = new FakeConsumer('c1', 0);
    queue.addConsumer(consumer);
    for (const body of ['a', 'b', 'c']) queue.enqueue(message(body));
    queue.removeConsumer(consumer);
    queue.requeue([consumer.got[0].entry]);
    queue.requeue([consumer.got[2].entry]);
    queue.requeue([consumer.got[1].entry]);
    const again = new FakeConsumer('c2');
    queue.addConsumer(again);
    expect(again.got.map((g) => g.body)).toEqual(['a', 'b', 'c']);
  });

  it('does not count no-ack deliveries as unacked', () => {
    const queue = newQueue();
    queue.addConsumer(new FakeConsumer('c1', 1, true));
    for (let i = 0; i < 3; i++) queue.enqueue(message(String(i)));
    expect(queue.unackedCount).toBe(0);
    expect(queue.messageCount).toBe(0);
  });

  it('purges only ready messages and reports how many', () => {
    const queue = newQueue();
    const consumer = new FakeConsumer('c1', 1);
    queue.addConsumer(consumer);
    for (let i = 0; i < 4; i++) queue.enqueue(message(String(i)));
    expect(queue.purge()).toBe(3);
    expect(queue.messageCount).toBe(0);
    expect(queue.unackedCount).toBe(1);
  });

  it('basic.get takes the head and counts it unacked unless no-ack', () => {
    const queue = newQueue();
    queue.enqueue(message('x'));
    queue.enqueue(message('y'));
    expect((queue.get(false)?.message?.body as Buffer).toString()).toBe('x');
    expect(queue.unackedCount).toBe(1);
    expect((queue.get(true)?.message?.body as Buffer).toString()).toBe('y');
    expect(queue.unackedCount).toBe(1);
    expect(queue.get(false)).toBeUndefined();
  });

  it('keeps round-robin fair when a consumer leaves', () => {
    const queue = newQueue();
    const a = new FakeConsumer('a');
    const b = new FakeConsumer('b');
    const c = new FakeConsumer('c');
    for (const consumer of [a, b, c]) queue.addConsumer(consumer);
    queue.enqueue(message('0'));
    queue.enqueue(message('1'));
    queue.removeConsumer(a);
    for (let i = 2; i < 6; i++) queue.enqueue(message(String(i)));
    expect([a, b, c].map((x) => x.got.length)).toEqual([1, 3, 2]);
  });

  it('prefers higher-priority consumers while they have room, round-robin within a priority', () => {
    const queue = newQueue();
    const low = new FakeConsumer('low', 0, false, 0);
    const highA = new FakeConsumer('highA', 2, false, 10);
    const highB = new FakeConsumer('highB', 2, false, 10);
    queue.addConsumer(low);
    queue.addConsumer(highA);
    queue.addConsumer(highB);
    for (let i = 0; i < 6; i++) queue.enqueue(message(String(i)));
    expect(highA.got.map((g) => g.body)).toEqual(['0', '2']);
    expect(highB.got.map((g) => g.body)).toEqual(['1', '3']);
    expect(low.got.map((g) => g.body)).toEqual(['4', '5']);
    highB.ack(queue, '1');
    queue.enqueue(message('6'));
    expect(highB.got.map((g) => g.body)).toEqual(['1', '3', '6']);
  });
});
