import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmListener } from '../../src/broker/alarms.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import type { Connection } from '../../src/session/connection.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An in-process broker whose log lines (JSON) are kept in `lines`. */
async function server(): Promise<{ running: RunningServer; lines: Record<string, unknown>[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-timers-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: -1, metricsPort: -1 }, pino({ level: 'info' }, sink));
  cleanups.push(() => running.close());
  return { running, lines };
}

/** The broker's side of an open connection, found by its client's connection_name. */
function serverConnection(running: RunningServer, name: string): Connection {
  const listeners = (running.broker.alarms as unknown as { listeners: Set<AlarmListener> }).listeners;
  for (const listener of listeners) {
    const connection = listener as Connection;
    if (connection.clientProperties?.connection_name === name) return connection;
  }
  throw new Error(`no open connection named ${name}`);
}

describe("a connection's own timers", () => {
  it('an error thrown in the heartbeat timer closes that connection only, with an error-level log line carrying the stack', async () => {
    const { running, lines } = await server();
    const url = `amqp://guest:guest@127.0.0.1:${running.port}`;
    const victim = await amqp.connect(`${url}?heartbeat=1`, { clientProperties: { connection_name: 'victim' } });
    const closed = new Promise<string>((resolve) => {
      victim.on('error', (error: Error) => resolve(error.message));
      victim.on('close', () => resolve('closed'));
    });
    const bystander = await amqp.connect(url);
    cleanups.push(() => bystander.close());

    const writer = serverConnection(running, 'victim').writer;
    writer.writeHeartbeat = () => {
      throw new Error('injected heartbeat failure');
    };
    const outcome = await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5_000))]);
    expect(outcome).toContain('INTERNAL_ERROR');

    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('internal error in the heartbeat timer; closing connection');
    expect((errors[0]!.err as { stack: string }).stack).toContain('injected heartbeat failure');

    const channel = await bystander.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('still served'));
    let got: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && got === false; i++) {
      got = await channel.get(queue, { noAck: true });
      if (got === false) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(got === false ? null : got.content.toString()).toBe('still served');
  }, 15_000);
});
