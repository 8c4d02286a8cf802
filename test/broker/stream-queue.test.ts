// A stream queue over a fake log: deliveries within each consumer's credit,
// from the offset it asked for, only once on disk; an ack returns credit and
// removes nothing; a read error cancels that consumer alone; a policy changes
// retention at once; deleting the stream removes its log and lets waiting
// confirms go.
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { Message, type QueueEntry } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import type { StreamLogEvents, StreamLogHandle, StreamLogReader, StreamRecord, StreamStore } from '../../src/broker/queues/stream.js';
import { StreamQueue } from '../../src/broker/queues/stream.js';
import type { StreamOffsetSpec, StreamRetention } from '../../src/broker/queues/stream-arguments.js';
import { VHost } from '../../src/broker/vhost.js';
import type { Policy } from '../../src/broker/access/policies.js';
import { decodeProperties, encodeProperties } from '../../src/protocol/methods.generated.js';

class FakeLog implements StreamLogHandle {
  records: StreamRecord[] = [];
  firstOffset = 0;
  durableOffset = -1;
  failed: Error | undefined = undefined;
  retention: [number | undefined, number | undefined][] = [];
  destroyed = false;
  /** Set: fill() fails with it. */
  fillError: Error | undefined;
  /** Records a reader may take without fill() (the rest is "on disk only"). */
  inMemoryFrom = 0;

  constructor(readonly events: StreamLogEvents) {}

  get nextOffset(): number {
    return this.firstOffset + this.records.length;
  }
  get messageCount(): number {
    return this.records.length;
  }
  append(timestampMs: number, exchange: string, routingKey: string, properties: Buffer, body: Buffer): number {
    const offset = this.nextOffset;
    this.records.push({ offset, timestampMs, exchange, routingKey, properties, body });
    return offset;
  }
  /** The group commit: everything appended is on disk. */
  commit(): void {
    this.durableOffset = this.nextOffset - 1;
    this.events.onDurable(this.durableOffset);
  }
  offsetAtTimestamp(ms: number): number {
    return this.records.find((r) => r.timestampMs >= ms)?.offset ?? this.nextOffset;
  }
  setRetention(maxBytes?: number, maxAgeMs?: number): void {
    this.retention.push([maxBytes, maxAgeMs]);
  }
  reader(fromOffset: number): StreamLogReader {
    const log = this;
    let at = fromOffset;
    let filled = false;
    return {
      get atEnd() {
        return at > log.durableOffset;
      },
      next() {
        if (at > log.durableOffset) return undefined;
        if (at < log.inMemoryFrom && !filled) return undefined;
        return log.records[at++ - log.firstOffset];
      },
      fill(done) {
        queueMicrotask(() => {
          filled = log.fillError === undefined;
          done(log.fillError);
        });
      },
      close() {},
    };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  destroy(): Promise<void> {
    this.destroyed = true;
    return Promise.resolve();
  }
}

class FakeStore implements StreamStore {
  logs: FakeLog[] = [];
  removed: string[] = [];
  retention: StreamRetention[] = [];
  open(_vhost: string, _queue: string, retention: StreamRetention, events: StreamLogEvents): Promise<StreamLogHandle> {
    const log = new FakeLog(events);
    this.logs.push(log);
    this.retention.push(retention);
    return Promise.resolve(log);
  }
  remove(_vhost: string, queue: string, log: StreamLogHandle): Promise<void> {
    this.removed.push(queue);
    return log.destroy();
  }
}

/** A consumer holding its deliveries unacked, within `prefetch`. */
class Holder implements Consumer {
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly held: QueueEntry[] = [];
  readonly got: { body: string; offset: unknown }[] = [];
  cancelled = false;
  constructor(
    readonly tag: string,
    readonly prefetch: number,
    readonly streamOffset?: StreamOffsetSpec,
  ) {}
  canAccept(): boolean {
    return this.held.length < this.prefetch;
  }
  deliver(queue: Queue, entry: QueueEntry, message: Message): void {
    this.held.push(entry);
    this.got.push({ body: message.body.toString(), offset: decodeProperties(queue.deliveryProperties(entry, message, false)).headers?.['x-stream-offset'] });
  }
  cancelledByBroker(): void {
    this.cancelled = true;
  }
  ack(queue: Queue, count = 1): void {
    for (const entry of this.held.splice(0, count)) queue.settle(entry);
    queue.dispatch();
  }
}

async function openStream(errors: unknown[] = []): Promise<{ vhost: VHost; stream: StreamQueue; log: FakeLog; store: FakeStore }> {
  const vhost = new VHost('/', (error) => errors.push(error));
  const store = new FakeStore();
  vhost.streamStore = store;
  const stream = vhost.declareQueue('s', false, { durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'stream' } }, {}) as StreamQueue;
  expect(stream).toBeInstanceOf(StreamQueue);
  expect(stream.isOpen).toBe(false);
  await stream.opened;
  expect(stream.isOpen).toBe(true);
  return { vhost, stream, log: store.logs[0]!, store };
}

