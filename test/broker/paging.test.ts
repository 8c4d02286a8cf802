import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { Durability } from '../../src/broker/durability.js';
import { Message, type QueueEntry } from '../../src/broker/message.js';
import { type PageInWaiter, Queue } from '../../src/broker/queue.js';
import { VHost } from '../../src/broker/vhost.js';
import { encodeProperties } from '../../src/protocol/methods.generated.js';
import { MessageLog } from '../../src/storage/message-log.js';
import { segmentFileName } from '../../src/storage/record.js';
import { waitFor } from '../wait-for.js';

const PERSISTENT = encodeProperties({ deliveryMode: 2, contentType: 'text/plain' });
const durable = { durable: true, exclusive: false, autoDelete: false, arguments: {} };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function storedVHost(reportError: (error: unknown) => void = (error) => { throw error; }): Promise<{ vhost: VHost; log: MessageLog; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-paging-'));
  const { log, recovered } = await MessageLog.open({ dir, onDurable: () => {}, onError: (e) => { throw e; } });
  cleanups.push(async () => {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const vhost = new VHost('/');
  vhost.durability = new Durability(log, recovered.nextMsgId, (_q, error) => reportError(error));
  return { vhost, log, dir };
}

function publish(vhost: VHost, routingKey: string, body: string, properties = PERSISTENT): void {
  vhost.publish(new Message('', routingKey, properties, Buffer.from(body), Buffer.byteLength(body)));
}

/** Collects deliveries, acking each at once (a fast consumer). */
class CollectingConsumer implements Consumer {
  readonly bodies: string[] = [];
  /** x-delivery-count of each delivery (quorum queues). */
  readonly deliveryCounts: number[] = [];
  readonly exclusive = false;
  readonly priority = 0;
  readonly noAck = false;
  readonly tag = 'c';
  constructor(private readonly done: () => void, private readonly expected: number) {}
  canAccept(): boolean {
    return true;
  }
  deliver(queue: Queue, entry: QueueEntry, message: Message): void {
    this.bodies.push((message.body as Buffer).toString());
    this.deliveryCounts.push(entry.deliveryCount);
    queue.settle(entry);
    if (this.bodies.length === this.expected) this.done();
  }
  cancelledByBroker(): void {}
}

describe('paging a stored backlog out to the log', () => {
  it('keeps a bounded window in memory and delivers the whole backlog in order', async () => {
    const { vhost } = await storedVHost();
    const queue = vhost.declareQueue('backlog', false, durable, {});
    const count = 50_000;
    for (let i = 0; i < count; i++) publish(vhost, 'backlog', `m${i}`);
    expect(queue.messageCount).toBe(count);
    expect(queue.pagedOutCount).toBe(count - 20_000);

    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const consumer = new CollectingConsumer(finish, count);
    vhost.consume(queue, consumer);
    queue.dispatch();
    await finished;
    expect(consumer.bodies.length).toBe(count);
    expect(consumer.bodies.every((body, i) => body === `m${i}`)).toBe(true);
    expect(queue.messageCount).toBe(0);
    expect(queue.pagedOutCount).toBe(0);
  });

  it('never pages out transient messages, which are not in the log', async () => {
    const { vhost } = await storedVHost();
    const queue = vhost.declareQueue('mixed', false, durable, {});
    const transient = encodeProperties({});
    for (let i = 0; i < 25_000; i++) publish(vhost, 'mixed', `p${i}`);
    for (let i = 0; i < 10; i++) publish(vhost, 'mixed', `t${i}`, transient);
    expect(queue.pagedOutCount).toBe(5_000);
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const consumer = new CollectingConsumer(finish, 25_010);
    vhost.consume(queue, consumer);
    queue.dispatch();
    await finished;
    expect(consumer.bodies.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
  });

  it('makes basic.get wait for a paged-out head, then hands it over', async () => {
    const { vhost } = await storedVHost();
    const queue = vhost.declareQueue('gets', false, durable, {});
    for (let i = 0; i < 30_000; i++) publish(vhost, 'gets', `g${i}`);
    // Take the resident window with no-ack gets (no page-in can finish within this synchronous loop).
    const taken: string[] = [];
    let entry = queue.get(true);
    while (entry !== null && entry !== undefined) {
      taken.push((entry.message?.body as Buffer).toString());
      entry = queue.get(true);
    }
    expect(entry).toBeNull();
    expect(taken.length).toBe(20_000);
    await new Promise<void>((resolve) => {
      const waiter: PageInWaiter = { pagedIn: resolve };
      queue.waitForPageIn(waiter);
    });
    const next = queue.get(true);
    expect((next?.message?.body as Buffer).toString()).toBe('g20000');
    expect(next?.message?.properties.contentType).toBe('text/plain');
  });

  it('settles purged paged-out messages in the log', async () => {
    const { vhost, log, dir } = await storedVHost();
    const queue = vhost.declareQueue('purged', false, durable, {});
    for (let i = 0; i < 25_000; i++) publish(vhost, 'purged', `x${i}`);
    publish(vhost, 'purged', 'kept-after-purge');
    expect(vhost.purgeQueue('purged', {})).toBe(25_001);
    expect(queue.pagedOutCount).toBe(0);
    publish(vhost, 'purged', 'after');
    await log.whenIdle();
    await log.close();
    const reopened = await MessageLog.open({ dir, onDurable: () => {}, onError: () => {} });
    const survivors = reopened.recovered.queues.get(vhost.storeKey('purged'))?.toArray() ?? [];
    await reopened.log.close();
    expect(survivors.map((m) => m.msgId)).toEqual([25_002]);
  });

  it('settles messages dropped by x-max-length in the log', async () => {
    const { vhost, log, dir } = await storedVHost();
    vhost.declareQueue('capped', false, { ...durable, arguments: { 'x-max-length': 3 } }, {});
    for (let i = 0; i < 5; i++) publish(vhost, 'capped', `c${i}`);
    await log.whenIdle();
    await log.close();
    const reopened = await MessageLog.open({ dir, onDurable: () => {}, onError: () => {} });
    const survivors = reopened.recovered.queues.get(vhost.storeKey('capped'))?.toArray() ?? [];
    await reopened.log.close();
    expect(survivors.map((m) => m.msgId)).toEqual([3, 4, 5]);
  });

  it('reads paged-out messages back to dead-letter them when they expire', async () => {
    const { vhost } = await storedVHost();
    const dead = vhost.declareQueue('dead', false, durable, {});
    // Long enough that the heads do not expire while the publishes are still being made on a busy machine.
    const expiring = { ...durable, arguments: { 'x-message-ttl': 1_000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' } };
    const queue = vhost.declareQueue('expiring', false, expiring, {});
    const count = 21_000;
    for (let i = 0; i < count; i++) publish(vhost, 'expiring', `m${i}`);
    expect(queue.pagedOutCount).toBe(1_000);
    for (let i = 0; i < 200 && dead.messageCount < count; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect([queue.messageCount, dead.messageCount]).toEqual([0, count]);
    const bodies: string[] = [];
    for (let entry = dead.get(true); entry; entry = dead.get(true)) bodies.push((entry.message?.body as Buffer).toString());
    // The dead queue pages too: what get could take at once is its resident window, in order.
    expect(bodies.slice(0, 3)).toEqual(['m0', 'm1', 'm2']);
  });

  it('drops a paged-out message whose record is damaged, reports it, and delivers the rest', async () => {
    const errors: string[] = [];
    const { vhost, log, dir } = await storedVHost((error) => errors.push(String(error)));
    const queue = vhost.declareQueue('damaged', false, durable, {});
    for (let i = 0; i < 25_000; i++) publish(vhost, 'damaged', `d${i}`);
    await log.whenIdle();
    const victim = queue.ready.at(22_000);
    expect(victim.message).toBeNull();
    const file = path.join(dir, segmentFileName(victim.segment));
    const handle = fs.openSync(file, 'r+');
    fs.writeSync(handle, Buffer.from('X'), 0, 1, victim.offset + victim.length - 1);
    fs.closeSync(handle);

    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const consumer = new CollectingConsumer(finish, 24_999);
    vhost.consume(queue, consumer);
    queue.dispatch();
    await finished;
    expect(consumer.bodies).not.toContain('d22000');
    expect(consumer.bodies[21_999]).toBe('d21999');
    expect(consumer.bodies[22_000]).toBe('d22001');
    expect(queue.messageCount).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('1 stored messages could not be read back');
  });

  it('delivers a paged-out backlog of a priority queue highest priority first, each priority in order', async () => {
    const { vhost } = await storedVHost();
    const queue = vhost.declareQueue('prio', false, { ...durable, arguments: { 'x-max-priority': 5 } }, {});
    const high = encodeProperties({ deliveryMode: 2, priority: 9 });
    const count = 30_000;
    for (let i = 0; i < count; i++) publish(vhost, 'prio', `${i % 3 === 0 ? 'h' : 'l'}${i}`, i % 3 === 0 ? high : PERSISTENT);
    expect(queue.pagedOutCount).toBe(10_000);
    const consumer = await drain(vhost, queue, count);
    const expected = [...Array.from({ length: count }, (_, i) => i).filter((i) => i % 3 === 0).map((i) => `h${i}`), ...Array.from({ length: count }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `l${i}`)];
    expect(consumer.bodies).toEqual(expected);
  });

  it('drops a paged-out head for x-max-length, reading it back to dead-letter it', async () => {
    const { vhost } = await storedVHost();
    const dead = vhost.declareQueue('dead', false, durable, {});
    const args = { 'x-max-length': 25_000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' };
    const queue = vhost.declareQueue('capped', false, { ...durable, arguments: args }, {});
    for (let i = 0; i < 25_000; i++) publish(vhost, 'capped', `c${i}`);
    // Take the resident window: the head left is paged out.
    for (let i = 0; i < 20_000; i++) queue.get(true);
    for (let i = 25_000; i < 45_001; i++) publish(vhost, 'capped', `c${i}`);
    await waitFor(() => dead.messageCount > 0);
    expect(dead.get(true)?.message?.body.toString()).toBe('c20000');
    expect(queue.messageCount).toBe(25_000);
  });

  it('puts requeued messages back ahead of the paged-out ones, and the rest follows in order', async () => {
    const { vhost } = await storedVHost();
    const queue = vhost.declareQueue('requeued', false, durable, {});
    for (let i = 0; i < 26_000; i++) publish(vhost, 'requeued', `r${i}`);
    for (let i = 0; i < 20_000; i++) queue.get(true);
    await new Promise<void>((resolve) => queue.waitForPageIn({ pagedIn: resolve }));
    const taken = [queue.get(false), queue.get(false), queue.get(false)] as QueueEntry[];
    expect(taken.map((entry) => entry.message?.body.toString())).toEqual(['r20000', 'r20001', 'r20002']);
    queue.requeue([taken[2]!, taken[0]!, taken[1]!]);
    const consumer = await drain(vhost, queue, 6_000);
    expect(consumer.bodies).toEqual(Array.from({ length: 6_000 }, (_, i) => `r${20_000 + i}`));
  });

  it('keeps the place and delivery count of a message a quorum queue got back behind a paged-out backlog', async () => {
    const { vhost } = await storedVHost();
    const queue = vhost.declareQueue('quorum', false, { ...durable, arguments: { 'x-queue-type': 'quorum' } }, {});
    for (let i = 0; i < 25_000; i++) publish(vhost, 'quorum', `q${i}`);
    const first = queue.get(false) as QueueEntry;
    queue.requeue([first]);
    expect(queue.pagedOutCount).toBe(5_000);
    const consumer = await drain(vhost, queue, 25_000);
    expect(consumer.bodies.slice(0, 2)).toEqual(['q1', 'q2']);
    expect(consumer.bodies.slice(-2)).toEqual(['q24999', 'q0']);
    expect(consumer.deliveryCounts.slice(-2)).toEqual([0, 1]);
  });

  it('restores recovered messages into the paged-out tail with their redelivered flag and the queue TTL', async () => {
    const queue = new Queue('restored', '/', { ...durable, arguments: { 'x-message-ttl': 30 } }, null);
    const restoredAt = Date.now();
    for (let i = 0; i < 50_000; i++) queue.restore(i + 1, 1, i * 100, 100, 40, null, i < 10, 0);
    expect([queue.messageCount, queue.pagedOutCount, queue.readyBytes]).toEqual([50_000, 50_000, 2_000_000]);
    const head = queue.ready.peek() as QueueEntry;
    expect([head.msgId, head.redelivered, head.message]).toEqual([1, true, null]);
    expect(head.expiresAt).toBeGreaterThanOrEqual(restoredAt + 30);
    expect(queue.ready.at(10).redelivered).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Expired paged-out heads go without being read back (no dead-letter exchange).
    expect(queue.get(true)).toBeUndefined();
    expect([queue.messageCount, queue.pagedOutCount, queue.readyBytes]).toEqual([0, 0, 0]);
  });
});

async function drain(vhost: VHost, queue: Queue, count: number): Promise<CollectingConsumer> {
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const consumer = new CollectingConsumer(finish, count);
  vhost.consume(queue, consumer);
  queue.dispatch();
  await finished;
  return consumer;
}
