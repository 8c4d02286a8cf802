// Resource alarms, compared with a private RabbitMQ node: both brokers start
// with a free-disk limit no disk meets (10^15 bytes), so the disk alarm is on
// from the start. A connection that publishes is told connection.blocked
// ("low on disk") and is no longer read; a connection that only consumes goes on.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitUntil } from './support/amqp.js';
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
