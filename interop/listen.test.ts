// The default listening address, '::', takes clients on the IPv6 and the IPv4
// loopback alike ([::1] and 127.0.0.1), as RabbitMQ's default listener does.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type RunningBroker, startBroker } from '../src/index.js';
import { timeout, withConnection } from './support/amqp.js';

/** Whether this machine can listen on the IPv6 loopback at all. */
async function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

const ipv6 = await hasIpv6Loopback();

/** A client on `host` declares a queue, publishes and gets the message back; returns the body. */
function roundTrip(host: string, port: number): Promise<string> {
  return timeout(
    withConnection(`amqp://guest:guest@${host}:${port}`, async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(queue, Buffer.from(`via ${host}`));
      let got: false | { content: Buffer } = false;
      for (let i = 0; i < 50 && got === false; i++) {
        got = await ch.get(queue, { noAck: true });
        if (got === false) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await ch.close();
      return got === false ? '' : got.content.toString();
    }),
    10_000,
    `round trip via ${host}`,
  );
}

describe('listening on the default host', () => {
  let broker: RunningBroker | undefined;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-listen-'));
    broker = await startBroker({ port: 0, dataDir, host: DEFAULT_CONFIG.host }); // the CLI's default host
  });
  afterAll(async () => {
    await broker?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(!ipv6)("the default host is '::'", () => {
    expect(broker?.host).toBe('::');
  });

  it('takes a client on the IPv4 loopback, 127.0.0.1', async () => {
    expect(await roundTrip('127.0.0.1', (broker as RunningBroker).port)).toBe('via 127.0.0.1');
  });

  it.skipIf(!ipv6)(`takes a client on the IPv6 loopback, [::1]${ipv6 ? '' : ' (skipped: this machine has no IPv6 loopback)'}`, async () => {
    expect(await roundTrip('[::1]', (broker as RunningBroker).port)).toBe('via [::1]');
  });
});
