/**
 * Queue dispatch micro-benchmarks. Run: npx tsx bench/dispatch.bench.ts
 *
 * Fake consumers implement Consumer (src/broker/consumer.ts); no channel,
 * no frames, no sockets. Messages are transient, 1 KB, one Message object
 * shared by all enqueues (enqueue creates a QueueEntry each time). Bodies are
 * never read here, so only msg/s is reported, no MB/s.
 *
 * - enqueue → dispatch → deliver with 1, 4 and 100 consumers that settle
 *   (ack) at once inside deliver; 1,000 enqueues per op.
 * - prefetch windows: 4 consumers, prefetch k (canAccept false at k unacked);
 *   1,000 enqueues, then acks open the windows: either each consumer acks
 *   everything it holds (like basic.ack multiple) and the queue dispatches,
 *   or one ack at a time followed by dispatch (as Channel does for a single ack).
 * - VHost.publish through amq.direct (1 queue) and amq.fanout (4 queues), one
 *   settle-at-once consumer per queue; a new Message per publish, as a channel makes.
 */
import Benchmark from 'benchmark';
import type { Consumer } from '../src/broker/consumer.js';
import { Message, type QueueEntry } from '../src/broker/message.js';
import { Queue } from '../src/broker/queue.js';
import { VHost } from '../src/broker/vhost.js';

const MAX_TIME = 3; // seconds per case
const N = 1000;
const BODY = 1024;
const props = Buffer.from([0x10, 0x00, 0x01]); // delivery-mode 1
const body = Buffer.alloc(BODY, 0x61);
const message = new Message('amq.direct', 'bench', props, body, BODY);
const owner = {};
const queueOptions = { durable: false, exclusive: false, autoDelete: false, arguments: {} };

/** Acks inside deliver: the queue's window never closes. */
class AckAtOnce implements Consumer {
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly owner = owner;
  delivered = 0;
  constructor(readonly tag: string) {}
  canAccept(): boolean {
    return true;
  }
  deliver(queue: Queue, entry: QueueEntry, _message: Message): void {
    this.delivered++;
    queue.settle(entry);
  }
  cancelledByBroker(): void {}
}

/** Holds deliveries until acked; full at `prefetch` unacked. */
class Windowed implements Consumer {
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly owner = owner;
  /** Unacked deliveries are held[head..]: acks go oldest first without Array.shift. */
  held: QueueEntry[] = [];
  head = 0;
  constructor(
    readonly tag: string,
    readonly prefetch: number,
  ) {}
  canAccept(): boolean {
    return this.held.length - this.head < this.prefetch;
  }
  deliver(_queue: Queue, entry: QueueEntry, _message: Message): void {
    this.held.push(entry);
  }
  cancelledByBroker(): void {}
}

interface Case {
  name: string;
  fn: () => void;
  messages: number;
  /** Queues each message reaches (fan-out), for deliveries/s. */
  deliveriesPerMessage?: number;
}
const cases: Case[] = [];
let check = 0;

// ---- enqueue → dispatch → deliver, consumers settle at once ----------------------------
for (const count of [1, 4, 100]) {
  const queue = new Queue(`q${count}`, '/', queueOptions, null);
  const consumers = Array.from({ length: count }, (_, i) => new AckAtOnce(`c${i}`));
  for (const c of consumers) queue.addConsumer(c);
  cases.push({
    name: `enqueue ${N} with ${count} consumer${count > 1 ? 's' : ''} (settle at once)`,
    messages: N,
    fn: () => {
      for (let i = 0; i < N; i++) queue.enqueue(message);
      if (queue.messageCount !== 0 || queue.unackedCount !== 0) throw new Error('queue not drained');
    },
  });
}

