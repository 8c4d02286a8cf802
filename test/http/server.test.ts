import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/logger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { apiRoutes } from '../../src/http/api/routes.js';
import type { ApiContext, Route } from '../../src/http/router.js';
import { type ManagementServer, startManagementServer } from '../../src/http/server.js';

const GUEST = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };

function context(broker = new Broker()): ApiContext {
  return {
    broker,
    connections: new Set(),
    listeners: [],
    nodeName: 'warren@test',
    clusterName: 'warren@test',
    productVersion: '0.0.0',
    startedAt: Date.now(),
    memoryLimit: 1e9,
    diskFreeLimit: 5e7,
  };
}

function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

let server: ManagementServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('management server', () => {
  it('a handler that throws gets a 500 and an error-level log line, and the server goes on', async () => {
    const routes: Route[] = [
      {
        pattern: 'boom',
        handlers: {
          GET: () => {
            throw new TypeError('handler bug');
          },
        },
      },
      ...apiRoutes,
    ];
    const { logger, lines } = capture();
    server = await startManagementServer(context(), 0, '127.0.0.1', logger, routes);
    const base = `http://127.0.0.1:${server.port}`;
    const boom = await fetch(`${base}/api/boom`, { headers: GUEST });
    expect(boom.status).toBe(500);
    expect(boom.headers.get('content-type')).toBe('application/json');
    expect(await boom.json()).toEqual({ error: 'internal_server_error', reason: 'Internal Server Error' });
    const logged = lines.find((l) => l.msg === 'management request failed');
    expect(logged).toMatchObject({ level: 50, url: '/api/boom', err: { message: 'handler bug' } });
    expect((await fetch(`${base}/api/whoami`, { headers: GUEST })).status).toBe(200);
  });

  it('a property value AMQP cannot carry is a 400, not a crash', async () => {
    const { logger, lines } = capture();
    server = await startManagementServer(context(), 0, '127.0.0.1', logger);
    const publish = (properties: object) =>
      fetch(`http://127.0.0.1:${server?.port}/api/exchanges/%2F/amq.default/publish`, {
        method: 'POST',
        headers: GUEST,
        body: JSON.stringify({ properties, routing_key: 'q', payload: 'x', payload_encoding: 'string' }),
      });
    for (const properties of [{ timestamp: 1e30 }, { priority: 256 }, { delivery_mode: -1 }, { headers: 'x' }, { content_type: 5 }]) {
      const answer = await publish(properties);
      expect([answer.status, ((await answer.json()) as { error: string }).error], JSON.stringify(properties)).toEqual([400, 'bad_request']);
    }
    expect((await publish({ timestamp: 1_700_000_000, priority: 255 })).status).toBe(200);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('?auth= carries the credentials only on routes that take it', async () => {
    const routes: Route[] = [{ pattern: 'download', queryAuth: true, handlers: { GET: ({ user }) => ({ status: 200, body: { name: user.name } }) } }, ...apiRoutes];
    const { logger } = capture();
    server = await startManagementServer(context(), 0, '127.0.0.1', logger, routes);
    const base = `http://127.0.0.1:${server.port}`;
    const good = encodeURIComponent(Buffer.from('guest:guest').toString('base64'));
    const bad = encodeURIComponent(Buffer.from('guest:nope').toString('base64'));
    const download = await fetch(`${base}/api/download?auth=${good}`);
    expect([download.status, await download.json()]).toEqual([200, { name: 'guest' }]);
    const refused = await fetch(`${base}/api/download?auth=${bad}`);
    expect([refused.status, await refused.json()]).toEqual([401, { error: 'not_authorized', reason: 'Login failed' }]);
    expect((await fetch(`${base}/api/whoami?auth=${good}`)).status).toBe(401);
  });

  it('a body past 20 MB gets 413 and the server goes on', async () => {
    const { logger } = capture();
    server = await startManagementServer(context(), 0, '127.0.0.1', logger);
    const base = `http://127.0.0.1:${server.port}`;
    const big = await fetch(`${base}/api/queues/%2F/q`, { method: 'PUT', headers: GUEST, body: Buffer.alloc(21 * 1024 * 1024, 0x20) });
    expect([big.status, await big.json()]).toEqual([413, { error: 'bad_request', reason: 'request body too large' }]);
    expect((await fetch(`${base}/api/queues/%2F/q`, { method: 'PUT', headers: GUEST })).status).toBe(201);
  });

  it('logs its listener: protocol http, host and port', async () => {
    const { logger, lines } = capture();
    server = await startManagementServer(context(), 0, '127.0.0.1', logger);
    expect(lines.filter((l) => l.msg === 'listening')).toMatchObject([{ protocol: 'http', host: '127.0.0.1', port: server.port }]);
  });
});
