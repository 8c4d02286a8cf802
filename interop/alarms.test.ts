// Resource alarms, compared with a private RabbitMQ node: both brokers start
// with a free-disk limit no disk meets (10^15 bytes), so the disk alarm is on
// from the start. A connection that publishes is told connection.blocked
// ("low on disk") and is no longer read; a connection that only consumes goes on.
import { once } from 'node:events';
import os from 'node:os';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, timeout, waitUntil } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { startWarren } from './support/warren.js';

const IMPOSSIBLE_FREE_BYTES = 1_000_000_000_000_000;

interface AlarmOutcome {
  blockedReasons: string[];
  consumed: number;
  consumerStillServed: boolean;
}

async function publishUnderAlarm(url: string, queue: string): Promise<AlarmOutcome> {
  const consumer = await amqp.connect(url);
  const publisher = await amqp.connect(url);
  publisher.on('error', () => {});
  try {
    const consumerChannel = await consumer.createChannel();
    await consumerChannel.assertQueue(queue, { autoDelete: true });
    let consumed = 0;
    await consumerChannel.consume(queue, () => consumed++, { noAck: true });

    const blockedReasons: string[] = [];
    publisher.on('blocked', (reason: string) => blockedReasons.push(reason));
    const publisherChannel = await publisher.createChannel();
    for (let i = 0; i < 20; i++) publisherChannel.sendToQueue(queue, Buffer.from(`m${i}`));
    await waitUntil(() => blockedReasons.length > 0, 10_000, 'connection.blocked');
    // A window in which a delivery would show if the publisher were not blocked.
    await sleep(500);
    // The consuming connection is not blocked: it still gets answers.
    const probe = await consumerChannel.checkQueue(queue);
    return { blockedReasons, consumed, consumerStillServed: probe.queue === queue };
  } finally {
    // A blocked publisher's close is not read until the alarm clears: drop it.
    (publisher as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await consumer.close().catch(() => {});
  }
}

function check(outcome: AlarmOutcome): void {
  expect(outcome.blockedReasons).toEqual(['low on disk']);
  // At most the publish that was read before the connection blocked gets through.
  expect(outcome.consumed).toBeLessThanOrEqual(1);
  expect(outcome.consumerStillServed).toBe(true);
}

const rabbitDep = rabbitmqDependency();
let reference: AlarmOutcome | undefined;

describe('resource alarms: publishers blocked, consumers served', () => {
  describe.skipIf(gate(rabbitDep))(label('RabbitMQ (reference)', rabbitDep), () => {
    let stop: (() => Promise<void>) | undefined;
    let url = '';
    beforeAll(async () => {
      const node = await startRabbitMQ({ diskFreeLimit: String(IMPOSSIBLE_FREE_BYTES) });
      stop = node.stop;
      url = node.url;
    }, 90_000);
    afterAll(async () => stop?.(), 30_000);
    it('disk alarm from the start', async () => {
      reference = await publishUnderAlarm(url, `alarm-${process.pid}-r`);
      check(reference);
    }, 30_000);
  });

  describe('Warren', () => {
    let stop: (() => Promise<void>) | undefined;
    let url = '';
    beforeAll(async () => {
      const warren = await startWarren({ args: ['--disk-free-limit', String(IMPOSSIBLE_FREE_BYTES)] });
      stop = warren.stop;
      url = warren.url;
    }, 60_000);
    afterAll(async () => stop?.(), 30_000);
    it('disk alarm from the start', async () => {
      const outcome = await publishUnderAlarm(url, `alarm-${process.pid}-w`);
      check(outcome);
      if (reference !== undefined) expect(outcome).toEqual(reference);
    }, 30_000);
  });
});

// The memory alarm, Warren only: a RabbitMQ node pages transient messages to
// disk well before its watermark, so the same publishers may never raise its
// alarm. The limit is 64 MiB of broker memory (a fresh Warren holds ~15 MiB),
// given as the share of this machine's memory that --memory-high-watermark takes.
const MEMORY_LIMIT_BYTES = 64 * 1024 * 1024;
const MESSAGE = Buffer.alloc(64 * 1024, 0x61);

describe('memory alarm (Warren)', () => {
  let stop: (() => Promise<void>) | undefined;
  let url = '';
  beforeAll(async () => {
    const warren = await startWarren({ args: ['--memory-high-watermark', String(MEMORY_LIMIT_BYTES / os.totalmem())] });
    stop = warren.stop;
    url = warren.url;
  }, 60_000);
  afterAll(async () => stop?.(), 30_000);

  it('sets while a queue without consumers fills, clears once it is drained', async () => {
    const queue = `memory-alarm-${process.pid}`;
    const publisher = await amqp.connect(url);
    const consumer = await amqp.connect(url);
    publisher.on('error', () => {});
    consumer.on('error', () => {});
    try {
      const events: string[] = [];
      publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
      publisher.on('unblocked', () => events.push('unblocked'));
      const blocked = once(publisher, 'blocked');
      const unblocked = once(publisher, 'unblocked');
      const publisherChannel = await publisher.createChannel();
      await publisherChannel.assertQueue(queue);

      // Publish until the broker blocks us (at most 16 times the limit: a
      // broker that never raises the alarm fails here instead of running on).
      let published = 0;
      await timeout(
        (async () => {
          while (events.length === 0 && published < 1024 * 16) {
            published++;
            if (!publisherChannel.sendToQueue(queue, MESSAGE)) await Promise.race([once(publisherChannel, 'drain'), blocked]);
          }
        })(),
        30_000,
        'publishing until connection.blocked',
      );
      expect(events).toEqual(['blocked: low on memory']);

      // Drain with a consumer on another connection (never blocked: it does not publish).
      const consumerChannel = await consumer.createChannel();
      let consumed = 0;
      await consumerChannel.consume(queue, () => consumed++, { noAck: true });
      // V8 may leave the dead messages uncollected for 15 s or more; the monitor collects them itself.
      await timeout(unblocked, 10_000, 'connection.unblocked after the queue drained');
      expect(consumed).toBeGreaterThan(MEMORY_LIMIT_BYTES / MESSAGE.length / 2);
      expect(events).toEqual(['blocked: low on memory', 'unblocked']);

      // The publisher is read again: what it sends arrives.
      const before = consumed;
      publisherChannel.sendToQueue(queue, Buffer.from('after the alarm'));
      await waitUntil(() => consumed > before, 10_000, 'a publish after the alarm cleared');
      await consumerChannel.deleteQueue(queue);
    } finally {
      await publisher.close().catch(() => {});
      await consumer.close().catch(() => {});
    }
  }, 90_000);
});
