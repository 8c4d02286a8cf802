import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-metrics-'));
  dirs.push(dir);
  return dir;
}

describe('the metrics listener of startBroker', () => {
  it('is off unless asked for', async () => {
    const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: dataDir() });
    try {
      expect(broker.ports.metrics).toBeNull();
      expect(broker.metricsUrl).toBeNull();
    } finally {
      await broker.close();
    }
  });

  it('with metricsPort 0 serves the endpoints on a free port, with the same cluster id after a restart', async () => {
    const dir = dataDir();
    const identity = async (): Promise<string> => {
      const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: dir, metricsPort: 0 });
      try {
        expect(broker.ports.metrics).toBeGreaterThan(0);
        expect(broker.metricsUrl).toBe(`http://127.0.0.1:${broker.ports.metrics}/metrics`);
        const response = await fetch(broker.metricsUrl as string);
        expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4');
        const text = await response.text();
        expect(text).toMatch(/^rabbitmq_queues 0$/m);
        const method = await fetch(broker.metricsUrl as string, { method: 'POST' });
        expect(method.status).toBe(405);
        return /rabbitmq_cluster_permanent_id="([^"]+)"/.exec(text)?.[1] ?? '';
      } finally {
        await broker.close();
      }
    };
    const first = await identity();
    expect(first).toMatch(/^warren-cluster-id-[A-Za-z0-9_-]{22}$/);
    expect(await identity()).toBe(first);
  });

  it('a metrics port in use stops the start, and frees the AMQP port and the data dir', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const dir = dataDir();
    try {
      await expect(startBroker({ port: 0, host: '127.0.0.1', dataDir: dir, metricsPort: port })).rejects.toThrow('EADDRINUSE');
      const again = await startBroker({ port: 0, host: '127.0.0.1', dataDir: dir });
      await again.close();
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('the metrics listener, given a request target that is no URL', () => {
  it('answers 404, as for any other path, and logs no error', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: dataDir(), metricsPort: 0, logger });
    try {
      const socket = net.connect(broker.ports.metrics as number, '127.0.0.1');
      socket.end('GET //[ HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      await once(socket, 'close');
      // Before: new URL() threw, a 500 and an error-level "metrics scrape failed" line for a client's bad input.
      expect(answer).toMatch(/^HTTP\/1\.1 404 /);
      expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    } finally {
      await broker.close();
    }
  });
});
