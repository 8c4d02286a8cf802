import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { waitFor } from '../wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-alarms-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: -1, metricsPort: -1 }, createLogger('silent'));
  cleanups.push(() => running.close());
  return running;
}

describe('resource alarms', () => {
  it('blocks a publisher at its first publish and delivers what it held once the alarm clears', async () => {
    const running = await server();
    const url = `amqp://guest:guest@127.0.0.1:${running.port}`;
    const consumer = await amqp.connect(url);
    cleanups.push(() => consumer.close());
    const consumerChannel = await consumer.createChannel();
    const { queue } = await consumerChannel.assertQueue('', { exclusive: false, autoDelete: true });
    const bodies: string[] = [];
    await consumerChannel.consume(queue, (m) => m && bodies.push(m.content.toString()), { noAck: true });

    const publisher = await amqp.connect(url);
    cleanups.push(() => publisher.close());
    const events: string[] = [];
    publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
    publisher.on('unblocked', () => events.push('unblocked'));
    const publisherChannel = await publisher.createChannel();

    running.broker.alarms.set('memory', true);
    for (const body of ['a', 'b', 'c']) publisherChannel.sendToQueue(queue, Buffer.from(body));
    await waitFor(() => events.length === 1, 5_000, 'connection.blocked');
    // A window in which a delivery or a second blocked would show if the publisher's input were still read.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toEqual(['blocked: low on memory']);
    expect(bodies).toEqual([]);

    running.broker.alarms.set('memory', false);
    await waitFor(() => bodies.length === 3, 5_000, 'the held messages');
    expect(bodies).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['blocked: low on memory', 'unblocked']);
  });
});
