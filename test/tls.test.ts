import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import type { Connection } from '../src/session/connection.js';
import { distinguishedName } from '../src/tls.js';

describe('distinguishedName', () => {
  it('puts the last RDN first, joins multi-valued RDNs with +, and escapes non-ASCII bytes as openssl -nameopt RFC2253 does', () => {
    expect(distinguishedName('C=DE\nO=Example Org\nOU=clients\nCN=app-client')).toBe('CN=app-client,OU=clients,O=Example Org,C=DE');
    expect(distinguishedName('O=Org\nCN=a + UID=b')).toBe('CN=a+UID=b,O=Org');
    expect(distinguishedName('L=Köln\nO=Example\\, Inc.')).toBe('O=Example\\, Inc.,L=K\\C3\\B6ln');
  });
});

describe('a TLS connection', () => {
  let dir = '';
  let server: RunningServer | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-tls-unit-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 10_000 });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca_key.pem', '-out', 'ca_certificate.pem', '-subj', '/O=Example Org/CN=Example Test CA');
    for (const [name, subject] of [
      ['server', '/CN=localhost'],
      ['client', '/C=DE/O=Example Org/CN=app-client'],
    ]) {
      ssl('req', ...ec, '-x509', '-CA', 'ca_certificate.pem', '-CAkey', 'ca_key.pem', '-keyout', `${name}_key.pem`, '-out', `${name}_certificate.pem`, '-subj', subject as string);
    }
    server = await startServer(
      {
        ...DEFAULT_CONFIG,
        port: 0,
        host: '127.0.0.1',
        dataDir: path.join(dir, 'data'),
        tlsPort: 0,
        tlsCert: path.join(dir, 'server_certificate.pem'),
        tlsKey: path.join(dir, 'server_key.pem'),
        tlsCa: path.join(dir, 'ca_certificate.pem'),
        tlsVerify: 'peer',
        managementPort: -1,
        metricsPort: -1,
      },
      createLogger('silent'),
    );
  }, 20_000);

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connectionOf = (user: string): Connection => {
    const sessions = [...(server as RunningServer).broker.sessions] as unknown as Connection[];
    return sessions.find((connection) => connection.user?.name === user) as Connection;
  };

  it('knows its protocol, cipher and the verified peer certificate; a plain one knows it is not TLS', async () => {
    const running = server as RunningServer;
    const read = (name: string) => fs.readFileSync(path.join(dir, name));
    const overTls = await amqp.connect(`amqps://guest:guest@127.0.0.1:${running.tlsPort}`, {
      ca: [read('ca_certificate.pem')],
      cert: read('client_certificate.pem'),
      key: read('client_key.pem'),
      servername: 'localhost',
    });
    try {
      const { tls } = connectionOf('guest');
      expect(tls?.protocol).toBe('tlsv1.3');
      expect(tls?.cipher).toMatch(/^TLS_/);
      expect(tls?.peerCertificate).toMatchObject({ subject: 'CN=app-client,O=Example Org,C=DE', issuer: 'CN=Example Test CA,O=Example Org', commonNames: ['app-client'] });
      const validity = (tls?.peerCertificate?.validTo.getTime() ?? 0) - (tls?.peerCertificate?.validFrom.getTime() ?? 0);
      expect(validity).toBe(2 * 24 * 3600 * 1000);
    } finally {
      await overTls.close();
    }
    const plain = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`);
    try {
      expect(connectionOf('guest').tls).toBeUndefined();
    } finally {
      await plain.close();
    }
  }, 15_000);
});
