import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/logger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { apiRoutes } from '../../src/http/api/routes.js';
import type { ApiContext, Route } from '../../src/http/router.js';
import { type ManagementServer, startManagementServer } from '../../src/http/server.js';

const GUEST = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };

function guestBroker(): Broker {
  const broker = new Broker();
  broker.provisionDefaults({ user: 'guest', pass: 'guest', tags: ['administrator'], vhost: '/' });
  return broker;
}

function context(broker = guestBroker()): ApiContext {
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
    loopbackUsers: ['guest'],
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

  it('odd requests never get a 500 or cause an error log line', async () => {
    const { logger, lines } = capture();
    server = await startManagementServer(context(), 0, '127.0.0.1', logger);
    const base = `http://127.0.0.1:${server.port}`;
    const put = (path: string, body: string) => ['PUT', path, body] as const;
    const post = (path: string, body: string) => ['POST', path, body] as const;
    const requests: (readonly [string, string, string?])[] = [
      ['GET', '/api/queues/%E0%A4%A/x'],
      ['GET', '/api/queues/%2F/%'],
      ['GET', '/api//queues'],
      ['GET', '/api/queues?page=1&page_size=1e3'],
      ['GET', '/api/queues?sort=a.b.c.d&columns=,,,'],
      ['PATCH', '/api/queues/%2F/q'],
      put('/api/queues/%2F/q', 'null'),
      put('/api/queues/%2F/q', '[]'),
      put('/api/queues/%2F/q', '"x"'),
      put('/api/queues/%2F/q', '{"durable":"maybe"}'),
      put('/api/queues/%2F/q', '{"arguments":[1]}'),
      put('/api/queues/%2F/q', '{"arguments":{"x-max-length":"ten"}}'),
      put('/api/queues/%2F/amq.q', '{}'),
      put('/api/exchanges/%2F/x', '{"type":5}'),
      put('/api/exchanges/%2F/amq.default', '{}'),
      put('/api/exchanges/%2F/x', '{"type":"headers","arguments":{"alternate-exchange":{}}}'),
      post('/api/exchanges/%2F/amq.default/publish', '{"properties":null,"routing_key":1,"payload":{},"payload_encoding":"string"}'),
      post('/api/exchanges/%2F/amq.default/publish', '{"properties":{"headers":{"a":[{"b":null}]}},"routing_key":"q","payload":"@@@","payload_encoding":"base64"}'),
      post('/api/exchanges/%2F/amq.default/publish', '{"properties":{"expiration":"-1"},"routing_key":"q","payload":"","payload_encoding":"string"}'),
      post('/api/queues/%2F/q/get', '{"count":"abc","ackmode":"ack_requeue_true","encoding":"auto"}'),
      post('/api/queues/%2F/q/get', '{"count":1e9,"ackmode":"ack_requeue_false","encoding":"auto","truncate":-1}'),
      post('/api/bindings/%2F/e/amq.headers/q/q', '{"arguments":{"x-match":"nope"}}'),
      post('/api/bindings/%2F/e/amq.default/q/q', '{}'),
      post('/api/bindings/%2F/e/amq.direct/x/q', '{}'),
      ['DELETE', '/api/bindings/%2F/e/amq.direct/q/q/%'],
      ['DELETE', '/api/exchanges/%2F/amq.direct'],
      ['DELETE', '/api/connections/nobody'],
      ['GET', '/api/health/checks/port-listener/-1'],
    ];
    for (const [method, path, body] of requests) {
      const answer = await fetch(base + path, { method, headers: GUEST, body });
      expect(answer.status, `${method} ${path} ${body ?? ''}: ${await answer.text()}`).toBeLessThan(500);
    }
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
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
