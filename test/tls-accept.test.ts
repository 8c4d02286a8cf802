import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import amqp from 'amqplib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';

// The first TLS client's session cannot be read (as when its socket is reset as the handshake ends).
let failNext = true;
vi.mock('../src/tls.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/tls.js')>();
  return {
    ...original,
    describeSession: (socket: tls.TLSSocket) => {
      if (failNext) {
        failNext = false;
        throw new TypeError("Cannot read properties of null (reading 'standardName')");
      }
      return original.describeSession(socket);
    },
  };
});

describe('accepting a TLS client', () => {
  let dir = '';
  let server: RunningServer | undefined;
  const lines: { event?: string }[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-tls-accept-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=localhost'],
      { cwd: dir, stdio: 'pipe', timeout: 10_000 },
    );
    const sink = { write: (line: string) => lines.push(JSON.parse(line) as { event?: string }) };
    server = await startServer(
      {
        ...DEFAULT_CONFIG,
        port: -1,
        host: '127.0.0.1',
        dataDir: path.join(dir, 'data'),
        tlsPort: 0,
        tlsCert: path.join(dir, 'cert.pem'),
        tlsKey: path.join(dir, 'key.pem'),
        managementPort: -1,
        metricsPort: -1,
      },
      pino({ level: 'info' }, sink),
    );
  }, 20_000);

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('closes only that client when reading its session throws, logs why, and serves the next one', async () => {
    const port = (server as RunningServer).tlsPort as number;
    const ca = [fs.readFileSync(path.join(dir, 'cert.pem'))];
    const first = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    first.on('error', () => {});
    // Before the guard the throw escaped the listener's callback: an uncaught exception, and this socket stayed open.
    await once(first, 'close');
    expect(lines.some((line) => line.event === 'tls.accept-failed')).toBe(true);
    const next = await amqp.connect(`amqps://guest:guest@127.0.0.1:${port}`, { ca, servername: 'localhost' });
    await next.close();
  }, 15_000);
});