// ---- prefetch windows ------------------------------------------------------------------
for (const prefetch of [1, 10, 100]) {
  for (const ackStyle of ['multiple', 'single'] as const) {
    const queue = new Queue(`w${prefetch}${ackStyle}`, '/', queueOptions, null);
    const consumers = Array.from({ length: 4 }, (_, i) => new Windowed(`c${i}`, prefetch));
    for (const c of consumers) queue.addConsumer(c);
    cases.push({
      name: `enqueue ${N}, 4 consumers prefetch ${prefetch}, acks ${ackStyle === 'multiple' ? 'all held per consumer (multiple)' : 'one at a time'} + dispatch`,
      messages: N,
      fn: () => {
        for (let i = 0; i < N; i++) queue.enqueue(message);
        let busy = true;
        while (busy) {
          busy = false;
          for (const c of consumers) {
            if (c.held.length === c.head) continue;
            busy = true;
            if (ackStyle === 'multiple') {
              const held = c.held;
              for (let i = c.head; i < held.length; i++) queue.settle(held[i]!);
              held.length = 0;
              c.head = 0;
              if (queue.messageCount > 0) queue.dispatch();
            } else {
              while (c.head < c.held.length) {
                queue.settle(c.held[c.head++]!);
                if (c.head === c.held.length) {
                  c.held.length = 0;
                  c.head = 0;
                }
                if (queue.messageCount > 0) queue.dispatch();
              }
            }
          }
        }
        if (queue.messageCount !== 0 || queue.unackedCount !== 0) throw new Error('queue not drained');
      },
    });
  }
}

// ---- VHost.publish -----------------------------------------------------------------------
{
  const vhost = new VHost('/');
  const direct = vhost.createQueue('direct-q', queueOptions, null);
  vhost.bindQueue('direct-q', 'amq.direct', 'bench', {}, owner);
  direct.addConsumer(new AckAtOnce('d'));
  const fanout: Queue[] = [];
  for (let i = 0; i < 4; i++) {
    const q = vhost.createQueue(`fanout-q${i}`, queueOptions, null);
    vhost.bindQueue(q.name, 'amq.fanout', '', {}, owner);
    q.addConsumer(new AckAtOnce(`f${i}`));
    fanout.push(q);
  }
  cases.push({
    name: `VHost.publish ${N} via amq.direct -> 1 queue, 1 consumer`,
    messages: N,
    fn: () => {
      for (let i = 0; i < N; i++) check += vhost.publish(new Message('amq.direct', 'bench', props, body, BODY)).length;
    },
  });
  cases.push({
    name: `VHost.publish ${N} via amq.fanout -> 4 queues, 1 consumer each`,
    messages: N,
    deliveriesPerMessage: 4,
    fn: () => {
      for (let i = 0; i < N; i++) check += vhost.publish(new Message('amq.fanout', '', props, body, BODY)).length;
    },
  });
  // Sanity: both routes reach their queues.
  if (vhost.publish(new Message('amq.direct', 'bench', props, body, BODY)).length !== 1) throw new Error('direct route');
  if (vhost.publish(new Message('amq.fanout', '', props, body, BODY)).length !== 4) throw new Error('fanout route');
}

// ---- run ---------------------------------------------------------------------------------
const suite = new Benchmark.Suite('dispatch');
for (const c of cases) suite.add(c.name, c.fn, { maxTime: MAX_TIME });
suite
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark & { name: string };
    const c = cases.find((x) => x.name === t.name)!;
    const msgs = t.hz * c.messages;
    // No MB/s: bodies are never touched here, only references move.
    const extra = c.deliveriesPerMessage !== undefined ? `, ${Math.round(msgs * c.deliveriesPerMessage).toLocaleString('en-US')} deliveries/s` : '';
    console.log(
      `${c.name}: ${Math.round(t.hz).toLocaleString('en-US')} ops/s ±${t.stats.rme.toFixed(1)}%, ` +
        `${Math.round(msgs).toLocaleString('en-US')} msg/s${extra}`,
    );
  })
  .on('complete', () => {
    if (check < 0) console.log(check);
  })
  .run();
