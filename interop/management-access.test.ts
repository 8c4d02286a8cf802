// The management API's access side, compared with a private RabbitMQ node
// running rabbitmq_management: users, vhosts, permissions, topic permissions,
// policies, operator policies and definitions (status, error bodies, field
// sets), a definitions round trip in both directions, and the rules of each
// user tag (one allowed and one refused request per rule), including the AMQP
// permissions that HTTP declares, deletes, binds, publishes and gets obey.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { connect, sleep, timeout } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { removeDir, trackDir } from './support/procs.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';

interface Target {
  name: 'RabbitMQ' | 'Warren';
  amqpUrl: string;
  http: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const GUEST = basic('guest', 'guest');

async function call(target: Target, method: string, url: string, opts: { body?: unknown; auth?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: opts.auth ?? GUEST, ...opts.headers };
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? (opts.body as string) : JSON.stringify(opts.body);
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  const response = await fetch(target.http + url, { method, headers, body, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  const pick = ['content-disposition', 'location'];
  const picked = Object.fromEntries(pick.filter((h) => response.headers.get(h) !== null).map((h) => [h, response.headers.get(h)]));
  return { status: response.status, headers: picked, body: parsed };
}

/** Status and body: what must be the same on both brokers. */
const answer = (a: Answer) => ({ status: a.status, body: a.body });
const status = (a: Answer) => a.status;
/** RabbitMQ's order of topic permissions is its table's, not a stable one: compare them sorted. */
const sorted = (a: Answer) => ({ status: a.status, body: Array.isArray(a.body) ? [...a.body].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))) : a.body });
const keys = (value: unknown) => Object.keys(value as object).sort();

const rabbitDep = rabbitmqDependency();
const rabbitMissing = gate(rabbitDep);

