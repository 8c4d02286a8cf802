// Quorum queues on one node: the declare rules, delivery counting and the
// delivery limit, x-delivery-count, where returned messages go, and the
// queue's dead letters (reason delivery_limit).
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { Message, type QueueEntry } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import { VHost } from '../../src/broker/vhost.js';
import type { FieldTable } from '../../src/protocol/field-table.js';
import { decodeProperties, encodeProperties } from '../../src/protocol/methods.generated.js';
import { amqpError } from './helpers.js';

const owner = {};
const quorum = (args: FieldTable = {}) => ({ durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'quorum', ...args } });

/** A consumer that keeps every delivery unacked (prefetch `window`), recording body, redelivered and x-delivery-count. */
class Recorder implements Consumer {
  readonly got: { body: string; redelivered: boolean; count: unknown }[] = [];
  readonly held: QueueEntry[] = [];
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  constructor(
    readonly tag: string,
    private readonly window: number,
  ) {}
  canAccept(): boolean {
    return this.held.length < this.window;
  }
  deliver(queue: Queue, entry: QueueEntry, message: Message): void {
    const properties = decodeProperties(queue.deliveryProperties(entry, message, false));
    this.got.push({ body: (message.body as Buffer).toString(), redelivered: entry.redelivered, count: properties.headers?.['x-delivery-count'] });
    this.held.push(entry);
  }
  cancelledByBroker(): void {}
  /** nack with requeue, as the channel does it. */
  returnAll(queue: Queue): void {
    const entries = this.held.splice(0);
    queue.requeue(entries);
  }
  ackAll(queue: Queue): void {
    for (const entry of this.held.splice(0)) queue.settle(entry);
    queue.dispatch();
  }
}

function publish(vhost: VHost, queue: string, body: string, headers?: FieldTable): void {
  vhost.publish(new Message('', queue, encodeProperties(headers === undefined ? {} : { headers }), Buffer.from(body), body.length));
}

function countOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return Number((value as { value?: unknown }).value ?? value);
}

