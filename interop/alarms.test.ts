// Every promise of the README's "Alarms and flow control" section.
// Resource alarms, compared with a private RabbitMQ node: both brokers start
// with a free-disk limit no disk meets (10^15 bytes), so the disk alarm is on
// from the start. A connection that publishes is told connection.blocked
// ("low on disk") and is no longer read; a connection that only consumes goes on.
// Then, Warren only: the memory alarm sets and clears; a real full disk (a
// small tmpfs) at start and while publishing; flow control's held-back rate.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, timeout, waitUntil } from './support/amqp.js';
import { type Dependency, gate, label, rabbitmqDependency } from './support/deps.js';
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

// A full disk, for real: the data dir lives on a small tmpfs that the test
// mounts (root only) and fills to the last byte.
function smallFileSystemDependency(): Dependency {
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'warren-probe', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return { name: 'tmpfs mount', missing: null };
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return { name: 'tmpfs mount', missing: `cannot mount a small tmpfs (needs root): ${(e.stderr?.toString().trim() || e.message).split('\n')[0]}` };
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** Writes a file until the file system has no byte left; returns its path. */
function fillFileSystem(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 0x66);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  expect(fs.statfsSync(dir).bavail).toBe(0);
  return filler;
}

const fileSystemDep = smallFileSystemDependency();

