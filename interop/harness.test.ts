// The interop harness itself: brokers start on ephemeral loopback ports and
// leave no process or temp dir behind.
import fs from 'node:fs';
import net from 'node:net';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { freePort, freePorts } from './support/ports.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { startWarren, startWarrenEmbedded } from './support/warren.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function handshake(url: string): Promise<string> {
  const conn = await amqp.connect(url, { timeout: 5_000 });
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('', { exclusive: true });
  await conn.close();
  return q.queue;
}

describe('interop harness', () => {
  it('freePort / freePorts give distinct ephemeral ports', async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(1024);
    const ps = await freePorts(3);
    expect(new Set(ps).size).toBe(3);
    expect(ps).not.toContain(5672);
  });

  it('startWarren: child process on an ephemeral loopback port; stop() kills it and removes its data dir', async () => {
    const w = await startWarren();
    try {
      expect(w.port).toBeGreaterThan(0);
      expect(w.port).not.toBe(5672);
      expect(w.url).toBe(`amqp://guest:guest@127.0.0.1:${w.port}`);
      expect(fs.existsSync(w.dataDir)).toBe(true);
      expect(await handshake(w.url)).toMatch(/^amq\.gen-/);
    } finally {
      await w.stop();
    }
    expect(alive(w.pid)).toBe(false);
    expect(fs.existsSync(w.dataDir)).toBe(false);
    expect(await listening(w.port)).toBe(false);
  }, 150_000);

  it('startWarrenEmbedded: startBroker from src/index.ts on port 0', async () => {
    const w = await startWarrenEmbedded();
    try {
      expect(w.port).toBeGreaterThan(0);
      expect(await handshake(w.url)).toMatch(/^amq\.gen-/);
    } finally {
      await w.close();
    }
    expect(await listening(w.port)).toBe(false);
  });

  const rabbit = rabbitmqDependency();
  const skipRabbit = gate(rabbit);
  describe.skipIf(skipRabbit)(label('startRabbitMQ', rabbit), () => {
    it('private node: own ports (not 5672/4369/25672), handshake, then nothing left', async () => {
      const node = await startRabbitMQ();
      let stopped = false;
      try {
        console.log(`[interop] harness: private RabbitMQ started in ${node.startMs} ms`);
        expect(node.nodeName).toMatch(/^warren-test-[0-9a-f]+@localhost$/);
        for (const p of [node.port, node.epmdPort, node.distPort]) expect([5672, 4369, 25672]).not.toContain(p);
        expect(await listening(node.epmdPort)).toBe(true);
        expect(await handshake(node.url)).toMatch(/^amq\.gen-/);
        await node.stop();
        stopped = true;
        expect(fs.existsSync(node.dir)).toBe(false);
        expect(await listening(node.port)).toBe(false);
        expect(await listening(node.epmdPort)).toBe(false);
        expect(await listening(node.distPort)).toBe(false);
      } finally {
        if (!stopped) await node.stop();
      }
    }, 120_000);
  });
});
