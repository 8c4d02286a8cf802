import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SecureManagementServer, startSecureManagementServer } from '../../src/http/server.js';

describe('accepting an HTTPS management client', () => {
  let dir = '';
  let server: SecureManagementServer | undefined;
  const lines: { event?: string }[] = [];
  // The first client's check throws (a bug, not the client's fault); the next ones pass.
  let failNext = true;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-https-accept-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=localhost'],
      { cwd: dir, stdio: 'pipe', timeout: 10_000 },
    );
    const sink = { write: (line: string) => lines.push(JSON.parse(line) as { event?: string }) };
    const options = { cert: fs.readFileSync(path.join(dir, 'cert.pem')), key: fs.readFileSync(path.join(dir, 'key.pem')) };
    const refusal = (): string | undefined => {
      if (!failNext) return undefined;
      failNext = false;
      throw new TypeError('cannot read the peer certificate');
    };
    const app = (_request: unknown, response: { end(body: string): void }): void => response.end('ok');
    server = await startSecureManagementServer(app as never, { options, refusal }, 0, '127.0.0.1', pino({ level: 'info' }, sink));
  }, 20_000);

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('closes only that client when checking it throws, logs why, and serves the next one', async () => {
    const port = (server as SecureManagementServer).port;
    const ca = [fs.readFileSync(path.join(dir, 'cert.pem'))];
    const first = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    first.on('error', () => {});
    // Unguarded, the throw escaped the listener's callback: an uncaught exception, and this socket stayed open.
    await once(first, 'close');
    expect(lines.some((line) => line.event === 'tls.accept-failed')).toBe(true);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, ca, servername: 'localhost', path: '/' }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe('ok');
  }, 15_000);
});