describe.skipIf(gate(fileSystemDep))(label('full disk (Warren)', fileSystemDep), () => {
  let tempDir = '';
  let mountPoint = '';
  const stops: (() => Promise<void>)[] = [];
  beforeAll(() => {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-full-disk-'));
  });
  afterAll(async () => {
    await cleanUp();
    fs.rmSync(tempDir, { recursive: true, force: true });
  }, 30_000);

  /** A fresh 8 MiB file system for one test; unmounted after it. */
  async function mountSmallFileSystem(name: string): Promise<string> {
    mountPoint = path.join(tempDir, name);
    fs.mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', `warren-${name}`, mountPoint], { stdio: 'pipe' });
    return mountPoint;
  }
  async function cleanUp(): Promise<void> {
    for (const stop of stops.splice(0)) await stop().catch(() => {});
    // -l: a file system still busy (a test that timed out) is detached all the same.
    if (mountPoint !== '') execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    mountPoint = '';
  }
  async function start(dataDir: string, diskFreeLimit = 0) {
    // --disk-free-limit 0: the free-space check never sets the alarm; the message log does.
    const warren = await startWarren({ dataDir, args: ['--disk-free-limit', String(diskFreeLimit)] });
    stops.push(() => warren.stop());
    return warren;
  }

  it('free space below --disk-free-limit sets the disk alarm; space given back clears it', async () => {
    try {
      const dataDir = path.join(await mountSmallFileSystem('limit'), 'data');
      const warren = await start(dataDir, 4 * 1024 * 1024);
      const publisher = await amqp.connect(warren.url);
      publisher.on('error', () => {});
      const events: string[] = [];
      publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
      publisher.on('unblocked', () => events.push('unblocked'));
      const channel = await publisher.createConfirmChannel();
      await channel.assertQueue('limit', { autoDelete: true });
      await timeout(channel.waitForConfirms(), 5_000, 'a publish before the disk fills');

      const filler = path.join(mountPoint, 'filler');
      fs.writeFileSync(filler, Buffer.alloc(6 * 1024 * 1024));
      // The free space is checked every 5 s; a connection is blocked at its next publish.
      const blocked = once(publisher, 'blocked');
      const deadline = Date.now() + 10_000;
      await timeout(
        (async () => {
          while (events.length === 0 && Date.now() < deadline) {
            channel.sendToQueue('limit', Buffer.from('x'));
            await Promise.race([blocked, sleep(100)]);
          }
        })(),
        10_000,
        'connection.blocked below the free-space limit',
      );
      fs.rmSync(filler);
      await timeout(once(publisher, 'unblocked'), 10_000, 'connection.unblocked once the space is back');
      await timeout(channel.waitForConfirms(), 5_000, 'the confirm of the publish held while blocked');
      expect(events).toEqual(['blocked: low on disk', 'unblocked']);
      await publisher.close();
    } finally {
      await cleanUp();
    }
  }, 60_000);

  it('starts on a full disk: disk alarm, stored messages delivered, publishers unblocked once space returns', async () => {
    try {
      const dataDir = path.join(await mountSmallFileSystem('start'), 'data');
      const queue = 'stored';
      const first = await start(dataDir);
      const setup = await amqp.connect(first.url);
      const setupChannel = await setup.createConfirmChannel();
      await setupChannel.assertQueue(queue, { durable: true });
      for (let i = 0; i < 100; i++) setupChannel.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true });
      await timeout(setupChannel.waitForConfirms(), 10_000, 'confirms before the disk fills');
      await setup.close();
      await first.kill('SIGTERM');

      const filler = fillFileSystem(mountPoint);
      const warren = await start(dataDir);

      const publisher = await amqp.connect(warren.url);
      publisher.on('error', () => {});
      const events: string[] = [];
      publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
      publisher.on('unblocked', () => events.push('unblocked'));
      const blocked = once(publisher, 'blocked');
      const unblocked = once(publisher, 'unblocked');
      const publisherChannel = await publisher.createConfirmChannel();
      let duringConfirmed = false;
      publisherChannel.sendToQueue(queue, Buffer.from('during'), { persistent: true }, (err) => (duringConfirmed = err === null));
      await timeout(blocked, 10_000, 'connection.blocked on a full disk');

      // Consumers are served: every stored message, in order, acked.
      const consumer = await amqp.connect(warren.url);
      const consumerChannel = await consumer.createChannel();
      const received: string[] = [];
      await consumerChannel.consume(queue, (m: ConsumeMessage | null) => {
        if (m === null) return;
        received.push(m.content.toString());
        consumerChannel.ack(m);
      });
      await waitUntil(() => received.length >= 100, 10_000, 'the stored messages');
      expect(received).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
      // A round trip on the channel: the acks before it have been processed (amqplib's
      // connection.close can overtake a channel's frames).
      expect((await consumerChannel.checkQueue(queue)).messageCount).toBe(0);
      await consumer.close();
      expect(events).toEqual(['blocked: low on disk']);
      expect(duringConfirmed).toBe(false);

      // Space returns: publishers are read again and their messages confirmed.
      fs.rmSync(filler);
      await timeout(unblocked, 20_000, 'connection.unblocked once space returned');
      await timeout(publisherChannel.waitForConfirms(), 10_000, 'the confirm of the publish held while blocked');
      expect(duringConfirmed).toBe(true);
      publisherChannel.sendToQueue(queue, Buffer.from('after'), { persistent: true });
      await timeout(publisherChannel.waitForConfirms(), 10_000, 'a confirm after the alarm cleared');

      // What was acked on the full disk stays acked; what was confirmed stays.
      await warren.kill('SIGKILL');
      const restarted = await start(dataDir);
      const check = await amqp.connect(restarted.url);
      const checkChannel = await check.createChannel();
      const left: string[] = [];
      for (;;) {
        const m = await checkChannel.get(queue, { noAck: true });
        if (m === false) break;
        left.push(m.content.toString());
      }
      await check.close();
      expect(left).toEqual(['during', 'after']);
    } finally {
      await cleanUp();
    }
  }, 90_000);

  it('a disk that fills while publishing loses no confirmed message across kill -9; draining it gives the space back', async () => {
    try {
      const dataDir = path.join(await mountSmallFileSystem('fill'), 'data');
      const queue = 'filling';
      const warren = await start(dataDir);
      const publisher = await amqp.connect(warren.url);
      publisher.on('error', () => {});
      const blocked = once(publisher, 'blocked');
      const channel = await publisher.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true });
      const confirmed = new Set<number>();
      const body = Buffer.alloc(4096, 0x62);
      let isBlocked = false;
      void blocked.then(() => (isBlocked = true));
      // Publish until the log cannot write (the alarm blocks us); 8 MiB of bodies would not fit.
      for (let i = 0; i < 4096 && !isBlocked; i++) {
        const id = Buffer.from(String(i).padStart(8, '0'));
        const ok = channel.sendToQueue(queue, Buffer.concat([id, body]), { persistent: true }, (err) => {
          if (err === null) confirmed.add(i);
        });
        if (!ok) await Promise.race([once(channel, 'drain'), blocked]);
        else if (i % 64 === 63) await sleep(0);
      }
      await timeout(blocked, 20_000, 'connection.blocked when the disk filled');
      expect(confirmed.size).toBeGreaterThan(100);
      await warren.kill('SIGKILL');

      // The disk is still full: Warren starts anyway and serves what it stored.
      expect(fs.statfsSync(mountPoint).bavail).toBe(0);
      const restarted = await start(dataDir);
      const blockedPublisher = await amqp.connect(restarted.url);
      blockedPublisher.on('error', () => {});
      const unblocked = once(blockedPublisher, 'unblocked');
      const blockedChannel = await blockedPublisher.createConfirmChannel();
      blockedChannel.sendToQueue(queue, Buffer.from('held'), { persistent: true });
      await timeout(once(blockedPublisher, 'blocked'), 10_000, 'connection.blocked after the restart on a full disk');
      const check = await amqp.connect(restarted.url);
      const checkChannel = await check.createChannel();
      const stored = new Set<number>();
      for (;;) {
        const m = await checkChannel.get(queue, { noAck: true });
        if (m === false) break;
        stored.add(Number(m.content.subarray(0, 8).toString()));
      }
      await check.close();
      const lost = [...confirmed].filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      // Every stored message settled: the log deletes its segments and writes again.
      await timeout(unblocked, 15_000, 'connection.unblocked once the drained log gave its space back');
      await timeout(blockedChannel.waitForConfirms(), 10_000, 'the confirm of the publish held while blocked');
      await blockedPublisher.close();
    } finally {
      await cleanUp();
    }
  }, 90_000);
});