describe('quorum queue declaration', () => {
  it("refuses auto-delete, exclusive and non-durable in RabbitMQ's order and with its texts", () => {
    const vhost = new VHost('/');
    const refusal = (options: object) => amqpError(() => vhost.declareQueue('q', false, { ...quorum(), ...options }, owner)).text;
    expect(refusal({ durable: false, exclusive: true, autoDelete: true })).toBe("PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'q' in vhost '/'");
    expect(refusal({ durable: false, exclusive: true })).toBe("PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'q' in vhost '/'");
    expect(refusal({ durable: false })).toBe("PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '/'");
    expect(vhost.queues.has('q')).toBe(false);
    expect(amqpError(() => vhost.declareQueue('', false, quorum(), owner)).text).toBe(
      'PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_quorum_queue',
    );
  });

  it('refuses the arguments a quorum queue does not support, after checking the values of those it does', () => {
    const vhost = new VHost('/');
    const text = (args: FieldTable) => amqpError(() => vhost.declareQueue('q', false, quorum(args), owner)).text;
    expect(text({ 'x-max-priority': 5 })).toBe("PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type rabbit_quorum_queue");
    expect(text({ 'x-queue-mode': 'lazy', 'x-max-priority': 1 })).toContain("invalid arg 'x-queue-mode'");
    expect(text({ 'x-max-priority': 1, 'x-message-ttl': -1 })).toBe("PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}");
    expect(text({ 'x-dead-letter-strategy': 'sometimes' })).toContain("'x-dead-letter-strategy' for queue 'q' in vhost '/': invalid_dlx_strategy");
    expect(text({ 'x-queue-leader-locator': 'min-masters' })).toContain(': invalid_queue_locator_arg');
    expect(text({ 'x-quorum-initial-group-size': 0 })).toContain(': {value_zero,0}');
    expect(amqpError(() => vhost.declareQueue('q', false, quorum({ 'x-queue-type': 'Quorum' }), owner)).text).toBe(
      `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'Quorum'"`,
    );
    // And a classic queue refuses the quorum-only ones.
    expect(amqpError(() => vhost.declareQueue('c', false, { ...quorum(), arguments: { 'x-delivery-limit': 1 } }, owner)).text).toBe(
      "PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue 'c' in vhost '/' of queue type rabbit_classic_queue",
    );
    const accepted = vhost.declareQueue('ok', false, quorum({ 'x-message-ttl': 1000, 'x-max-in-memory-length': 0, 'x-dead-letter-strategy': 'at-least-once', 'x-foo': 1 }), owner);
    expect(accepted.type).toBe('quorum');
  });

  it('compares a redeclare in the arguments of the type only; an absent x-queue-type is classic', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, quorum({ 'x-delivery-limit': 2 }), owner);
    const text = (args: FieldTable) => amqpError(() => vhost.declareQueue('q', false, { ...quorum(), arguments: args }, owner)).text;
    expect(text({})).toBe("PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q' in vhost '/': received none but current is the value 'quorum' of type 'longstr'");
    expect(text({ 'x-queue-type': 'quorum', 'x-delivery-limit': 3 })).toBe("PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit' for queue 'q' in vhost '/': received '3' but current is '2'");
    // Not compared, not validated: RabbitMQ 3.10 answers declare-ok.
    expect(vhost.declareQueue('q', false, quorum({ 'x-delivery-limit': 2, 'x-max-priority': 1, 'x-foo': 1 }), owner).name).toBe('q');
    vhost.declareQueue('c', false, { ...quorum(), durable: false, arguments: {} }, owner);
    expect(vhost.declareQueue('c', false, { ...quorum(), durable: false, arguments: { 'x-queue-type': 'classic' } }, owner).name).toBe('c');
  });

  it("gives the vhost's default type to durable, non-exclusive, non-auto-delete queues declared without one", () => {
    const vhost = new VHost('/');
    vhost.metadata.defaultQueueType = 'quorum';
    const plain = { durable: true, exclusive: false, autoDelete: false, arguments: {} };
    expect(vhost.declareQueue('d', false, plain, owner).type).toBe('quorum');
    expect(vhost.queues.get('d')?.options.arguments['x-queue-type']).toBe('quorum');
    expect(vhost.declareQueue('d', false, plain, owner).name).toBe('d');
    expect(vhost.declareQueue('t', false, { ...plain, durable: false }, owner).type).toBe('classic');
    expect(vhost.declareQueue('a', false, { ...plain, autoDelete: true }, owner).type).toBe('classic');
    expect(vhost.declareQueue('e', false, { ...plain, exclusive: true }, owner).type).toBe('classic');
    expect(amqpError(() => vhost.declareQueue('p', false, { ...plain, arguments: { 'x-max-priority': 2 } }, owner)).text).toContain('of queue type rabbit_quorum_queue');
  });

  it('refuses queue.delete with if-unused or if-empty with a connection error 540', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, quorum(), owner);
    expect(amqpError(() => vhost.deleteQueue('q', true, false, owner))).toEqual({
      scope: 'connection',
      code: 540,
      text: "NOT_IMPLEMENTED - cannot delete queue 'q' in vhost '/'. queue.delete operations with if-unused flag set are not supported by quorum queues",
    });
    expect(amqpError(() => vhost.deleteQueue('q', false, true, owner)).text).toContain('with if-empty flag set');
    expect(vhost.deleteQueue('q', false, false, owner)).toBe(0);
  });
});