function publish(vhost: VHost, ...bodies: string[]): void {
  for (const body of bodies) vhost.publish(new Message('', 's', encodeProperties({}), Buffer.from(body), body.length));
}

describe('stream queue', () => {
  it('delivers within credit, from where each consumer asked, only once on disk; acks return credit and remove nothing', async () => {
    const { vhost, stream, log } = await openStream();
    publish(vhost, 'a', 'b', 'c');
    const early = new Holder('early', 2, { kind: 'first' });
    vhost.consume(stream, early);
    stream.dispatch();
    expect(early.got).toEqual([]);
    log.commit();
    expect(early.got).toEqual([
      { body: 'a', offset: 0 },
      { body: 'b', offset: 1 },
    ]);
    early.ack(stream);
    expect(early.got.map((g) => g.body)).toEqual(['a', 'b', 'c']);
    const fromOne = new Holder('from-one', 10, { kind: 'offset', offset: 1 });
    const next = new Holder('next', 10);
    vhost.consume(stream, fromOne);
    vhost.consume(stream, next);
    stream.dispatch();
    publish(vhost, 'd');
    log.commit();
    expect(fromOne.got.map((g) => g.body)).toEqual(['b', 'c', 'd']);
    expect(next.got).toEqual([{ body: 'd', offset: 3 }]);
    expect(stream.messageCount).toBe(4);
    expect(stream.unackedCount).toBe(2 + 3 + 1);
  });

  it('reads ahead when the next record is not in memory; a read error cancels that consumer alone', async () => {
    const errors: unknown[] = [];
    const { vhost, stream, log } = await openStream(errors);
    publish(vhost, 'a', 'b');
    log.commit();
    log.inMemoryFrom = 2;
    const reader = new Holder('reader', 10, { kind: 'first' });
    vhost.consume(stream, reader);
    stream.dispatch();
    expect(reader.got).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reader.got.map((g) => g.body)).toEqual(['a', 'b']);
    log.fillError = new Error('disk gone');
    const failing = new Holder('failing', 10, { kind: 'first' });
    const live = new Holder('live', 10, { kind: 'next' });
    vhost.consume(stream, failing);
    vhost.consume(stream, live);
    stream.dispatch();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(failing.cancelled).toBe(true);
    expect(errors).toEqual([log.fillError]);
    expect(stream.consumers.map((c) => c.tag)).toEqual(['reader', 'live']);
    publish(vhost, 'c');
    log.commit();
    expect(live.got.map((g) => g.body)).toEqual(['c']);
  });

  it('a policy changes retention at once; deleting the stream cancels consumers, removes its log and releases waiting confirms', async () => {
    const { vhost, stream, log, store } = await openStream();
    const policy = { name: 'p', definition: { 'max-length-bytes': 1000, 'max-age': '1h' } } as unknown as Policy;
    stream.applyPolicies(policy, undefined);
    expect(log.retention.at(-1)).toEqual([1000, 3_600_000]);
    publish(vhost, 'a');
    expect(stream.isDurable(stream.lastOffset)).toBe(false);
    let woken = 0;
    stream.waitForDurable({ streamDurable: () => woken++ });
    const consumer = new Holder('c', 5, { kind: 'first' });
    vhost.consume(stream, consumer);
    vhost.deleteQueue('s', false, false, {});
    expect(consumer.cancelled).toBe(true);
    expect(store.removed).toEqual(['s']);
    expect(log.destroyed).toBe(true);
    expect(stream.isDurable(stream.lastOffset)).toBe(true);
    expect(woken).toBe(1);
  });

  it('without a store a stream takes no message: a publish is refused', () => {
    const vhost = new VHost('/');
    const stream = vhost.declareQueue('s', false, { durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'stream' } }, {});
    expect(stream.refuses(new Message('', 's', encodeProperties({}), Buffer.from('x'), 1))).toBe(true);
    publish(vhost, 'x');
    expect(vhost.refused).toBe(true);
  });
});