describe.skipIf(rabbitMissing)(label('management API access: Warren and RabbitMQ side by side', rabbitDep), () => {
  let rabbit: RabbitNode | undefined;
  let warren: RunningServer | undefined;
  let dataDir = '';
  const targets: Target[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-mgmt-access-'));
    trackDir(dataDir);
    [rabbit, warren] = await Promise.all([
      startRabbitMQ({ management: true }),
      startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: 0, metricsPort: -1 }, pino({ level: 'silent' })),
    ]);
    targets.push(
      { name: 'RabbitMQ', amqpUrl: rabbit.url, http: `http://127.0.0.1:${rabbit.managementPort}` },
      { name: 'Warren', amqpUrl: `amqp://guest:guest@127.0.0.1:${warren.port}`, http: `http://127.0.0.1:${warren.managementPort}` },
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([rabbit?.stop(), warren?.close()]);
    removeDir(dataDir);
  }, 40_000);

  /** Runs `scenario` on RabbitMQ, then Warren, with the same fresh id; returns [RabbitMQ's result, Warren's]. */
  async function both<R>(scenario: (target: Target, id: string) => Promise<R>): Promise<[R, R]> {
    const id = `acc-${crypto.randomBytes(3).toString('hex')}`;
    return [await scenario(targets[0], id), await scenario(targets[1], id)];
  }

  const amqpUrl = (t: Target, user: string, pass: string, vhost: string) =>
    t.amqpUrl.replace('guest:guest@', `${user}:${pass}@`) + `/${encodeURIComponent(vhost)}`;

  it('users: PUT with password, hash or neither, tags as string or list, GET, lists, bulk-delete, DELETE', async () => {
    const [r, w] = await both(async (t, id) => {
      const created = status(await call(t, 'PUT', `/api/users/${id}`, { body: { password: 'pw', tags: 'monitoring,management' } }));
      const updated = status(await call(t, 'PUT', `/api/users/${id}`, { body: { password: 'pw2', tags: ['administrator'] } }));
      const whoami = answer(await call(t, 'GET', '/api/whoami', { auth: basic(id, 'pw2') }));
      const oldPassword = answer(await call(t, 'GET', '/api/whoami', { auth: basic(id, 'pw') }));
      const hashed = status(
        await call(t, 'PUT', `/api/users/${id}-h`, {
          body: { password_hash: 'kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: '' },
        }),
      );
      const hashedLogin = status(await call(t, 'GET', '/api/whoami', { auth: basic(`${id}-h`, 'test12') }));
      const one = await call(t, 'GET', `/api/users/${id}-h`);
      const noTags = answer(await call(t, 'PUT', `/api/users/${id}-x`, { body: { password: 'p' } }));
      const notBase64 = answer(await call(t, 'PUT', `/api/users/${id}-x`, { body: { password_hash: 'xx', tags: '' } }));
      const noPassword = status(await call(t, 'PUT', `/api/users/${id}-n`, { body: { tags: 'management' } }));
      const list = await call(t, 'GET', '/api/users');
      const mine = (list.body as { name: string }[]).filter((u) => u.name.startsWith(id)).map((u) => u.name);
      const without = (await call(t, 'GET', '/api/users/without-permissions')).body as { name: string }[];
      const bulk = answer(await call(t, 'POST', '/api/users/bulk-delete', { body: { users: [`${id}-h`, `${id}-n`, `${id}-never`] } }));
      const afterBulk = status(await call(t, 'GET', `/api/users/${id}-h`));
      const userPermissions = answer(await call(t, 'GET', `/api/users/${id}/permissions`));
      const userTopic = answer(await call(t, 'GET', `/api/users/${id}/topic-permissions`));
      const deleted = status(await call(t, 'DELETE', `/api/users/${id}`));
      const deletedAgain = answer(await call(t, 'DELETE', `/api/users/${id}`));
      const missing = answer(await call(t, 'GET', `/api/users/${id}`));
      return {
        created,
        updated,
        whoami,
        oldPassword,
        hashed,
        hashedLogin,
        one: { ...(one.body as object), password_hash: null },
        oneKeys: keys(one.body),
        noTags,
        notBase64,
        noPassword,
        mine,
        withoutHasNew: without.some((u) => u.name === `${id}-h`),
        withoutHasGuest: without.some((u) => u.name === 'guest'),
        bulk,
        afterBulk,
        userPermissions,
        userTopic,
        deleted,
        deletedAgain,
        missing,
        listKeys: keys((list.body as object[])[0]),
      };
    });
    expect(w).toEqual(r);
  }, 30_000);

  const withoutQueueType = (metadata: unknown) => {
    const { default_queue_type: _type, ...rest } = metadata as Record<string, unknown>;
    return rest;
  };

  it('vhosts: PUT with metadata, the creator may use it at once, permissions lists, DELETE closes its connections with 320', async () => {
    const [r, w] = await both(async (t, id) => {
      const created = status(await call(t, 'PUT', `/api/vhosts/${id}`, { body: { description: 'for tests', tags: 'a,b' } }));
      const again = status(await call(t, 'PUT', `/api/vhosts/${id}`, { body: { description: 'changed', tags: ['c'], default_queue_type: 'quorum' } }));
      const one = (await call(t, 'GET', `/api/vhosts/${id}`)).body as Record<string, unknown>;
      await call(t, 'PUT', `/api/vhosts/${id}-q`, { body: { default_queue_type: 'quorum' } });
      const quorum = (await call(t, 'GET', `/api/vhosts/${id}-q`)).body as Record<string, unknown>;
      await call(t, 'DELETE', `/api/vhosts/${id}-q`);
      const creator = answer(await call(t, 'GET', `/api/permissions/${id}/guest`));
      const vhostPermissions = answer(await call(t, 'GET', `/api/vhosts/${id}/permissions`));
      const vhostTopic = answer(await call(t, 'GET', `/api/vhosts/${id}/topic-permissions`));
      const conn = await connect(amqpUrl(t, 'guest', 'guest', id));
      const closed = timeout(new Promise<string>((resolve) => conn.once('close', (e?: Error) => resolve(e?.message ?? ''))), 10_000, 'close');
      const deleted = status(await call(t, 'DELETE', `/api/vhosts/${id}`));
      const message = await closed;
      const missing = answer(await call(t, 'DELETE', `/api/vhosts/${id}`));
      return {
        created,
        again,
        one: { description: one.description, tags: one.tags, metadata: withoutQueueType(one.metadata) },
        quorum: { metadata: withoutQueueType(quorum.metadata) },
        // Deliberately not 3.10.8, whose HTTP API ignores default_queue_type: RabbitMQ 3.11 keeps it, and so do
        // Warren's definitions, so Warren keeps it too.
        queueTypes: [one.default_queue_type, quorum.default_queue_type],
        creator,
        vhostPermissions,
        vhostTopic,
        deleted,
        // RabbitMQ races two closers ("is deleted" or "is down"); Warren always says "is deleted".
        message: message.replace("is down", 'is deleted'),
        missing,
      };
    });
    expect(r.queueTypes).toEqual(['undefined', 'undefined']);
    expect(w.queueTypes).toEqual(['quorum', 'quorum']);
    expect({ ...w, queueTypes: null }).toEqual({ ...r, queueTypes: null });
  }, 30_000);

  it('permissions and topic permissions: PUT, GET, lists, missing user or vhost, DELETE', async () => {
    const [r, w] = await both(async (t, id) => {
      await call(t, 'PUT', `/api/users/${id}`, { body: { password: 'pw', tags: '' } });
      const put = status(await call(t, 'PUT', `/api/permissions/%2F/${id}`, { body: { configure: '', write: '.*', read: '^r' } }));
      const again = status(await call(t, 'PUT', `/api/permissions/%2F/${id}`, { body: { configure: '^c', write: '.*', read: '^r' } }));
      const one = answer(await call(t, 'GET', `/api/permissions/%2F/${id}`));
      const noUser = answer(await call(t, 'PUT', `/api/permissions/%2F/${id}-ghost`, { body: { configure: '', write: '', read: '' } }));
      const noVhost = answer(await call(t, 'PUT', `/api/permissions/${id}-nope/${id}`, { body: { configure: '', write: '', read: '' } }));
      const listed = ((await call(t, 'GET', '/api/permissions')).body as { user: string }[]).filter((p) => p.user === id);
      const topicPut = status(await call(t, 'PUT', `/api/topic-permissions/%2F/${id}`, { body: { exchange: 'amq.topic', write: '^a', read: '.*' } }));
      const topicAgain = status(await call(t, 'PUT', `/api/topic-permissions/%2F/${id}`, { body: { exchange: 'amq.topic', write: '^b', read: '.*' } }));
      await call(t, 'PUT', `/api/topic-permissions/%2F/${id}`, { body: { exchange: 'other', write: '', read: '' } });
      const topicOne = sorted(await call(t, 'GET', `/api/topic-permissions/%2F/${id}`));
      const topicListed = (sorted(await call(t, 'GET', '/api/topic-permissions')).body as { user: string }[]).filter((p) => p.user === id);
      const topicNoUser = answer(await call(t, 'PUT', `/api/topic-permissions/%2F/${id}-ghost`, { body: { exchange: 'x', write: '', read: '' } }));
      const topicDeleteOne = status(await call(t, 'DELETE', `/api/topic-permissions/%2F/${id}/other`));
      const topicAfterOne = answer(await call(t, 'GET', `/api/topic-permissions/%2F/${id}`));
      const topicDeleteAll = status(await call(t, 'DELETE', `/api/topic-permissions/%2F/${id}`));
      const topicGone = answer(await call(t, 'GET', `/api/topic-permissions/%2F/${id}`));
      const deleted = status(await call(t, 'DELETE', `/api/permissions/%2F/${id}`));
      const gone = answer(await call(t, 'GET', `/api/permissions/%2F/${id}`));
      const deleteGone = status(await call(t, 'DELETE', `/api/permissions/%2F/${id}`));
      await call(t, 'DELETE', `/api/users/${id}`);
      return { put, again, one, noUser, noVhost, listed, topicPut, topicAgain, topicOne, topicListed, topicNoUser, topicDeleteOne, topicAfterOne, topicDeleteAll, topicGone, deleted, gone, deleteGone };
    });
    expect(w).toEqual(r);
  }, 30_000);

  it('policies and operator policies: PUT, validation errors, GET, lists, the fields of a queue they apply to, DELETE', async () => {
    const [r, w] = await both(async (t, id) => {
      const policy = { pattern: `^${id}\\.`, 'apply-to': 'queues', definition: { 'max-length': 5, 'message-ttl': 60000 }, priority: 1 };
      const put = status(await call(t, 'PUT', `/api/policies/%2F/${id}`, { body: policy }));
      const again = status(await call(t, 'PUT', `/api/policies/%2F/${id}`, { body: { ...policy, priority: 2 } }));
      const badKey = answer(await call(t, 'PUT', `/api/policies/%2F/${id}-bad`, { body: { pattern: '.*', definition: { nonsense: 1 } } }));
      const badValue = answer(await call(t, 'PUT', `/api/policies/%2F/${id}-bad`, { body: { pattern: '.*', definition: { 'message-ttl': 'abc' } } }));
      const empty = answer(await call(t, 'PUT', `/api/policies/%2F/${id}-bad`, { body: { pattern: '.*', definition: {} } }));
      const noVhost = answer(await call(t, 'PUT', `/api/policies/${id}-nope/${id}`, { body: policy }));
      const one = answer(await call(t, 'GET', `/api/policies/%2F/${id}`));
      const listed = ((await call(t, 'GET', '/api/policies/%2F')).body as { name: string }[]).filter((p) => p.name === id);
      const operator = status(await call(t, 'PUT', `/api/operator-policies/%2F/${id}`, { body: { pattern: `^${id}\\.`, 'apply-to': 'queues', definition: { 'max-length': 3 } } }));
      const operatorOne = answer(await call(t, 'GET', `/api/operator-policies/%2F/${id}`));
      const operatorListed = ((await call(t, 'GET', '/api/operator-policies')).body as { name: string }[]).filter((p) => p.name === id);
      await call(t, 'PUT', `/api/queues/%2F/${id}.q`, { body: {} });
      // RabbitMQ applies a policy to a new queue asynchronously.
      let queue: Record<string, unknown> = {};
      for (let i = 0; i < 40; i++) {
        queue = (await call(t, 'GET', `/api/queues/%2F/${id}.q`)).body as Record<string, unknown>;
        if (queue.policy === id && queue.operator_policy === id) break;
        await sleep(100);
      }
      // An exchange a policy applies to shows it (and an exchange without one does not have the field).
      await call(t, 'PUT', `/api/policies/%2F/${id}-x`, { body: { pattern: `^${id}\\.x$`, 'apply-to': 'exchanges', definition: { 'alternate-exchange': 'ae' } } });
      await call(t, 'PUT', `/api/exchanges/%2F/${id}.x`, { body: {} });
      await call(t, 'PUT', `/api/exchanges/%2F/${id}.y`, { body: {} });
      let exchange: Record<string, unknown> = {};
      for (let i = 0; i < 40; i++) {
        exchange = (await call(t, 'GET', `/api/exchanges/%2F/${id}.x`)).body as Record<string, unknown>;
        if (exchange.policy === `${id}-x`) break;
        await sleep(100);
      }
      const plainExchange = (await call(t, 'GET', `/api/exchanges/%2F/${id}.y`)).body as Record<string, unknown>;
      await call(t, 'DELETE', `/api/exchanges/%2F/${id}.x`);
      await call(t, 'DELETE', `/api/exchanges/%2F/${id}.y`);
      await call(t, 'DELETE', `/api/policies/%2F/${id}-x`);
      const deleted = status(await call(t, 'DELETE', `/api/policies/%2F/${id}`));
      const operatorDeleted = status(await call(t, 'DELETE', `/api/operator-policies/%2F/${id}`));
      const gone = answer(await call(t, 'GET', `/api/policies/%2F/${id}`));
      const deleteGone = status(await call(t, 'DELETE', `/api/operator-policies/%2F/${id}`));
      await call(t, 'DELETE', `/api/queues/%2F/${id}.q`);
      return {
        put,
        again,
        badKey,
        badValue,
        empty,
        noVhost,
        one,
        listed,
        operator,
        operatorOne,
        operatorListed,
        queue: { policy: queue.policy, operator_policy: queue.operator_policy, effective_policy_definition: queue.effective_policy_definition },
        exchange: { policy: exchange.policy, operator_policy: exchange.operator_policy, effective_policy_definition: exchange.effective_policy_definition },
        plainExchange: ['policy', 'operator_policy', 'effective_policy_definition'].filter((key) => key in plainExchange),
        deleted,
        operatorDeleted,
        gone,
        deleteGone,
      };
    });
    expect(w).toEqual(r);
  }, 30_000);

  it('definitions: download header, bad bodies, per-vhost form, a form upload with ?auth=, and round trips both ways', async () => {
    const seed = async (t: Target, id: string) => {
      await call(t, 'PUT', `/api/vhosts/${id}`, {});
      await call(t, 'PUT', `/api/users/${id}`, { body: { password: 'pw', tags: 'management' } });
      await call(t, 'PUT', `/api/permissions/${id}/${id}`, { body: { configure: '^c', write: '^w', read: '^r' } });
      await call(t, 'PUT', `/api/topic-permissions/${id}/${id}`, { body: { exchange: 'amq.topic', write: '^t', read: '.*' } });
      await call(t, 'PUT', `/api/exchanges/${id}/${id}.x`, { body: { type: 'fanout', durable: true } });
      await call(t, 'PUT', `/api/queues/${id}/${id}.q`, { body: { durable: true, arguments: { 'x-max-length': 9 } } });
      await call(t, 'POST', `/api/bindings/${id}/e/${id}.x/q/${id}.q`, { body: { routing_key: 'k' } });
      await call(t, 'PUT', `/api/policies/${id}/${id}`, { body: { pattern: '^none$', definition: { 'message-ttl': 1000 } } });
    };
    const cleanup = async (t: Target, id: string) => {
      await call(t, 'DELETE', `/api/vhosts/${id}`);
      await call(t, 'DELETE', `/api/users/${id}`);
    };
    /** What of an export must survive a round trip: the objects of one test vhost and user, in one order, without password hashes (salted). */
    const ofTest = (document: Record<string, unknown[]>, id: string) => {
      const pick = (key: string) =>
        (document[key] ?? [])
          .filter((item) => JSON.stringify(item).includes(id))
          .map((item) => {
            const { password_hash: _hash, ...rest } = item as Record<string, unknown>;
            return rest;
          })
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return Object.fromEntries(['users', 'vhosts', 'permissions', 'topic_permissions', 'policies', 'queues', 'exchanges', 'bindings'].map((k) => [k, pick(k)]));
    };

    const [r, w] = await both(async (t, id) => {
      await seed(t, id);
      const download = await call(t, 'GET', '/api/definitions?download=defs.json');
      const all = download.body as Record<string, unknown[]>;
      const perVhost = await call(t, 'GET', `/api/definitions/${id}`);
      const auth = Buffer.from('guest:guest').toString('base64');
      const viaQuery = status(await call(t, 'GET', `/api/definitions?auth=${encodeURIComponent(auth)}`, { auth: '' }));
      const badJson = answer(await call(t, 'POST', '/api/definitions', { body: '{"queues":' }));
      const missingVhost = answer(await call(t, 'POST', '/api/definitions', { body: { queues: [{ name: 'q', vhost: `${id}-missing`, durable: true, auto_delete: false, arguments: {} }] } }));
      const badHash = answer(await call(t, 'POST', '/api/definitions', { body: { users: [{ name: `${id}-b`, password_hash: 'xx', tags: '' }] } }));
      const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
      const upload = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="defs.json"\r\nContent-Type: application/json\r\n\r\n` +
          JSON.stringify({ queues: [{ name: `${id}.up`, vhost: id, durable: true, auto_delete: false, arguments: {} }] }) +
          `\r\n--${boundary}--\r\n`,
      );
      const uploaded = answer(
        await call(t, 'POST', `/api/definitions?auth=${encodeURIComponent(auth)}`, { body: upload, auth: '', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }),
      );
      const uploadedQueue = status(await call(t, 'GET', `/api/queues/${id}/${id}.up`));
      // The UI's form also sends where to go next.
      const withRedirect = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="redirect"\r\n\r\n../../#/import-succeeded\r\n`),
        upload,
      ]);
      const redirected = await call(t, 'POST', `/api/definitions?auth=${encodeURIComponent(auth)}`, {
        body: withRedirect,
        auth: '',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      await call(t, 'DELETE', `/api/queues/${id}/${id}.up`);
      const copied = status(await call(t, 'PUT', `/api/vhosts/${id}-copy`, {}));
      const intoCopy = status(await call(t, 'POST', `/api/definitions/${id}-copy`, { body: perVhost.body }));
      const copy = (await call(t, 'GET', `/api/definitions/${id}-copy`)).body as Record<string, unknown>;
      await call(t, 'DELETE', `/api/vhosts/${id}-copy`);
      const snapshot = ofTest(all, id);
      await cleanup(t, id);
      return {
        status: download.status,
        disposition: download.headers['content-disposition'],
        topKeys: keys(all),
        perVhostKeys: keys(perVhost.body),
        perVhostPolicies: (perVhost.body as { policies: unknown[] }).policies,
        viaQuery,
        badJson,
        missingVhost,
        badHash,
        uploaded,
        uploadedQueue,
        redirected: { status: redirected.status, location: redirected.headers.location },
        copied,
        intoCopy,
        copyQueues: (copy.queues as { name: string }[]).map((q) => q.name),
        copyBindings: (copy.bindings as unknown[]).length,
        snapshot,
        all,
      };
    });
    // product_name and product_version say which broker wrote the file.
    const { all: rAll, ...rRest } = r;
    const { all: wAll, ...wRest } = w;
    expect(wRest).toEqual(rRest);

    // Warren's export imports into RabbitMQ, and RabbitMQ's into Warren, to the same objects.
    const cross = async (from: Record<string, unknown[]>, into: Target, id: string) => {
      const imported = answer(await call(into, 'POST', '/api/definitions', { body: from }));
      const after = ofTest((await call(into, 'GET', '/api/definitions')).body as Record<string, unknown[]>, id);
      const login = status(await call(into, 'GET', '/api/whoami', { auth: basic(id, 'pw') }));
      return { imported, after, login };
    };
    const [rabbitTarget, warrenTarget] = targets;
    const idW = `acc-${crypto.randomBytes(3).toString('hex')}`;
    await seed(warrenTarget, idW);
    const fromWarren = (await call(warrenTarget, 'GET', '/api/definitions')).body as Record<string, unknown[]>;
    const expected = ofTest(fromWarren, idW);
    await cleanup(warrenTarget, idW);
    const intoRabbit = await cross(fromWarren, rabbitTarget, idW);
    expect(intoRabbit).toEqual({ imported: { status: 204, body: undefined }, after: expected, login: 200 });
    const fromRabbit = (await call(rabbitTarget, 'GET', '/api/definitions')).body as Record<string, unknown[]>;
    await cleanup(rabbitTarget, idW);
    const intoWarren = await cross(fromRabbit, warrenTarget, idW);
    expect(intoWarren).toEqual({ imported: { status: 204, body: undefined }, after: expected, login: 200 });
    await cleanup(warrenTarget, idW);
    expect(keys(wAll)).toEqual(keys(rAll));
  }, 60_000);

  it('bad bodies: missing keys, wrong types, not JSON', async () => {
    const [r, w] = await both(async (t, id) => {
      await call(t, 'PUT', `/api/users/${id}`, { body: { password: 'pw', tags: '' } });
      const result = {
        permissionEmpty: answer(await call(t, 'PUT', `/api/permissions/%2F/${id}`, { body: {} })),
        // RabbitMQ's reason is an Erlang term of character codes; Warren says what is wrong in words.
        permissionBadRegex: status(await call(t, 'PUT', `/api/permissions/%2F/${id}`, { body: { configure: '(', write: '', read: '' } })),
        userBadAlgorithmLogin: 0,
        topicEmpty: answer(await call(t, 'PUT', `/api/topic-permissions/%2F/${id}`, { body: {} })),
        userNotJson: answer(await call(t, 'PUT', `/api/users/${id}`, { body: '{"tags":' })),
        userBadAlgorithm: answer(await call(t, 'PUT', `/api/users/${id}`, { body: { password: 'x', hashing_algorithm: 'nope', tags: 'management' } })),
        vhostNotJson: answer(await call(t, 'PUT', `/api/vhosts/${id}`, { body: 'nope' })),
        policyNoPattern: answer(await call(t, 'PUT', `/api/policies/%2F/${id}`, { body: { definition: { 'max-length': 1 } } })),
        policyNoDefinition: answer(await call(t, 'PUT', `/api/policies/%2F/${id}`, { body: { pattern: '.*' } })),
        definitionsArray: answer(await call(t, 'POST', '/api/definitions', { body: [] })),
        definitionsEmpty: answer(await call(t, 'POST', '/api/definitions', { body: '' })),
        bulkNoUsers: answer(await call(t, 'POST', '/api/users/bulk-delete', { body: {} })),
        missingUserPermissions: answer(await call(t, 'GET', `/api/users/${id}-nope/permissions`)),
        missingUserTopicPermissions: answer(await call(t, 'GET', `/api/users/${id}-nope/topic-permissions`)),
        missingVhostPermissions: answer(await call(t, 'GET', `/api/vhosts/${id}-nope/permissions`)),
        missingVhostTopicPermissions: answer(await call(t, 'GET', `/api/vhosts/${id}-nope/topic-permissions`)),
        missingPermission: answer(await call(t, 'GET', `/api/permissions/${id}-nope/${id}`)),
        missingTopicPermissionDelete: answer(await call(t, 'DELETE', `/api/topic-permissions/%2F/${id}/nope`)),
      };
      result.userBadAlgorithmLogin = status(await call(t, 'GET', '/api/whoami', { auth: basic(id, 'x') }));
      await call(t, 'DELETE', `/api/users/${id}`);
      await call(t, 'DELETE', `/api/vhosts/${id}`);
      return result;
    });
    expect(w).toEqual(r);
  }, 30_000);

  it('runtime parameters, global parameters, limits and feature flags: status and shape', async () => {
    const [r, w] = await both(async (t) => {
      const list = async (url: string) => {
        const a = await call(t, 'GET', url);
        return { status: a.status, isList: Array.isArray(a.body) };
      };
      return {
        parameters: await list('/api/parameters'),
        component: await list('/api/parameters/federation-upstream'),
        componentVhost: await list('/api/parameters/federation-upstream/%2F'),
        one: answer(await call(t, 'GET', '/api/parameters/federation-upstream/%2F/nope')),
        global: await list('/api/global-parameters'),
        globalOne: answer(await call(t, 'GET', '/api/global-parameters/nope')),
        vhostLimits: answer(await call(t, 'GET', '/api/vhost-limits')),
        vhostLimitsOne: answer(await call(t, 'GET', '/api/vhost-limits/%2F')),
        userLimits: answer(await call(t, 'GET', '/api/user-limits')),
        featureFlags: await list('/api/feature-flags'),
      };
    });
    expect(w).toEqual(r);
  }, 30_000);

  it('tags: what each tag may and may not do, and the AMQP permissions of HTTP operations', async () => {
    const [r, w] = await both(async (t, id) => {
      const other = `${id}-other`;
      await call(t, 'PUT', `/api/vhosts/${other}`, {});
      const users: Record<string, string> = { none: '', management: 'management', policymaker: 'policymaker', monitoring: 'monitoring', administrator: 'administrator' };
      const as: Record<string, string> = {};
      for (const [role, tags] of Object.entries(users)) {
        const name = `${id}-${role}`;
        await call(t, 'PUT', `/api/users/${name}`, { body: { password: 'pw', tags } });
        await call(t, 'PUT', `/api/permissions/%2F/${name}`, { body: { configure: `^${id}\\.c`, write: `^${id}\\.w|^amq\\.default$`, read: `^${id}\\.r` } });
        as[role] = basic(name, 'pw');
      }
      await call(t, 'PUT', `/api/queues/%2F/${id}.r`, { body: {} });
      await call(t, 'PUT', `/api/queues/%2F/${id}.c`, { body: {} });
      await call(t, 'PUT', `/api/exchanges/%2F/${id}.w`, { body: { type: 'topic' } });
      await call(t, 'PUT', `/api/topic-permissions/%2F/${id}-management`, { body: { exchange: `${id}.w`, write: '^ok', read: '.*' } });

      const get = async (role: string, url: string) => answer(await call(t, 'GET', url, { auth: as[role] }));
      const seen = async (role: string, url: string, field = 'name') =>
        ((await call(t, 'GET', url, { auth: as[role] })).body as Record<string, string>[]).map((item) => item[field]).filter((name) => name.startsWith(id) || name === '/');
      const m = as.management;
      const conn = await connect(amqpUrl(t, `${id}-management`, 'pw', '/'));
      const guestConn = await connect(t.amqpUrl);
      // RabbitMQ lists connections a stats interval late.
      const deadline = Date.now() + 12_000;
      let listed: { user: string; name: string }[] = [];
      for (;;) {
        listed = (await call(t, 'GET', '/api/connections')).body as { user: string; name: string }[];
        if (listed.some((c) => c.user === `${id}-management`) || Date.now() > deadline) break;
        await sleep(250);
      }
      const own = listed.find((c) => c.user === `${id}-management`)!;
      const guests = listed.find((c) => c.user === 'guest')!;
      const result = {
        noTag: await get('none', '/api/overview'),
        noTagWhoami: await get('none', '/api/whoami'),
        managementWhoami: await get('management', '/api/whoami'),
        managementUsers: await get('management', '/api/users'),
        managementNodes: await get('management', '/api/nodes'),
        managementDefinitions: await get('management', '/api/definitions'),
        managementPermissions: await get('management', '/api/permissions'),
        managementVhosts: await seen('management', '/api/vhosts'),
        managementOtherVhost: await get('management', `/api/vhosts/${other}`),
        managementOwnVhost: await get('management', '/api/vhosts/%2F'),
        managementOtherQueues: await get('management', `/api/queues/${other}`),
        managementQueues: await seen('management', '/api/queues/%2F'),
        managementPutVhost: await answer(await call(t, 'PUT', `/api/vhosts/${id}-v`, { auth: m, body: {} })),
        managementPolicy: answer(await call(t, 'PUT', `/api/policies/%2F/${id}`, { auth: m, body: { pattern: 'x', definition: { 'max-length': 1 } } })),
        managementPolicies: await get('management', '/api/policies'),
        managementParameters: await get('management', '/api/parameters'),
        managementConnections: ((await call(t, 'GET', '/api/connections', { auth: m })).body as { user: string }[]).map((c) => c.user),
        managementOthersConnection: await get('management', `/api/connections/${encodeURIComponent(guests.name)}`),
        managementOwnConnection: status(await call(t, 'GET', `/api/connections/${encodeURIComponent(own.name)}`, { auth: m })),
        managementCloseOthers: answer(await call(t, 'DELETE', `/api/connections/${encodeURIComponent(guests.name)}`, { auth: m })),
        monitoringNodes: status(await call(t, 'GET', '/api/nodes', { auth: as.monitoring })),
        monitoringVhosts: (await seen('monitoring', '/api/vhosts')).includes(other),
        monitoringOthersConnection: status(await call(t, 'GET', `/api/connections/${encodeURIComponent(guests.name)}`, { auth: as.monitoring })),
        monitoringCloseOthers: answer(await call(t, 'DELETE', `/api/connections/${encodeURIComponent(guests.name)}`, { auth: as.monitoring })),
        monitoringDefinitions: await get('monitoring', '/api/definitions'),
        monitoringUsers: await get('monitoring', '/api/users'),
        policymakerPolicy: status(await call(t, 'PUT', `/api/policies/%2F/${id}`, { auth: as.policymaker, body: { pattern: '^none$', definition: { 'max-length': 1 } } })),
        policymakerOtherVhost: answer(await call(t, 'PUT', `/api/policies/${other}/${id}`, { auth: as.policymaker, body: { pattern: '^none$', definition: { 'max-length': 1 } } })),
        policymakerOperatorPolicy: answer(await call(t, 'PUT', `/api/operator-policies/%2F/${id}`, { auth: as.policymaker, body: { pattern: '^none$', definition: { 'max-length': 1 } } })),
        policymakerParameters: status(await call(t, 'GET', '/api/parameters', { auth: as.policymaker })),
        policymakerPolicyDelete: status(await call(t, 'DELETE', `/api/policies/%2F/${id}`, { auth: as.policymaker })),
        administratorUsers: status(await call(t, 'GET', '/api/users', { auth: as.administrator })),
        administratorOtherVhost: status(await call(t, 'GET', `/api/queues/${other}`, { auth: as.administrator })),
        administratorDeclareWithoutPermissions: answer(await call(t, 'PUT', `/api/queues/${other}/${id}.c`, { auth: as.administrator, body: {} })),
        managementExchangesElsewhere: ((await call(t, 'GET', '/api/exchanges', { auth: m })).body as { vhost: string }[]).some((x) => x.vhost === other),
        monitoringExchangesElsewhere: ((await call(t, 'GET', '/api/exchanges', { auth: as.monitoring })).body as { vhost: string }[]).some((x) => x.vhost === other),
        managementAliveness: answer(await call(t, 'GET', `/api/aliveness-test/${other}`, { auth: m })),
        managementBindingsElsewhere: answer(await call(t, 'GET', `/api/bindings/${other}`, { auth: m })),
        managementDefinitionsVhost: answer(await call(t, 'GET', '/api/definitions/%2F', { auth: m })),
        managementVhostLimits: answer(await call(t, 'GET', `/api/vhost-limits/${other}`, { auth: m })),
        managementFeatureFlags: answer(await call(t, 'GET', '/api/feature-flags', { auth: m })),
        managementGlobalParameters: answer(await call(t, 'GET', '/api/global-parameters', { auth: m })),
        // Statistics and RabbitMQ's release support status are not Warren's; the rest of the field set is the same.
        managementOverviewKeys: keys((await call(t, 'GET', '/api/overview', { auth: m })).body).filter(
          (k) => !['message_stats', 'churn_rates', 'release_series_support_status'].includes(k),
        ),
        managementOverviewQueues:
          ((await call(t, 'GET', '/api/overview', { auth: m })).body as { object_totals: { queues: number } }).object_totals.queues ===
          ((await call(t, 'GET', '/api/queues', { auth: m })).body as unknown[]).length,
        managementConsumersElsewhere: answer(await call(t, 'GET', `/api/consumers/${other}`, { auth: m })),
        // AMQP permissions: configure ^id.c, write ^id.w, read ^id.r, topic writes to id.w only with keys ^ok.
        declareAllowed: status(await call(t, 'PUT', `/api/queues/%2F/${id}.c2`, { auth: m, body: {} })),
        declareRefused: answer(await call(t, 'PUT', `/api/queues/%2F/${id}.r2`, { auth: m, body: {} })),
        exchangeRefused: answer(await call(t, 'PUT', `/api/exchanges/%2F/${id}.r3`, { auth: m, body: {} })),
        deleteRefused: answer(await call(t, 'DELETE', `/api/queues/%2F/${id}.r`, { auth: m })),
        purgeRefused: answer(await call(t, 'DELETE', `/api/queues/%2F/${id}.c/contents`, { auth: m })),
        purgeAllowed: status(await call(t, 'DELETE', `/api/queues/%2F/${id}.r/contents`, { auth: m })),
        getRefused: answer(await call(t, 'POST', `/api/queues/%2F/${id}.c/get`, { auth: m, body: { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' } })),
        getAllowed: answer(await call(t, 'POST', `/api/queues/%2F/${id}.r/get`, { auth: m, body: { count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' } })),
        publishAllowed: answer(await call(t, 'POST', `/api/exchanges/%2F/${id}.w/publish`, { auth: m, body: { routing_key: 'ok.1', properties: {}, payload: 'x', payload_encoding: 'string' } })),
        publishTopicRefused: answer(await call(t, 'POST', `/api/exchanges/%2F/${id}.w/publish`, { auth: m, body: { routing_key: 'no.1', properties: {}, payload: 'x', payload_encoding: 'string' } })),
        publishRefused: answer(await call(t, 'POST', `/api/exchanges/%2F/amq.fanout/publish`, { auth: m, body: { routing_key: '', properties: {}, payload: 'x', payload_encoding: 'string' } })),
        bindRefused: answer(await call(t, 'POST', `/api/bindings/%2F/e/${id}.w/q/${id}.c`, { auth: m, body: { routing_key: 'k' } })),
      };
      await Promise.all([conn.close().catch(() => {}), guestConn.close().catch(() => {})]);
      for (const role of Object.keys(users)) await call(t, 'DELETE', `/api/users/${id}-${role}`);
      for (const q of ['r', 'c', 'c2']) await call(t, 'DELETE', `/api/queues/%2F/${id}.${q}`);
      await call(t, 'DELETE', `/api/exchanges/%2F/${id}.w`);
      await call(t, 'DELETE', `/api/vhosts/${other}`);
      return result;
    });
    expect(w).toEqual(r);
  }, 60_000);
});

describe('management API access: Warren alone', () => {
  it('users, vhosts, permissions, policies and imported definitions written over HTTP survive a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-mgmt-access-'));
    trackDir(dir);
    const start = () => startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir: dir, managementPort: 0, metricsPort: -1 }, pino({ level: 'silent' }));
    const target = (s: RunningServer): Target => ({ name: 'Warren', amqpUrl: '', http: `http://127.0.0.1:${s.managementPort}` });
    let server = await start();
    try {
      let t = target(server);
      const written = [
        status(await call(t, 'PUT', '/api/vhosts/kept', { body: { description: 'kept vhost', tags: 'x' } })),
        status(await call(t, 'PUT', '/api/users/kept', { body: { password: 'pw', tags: 'monitoring' } })),
        status(await call(t, 'PUT', '/api/permissions/kept/kept', { body: { configure: '^c', write: '^w', read: '^r' } })),
        status(await call(t, 'PUT', '/api/topic-permissions/kept/kept', { body: { exchange: 'amq.topic', write: '^a', read: '' } })),
        status(await call(t, 'PUT', '/api/policies/kept/p', { body: { pattern: '^q', definition: { 'max-length': 2 } } })),
        status(await call(t, 'PUT', '/api/operator-policies/kept/op', { body: { pattern: '^q', definition: { 'max-length': 1 } } })),
        status(await call(t, 'POST', '/api/definitions/kept', { body: { queues: [{ name: 'q1', durable: true, auto_delete: false, arguments: {} }] } })),
        status(await call(t, 'PUT', '/api/users/gone', { body: { password: 'pw', tags: '' } })),
        status(await call(t, 'DELETE', '/api/users/gone')),
      ];
      expect(written).toEqual([201, 201, 201, 201, 201, 201, 204, 201, 204]);
      await server.close();
      server = await start();
      t = target(server);
      expect((await call(t, 'GET', '/api/whoami', { auth: basic('kept', 'pw') })).body).toEqual({ name: 'kept', tags: ['monitoring'] });
      expect((await call(t, 'GET', '/api/vhosts/kept')).body).toMatchObject({ description: 'kept vhost', tags: ['x'] });
      expect((await call(t, 'GET', '/api/permissions/kept/kept')).body).toMatchObject({ configure: '^c', write: '^w', read: '^r' });
      expect((await call(t, 'GET', '/api/topic-permissions/kept/kept')).body).toMatchObject([{ exchange: 'amq.topic', write: '^a' }]);
      expect((await call(t, 'GET', '/api/queues/kept/q1')).body).toMatchObject({ policy: 'p', operator_policy: 'op', effective_policy_definition: { 'max-length': 1 } });
      expect((await call(t, 'GET', '/api/users/gone')).status).toBe(404);
    } finally {
      await server.close();
      removeDir(dir);
    }
  }, 30_000);

  it('an import that skips objects answers 204 as RabbitMQ does, and logs what it skipped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-mgmt-access-'));
    trackDir(dir);
    const lines: { level: number; msg: string; skipped?: string[] }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir: dir, managementPort: 0, metricsPort: -1 }, pino({ level: 'info' }, sink));
    try {
      const t: Target = { name: 'Warren', amqpUrl: '', http: `http://127.0.0.1:${server.managementPort}` };
      const body = { bindings: [{ source: 'amq.direct', vhost: '/', destination: 'no-such-queue', destination_type: 'queue', routing_key: 'k', arguments: {} }] };
      expect(answer(await call(t, 'POST', '/api/definitions', { body }))).toEqual({ status: 204, body: undefined });
      const warning = lines.find((line) => line.msg === 'definitions import over HTTP skipped some objects');
      expect(warning?.level).toBe(40);
      expect(warning?.skipped?.join(' ')).toContain('no-such-queue');
    } finally {
      await server.close();
      removeDir(dir);
    }
  });
});