describe('quorum queue delivery counting', () => {
  it('drops a message returned more times than x-delivery-limit: limit + 1 deliveries, counts 1.. on redeliveries', () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('q', false, quorum({ 'x-delivery-limit': 2 }), owner);
    publish(vhost, 'q', 'poison');
    const consumer = new Recorder('c', 1);
    vhost.consume(queue, consumer);
    queue.dispatch();
    for (let i = 0; i < 3; i++) consumer.returnAll(queue);
    expect(consumer.got.map((g) => [g.body, g.redelivered, countOf(g.count)])).toEqual([
      ['poison', false, undefined],
      ['poison', true, 1],
      ['poison', true, 2],
    ]);
    expect(queue.messageCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
  });

  it('takes the lower of x-delivery-limit and the delivery-limit policy key, at once on a live queue', () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('q', false, quorum({ 'x-delivery-limit': 5 }), owner);
    expect(queue.limits.deliveryLimit).toBe(5);
    vhost.setPolicy('poison', { pattern: '^q$', applyTo: 'queues', definition: { 'delivery-limit': 1 } });
    expect(queue.limits.deliveryLimit).toBe(1);
    publish(vhost, 'q', 'm');
    const consumer = new Recorder('c', 1);
    vhost.consume(queue, consumer);
    queue.dispatch();
    for (let i = 0; i < 2; i++) consumer.returnAll(queue);
    expect(consumer.got.map((g) => countOf(g.count))).toEqual([undefined, 1]);
    expect(queue.messageCount).toBe(0);
    vhost.setPolicy('poison', { pattern: '^q$', applyTo: 'queues', definition: { 'delivery-limit': 9 } });
    expect(queue.limits.deliveryLimit).toBe(5);
  });

  it('dead-letters it with reason delivery_limit where the queue has a DLX, without x-delivery-count', () => {
    const vhost = new VHost('/');
    const dead = vhost.declareQueue('dead', false, { durable: false, exclusive: false, autoDelete: false, arguments: {} }, owner);
    const queue = vhost.declareQueue('q', false, quorum({ 'x-delivery-limit': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' }), owner);
    publish(vhost, 'q', 'poison', { k: 'v' });
    const consumer = new Recorder('c', 1);
    vhost.consume(queue, consumer);
    queue.dispatch();
    consumer.returnAll(queue);
    expect(consumer.got).toHaveLength(1);
    expect(dead.messageCount).toBe(1);
    const letter = dead.get(true) as QueueEntry;
    const headers = letter.message?.properties.headers ?? {};
    expect(headers['x-first-death-reason']).toBe('delivery_limit');
    expect((headers['x-death'] as FieldTable[])[0]).toMatchObject({ reason: 'delivery_limit', queue: 'q', exchange: '', 'routing-keys': ['q'] });
    expect(headers.k).toBe('v');
    expect(headers['x-delivery-count']).toBeUndefined();
  });

  it('puts returned messages at the front in return order with a limit, at the back without one', () => {
    for (const [args, expected] of [
      [{ 'x-delivery-limit': 10 }, ['m2', 'm1', 'm4']],
      [{}, ['m4', 'm2', 'm1']],
    ] as const) {
      const vhost = new VHost('/');
      const queue = vhost.declareQueue('q', false, quorum(args), owner);
      for (const body of ['m1', 'm2', 'm3', 'm4']) publish(vhost, 'q', body);
      const consumer = new Recorder('c', 3);
      vhost.consume(queue, consumer);
      queue.dispatch();
      // nack(m2, requeue), nack(m1, requeue), ack(m3): each frees one place of the window, as a channel does.
      const [e1, e2, e3] = consumer.held;
      for (const entry of [e2, e1]) {
        consumer.held.splice(consumer.held.indexOf(entry), 1);
        queue.requeue([entry]);
      }
      consumer.held.splice(consumer.held.indexOf(e3), 1);
      queue.settle(e3);
      queue.dispatch();
      consumer.ackAll(queue);
      expect(consumer.got.slice(3).map((g) => g.body)).toEqual(expected);
    }
  });

  it('adds x-delivery-count to every basic.get, 0 on the first', () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('q', false, quorum(), owner);
    publish(vhost, 'q', 'm', { k: 1 });
    const counts: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const entry = queue.get(false) as QueueEntry;
      const headers = decodeProperties(queue.deliveryProperties(entry, entry.message as Message, true)).headers ?? {};
      counts.push([countOf(headers['x-delivery-count']), headers.k !== undefined]);
      queue.requeue([entry]);
    }
    expect(counts).toEqual([[0, true], [1, true], [2, true]]);
  });

  it('leaves a classic queue as it was: no count, requeue to the original place', () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('c', false, { durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner);
    publish(vhost, 'c', 'a');
    publish(vhost, 'c', 'b');
    const entry = queue.get(false) as QueueEntry;
    expect(queue.deliveryProperties(entry, entry.message as Message, true)).toBe(entry.message?.rawProperties);
    queue.requeue([entry]);
    expect((queue.get(true) as QueueEntry).message?.body.toString()).toBe('a');
  });
});
