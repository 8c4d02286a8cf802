import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { PublisherConfirms } from '../../src/session/confirms.js';

// A real server in this process, real clients: an error injected into a
// timer-driven path closes the one connection involved, is logged at error
// level with its stack, and the broker goes on serving the others. An error
// escaping to the event loop would fail this test run.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface LogLine {
  level: number;
  msg: string;
  event?: string;
  err?: { message: string; stack: string };
}

async function server(): Promise<{ running: RunningServer; url: string; lines: LogLine[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-unexpected-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: -1, metricsPort: -1 }, pino({ level: 'info' }, sink));
  cleanups.push(() => running.close());
  return { running, url: `amqp://guest:guest@127.0.0.1:${running.port}`, lines };
}

/** A publish/consume round trip on a fresh connection. */
async function roundTrip(url: string): Promise<string> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const got = new Promise<string>((resolve) => void ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }));
    ch.sendToQueue(queue, Buffer.from('round trip'));
    return await got;
  } finally {
    await conn.close();
  }
}

describe('an unexpected error in a timer-driven path', () => {
  it('a consumer whose delivery throws during TTL dead-lettering closes its connection (541); others are served', async () => {
    const { running, url, lines } = await server();
    const victim = await amqp.connect(url);
    const closed = new Promise<Error>((resolve) => victim.on('error', resolve));
    const ch = await victim.createChannel();
    await ch.assertQueue('dest', { autoDelete: false });
    await ch.assertQueue('source', { arguments: { 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dest' } });
    await ch.consume('dest', () => {}, { noAck: true });
    const dest = running.broker.vhost('/')!.queues.get('dest')!;
    const subscribed = dest.consumers[0] as Consumer;
    subscribed.deliver = () => {
      throw new Error('injected: delivery failed');
    };
    ch.sendToQueue('source', Buffer.from('expires'));
    const error = (await vi.waitFor(() => closed, { timeout: 5_000 })) as Error & { code?: number };
    expect(error.code).toBe(541);
    const logged = lines.find((l) => l.level === 50 && l.err?.message === 'injected: delivery failed');
    expect(logged?.err?.stack).toContain('injected: delivery failed');
    expect(dest.consumerCount).toBe(0);
    expect(await roundTrip(url)).toBe('round trip');
  });

  it('a throwing alarm listener is logged at error level; connections still hear of the alarm', async () => {
    const { running, url, lines } = await server();
    const conn = await amqp.connect(url);
    cleanups.push(() => conn.close());
    const blocked = new Promise<string>((resolve) => conn.on('blocked', resolve));
    const ch = await conn.createChannel();
    running.broker.alarms.listen({
      alarmsChanged: () => {
        throw new Error('injected: listener failed');
      },
    });
    expect(() => running.broker.alarms.set('memory', true)).not.toThrow();
    ch.sendToQueue('nowhere', Buffer.from('x'));
    expect(await vi.waitFor(() => blocked, { timeout: 5_000 })).toBe('low on memory');
    const logged = lines.find((l) => l.level === 50 && l.event === 'internal-error');
    expect(logged?.msg).toBe('alarm listener failed: injected: listener failed; the broker goes on');
    expect(logged?.err?.stack).toContain('injected: listener failed');
    running.broker.alarms.set('memory', false);
    expect(await roundTrip(url)).toBe('round trip');
  });
});

describe('an unexpected error in a connection\'s end-of-turn flush', () => {
  it('closes that connection (541) with an error-level line; others are served', async () => {
    const { url, lines } = await server();
    const victim = await amqp.connect(url);
    const closed = new Promise<Error>((resolve) => victim.on('error', resolve));
    const ch = await victim.createConfirmChannel();
    ch.on('error', () => {});
    const patched = vi.spyOn(PublisherConfirms.prototype, 'flush').mockImplementationOnce(() => {
      throw new Error('injected: confirms failed');
    });
    cleanups.push(() => patched.mockRestore());
    ch.sendToQueue('nowhere', Buffer.from('x'));
    const error = (await vi.waitFor(() => closed, { timeout: 5_000 })) as Error & { code?: number };
    expect(error.code).toBe(541);
    expect(lines.find((l) => l.level === 50 && l.err?.message === 'injected: confirms failed')?.err?.stack).toContain('injected: confirms failed');
    expect(await roundTrip(url)).toBe('round trip');
  });
});
