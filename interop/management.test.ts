// The management HTTP API, compared with a private RabbitMQ node running the
// rabbitmq_management plugin: status codes, the headers clients key on, error
// bodies, and the set of fields of each object (values such as node names,
// ports and rates differ; Warren's fields must be RabbitMQ's, and every field
// the tools read must be there). Then Warren alone: its alarm state in the
// health checks, the listener log line, and rabbitmqadmin against Warren.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { startBroker } from '../src/index.js';
import { type RunningServer, startServer } from '../src/server.js';
import { channel, connect, sleep, timeout } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { removeDir, trackDir } from './support/procs.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';

const run = promisify(execFile);

interface Target {
  name: 'RabbitMQ' | 'Warren';
  amqpUrl: string;
  amqpPort: number;
  http: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
  text: string;
}

const RABBITMQADMIN = '/usr/bin/rabbitmqadmin';
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

async function call(target: Target, method: string, url: string, opts: { body?: unknown; auth?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? GUEST : opts.auth;
  if (auth !== null) headers.authorization = auth;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const response = await fetch(target.http + url, { method, headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  const pick = ['content-type', 'cache-control', 'www-authenticate', 'allow', 'location'];
  return { status: response.status, headers: Object.fromEntries(pick.map((h) => [h, response.headers.get(h)])), body: parsed, text };
}

/** Status, the headers clients read, and the body: what must be the same on both brokers. */
function exchange(a: Answer): Omit<Answer, 'text'> {
  return { status: a.status, headers: a.headers, body: a.body };
}

function keys(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

/** Warren's fields are RabbitMQ's (none invented), and the ones tools read are there on both. */
function expectFields(warren: unknown, rabbit: unknown, required: string[], what: string): void {
  const extra = keys(warren).filter((k) => !keys(rabbit).includes(k));
  expect(extra, `${what}: fields RabbitMQ does not have`).toEqual([]);
  for (const [side, value] of [['Warren', warren], ['RabbitMQ', rabbit]] as const) {
    expect(keys(value), `${what} on ${side}`).toEqual(expect.arrayContaining(required));
  }
}

/** RabbitMQ lists connections, channels, consumers and queue depths a stats interval late: poll until `ready`. */
async function until(target: Target, url: string, ready: (body: unknown) => boolean): Promise<Answer> {
  const deadline = Date.now() + 12_000;
  for (;;) {
    const answer = await call(target, 'GET', url);
    if (answer.status === 200 && ready(answer.body)) return answer;
    if (Date.now() > deadline) throw new Error(`${target.name}: ${url} not ready after 12 s: ${answer.text.slice(0, 300)}`);
    await sleep(250);
  }
}

/** What an AMQP client sees when its connection is closed by the broker. */
function closedBy(conn: Awaited<ReturnType<typeof connect>>): Promise<string> {
  return timeout(
    new Promise<string>((resolve) => conn.once('close', (error?: Error) => resolve(error?.message ?? 'closed without error'))),
    10_000,
    'connection.close from the broker',
  );
}

/** Runs `scenario` on both brokers; returns [RabbitMQ's result, Warren's]. */
type Both = <R>(scenario: (target: Target, id: string) => Promise<R>) => Promise<[R, R]>;

const rabbitDep = rabbitmqDependency();
const rabbitMissing = gate(rabbitDep);

async function startWarrenServer(dataDir: string, logger = pino({ level: 'silent' })): Promise<RunningServer> {
  return startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: 0, metricsPort: -1 }, logger);
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-mgmt-'));
  trackDir(dir);
  return dir;
}

describe.skipIf(rabbitMissing)(label('management API: Warren and RabbitMQ side by side', rabbitDep), () => {
  let rabbit: RabbitNode | undefined;
  let warren: RunningServer | undefined;
  let dataDir = '';
  const targets: Target[] = [];

  beforeAll(async () => {
    dataDir = tempDir();
    [rabbit, warren] = await Promise.all([startRabbitMQ({ management: true }), startWarrenServer(dataDir)]);
    targets.push(
      { name: 'RabbitMQ', amqpUrl: rabbit.url, amqpPort: rabbit.port, http: `http://127.0.0.1:${rabbit.managementPort}` },
      { name: 'Warren', amqpUrl: `amqp://guest:guest@127.0.0.1:${warren.port}`, amqpPort: warren.port, http: `http://127.0.0.1:${warren.managementPort}` },
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([rabbit?.stop(), warren?.close()]);
    removeDir(dataDir);
  }, 40_000);

  const both: Both = async (scenario) => {
    const id = `mgmt-${crypto.randomBytes(3).toString('hex')}`;
    const results = [];
    for (const target of targets) results.push(await scenario(target, id));
    return results as [never, never];
  };

  it('conventions: 404 before auth, 401 bodies and challenge, 405, OPTIONS, not_json, trailing slash, content-type', async () => {
    const [r, w] = await both(async (t) => ({
      unknownRouteNoAuth: exchange(await call(t, 'GET', '/api/nope', { auth: null })),
      noAuth: exchange(await call(t, 'GET', '/api/overview', { auth: null })),
      wrongPassword: exchange(await call(t, 'GET', '/api/overview', { auth: `Basic ${Buffer.from('guest:nope').toString('base64')}` })),
      unknownUser: exchange(await call(t, 'GET', '/api/whoami', { auth: `Basic ${Buffer.from('nobody:x').toString('base64')}` })),
      missingObject: exchange(await call(t, 'GET', '/api/queues/%2F/no-such-queue')),
      missingVhost: exchange(await call(t, 'GET', '/api/queues/no-such-vhost')),
      options: exchange(await call(t, 'OPTIONS', '/api/overview')),
      optionsQueue: (await call(t, 'OPTIONS', '/api/queues/%2F/q')).headers.allow,
      wrongMethod: exchange(await call(t, 'POST', '/api/overview')),
      notJson: exchange(await call(t, 'PUT', '/api/queues/%2F/q-not-json', { body: '{bad' })),
      trailingSlash: (await call(t, 'GET', '/api/vhosts/')).status,
      lowercaseSlash: (await call(t, 'GET', '/api/vhosts/%2f')).status,
      whoami: (await call(t, 'GET', '/api/whoami')).body,
      auth: exchange(await call(t, 'GET', '/api/auth', { auth: null })),
      getHeaders: (await call(t, 'GET', '/api/overview')).headers,
    }));
    expect(w.unknownRouteNoAuth).toEqual({ status: 404, headers: expect.objectContaining({ 'content-type': 'application/json' }), body: { error: 'Object Not Found', reason: 'Not Found' } });
    expect(w.noAuth).toMatchObject({ status: 401, body: undefined, headers: { 'www-authenticate': 'Basic realm="RabbitMQ Management"' } });
    expect(w.wrongPassword).toMatchObject({ status: 401, body: { error: 'not_authorized', reason: 'Login failed' } });
    expect(w.wrongMethod).toEqual({ status: 405, headers: expect.objectContaining({ 'content-type': null }), body: undefined });
    expect(w.getHeaders).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-cache' });
    expect(w.whoami).toEqual({ name: 'guest', tags: ['administrator'] });
    expect(w).toEqual(r);
  });

  it('GET endpoints: status and the fields of overview, nodes, vhosts, cluster-name, extensions', async () => {
    const [r, w] = await both(async (t, id) => ({
      // RabbitMQ shows a vhost's message counts once a queue in it has reported its stats.
      queue: (await call(t, 'PUT', `/api/queues/%2F/${id}.q`)).status,
      vhost: await until(t, '/api/vhosts/%2F', (b) => 'messages' in (b as object)),
      queueDeleted: (await call(t, 'DELETE', `/api/queues/%2F/${id}.q`)).status,
      overview: await call(t, 'GET', '/api/overview'),
      nodes: await until(t, '/api/nodes', (b) => 'mem_used' in (b as object[])[0]),
      vhosts: await call(t, 'GET', '/api/vhosts'),
      clusterName: await call(t, 'GET', '/api/cluster-name'),
      node: await call(t, 'GET', `/api/nodes/${encodeURIComponent(((await call(t, 'GET', '/api/overview')).body as { node: string }).node)}`),
      noNode: exchange(await call(t, 'GET', '/api/nodes/nobody@nowhere')),
      extensions: await call(t, 'GET', '/api/extensions'),
      columns: await call(t, 'GET', '/api/overview?columns=rabbitmq_version,object_totals.queues'),
    }));
    expect([w.queue, w.queueDeleted]).toEqual([r.queue, r.queueDeleted]);
    // Deliberately not RabbitMQ's answer: 3.10.8 answers an unknown node with an empty 500 (measured).
    expect(w.noNode).toMatchObject({ status: 404, body: { error: 'Object Not Found', reason: 'Not Found' } });
    for (const key of ['overview', 'nodes', 'node', 'vhosts', 'vhost', 'clusterName', 'extensions', 'columns'] as const) {
      expect([w[key].status, w[key].headers], key).toEqual([r[key].status, r[key].headers]);
    }
    expectFields(w.overview.body, r.overview.body, ['management_version', 'rabbitmq_version', 'product_name', 'product_version', 'cluster_name', 'node', 'exchange_types', 'object_totals', 'queue_totals', 'listeners', 'contexts', 'erlang_version'], 'overview');
    const ov = w.overview.body as Record<string, Record<string, unknown>>;
    expect(keys(ov.object_totals)).toEqual(keys((r.overview.body as Record<string, unknown>).object_totals));
    expect(ov.exchange_types).toEqual((r.overview.body as Record<string, unknown>).exchange_types);
    expect((ov.listeners as unknown as { protocol: string }[]).map((l) => l.protocol)).toEqual(['amqp', 'http']);
    const [wNode, rNode] = [(w.nodes.body as unknown[])[0], (r.nodes.body as unknown[])[0]];
    expectFields(wNode, rNode, ['name', 'type', 'running', 'mem_used', 'mem_limit', 'mem_alarm', 'disk_free_alarm', 'uptime'], 'node');
    expectFields(w.vhost.body, r.vhost.body, ['name', 'description', 'tags', 'metadata', 'tracing', 'cluster_state', 'default_queue_type'], 'vhost');
    expect((w.vhosts.body as { name: string }[]).map((v) => v.name)).toEqual(['/']);
    expect(keys(w.clusterName.body)).toEqual(keys(r.clusterName.body));
    expect(keys(w.columns.body)).toEqual(['object_totals', 'rabbitmq_version']);
    expect(keys(r.columns.body)).toEqual(['object_totals', 'rabbitmq_version']);
    // Deliberately different: Warren has no web UI, so it serves no UI extension (RabbitMQ: dispatcher.js).
    expect(w.extensions.body).toEqual([]);
  });

  it('exchanges: PUT 201/204, inequivalent, unknown type, amq.*, GET shape, DELETE if-unused, publish', async () => {
    const [r, w] = await both(async (t, id) => {
      const x = `${id}.x`;
      const q = `${id}.q`;
      const out = {
        create: exchange(await call(t, 'PUT', `/api/exchanges/%2F/${x}`, { body: { type: 'topic', durable: false } })),
        again: exchange(await call(t, 'PUT', `/api/exchanges/%2F/${x}`, { body: { type: 'topic' } })),
        inequivalent: exchange(await call(t, 'PUT', `/api/exchanges/%2F/${x}`, { body: { type: 'topic', durable: true } })),
        wrongType: exchange(await call(t, 'PUT', `/api/exchanges/%2F/${x}`, { body: { type: 'fanout' } })),
        unknownType: exchange(await call(t, 'PUT', `/api/exchanges/%2F/${x}-2`, { body: { type: 'nope' } })),
        emptyBody: exchange(await call(t, 'PUT', `/api/exchanges/%2F/${x}-3`)),
        reserved: exchange(await call(t, 'PUT', `/api/exchanges/%2F/amq.${id}`, { body: { type: 'direct' } })),
        one: await call(t, 'GET', `/api/exchanges/%2F/${x}`),
        defaultExchange: await call(t, 'GET', '/api/exchanges/%2F/amq.default'),
        queue: exchange(await call(t, 'PUT', `/api/queues/%2F/${q}`)),
        bind: exchange(await call(t, 'POST', `/api/bindings/%2F/e/${x}/q/${q}`, { body: { routing_key: 'a.#' } })),
        routed: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}/publish`, { body: { properties: {}, routing_key: 'a.b', payload: 'hi', payload_encoding: 'string' } })),
        unrouted: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}/publish`, { body: { properties: {}, routing_key: 'b', payload: 'hi', payload_encoding: 'string' } })),
        publishMissingExchange: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}-none/publish`, { body: { properties: {}, routing_key: 'b', payload: 'hi', payload_encoding: 'string' } })),
        publishMissingKeys: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}/publish`, { body: { routing_key: 'b' } })),
        publishMissingAll: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}/publish`, { body: {} })),
        publishMissingTwo: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}/publish`, { body: { routing_key: 'b', payload: 'x' } })),
        publishBadEncoding: exchange(await call(t, 'POST', `/api/exchanges/%2F/${x}/publish`, { body: { properties: {}, routing_key: 'b', payload: 'hi', payload_encoding: 'nope' } })),
        source: exchange(await call(t, 'GET', `/api/exchanges/%2F/${x}/bindings/source`)),
        inUse: exchange(await call(t, 'DELETE', `/api/exchanges/%2F/${x}?if-unused=true`)),
        deleted: exchange(await call(t, 'DELETE', `/api/exchanges/%2F/${x}`)),
        deletedAgain: exchange(await call(t, 'DELETE', `/api/exchanges/%2F/${x}`)),
        cleanup: [
          (await call(t, 'DELETE', `/api/exchanges/%2F/${x}-3`)).status,
          (await call(t, 'DELETE', `/api/queues/%2F/${q}`)).status,
        ],
        list: (await call(t, 'GET', `/api/exchanges/%2F?columns=name,type`)).body as { name: string; type: string }[],
      };
      return { ...out, list: out.list.filter((e) => e.name === '' || e.name === 'amq.direct') };
    });
    expect(w.create.status).toBe(201);
    expect(w.again.status).toBe(204);
    expect(w.routed.body).toEqual({ routed: true });
    expect(w.unrouted.body).toEqual({ routed: false });
    expectFields(w.one.body, r.one.body, ['name', 'vhost', 'type', 'durable', 'auto_delete', 'internal', 'arguments'], 'exchange');
    expect((w.defaultExchange.body as { name: string }).name).toBe('');
    const { one, defaultExchange, ...comparable } = w;
    const { one: rOne, defaultExchange: rDefault, ...rComparable } = r;
    expect([one.status, defaultExchange.status]).toEqual([rOne.status, rDefault.status]);
    expect(comparable).toEqual(rComparable);
  });

  it('queues: PUT, GET shape, get with every ackmode and encoding, purge, DELETE if-empty', async () => {
    const [r, w] = await both(async (t, id) => {
      const q = `${id}.q`;
      const base = `/api/queues/%2F/${q}`;
      const publish = (payload: string, properties: object = {}, payload_encoding = 'string') =>
        call(t, 'POST', '/api/exchanges/%2F/amq.default/publish', { body: { properties, routing_key: q, payload, payload_encoding } });
      const get = async (body: object) => exchange(await call(t, 'POST', `${base}/get`, { body }));
      const out = {
        create: exchange(await call(t, 'PUT', base, { body: { durable: true, arguments: { 'x-max-length': 10 } } })),
        again: exchange(await call(t, 'PUT', base, { body: { durable: true, arguments: { 'x-max-length': 10 } } })),
        inequivalent: exchange(await call(t, 'PUT', base, { body: { durable: false, arguments: { 'x-max-length': 10 } } })),
        reserved: exchange(await call(t, 'PUT', `/api/queues/%2F/amq.${id}`)),
        published: [
          (await publish('one', { delivery_mode: 2, headers: { h: 'v' }, content_type: 'text/plain' })).body,
          (await publish('two')).body,
          (await publish(Buffer.from([0xff, 0x00, 0x80]).toString('base64'), {}, 'base64')).body,
        ],
        peek: await get({ count: 2, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 50000 }),
        redelivered: await get({ count: 1, ackmode: 'reject_requeue_true', encoding: 'base64' }),
        truncated: await get({ count: 1, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 2 }),
        taken: await get({ count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' }),
        binary: await get({ count: 5, ackmode: 'ack_requeue_true', encoding: 'auto' }),
        rejected: await get({ count: 1, ackmode: 'reject_requeue_false', encoding: 'auto' }),
        missingKeys: await get({ count: 1 }),
        missingAllKeys: await get({}),
        badEncoding: await get({ count: 1, ackmode: 'ack_requeue_true', encoding: 'nope' }),
        missingQueue: exchange(await call(t, 'POST', `/api/queues/%2F/${q}-none/get`, { body: { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' } })),
        notEmpty: exchange(await call(t, 'DELETE', `${base}?if-empty=true`)),
        purge: exchange(await call(t, 'DELETE', `${base}/contents`)),
        empty: await get({ count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' }),
        purgeMissing: exchange(await call(t, 'DELETE', `${base}-none/contents`)),
        bindings: exchange(await call(t, 'GET', `${base}/bindings`)),
      };
      const one = await until(t, base, (body) => 'messages' in (body as object));
      const list = await call(t, 'GET', `/api/queues/%2F?columns=name,durable,arguments&name=${q}&page=1`);
      return {
        ...out,
        one: { status: one.status, headers: one.headers, body: one.body as Record<string, unknown> },
        list: exchange(list),
        deleted: exchange(await call(t, 'DELETE', `${base}?if-empty=true`)),
        deletedAgain: exchange(await call(t, 'DELETE', base)),
      };
    });
    expect(w.create.status).toBe(201);
    expect((w.peek.body as unknown[]).length).toBe(2);
    expect(w.redelivered.body).toMatchObject([{ redelivered: true, payload: Buffer.from('one').toString('base64'), payload_encoding: 'base64' }]);
    expect(w.binary.body).toMatchObject([{ payload: 'two', redelivered: true }, { payload: '/wCA', payload_encoding: 'base64' }]);
    expectFields(w.one.body, r.one.body, ['name', 'vhost', 'type', 'durable', 'auto_delete', 'exclusive', 'arguments', 'node', 'state', 'consumers', 'messages', 'messages_ready', 'messages_unacknowledged', 'policy', 'exclusive_consumer_tag', 'consumer_details'], 'queue');
    const { one, ...comparable } = w;
    const { one: rOne, ...rComparable } = r;
    expect([one.status, one.headers]).toEqual([rOne.status, rOne.headers]);
    expect(comparable).toEqual(rComparable);
  });

  it('bindings: POST with location, GET by pair and properties_key, DELETE, missing ends', async () => {
    const [r, w] = await both(async (t, id) => {
      const q = `${id} q+1`;
      const eq = encodeURIComponent(q);
      await call(t, 'PUT', `/api/queues/%2F/${eq}`);
      await call(t, 'PUT', `/api/exchanges/%2F/${id}.h`, { body: { type: 'headers' } });
      const out = {
        topic: exchange(await call(t, 'POST', `/api/bindings/%2F/e/amq.topic/q/${eq}`, { body: { routing_key: 'a.#', arguments: {} } })),
        again: exchange(await call(t, 'POST', `/api/bindings/%2F/e/amq.topic/q/${eq}`, { body: { routing_key: 'a.#' } })),
        noKey: exchange(await call(t, 'POST', `/api/bindings/%2F/e/amq.direct/q/${eq}`, { body: {} })),
        e2e: exchange(await call(t, 'POST', `/api/bindings/%2F/e/amq.fanout/e/${id}.h`, { body: { routing_key: 'k' } })),
        pair: exchange(await call(t, 'GET', `/api/bindings/%2F/e/amq.topic/q/${eq}`)),
        byKey: exchange(await call(t, 'GET', `/api/bindings/%2F/e/amq.topic/q/${eq}/a.%2523`)),
        byMissingKey: exchange(await call(t, 'GET', `/api/bindings/%2F/e/amq.topic/q/${eq}/nope`)),
        queueBindings: exchange(await call(t, 'GET', `/api/queues/%2F/${eq}/bindings`)),
        destination: exchange(await call(t, 'GET', `/api/exchanges/%2F/${id}.h/bindings/destination`)),
        missingQueue: exchange(await call(t, 'POST', `/api/bindings/%2F/e/amq.topic/q/${id}-none`, { body: { routing_key: 'x' } })),
        missingExchange: exchange(await call(t, 'POST', `/api/bindings/%2F/e/${id}-none/q/${eq}`, { body: { routing_key: 'x' } })),
        unbind: exchange(await call(t, 'DELETE', `/api/bindings/%2F/e/amq.topic/q/${eq}/a.%2523`)),
        unbindE2e: exchange(await call(t, 'DELETE', `/api/bindings/%2F/e/amq.fanout/e/${id}.h/k`)),
        unbindAgain: exchange(await call(t, 'DELETE', `/api/bindings/%2F/e/amq.topic/q/${eq}/a.%2523`)),
        after: exchange(await call(t, 'GET', `/api/queues/%2F/${eq}/bindings`)),
      };
      await call(t, 'DELETE', `/api/queues/%2F/${eq}`);
      await call(t, 'DELETE', `/api/exchanges/%2F/${id}.h`);
      return out;
    });
    expect(w.topic).toMatchObject({ status: 201, headers: { location: expect.stringMatching(/\+q%2B1\/a\.%2523$/) } });
    expect(w.unbind.status).toBe(204);
    expect(w).toEqual(r);
  });

  it('edge cases: unknown vhost, HEAD, an exclusive queue of another connection, queue in use, internal exchange, bad expiration', async () => {
    const [r, w] = await both(async (t, id) => {
      const conn = await connect(t.amqpUrl);
      try {
        const ch = await channel(conn);
        const exclusive = `${id}.excl`;
        const used = `${id}.used`;
        await ch.assertQueue(exclusive, { exclusive: true });
        await ch.assertQueue(used, { durable: false });
        await ch.consume(used, () => {});
        await ch.assertExchange(`${id}.internal`, 'fanout', { internal: true, durable: false });
        const publish = (exchangeName: string, properties: object) =>
          call(t, 'POST', `/api/exchanges/%2F/${exchangeName}/publish`, { body: { properties, routing_key: used, payload: 'x', payload_encoding: 'string' } }).then(exchange);
        const head = await call(t, 'HEAD', '/api/overview');
        return {
          putQueueNoVhost: exchange(await call(t, 'PUT', `/api/queues/no-such-vhost/${id}`)),
          putExchangeNoVhost: exchange(await call(t, 'PUT', `/api/exchanges/no-such-vhost/${id}`, { body: { type: 'direct' } })),
          getNoVhost: exchange(await call(t, 'POST', `/api/queues/no-such-vhost/${id}/get`, { body: { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' } })),
          head: { status: head.status, type: head.headers['content-type'], body: head.text },
          exclusiveGet: exchange(await call(t, 'POST', `/api/queues/%2F/${exclusive}/get`, { body: { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' } })),
          exclusivePurge: exchange(await call(t, 'DELETE', `/api/queues/%2F/${exclusive}/contents`)),
          exclusiveRedeclare: exchange(await call(t, 'PUT', `/api/queues/%2F/${exclusive}`)),
          inUse: exchange(await call(t, 'DELETE', `/api/queues/%2F/${used}?if-unused=true`)),
          internal: await publish(`${id}.internal`, {}),
          badExpiration: await publish('amq.default', { expiration: 'soon' }),
          exclusiveDelete: exchange(await call(t, 'DELETE', `/api/queues/%2F/${exclusive}`)),
          exclusiveAfter: (await call(t, 'GET', `/api/queues/%2F/${exclusive}`)).status,
          usedDelete: exchange(await call(t, 'DELETE', `/api/queues/%2F/${used}`)),
          internalDelete: exchange(await call(t, 'DELETE', `/api/exchanges/%2F/${id}.internal`)),
        };
      } finally {
        await conn.close().catch(() => {});
      }
    });
    expect(w.putQueueNoVhost.status).toBe(404);
    expect(w).toEqual(r);
  });

  it('pagination and name filters on a list', async () => {
    const [r, w] = await both(async (t, id) => {
      for (const n of ['b', 'A', 'c']) await call(t, 'PUT', `/api/queues/%2F/${id}.${n}`);
      const list = (query: string) => call(t, 'GET', `/api/queues/%2F?columns=name,durable&${query}`).then(exchange);
      const out = {
        page: await list(`page=2&page_size=2&name=${id.toUpperCase()}`),
        regex: await list(`page=1&name=${id}\\.[ab]$&use_regex=true`),
        sorted: await list(`page=1&name=${id}&sort=name&sort_reverse=true`),
        outOfRange: await list(`page=3&page_size=2&name=${id}`),
        nothing: await list(`page=1&name=${id}-nothing`),
        tooLarge: await list('page=1&page_size=501'),
        pageZero: await list('page=0'),
        notANumber: await list('page=abc'),
      };
      for (const n of ['b', 'A', 'c']) await call(t, 'DELETE', `/api/queues/%2F/${id}.${n}`);
      return out;
    });
    expect(w.page.body).toMatchObject({ filtered_count: 3, item_count: 1, page: 2, page_count: 2 });
    expect(w).toEqual(r);
  });

  it('connections, channels and consumers: fields, and DELETE closes the client with 320', async () => {
    const [r, w] = await both(async (t, id) => {
      const conn = await connect(t.amqpUrl, { clientProperties: { connection_name: id } });
      const ch = await channel(conn);
      await ch.prefetch(7);
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.consume(q, () => {}, { consumerTag: `${id}-ct`, arguments: { 'x-priority': 3 } });
      const mine = (body: unknown) => (body as { user_provided_name?: string }[]).some((c) => c.user_provided_name === id);
      const connections = await until(t, '/api/connections/', mine);
      const connection = (connections.body as Record<string, unknown>[]).find((c) => c.user_provided_name === id) as Record<string, unknown>;
      const name = connection.name as string;
      const channels = await until(t, `/api/connections/${encodeURIComponent(name)}/channels`, (b) => (b as { consumer_count: number }[])[0]?.consumer_count === 1);
      const consumers = await until(t, '/api/consumers', (b) => (b as { consumer_tag: string }[]).some((c) => c.consumer_tag === `${id}-ct`));
      const consumer = (consumers.body as { consumer_tag: string }[]).find((c) => c.consumer_tag === `${id}-ct`) as Record<string, unknown>;
      const allChannels = await call(t, 'GET', '/api/channels');
      const oneChannel = await call(t, 'GET', `/api/channels/${encodeURIComponent(`${name} (1)`)}`);
      const vhostConnections = await call(t, 'GET', '/api/vhosts/%2F/connections');
      const vhostChannels = await call(t, 'GET', '/api/vhosts/%2F/channels?columns=name');
      const vhostConsumers = await call(t, 'GET', '/api/consumers/%2F?columns=consumer_tag');
      const elsewhere = [
        (await call(t, 'GET', '/api/vhosts/no-such-vhost/connections')).status,
        (await call(t, 'GET', '/api/consumers/no-such-vhost')).status,
        (await call(t, 'GET', '/api/channels/no-such-channel')).status,
      ];
      // RabbitMQ's connection shows its channel count a stats interval later too.
      const withChannel = await until(t, `/api/connections/${encodeURIComponent(name)}`, (b) => (b as { channels: number }).channels === 1);
      // Go's url.PathEscape leaves ':' as it is; the UI's encodeURIComponent escapes it. Both name the connection.
      const goEscaped = await call(t, 'GET', `/api/connections/${name.replaceAll(' ', '%20').replaceAll('>', '%3E')}`);
      const closed = closedBy(conn);
      const deleted = await call(t, 'DELETE', `/api/connections/${encodeURIComponent(name)}`);
      const message = await closed;

      const second = await connect(t.amqpUrl, { clientProperties: { connection_name: `${id}-2` } });
      const secondName = ((await until(t, '/api/connections', (b) => (b as { user_provided_name?: string }[]).some((c) => c.user_provided_name === `${id}-2`))).body as Record<string, string>[]).find((c) => c.user_provided_name === `${id}-2`)!.name;
      const closedWithReason = closedBy(second);
      const deletedWithReason = await call(t, 'DELETE', `/api/connections/${encodeURIComponent(secondName)}`, { headers: { 'X-Reason': 'testing drop' } });
      return {
        connection: withChannel.body as Record<string, unknown>,
        nameFormat: name === `${connection.peer_host}:${connection.peer_port} -> ${connection.host}:${connection.port}`,
        channel: (channels.body as Record<string, unknown>[])[0],
        channelInList: (allChannels.body as { name: string }[]).some((c) => c.name === `${name} (1)`),
        oneChannel: oneChannel.status,
        oneChannelBody: oneChannel.body,
        inVhost: [
          (vhostConnections.body as { name: string }[]).some((c) => c.name === name),
          (vhostChannels.body as { name: string }[]).some((c) => c.name === `${name} (1)`),
          (vhostConsumers.body as { consumer_tag: string }[]).some((c) => c.consumer_tag === `${id}-ct`),
        ],
        elsewhere,
        consumer,
        goEscaped: goEscaped.status,
        deleted: exchange(deleted),
        message,
        deletedWithReason: exchange(deletedWithReason),
        messageWithReason: await closedWithReason,
        missing: exchange(await call(t, 'DELETE', `/api/connections/${encodeURIComponent(name)}`)),
      };
    });
    expect(w.message).toBe('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - Closed via management plugin"');
    expect(w.inVhost).toEqual([true, true, true]);
    expect(w.elsewhere).toEqual([404, 404, 404]);
    expect(w.messageWithReason).toBe('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - testing drop"');
    expectFields(w.connection, r.connection, ['name', 'user_provided_name', 'client_properties', 'vhost', 'user', 'protocol', 'host', 'port', 'peer_host', 'peer_port', 'channels', 'state', 'node', 'connected_at', 'timeout', 'frame_max', 'channel_max'], 'connection');
    expectFields(w.channel, r.channel, ['name', 'number', 'connection_details', 'vhost', 'user', 'node', 'state', 'confirm', 'transactional', 'prefetch_count', 'global_prefetch_count', 'consumer_count', 'messages_unacknowledged'], 'channel');
    expectFields(w.consumer, r.consumer, ['consumer_tag', 'queue', 'channel_details', 'ack_required', 'exclusive', 'prefetch_count', 'arguments', 'active', 'activity_status'], 'consumer');
    expectFields(w.oneChannelBody, r.oneChannelBody, ['name', 'number', 'connection_details', 'confirm', 'prefetch_count', 'consumer_count'], 'one channel');
    const pick = (side: typeof w) => ({
      ...side,
      oneChannelBody: null,
      connection: { client_properties: keys(side.connection.client_properties), protocol: side.connection.protocol, vhost: side.connection.vhost, user: side.connection.user, state: side.connection.state, channels: side.connection.channels },
      channel: { number: side.channel.number, prefetch_count: side.channel.prefetch_count, consumer_count: side.channel.consumer_count, connection_details: keys(side.channel.connection_details) },
      consumer: { ...side.consumer, queue: keys(side.consumer.queue), channel_details: keys(side.consumer.channel_details) },
    });
    expect(pick(w)).toEqual(pick(r));
  }, 60_000);

  it('health checks and aliveness-test', async () => {
    const [r, w] = await both(async (t) => ({
      alarms: exchange(await call(t, 'GET', '/api/health/checks/alarms')),
      localAlarms: exchange(await call(t, 'GET', '/api/health/checks/local-alarms')),
      virtualHosts: exchange(await call(t, 'GET', '/api/health/checks/virtual-hosts')),
      amqpPort: await call(t, 'GET', `/api/health/checks/port-listener/${t.amqpPort}`),
      noPort: await call(t, 'GET', '/api/health/checks/port-listener/1'),
      badPort: exchange(await call(t, 'GET', '/api/health/checks/port-listener/abc')),
      amqp: exchange(await call(t, 'GET', '/api/health/checks/protocol-listener/amqp')),
      mqtt: await call(t, 'GET', '/api/health/checks/protocol-listener/mqtt'),
      node: exchange(await call(t, 'GET', '/api/healthchecks/node')),
      aliveness: exchange(await call(t, 'GET', '/api/aliveness-test/%2F')),
      alivenessQueue: (await call(t, 'GET', '/api/queues/%2F/aliveness-test')).status,
      alivenessMissing: exchange(await call(t, 'GET', '/api/aliveness-test/no-such-vhost')),
    }));
    expect(w.alarms.body).toEqual({ status: 'ok' });
    expect(w.amqpPort.body).toEqual({ status: 'ok', port: targets[1].amqpPort });
    const shape = (a: Answer) => ({ status: a.status, headers: a.headers, keys: keys(a.body) });
    expect({ ...w, amqpPort: shape(w.amqpPort), noPort: shape(w.noPort), mqtt: shape(w.mqtt) }).toEqual({
      ...r,
      amqpPort: shape(r.amqpPort),
      noPort: shape(r.noPort),
      mqtt: shape(r.mqtt),
    });
  });

  it('message_stats: the same keys and counts for a queue, exchange, channels, vhost and overview; rates as {rate}', async () => {
    type Stats = Record<string, number | { rate: number }>;
    const statsOf = (body: unknown): Stats => ((body as { message_stats?: Stats }).message_stats ?? {});
    const counts = (stats: Stats) => Object.fromEntries(Object.entries(stats).filter(([, v]) => typeof v === 'number'));
    /** The node's totals once two reads a stats interval apart agree (RabbitMQ's lag from earlier tests is over). */
    const settled = async (t: Target, url: string): Promise<Stats> => {
      let before = JSON.stringify(counts(statsOf((await call(t, 'GET', url)).body)));
      for (;;) {
        await sleep(t.name === 'RabbitMQ' ? 1_200 : 0);
        const now = JSON.stringify(counts(statsOf((await call(t, 'GET', url)).body)));
        if (now === before) return JSON.parse(now) as Stats;
        before = now;
      }
    };
    const delta = (after: Stats, before: Stats, names: string[]) => Object.fromEntries(names.map((n) => [n, (after[n] as number) - ((before[n] as number | undefined) ?? 0)]));
    const [r, w] = await both(async (t, id) => {
      const conn = await connect(t.amqpUrl, { clientProperties: { connection_name: id } });
      try {
        const publisher = await conn.createConfirmChannel();
        const consumer = await channel(conn);
        await publisher.assertExchange(`${id}-x`, 'direct', { autoDelete: false, durable: false });
        await publisher.assertQueue(`${id}-q`, { durable: false });
        await publisher.bindQueue(`${id}-q`, `${id}-x`, 'k');
        await publisher.assertQueue(`${id}-idle`, { durable: false });
        const [overviewBefore, vhostBefore] = await Promise.all([settled(t, '/api/overview'), settled(t, '/api/vhosts/%2F')]);
        for (let i = 0; i < 5; i++) publisher.publish(`${id}-x`, 'k', Buffer.from(`m${i}`));
        publisher.publish(`${id}-x`, 'nowhere', Buffer.from('dropped'));
        publisher.publish(`${id}-x`, 'nowhere', Buffer.from('returned'), { mandatory: true });
        await publisher.waitForConfirms();
        expect(await consumer.get(`${id}-idle`)).toBe(false);
        let first = true;
        let acked = 0;
        await new Promise<void>((resolve) => {
          void consumer.consume(`${id}-q`, (m) => {
            if (m === null) return;
            if (first) {
              first = false;
              consumer.nack(m, false, true);
              return;
            }
            consumer.ack(m);
            if (++acked === 5) resolve();
          });
        });
        const name = ((await until(t, '/api/connections', (b) => (b as { user_provided_name?: string }[]).some((c) => c.user_provided_name === id))).body as Record<string, string>[]).find((c) => c.user_provided_name === id)!.name;
        const queue = await until(t, `/api/queues/%2F/${id}-q`, (b) => statsOf(b).ack === 5);
        const idle = await until(t, `/api/queues/%2F/${id}-idle`, (b) => statsOf(b).get_empty === 1);
        const exchange = await until(t, `/api/exchanges/%2F/${id}-x`, (b) => statsOf(b).publish_in === 7);
        const channels = await until(t, `/api/connections/${encodeURIComponent(name)}/channels`, (b) => {
          const list = b as { number: number; message_stats?: Stats }[];
          return list.length === 2 && list.find((c) => c.number === 1)?.message_stats?.confirm === 7 && list.find((c) => c.number === 2)?.message_stats?.ack === 5;
        });
        const vhost = await until(t, '/api/vhosts/%2F', (b) => (statsOf(b).ack as number) - ((vhostBefore.ack as number | undefined) ?? 0) >= 5);
        const overview = await until(t, '/api/overview', (b) => (statsOf(b).ack as number) - ((overviewBefore.ack as number | undefined) ?? 0) >= 5);
        const disabled = await call(t, 'GET', `/api/queues/%2F/${id}-q?disable_stats=true`);
        const ranged = await call(t, 'GET', '/api/overview?lengths_age=60&lengths_incr=5&msg_rates_age=60&msg_rates_incr=5');
        const connection = await call(t, 'GET', `/api/connections/${encodeURIComponent(name)}`);
        const channelList = channels.body as { number: number; message_stats: Stats }[];
        const moved = ['publish', 'confirm', 'deliver', 'deliver_get', 'ack', 'redeliver', 'get_empty', 'drop_unroutable', 'return_unroutable'];
        return {
          queue: statsOf(queue.body),
          queueDepthRates: ['messages_details', 'messages_ready_details', 'messages_unacknowledged_details'].map((k) => typeof ((queue.body as Record<string, { rate?: unknown }>)[k]?.rate)),
          idle: statsOf(idle.body),
          exchange: statsOf(exchange.body),
          publisher: channelList.find((c) => c.number === 1)!.message_stats,
          consumer: channelList.find((c) => c.number === 2)!.message_stats,
          vhostKeys: keys(statsOf(vhost.body)),
          vhostDelta: delta(statsOf(vhost.body), vhostBefore, moved),
          vhostDepthRates: ['messages_details', 'messages_ready_details', 'messages_unacknowledged_details', 'recv_oct_details', 'send_oct_details'].map((k) => typeof ((vhost.body as Record<string, { rate?: unknown }>)[k]?.rate)),
          // disk_reads and disk_writes: RabbitMQ's message store counters, which Warren does not keep.
          overviewKeys: keys(statsOf(overview.body)).filter((k) => !k.startsWith('disk_')),
          overviewDelta: delta(statsOf(overview.body), overviewBefore, moved),
          churnKeys: keys((overview.body as { churn_rates: unknown }).churn_rates),
          queueTotalsKeys: keys((overview.body as { queue_totals: unknown }).queue_totals),
          disabled: keys(disabled.body),
          rangedStatus: ranged.status,
          rangedPublish: (statsOf(ranged.body).publish_details as { rate: unknown }).rate,
          connectionTraffic: ['recv_oct', 'recv_cnt', 'send_oct', 'send_cnt'].map((k) => typeof (connection.body as Record<string, unknown>)[k]).concat(
            ['recv_oct_details', 'send_oct_details'].map((k) => typeof ((connection.body as Record<string, { rate?: unknown }>)[k]?.rate)),
          ),
        };
      } finally {
        await conn.close();
      }
    });
    // Every counter has its {rate} (RabbitMQ adds samples with the range parameters; Warren answers the rate alone).
    for (const stats of [w.queue, w.exchange, w.publisher, w.consumer]) {
      for (const [key, value] of Object.entries(stats)) if (typeof value === 'number') expect(typeof (stats[`${key}_details`] as { rate: unknown }).rate, key).toBe('number');
    }
    expect(counts(w.queue)).toMatchObject({ publish: 5, deliver: 6, deliver_get: 6, ack: 5, redeliver: 1 });
    expect(typeof w.rangedPublish).toBe('number');
    const pick = (side: typeof w) => ({
      ...side,
      queue: counts(side.queue),
      idle: counts(side.idle),
      exchange: counts(side.exchange),
      publisher: counts(side.publisher),
      consumer: counts(side.consumer),
      rangedPublish: null,
    });
    expect(pick(w)).toEqual(pick(r));
  }, 90_000);

  // rabbitmqadmin ships with Debian's rabbitmq-server package (/usr/bin/rabbitmqadmin, Python 3).
  it.skipIf(!fs.existsSync(RABBITMQADMIN))('rabbitmqadmin: declare, publish, get, purge, list, delete, close connection', async () => {
    const [r, w] = await both(async (t, id) => {
      const admin = async (...args: string[]): Promise<string> => {
        const { stdout } = await run(RABBITMQADMIN, ['-H', '127.0.0.1', '-P', new URL(t.http).port, '-u', 'guest', '-p', 'guest', ...args], { timeout: 15_000 });
        return stdout;
      };
      const q = `${id}.q`;
      const out = {
        declare: await admin('declare', 'queue', `name=${q}`, 'durable=false'),
        declareExchange: await admin('declare', 'exchange', `name=${id}.x`, 'type=fanout'),
        bind: await admin('declare', 'binding', `source=${id}.x`, `destination=${q}`),
        publish: await admin('publish', `exchange=${id}.x`, 'routing_key=any', 'payload=hello'),
        get: await admin('get', `queue=${q}`, 'ackmode=ack_requeue_true'),
        purge: await admin('purge', 'queue', `name=${q}`),
        emptyGet: await admin('get', `queue=${q}`),
        unbind: await admin('delete', 'binding', `source=${id}.x`, 'destination_type=queue', `destination=${q}`, 'properties_key=~'),
        deleteExchange: await admin('delete', 'exchange', `name=${id}.x`),
        exchanges: (await admin('-f', 'tsv', '-q', 'list', 'exchanges', 'name', 'type')).split('\n').filter((l) => l.startsWith('amq.direct')),
        queues: (await admin('-f', 'tsv', '-q', 'list', 'queues', 'name')).split('\n').filter((l) => l === q),
      };
      await admin('delete', 'queue', `name=${q}`);
      const conn = await connect(t.amqpUrl, { clientProperties: { connection_name: `${id}-admin` } });
      const listed = await until(t, '/api/connections', (b) => (b as { user_provided_name?: string }[]).some((c) => c.user_provided_name === `${id}-admin`));
      const name = (listed.body as { name: string; user_provided_name?: string }[]).find((c) => c.user_provided_name === `${id}-admin`)!.name;
      const closed = closedBy(conn);
      const close = await admin('close', 'connection', `name=${name}`);
      return {
        ...out,
        queuesAfter: (await admin('-f', 'tsv', '-q', 'list', 'queues', 'name')).split('\n').filter((l) => l === q),
        close,
        closed: await closed,
      };
    });
    expect(w.publish).toBe('Message published\n');
    expect(w.get).toMatch(/\| hello +\| 5 +\| string/);
    expect(w.exchanges).toEqual(['amq.direct\tdirect']);
    expect(w.queues).toHaveLength(1);
    expect(w.queuesAfter).toEqual([]);
    expect(w.closed).toBe('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - Closed via management plugin"');
    expect(w).toEqual(r);
  }, 60_000);

  it.skipIf(!fs.existsSync(RABBITMQADMIN))('rabbitmqadmin: users, vhosts, permissions, policies, operator policies, export and import', async () => {
    const dir = tempDir();
    const [r, w] = await both(async (t, id) => {
      const admin = async (...args: string[]): Promise<string> => {
        const { stdout } = await run(RABBITMQADMIN, ['-H', '127.0.0.1', '-P', new URL(t.http).port, '-u', 'guest', '-p', 'guest', ...args], { timeout: 15_000 });
        return stdout;
      };
      const list = async (...args: string[]): Promise<string[]> => (await admin('-f', 'tsv', '-q', 'list', ...args)).split('\n').filter((l) => l.includes(id)).sort();
      const file = path.join(dir, `${t.name}.json`);
      const declared = {
        vhost: await admin('declare', 'vhost', `name=${id}-v`),
        user: await admin('declare', 'user', `name=${id}-u`, 'password=secret', 'tags=monitoring'),
        permission: await admin('declare', 'permission', `vhost=${id}-v`, `user=${id}-u`, 'configure=^x', 'write=.*', 'read='),
        policy: await admin('-V', `${id}-v`, 'declare', 'policy', `name=${id}-p`, 'pattern=^q', 'definition={"max-length":5}', 'priority=2', 'apply-to=queues'),
        operatorPolicy: await admin('-V', `${id}-v`, 'declare', 'operator_policy', `name=${id}-op`, 'pattern=.*', 'definition={"max-length":100}'),
      };
      const listed = {
        users: await list('users', 'name', 'tags'),
        vhosts: await list('vhosts', 'name'),
        permissions: await list('permissions', 'vhost', 'user', 'configure', 'write', 'read'),
        policies: await list('policies', 'vhost', 'name', 'pattern', 'apply-to', 'priority', 'definition'),
        operatorPolicies: await list('operator_policies', 'vhost', 'name', 'pattern', 'definition'),
      };
      const exported = (await admin('export', file)).replace(file, '<file>');
      const definitions = JSON.parse(fs.readFileSync(file, 'utf8')) as { users: { name: string }[]; vhosts: { name: string }[]; policies: { name: string }[] };
      const inDefinitions = {
        user: definitions.users.some((u) => u.name === `${id}-u`),
        vhost: definitions.vhosts.some((v) => v.name === `${id}-v`),
        policy: definitions.policies.some((p) => p.name === `${id}-p`),
      };
      const deleted = {
        policy: await admin('-V', `${id}-v`, 'delete', 'policy', `name=${id}-p`),
        operatorPolicy: await admin('-V', `${id}-v`, 'delete', 'operator_policy', `name=${id}-op`),
        permission: await admin('delete', 'permission', `vhost=${id}-v`, `user=${id}-u`),
        user: await admin('delete', 'user', `name=${id}-u`),
        vhost: await admin('delete', 'vhost', `name=${id}-v`),
      };
      const afterDelete = { users: await list('users', 'name'), vhosts: await list('vhosts', 'name') };
      // The export brings the user, vhost, permission and policy back.
      const imported = (await admin('import', file)).replace(file, '<file>');
      const afterImport = {
        users: await list('users', 'name', 'tags'),
        permissions: await list('permissions', 'vhost', 'user', 'configure', 'write', 'read'),
        policies: await list('policies', 'vhost', 'name', 'pattern', 'apply-to', 'priority', 'definition'),
      };
      await admin('delete', 'vhost', `name=${id}-v`);
      await admin('delete', 'user', `name=${id}-u`);
      return { declared, listed, exported, inDefinitions, deleted, afterDelete, imported, afterImport, id };
    });
    expect(w.listed.users).toEqual([`${w.id}-u\tmonitoring`]);
    // The creator (guest) gets .* .* .* on a vhost declared over HTTP.
    expect(w.listed.permissions).toEqual([`${w.id}-v\tguest\t.*\t.*\t.*`, `${w.id}-v\t${w.id}-u\t^x\t.*\t`]);
    expect(w.listed.policies).toHaveLength(1);
    expect(w.inDefinitions).toEqual({ user: true, vhost: true, policy: true });
    expect(w.afterDelete).toEqual({ users: [], vhosts: [] });
    expect(w.afterImport.permissions).toEqual(w.listed.permissions);
    const anonymous = (x: typeof w): unknown => JSON.parse(JSON.stringify({ ...x, id: undefined }).replaceAll(x.id, 'ID'));
    expect(anonymous(w)).toEqual(anonymous(r));
  }, 60_000);

  // Warren only: RabbitMQ lists connections, channels and consumers a stats interval late, and node values differ.
  it.skipIf(!fs.existsSync(RABBITMQADMIN))('rabbitmqadmin: list connections, channels, consumers, bindings, nodes and show overview on Warren', async () => {
    const t = targets.find((target) => target.name === 'Warren')!;
    const id = `mgmt-${crypto.randomBytes(3).toString('hex')}`;
    const admin = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(RABBITMQADMIN, ['-H', '127.0.0.1', '-P', new URL(t.http).port, '-u', 'guest', '-p', 'guest', '-f', 'tsv', '-q', ...args], { timeout: 15_000 });
      return stdout;
    };
    const conn = await connect(t.amqpUrl, { clientProperties: { connection_name: id } });
    try {
      const ch = await channel(conn);
      await ch.assertQueue(`${id}.q`, { exclusive: true });
      await ch.bindQueue(`${id}.q`, 'amq.fanout', '');
      await ch.consume(`${id}.q`, () => {}, { consumerTag: `${id}.tag` });
      const connections = await admin('list', 'connections', 'user_provided_name', 'user', 'channels');
      const channels = await admin('list', 'channels', 'user', 'consumer_count');
      const consumers = await admin('list', 'consumers', 'queue.name', 'consumer_tag');
      const bindings = await admin('list', 'bindings', 'source', 'destination', 'destination_type');
      const nodes = await admin('list', 'nodes', 'name', 'type', 'running');
      const overview = await admin('show', 'overview', 'rabbitmq_version');
      expect(connections.split('\n')).toContain(`${id}\tguest\t1`);
      expect(channels.split('\n')).toContain('guest\t1');
      expect(consumers.split('\n')).toContain(`${id}.q\t${id}.tag`);
      expect(bindings.split('\n')).toContain(`amq.fanout\t${id}.q\tqueue`);
      expect(nodes).toMatch(/^\S+\tdisc\tTrue\n$/);
      expect(overview).toBe('3.10.8\n');
    } finally {
      await conn.close().catch(() => {});
    }
  }, 30_000);
});

describe('management API: Warren alone', () => {
  // Deliberately not RabbitMQ's answer: its HTTP server (cowboy) sends nothing and closes after its 5 s request
  // timeout (measured); Warren answers at once, so a client on the wrong port fails fast.
  it('an AMQP client on the HTTP port gets 400 and the socket closes', async () => {
    const dir = tempDir();
    const server = await startWarrenServer(dir);
    try {
      const socket = net.connect({ host: '127.0.0.1', port: server.managementPort as number });
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
      await timeout(new Promise((resolve) => socket.on('close', resolve)), 5_000, 'the HTTP server closing the socket');
      expect(received.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      // The server goes on answering.
      expect((await fetch(`http://127.0.0.1:${server.managementPort}/api/auth`)).status).toBe(200);
    } finally {
      await server.close();
      removeDir(dir);
    }
  });

  it('lists a new connection, channel, consumer and queue at once (RabbitMQ: up to 5 s later)', async () => {
    const dir = tempDir();
    const server = await startWarrenServer(dir);
    const target: Target = { name: 'Warren', amqpUrl: `amqp://guest:guest@127.0.0.1:${server.port}`, amqpPort: server.port, http: `http://127.0.0.1:${server.managementPort}` };
    const conn = await connect(target.amqpUrl, { clientProperties: { connection_name: 'at-once' } });
    try {
      const ch = await channel(conn);
      await ch.assertQueue('at-once-q', { exclusive: true });
      await ch.consume('at-once-q', () => {}, { consumerTag: 'at-once-ct' });
      const [connections, channels, consumers, queue, overview] = await Promise.all(
        ['/api/connections', '/api/channels', '/api/consumers', '/api/queues/%2F/at-once-q', '/api/overview'].map((url) => call(target, 'GET', url)),
      );
      expect((connections.body as { user_provided_name: string; channels: number }[]).map((c) => [c.user_provided_name, c.channels])).toEqual([['at-once', 1]]);
      expect((channels.body as { consumer_count: number }[]).map((c) => c.consumer_count)).toEqual([1]);
      expect((consumers.body as { consumer_tag: string }[]).map((c) => c.consumer_tag)).toEqual(['at-once-ct']);
      expect(queue.body).toMatchObject({ exclusive: true, consumers: 1, messages: 0, consumer_details: [{ consumer_tag: 'at-once-ct' }] });
      expect(overview.body).toMatchObject({ object_totals: { connections: 1, channels: 1, consumers: 1, queues: 1 } });
    } finally {
      await conn.close();
      await server.close();
      removeDir(dir);
    }
  });

  it('a durable queue, exchange and binding declared over HTTP survive a restart; a transient queue does not', async () => {
    const dir = tempDir();
    const declare = async (target: Target) => [
      (await call(target, 'PUT', '/api/queues/%2F/kept', { body: { durable: true } })).status,
      (await call(target, 'PUT', '/api/queues/%2F/gone', { body: { durable: false } })).status,
      (await call(target, 'PUT', '/api/exchanges/%2F/kept-x', { body: { type: 'topic', durable: true } })).status,
      (await call(target, 'POST', '/api/bindings/%2F/e/kept-x/q/kept', { body: { routing_key: 'k.#' } })).status,
    ];
    let server = await startWarrenServer(dir);
    const http = (s: RunningServer): Target => ({ name: 'Warren', amqpUrl: '', amqpPort: s.port, http: `http://127.0.0.1:${s.managementPort}` });
    try {
      expect(await declare(http(server))).toEqual([201, 201, 201, 201]);
      await server.close();
      server = await startWarrenServer(dir);
      const target = http(server);
      expect((await call(target, 'GET', '/api/queues/%2F/kept')).status).toBe(200);
      expect((await call(target, 'GET', '/api/queues/%2F/gone')).status).toBe(404);
      expect((await call(target, 'GET', '/api/bindings/%2F/e/kept-x/q/kept')).body).toMatchObject([{ routing_key: 'k.#', properties_key: 'k.%23' }]);
    } finally {
      await server.close();
      removeDir(dir);
    }
  });

  it('alarm health checks fail with 503 while a resource alarm is set', async () => {
    const dir = tempDir();
    const server = await startWarrenServer(dir);
    try {
      const target: Target = { name: 'Warren', amqpUrl: '', amqpPort: server.port, http: `http://127.0.0.1:${server.managementPort}` };
      server.broker.alarms.set('memory', true);
      const alarms = await call(target, 'GET', '/api/health/checks/alarms');
      const local = await call(target, 'GET', '/api/health/checks/local-alarms');
      const node = ((await call(target, 'GET', '/api/nodes')).body as { mem_alarm: boolean }[])[0];
      server.broker.alarms.set('memory', false);
      const cleared = await call(target, 'GET', '/api/health/checks/alarms');
      expect(alarms.status).toBe(503);
      expect(alarms.body).toMatchObject({ status: 'failed', reason: 'There are alarms in effect in the cluster', alarms: [{ resource: 'memory' }] });
      expect(local).toMatchObject({ status: 503, body: { reason: 'There are alarms in effect in the node' } });
      expect(node.mem_alarm).toBe(true);
      expect(cleared).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      await server.close();
      removeDir(dir);
    }
  });

  it('logs one listening line per listener, and startBroker keeps management off unless asked', async () => {
    const dir = tempDir();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const server = await startWarrenServer(dir, pino({ level: 'info' }, sink));
    await server.close();
    const listening = lines.filter((l) => l.msg === 'listening').map((l) => ({ protocol: l.protocol, host: l.host, port: l.port }));
    expect(listening).toEqual([
      { protocol: 'amqp', host: '127.0.0.1', port: server.port },
      { protocol: 'http', host: '127.0.0.1', port: server.managementPort },
    ]);
    const off = await startBroker({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'off') });
    const on = await startBroker({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'on'), managementPort: 0 });
    try {
      expect([off.ports.management, off.managementUrl]).toEqual([null, null]);
      expect(on.ports.management).toBeGreaterThan(0);
      expect(on.managementUrl).toBe(`http://127.0.0.1:${on.ports.management}`);
      expect((await fetch(`${on.managementUrl}/api/auth`)).status).toBe(200);
    } finally {
      await Promise.all([off.close(), on.close()]);
      removeDir(dir);
    }
  });
});