// Flow control, Warren only (RabbitMQ's credit flow has its own figures): while
// a queue with consumers is more than 1,000 messages behind them, a connection
// publishing into it is read at most once per 50 ms (Node reads up to 64 KiB at
// a time), so it gets about 1.3 MB/s through; a queue without consumers takes
// what it is sent at full speed. Neither bounds the backlog. 4 KiB messages:
// held back, ~310 a second get through, far fewer than a client sends unheld.
const FLOW_SECONDS = 3;
const FLOW_BYTES_PER_SECOND = (64 * 1024 * 1000) / 50;
const BODY = Buffer.alloc(4096, 0x63);
/** A message on the wire: the body, its method, header and body frames. */
const WIRE_BYTES = BODY.length + 80;

/** Publishes 4 KiB messages as fast as the broker reads them for `seconds`; the number sent. */
async function publishFor(channel: amqp.Channel, queue: string, seconds: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let sent = 0;
  while (Date.now() < until) {
    sent++;
    if (!channel.sendToQueue(queue, BODY)) {
      await Promise.race([once(channel, 'drain'), sleep(until - Date.now())]);
    } else if (sent % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

describe('flow control (Warren)', () => {
  let stop: (() => Promise<void>) | undefined;
  let url = '';
  beforeAll(async () => {
    const warren = await startWarren();
    stop = warren.stop;
    url = warren.url;
  }, 60_000);
  afterAll(async () => stop?.(), 30_000);

  it('slows a publisher into a queue that is behind its consumers to about one 64 KiB read per 50 ms, without stopping it', async () => {
    const queue = `flow-${process.pid}`;
    const publisher = await amqp.connect(url);
    const consumer = await amqp.connect(url);
    publisher.on('error', () => {});
    try {
      const consumerChannel = await consumer.createChannel();
      await consumerChannel.assertQueue(queue, { autoDelete: true });
      // A consumer that takes one message and never acks it: the queue falls behind at once.
      await consumerChannel.prefetch(1);
      await consumerChannel.consume(queue, () => {});
      const publisherChannel = await publisher.createChannel();
      publisherChannel.sendToQueue(queue, BODY);
      const sent = await publishFor(publisherChannel, queue, FLOW_SECONDS);
      const backlog = (await consumerChannel.checkQueue(queue)).messageCount;
      const heldBackRate = FLOW_BYTES_PER_SECOND / WIRE_BYTES;
      expect(backlog, `${sent} sent`).toBeLessThan(1_000 + 2 * FLOW_SECONDS * heldBackRate);
      // Slowed, not stopped: it got well past the 1,000 at which it was first held back.
      expect(backlog).toBeGreaterThan(1_000 + (FLOW_SECONDS * heldBackRate) / 3);
      await consumerChannel.deleteQueue(queue);
    } finally {
      (publisher as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      await consumer.close().catch(() => {});
    }
  }, 30_000);

  it('lets a queue without consumers take what it is sent at full speed', async () => {
    const queue = `no-flow-${process.pid}`;
    const publisher = await amqp.connect(url);
    try {
      const channel = await publisher.createConfirmChannel();
      await channel.assertQueue(queue, { autoDelete: false });
      const count = 10_000;
      const started = Date.now();
      for (let i = 0; i < count; i++) {
        if (!channel.sendToQueue(queue, BODY)) await once(channel, 'drain');
      }
      await timeout(channel.waitForConfirms(), 20_000, 'confirms of 10,000 messages');
      const seconds = (Date.now() - started) / 1000;
      expect((await channel.checkQueue(queue)).messageCount).toBe(count);
      // Held back as a queue behind its consumers is, 10,000 messages would take ~32 s.
      expect(seconds).toBeLessThan((count * WIRE_BYTES) / FLOW_BYTES_PER_SECOND / 3);
      await channel.deleteQueue(queue);
    } finally {
      await publisher.close().catch(() => {});
    }
  }, 30_000);
});
