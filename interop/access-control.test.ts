// Users, vhosts and permissions, compared with a private RabbitMQ node: both
// brokers start from the same definitions document (RabbitMQ: load_definitions;
// Warren: a data dir holding it), then amqplib and pika run one allowed and one
// refused case for each row of the permission table (operations.md 3.2) as
// user 'limited', and the login refusals (3.3). Every answer (reply code and
// text) must equal RabbitMQ's; the matrix is printed at the end.
//
// Warren only: a fresh node given loadDefinitions makes no guest and keeps
// what it loaded across a restart; deleting a user or a vhost closes its
// connections with 320 and a deleted vhost's stored messages are gone;
// guest is refused on a non-loopback address (a network namespace and a veth
// pair, as root).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword, SHA256 } from '../src/broker/access/users.js';
import { type DefinitionsDocument, exportDefinitions, importDefinitions } from '../src/broker/definitions.js';
import { type Config, DEFAULT_CONFIG } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { asServerError, connect, timeout } from './support/amqp.js';
import { Args, decodeClose, encodeTable, m, method, PROTOCOL_HEADER, RawAmqp } from './support/raw-amqp.js';
import { runPika } from './support/clients.js';
import { compareBrokers, scenario } from './support/compare.js';
import { gate, label, PYTHON, pikaDependency, rabbitmqDependency } from './support/deps.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { trackDir } from './support/procs.js';
import { ROOT } from './support/warren.js';

/** RabbitMQ's stored form of a password (independent of Warren's code). */
function rabbitHash(password: string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  const salt = crypto.randomBytes(4);
  return Buffer.concat([salt, crypto.createHash(algorithm).update(salt).update(password, 'utf8').digest()]).toString('base64');
}

const DEFINITIONS = {
  users: [
    // The hash a RabbitMQ 3.10 node exported for guest/guest (mgmt-samples/definitions.json).
    { name: 'guest', password_hash: 'lWgYbyI/cg6ApTMALnxsetnttc4Wrv2kHBVeVRJImTYBUYtt', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'], limits: {} },
    { name: 'limited', password_hash: rabbitHash('limited'), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: 'management,policymaker' },
    { name: 'novhost', password_hash: rabbitHash('novhost'), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] },
    { name: 'strong', password_hash: rabbitHash('strong', 'sha512'), hashing_algorithm: 'rabbit_password_hashing_sha512', tags: [] },
    // Older exports carry no hashing_algorithm: sha256.
    { name: 'oldformat', password_hash: rabbitHash('oldformat'), tags: '' },
    { name: 'nopassword', password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] },
  ],
  vhosts: [{ name: '/' }, { name: 'staging', limits: [], metadata: { description: 'staging vhost', tags: ['qa'] } }],
  permissions: [
    { user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    { user: 'guest', vhost: 'staging', configure: '.*', write: '.*', read: '.*' },
    { user: 'limited', vhost: '/', configure: '^lim\\.', write: '^lim\\.', read: '^lim\\.' },
    { user: 'novhost', vhost: 'staging', configure: '.*', write: '.*', read: '.*' },
    { user: 'strong', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    { user: 'oldformat', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    { user: 'nopassword', vhost: '/', configure: '.*', write: '.*', read: '.*' },
  ],
  topic_permissions: [{ user: 'limited', vhost: '/', exchange: 'lim.topic', write: '^allowed\\.', read: '^allowed\\.' }],
};

type Step = [string, ...unknown[]];
interface Case {
  name: string;
  setup?: Step[];
  steps: Step[];
}
type Answer = 'ok' | [number, string];

/** The permission table's rows, each with an allowed and a refused case; names carry the client's prefix `p`. */
function cases(p: string): Case[] {
  const q = `lim.${p}.q`;
  const x = `lim.${p}.x`;
  const x2 = `lim.${p}.x2`;
  const other = `other.${p}`;
  const rows: [string, Step[] | null, Step[] | null, Step[]?][] = [
    ['exchange.declare', [['declareExchange', x, 'direct']], [['declareExchange', `${other}.x`, 'direct']]],
    [
      'exchange.declare with alternate-exchange',
      [['declareExchange', `lim.${p}.ae1`, 'fanout', { 'alternate-exchange': x }]],
      [['declareExchange', `lim.${p}.ae2`, 'fanout', { 'alternate-exchange': `${other}.ae` }]],
    ],
    ['exchange.delete', [['declareExchange', `lim.${p}.gone`, 'direct'], ['deleteExchange', `lim.${p}.gone`]], [['deleteExchange', `${other}.x`]]],
    ['queue.declare', [['declareQueue', q]], [['declareQueue', `${other}.q`]]],
    ['queue.declare server-named', null, [['declareQueue', '']]],
    [
      'queue.declare with x-dead-letter-exchange',
      [['declareQueue', `lim.${p}.dlq1`, { 'x-dead-letter-exchange': x }]],
      [['declareQueue', `lim.${p}.dlq2`, { 'x-dead-letter-exchange': '' }]],
    ],
    [
      'queue.declare of an existing queue with x-dead-letter-exchange (configure only)',
      [['declareQueue', `lim.${p}.dlq3`, { 'x-dead-letter-exchange': `${other}.dlx` }]],
      null,
      [['declareQueue', `lim.${p}.dlq3`, { 'x-dead-letter-exchange': `${other}.dlx` }]],
    ],
    [
      'exchange.declare of an existing exchange with alternate-exchange (configure only)',
      [['declareExchange', `lim.${p}.ae3`, 'fanout', { 'alternate-exchange': `${other}.ae` }]],
      null,
      [['declareExchange', `lim.${p}.ae3`, 'fanout', { 'alternate-exchange': `${other}.ae` }]],
    ],
    ['queue.delete', [['declareQueue', `lim.${p}.del`], ['deleteQueue', `lim.${p}.del`]], [['deleteQueue', `${other}.q`]]],
    ['queue.bind (read on the exchange)', [['declareQueue', q], ['declareExchange', x, 'direct'], ['bindQueue', q, x, 'k']], [['declareQueue', q], ['bindQueue', q, 'amq.direct', 'k']]],
    ['queue.bind (write on the queue, checked first)', null, [['bindQueue', `${other}.q`, 'amq.direct', 'k']]],
    ['queue.unbind', [['declareQueue', q], ['declareExchange', x, 'direct'], ['bindQueue', q, x, 'k'], ['unbindQueue', q, x, 'k']], [['unbindQueue', q, 'amq.direct', 'k']]],
    ['exchange.bind', [['declareExchange', x, 'direct'], ['declareExchange', x2, 'direct'], ['bindExchange', x2, x, 'k']], [['declareExchange', x, 'direct'], ['bindExchange', x, 'amq.fanout', 'k']]],
    ['exchange.bind (write on the destination)', null, [['bindExchange', `${other}.x`, x, 'k']]],
    ['exchange.unbind', [['declareExchange', x, 'direct'], ['declareExchange', x2, 'direct'], ['unbindExchange', x2, x, 'k']], [['unbindExchange', x, 'amq.fanout', 'k']]],
    ['basic.publish', [['declareExchange', x, 'direct'], ['publish', x, 'k']], [['publish', 'amq.direct', 'k']]],
    ['basic.publish to the default exchange (amq.default)', null, [['publish', '', q]]],
    [
      'basic.publish to a topic exchange (topic write)',
      [['declareExchange', 'lim.topic', 'topic'], ['publish', 'lim.topic', 'allowed.x']],
      [['declareExchange', 'lim.topic', 'topic'], ['publish', 'lim.topic', 'denied.x']],
    ],
    [
      'queue.bind to a topic exchange (topic read)',
      [['declareQueue', q], ['declareExchange', 'lim.topic', 'topic'], ['bindQueue', q, 'lim.topic', 'allowed.#']],
      [['declareQueue', q], ['declareExchange', 'lim.topic', 'topic'], ['bindQueue', q, 'lim.topic', 'denied.#']],
    ],
    ['basic.get', [['declareQueue', q], ['get', q]], [['get', `${other}.q`]]],
    ['basic.consume', [['declareQueue', q], ['consume', q]], [['consume', `${other}.q`]]],
    ['queue.purge', [['declareQueue', q], ['purge', q]], [['purge', `${other}.q`]]],
    ['queue.declare passive (no permission needed)', [['declareQueuePassive', `guest.${p}.q`]], null, [['declareQueue', `guest.${p}.q`]]],
    ['exchange.declare passive (no permission needed)', [['declareExchangePassive', `guest.${p}.x`]], null, [['declareExchange', `guest.${p}.x`, 'direct']]],
    ['user_id property', [['declareExchange', x, 'direct'], ['publish', x, 'k', 'limited']], [['declareExchange', x, 'direct'], ['publish', x, 'k', 'someoneelse']]],
  ];
  const out: Case[] = [];
  for (const [row, allowed, refused, setup] of rows) {
    if (allowed !== null) out.push({ name: `${row}: allowed`, steps: allowed, setup });
    if (refused !== null) out.push({ name: `${row}: refused`, steps: refused, setup });
  }
  return out;
}

function withUser(url: string, user: string, password: string, vhost = ''): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  u.pathname = vhost === '' ? '' : `/${encodeURIComponent(vhost)}`;
  return u.toString();
}

async function runStep(ch: Channel, [op, ...a]: Step): Promise<void> {
  const s = a as string[];
  const args = (i: number) => (a[i] as Record<string, unknown> | undefined) ?? {};
  switch (op) {
    case 'declareExchange':
      await ch.assertExchange(s[0], s[1], { durable: false, arguments: args(2) });
      return;
    case 'deleteExchange':
      await ch.deleteExchange(s[0]);
      return;
    case 'declareQueue':
      await ch.assertQueue(s[0], { durable: false, arguments: args(1) });
      return;
    case 'declareQueuePassive':
      await ch.checkQueue(s[0]);
      return;
    case 'declareExchangePassive':
      await ch.checkExchange(s[0]);
      return;
    case 'deleteQueue':
      await ch.deleteQueue(s[0]);
      return;
    case 'bindQueue':
      await ch.bindQueue(s[0], s[1], s[2]);
      return;
    case 'unbindQueue':
      await ch.unbindQueue(s[0], s[1], s[2]);
      return;
    case 'bindExchange':
      await ch.bindExchange(s[0], s[1], s[2]);
      return;
    case 'unbindExchange':
      await ch.unbindExchange(s[0], s[1], s[2]);
      return;
    case 'publish':
      ch.publish(s[0], s[1], Buffer.from('m'), s[2] === undefined ? {} : { userId: s[2] });
      return;
    case 'get':
      await ch.get(s[0], { noAck: true });
      return;
    case 'consume':
      await ch.consume(s[0], () => {}, { noAck: true });
      return;
    case 'purge':
      await ch.purgeQueue(s[0]);
      return;
    default:
      throw new Error(`unknown step ${op}`);
  }
}

/** The case as amqplib: 'ok', or the channel.close's code and text. */
async function amqplibCase(guestUrl: string, userUrl: string, c: Case): Promise<Answer> {
  if (c.setup !== undefined) {
    const conn = await connect(guestUrl);
    const ch = await conn.createChannel();
    for (const step of c.setup) await runStep(ch, step);
    await conn.close();
  }
  const conn = await connect(userUrl);
  try {
    const ch = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
    try {
      for (const step of c.steps) await runStep(ch, step);
      // A round trip: a refused publish closes the channel before it answers.
      await ch.checkExchange('amq.direct');
      return 'ok';
    } catch {
      const e = asServerError(await timeout(closed, 5_000, 'channel.close'));
      return [e.code, e.text];
    }
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Server-generated names differ between runs and brokers. */
function normalise(answers: Record<string, Answer>): Record<string, Answer> {
  const out: Record<string, Answer> = {};
  for (const [name, answer] of Object.entries(answers)) {
    out[name] = answer === 'ok' ? answer : [answer[0], answer[1].replace(/amq\.gen-[A-Za-z0-9_-]+/, 'amq.gen-…')];
  }
  return out;
}

const refusal = (kind: string, name: string): [number, string] => [403, `ACCESS_REFUSED - access to ${kind} '${name}' in vhost '/' refused for user 'limited'`];

/** What RabbitMQ 3.10.8 answers (operations.md 3.4), for the cases of client prefix `p`. */
function expected(p: string): Record<string, Answer> {
  const all: Record<string, Answer> = {};
  for (const c of cases(p)) all[c.name] = 'ok';
  return {
    ...all,
    'exchange.declare: refused': refusal('exchange', `other.${p}.x`),
    'exchange.declare with alternate-exchange: refused': refusal('exchange', `other.${p}.ae`),
    'exchange.delete: refused': refusal('exchange', `other.${p}.x`),
    'queue.declare: refused': refusal('queue', `other.${p}.q`),
    'queue.declare server-named: refused': refusal('queue', 'amq.gen-…'),
    'queue.declare with x-dead-letter-exchange: refused': refusal('exchange', 'amq.default'),
    'queue.delete: refused': refusal('queue', `other.${p}.q`),
    'queue.bind (read on the exchange): refused': refusal('exchange', 'amq.direct'),
    'queue.bind (write on the queue, checked first): refused': refusal('queue', `other.${p}.q`),
    'queue.unbind: refused': refusal('exchange', 'amq.direct'),
    'exchange.bind: refused': refusal('exchange', 'amq.fanout'),
    'exchange.bind (write on the destination): refused': refusal('exchange', `other.${p}.x`),
    'exchange.unbind: refused': refusal('exchange', 'amq.fanout'),
    'basic.publish: refused': refusal('exchange', 'amq.direct'),
    'basic.publish to the default exchange (amq.default): refused': refusal('exchange', 'amq.default'),
    'basic.publish to a topic exchange (topic write): refused': [
      403,
      "ACCESS_REFUSED - access to topic 'denied.x' in exchange 'lim.topic' in vhost '/' refused for user 'limited'",
    ],
    'queue.bind to a topic exchange (topic read): refused': [
      403,
      "ACCESS_REFUSED - access to topic 'denied.#' in exchange 'lim.topic' in vhost '/' refused for user 'limited'",
    ],
    'basic.get: refused': refusal('queue', `other.${p}.q`),
    'basic.consume: refused': refusal('queue', `other.${p}.q`),
    'queue.purge: refused': refusal('queue', `other.${p}.q`),
    'user_id property: refused': [406, "PRECONDITION_FAILED - user_id property set to 'someoneelse' but authenticated user was 'limited'"],
  };
}

/** Answers by client and case, for the matrix printed at the end: [RabbitMQ, Warren]. */
const matrix = new Map<string, [Answer | undefined, Answer | undefined]>();
async function note(client: string, answers: Record<string, Answer>, url: string): Promise<void> {
  const conn = await connect(url);
  const isWarren = conn.connection.serverProperties.product === 'Warren';
  await conn.close();
  for (const [name, answer] of Object.entries(answers)) {
    const key = `${client} | ${name}`;
    const row = matrix.get(key) ?? [undefined, undefined];
    row[isWarren ? 1 : 0] = answer;
    matrix.set(key, row);
  }
}

afterAll(() => {
  if (matrix.size === 0) return;
  const show = (a: Answer | undefined) => (a === undefined ? '—' : a === 'ok' ? 'allowed' : `refused ${a[0]}`);
  const lines = ['| client | operation: case | RabbitMQ 3.10.8 | Warren | same answer | reply text |', '|---|---|---|---|---|---|'];
  for (const [key, [rabbit, warren]] of matrix) {
    const [client, name] = key.split(' | ');
    const same = JSON.stringify(rabbit) === JSON.stringify(warren) ? 'yes' : 'NO';
    const text = Array.isArray(warren) ? `\`${warren[1]}\`` : '';
    lines.push(`| ${client} | ${name} | ${show(rabbit)} | ${show(warren)} | ${same} | ${text} |`);
  }
  console.log(`[interop] access-control permission matrix (user 'limited'):\n${lines.join('\n')}`);
});

const LOGINS: [string, string, string, string][] = [
  ['wrong password', 'limited', 'wrong', ''],
  ['user with no permission on the vhost', 'novhost', 'novhost', ''],
  ['user with permissions on another vhost only', 'limited', 'limited', 'staging'],
  ['vhost that does not exist', 'guest', 'guest', 'nosuchvhost'],
  ['user with an empty password_hash', 'nopassword', 'anything', ''],
  ['sha512 password hash', 'strong', 'strong', ''],
  ['no hashing_algorithm (sha256)', 'oldformat', 'oldformat', ''],
  ['vhost from the rabbitmqctl form', 'novhost', 'novhost', 'staging'],
];

/** A login by hand (raw frames, so that every close's code, text and ids are seen): 'ok' or the broker's answer. */
async function rawLogin(url: string, user: string, pass: string, vhost: string, authFailureClose = true, mechanism = 'PLAIN'): Promise<unknown> {
  const client = await RawAmqp.connect(Number(new URL(url).port));
  try {
    client.write(PROTOCOL_HEADER);
    await client.expectMethod(10, 10);
    const capabilities = { authentication_failure_close: authFailureClose };
    // AMQPLAIN's response is a field table without its length prefix.
    const response = mechanism === 'AMQPLAIN' ? encodeTable({ LOGIN: user, PASSWORD: pass }).subarray(4).toString('latin1') : `\0${user}\0${pass}`;
    client.write(method(0, 10, 11, new Args().table({ product: 'access test', capabilities }).shortstr(mechanism).longstr(response).shortstr('en_US').build()));
    const next = await client.readMethod(5_000);
    if (next === null) return { kind: 'socket-closed' };
    if (next.id[0] !== 10 || next.id[1] !== 30) {
      client.write(m.closeOk());
      return { kind: 'connection.close', ...decodeClose(next.frame.payload) };
    }
    const tune = next.frame.payload;
    client.write(m.tuneOk(tune.readUInt16BE(4), tune.readUInt32BE(6), 0));
    client.write(m.open(vhost === '' ? '/' : vhost));
    const opened = await client.readMethod(5_000);
    if (opened !== null && opened.id[0] === 10 && opened.id[1] === 41) return 'ok';
    if (opened === null) return { kind: 'socket-closed' };
    client.write(m.closeOk());
    return { kind: 'connection.close', ...decodeClose(opened.frame.payload) };
  } finally {
    client.destroy();
  }
}

compareBrokers(
  'Access control: permissions and logins (amqplib)',
  [
    scenario({
      name: 'permission table: one allowed and one refused case per row, as user limited',
      timeoutMs: 60_000,
      async run(url) {
        const answers: Record<string, Answer> = {};
        for (const c of cases('a')) answers[c.name] = await amqplibCase(url, withUser(url, 'limited', 'limited'), c);
        const normalised = normalise(answers);
        await note('amqplib', normalised, url);
        return normalised;
      },
      check(result) {
        expect(result).toEqual(expected('a'));
      },
    }),
    scenario({
      name: 'logins: refusals (403, 530) and accepted hashes',
      timeoutMs: 30_000,
      async run(url) {
        const answers: Record<string, unknown> = {};
        for (const [name, user, password, vhost] of LOGINS) answers[name] = await rawLogin(url, user, password, vhost);
        // RabbitMQ closes the socket (after ~3 s) without a frame; Warren at once.
        answers['wrong password, client without authentication_failure_close'] = await rawLogin(url, 'limited', 'wrong', '', false);
        answers['AMQPLAIN'] = await rawLogin(url, 'limited', 'limited', '', true, 'AMQPLAIN');
        answers['AMQPLAIN, wrong password'] = await rawLogin(url, 'limited', 'wrong', '', true, 'AMQPLAIN');
        answers['a mechanism not offered'] = await rawLogin(url, 'limited', 'limited', '', true, 'CRAM-MD5');
        answers['amqplib: wrong password'] = await amqp.connect(withUser(url, 'limited', 'wrong'), { timeout: 5_000 }).then(
          (conn) => conn.close().then(() => 'ok'),
          (error: Error) => error.message,
        );
        return answers;
      },
      check(result) {
        const r = result as Record<string, unknown>;
        const close = (code: number, text: string, classId = 0, methodId = 0) => ({ kind: 'connection.close', code, text, classId, methodId });
        const refused = 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.';
        expect(r['wrong password']).toEqual(close(403, refused));
        expect(r['user with an empty password_hash']).toEqual(close(403, refused));
        expect(r['user with no permission on the vhost']).toEqual(close(530, "NOT_ALLOWED - access to vhost '/' refused for user 'novhost'", 10, 40));
        expect(r['user with permissions on another vhost only']).toEqual(
          close(530, "NOT_ALLOWED - access to vhost 'staging' refused for user 'limited'", 10, 40),
        );
        expect(r['vhost that does not exist']).toEqual(close(530, 'NOT_ALLOWED - vhost nosuchvhost not found', 10, 40));
        expect(r['sha512 password hash']).toBe('ok');
        expect(r['no hashing_algorithm (sha256)']).toBe('ok');
        expect(r['vhost from the rabbitmqctl form']).toBe('ok');
        expect(r['wrong password, client without authentication_failure_close']).toEqual({ kind: 'socket-closed' });
        expect(r['AMQPLAIN']).toBe('ok');
        expect(r['AMQPLAIN, wrong password']).toEqual(close(403, refused.replace('PLAIN', 'AMQPLAIN')));
        // RabbitMQ answers any other fault before connection.tune by closing the socket (after ~3 s).
        expect(r['a mechanism not offered']).toEqual({ kind: 'socket-closed' });
        expect(r['amqplib: wrong password']).toBe(`Handshake terminated by server: 403 (ACCESS-REFUSED) with message "${refused}"`);
      },
    }),
  ],
  { definitions: DEFINITIONS },
);

compareBrokers(
  'Access control: permissions and logins (pika)',
  [
    scenario({
      name: 'permission table: one allowed and one refused case per row, as user limited',
      timeoutMs: 60_000,
      async run(url) {
        const answers = (await runPika('pika_access.py', ['cases', url, withUser(url, 'limited', 'limited'), JSON.stringify(cases('p'))], 50_000)) as Record<string, Answer>;
        const normalised = normalise(answers);
        await note('pika', normalised, url);
        return normalised;
      },
      check(result) {
        expect(result).toEqual(expected('p'));
      },
    }),
    scenario({
      name: 'logins: wrong password and no vhost access',
      timeoutMs: 30_000,
      async run(url) {
        const answers: Record<string, unknown> = {};
        for (const [name, user, password, vhost] of LOGINS.slice(0, 3)) {
          answers[name] = await runPika('pika_access.py', ['login', withUser(url, user, password, vhost === '' ? '/' : vhost)]);
        }
        return answers;
      },
      check(result) {
        const r = result as Record<string, unknown[]>;
        expect(r['wrong password']?.[0]).toBe('ProbableAuthenticationError');
        expect(JSON.stringify(r['wrong password'])).toContain('ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN');
        expect(JSON.stringify(r['user with no permission on the vhost'])).toContain("NOT_ALLOWED - access to vhost '/' refused for user 'novhost'");
      },
    }),
  ],
  { definitions: DEFINITIONS, clientDeps: [pikaDependency()] },
);

// ---- Warren only: provisioning, the broker API, restarts, loopback ----------------

const SAMPLES = path.resolve(ROOT, '..', 'shared', 'research', 'mgmt-samples');
const logger = createLogger('silent');

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  trackDir(dir);
  return dir;
}

async function startOn(dataDir: string, overrides: Partial<Config> = {}): Promise<RunningServer> {
  return startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', logLevel: 'silent', dataDir, managementPort: -1, metricsPort: -1, ...overrides }, logger);
}

function urlOf(server: RunningServer, user: string, password: string, vhost = '/'): string {
  return `amqp://${user}:${password}@127.0.0.1:${server.port}/${encodeURIComponent(vhost)}`;
}

async function login(url: string): Promise<string> {
  try {
    const conn = await amqp.connect(url, { timeout: 5_000 });
    await conn.close();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}

/** The reason an open connection is closed by the broker (amqplib's message). */
function closedBy(conn: ChannelModel): Promise<string> {
  return timeout(new Promise<string>((resolve) => conn.once('close', (error?: Error) => resolve(error?.message ?? 'closed without error'))), 5_000, 'connection.close');
}

const LOGIN_REFUSED = 'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."';

describe('Warren: users, vhosts and permissions as a node keeps them', () => {
  const APP_DEFINITIONS = {
    users: [{ name: 'app', password: 'app-secret', tags: 'management' }],
    vhosts: [{ name: 'apps', metadata: { description: 'applications', tags: ['prod'] } }],
    permissions: [{ user: 'app', vhost: 'apps', configure: '^app\\.', write: '^app\\.', read: '^app\\.' }],
    topic_permissions: [{ user: 'app', vhost: 'apps', exchange: 'app.events', write: '^{username}\\.', read: '.*' }],
  };

  it('a fresh node that loads definitions makes no guest and no /; what it loaded survives a restart', async () => {
    const dataDir = tempDir('warren-access-');
    const file = path.join(dataDir, '..', `${path.basename(dataDir)}-defs.json`);
    fs.writeFileSync(file, JSON.stringify(APP_DEFINITIONS));
    let server = await startOn(dataDir, { loadDefinitions: file });
    try {
      expect(await login(urlOf(server, 'guest', 'guest'))).toBe(LOGIN_REFUSED);
      expect([...server.broker.vhosts.keys()]).toEqual(['apps']);
      const conn = await connect(urlOf(server, 'app', 'app-secret', 'apps'));
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('app.q', { durable: true });
      await ch.assertExchange('app.x', 'direct', { durable: true });
      await ch.bindQueue('app.q', 'app.x', 'k');
      // The default exchange (amq.default) is not app's to write to: a named one is.
      ch.publish('app.x', 'k', Buffer.from('kept'), { persistent: true });
      await ch.waitForConfirms();
      await conn.close();
    } finally {
      await server.close();
      fs.rmSync(file, { force: true });
    }
    server = await startOn(dataDir);
    try {
      expect(await login(urlOf(server, 'guest', 'guest'))).toBe(LOGIN_REFUSED);
      expect(server.broker.vhost('apps')?.metadata).toEqual({ description: 'applications', tags: ['prod'], defaultQueueType: 'classic' });
      expect(server.broker.users.get('app')?.tags).toEqual(['management']);
      expect(server.broker.permissions.allTopic()).toEqual([APP_DEFINITIONS.topic_permissions[0]]);
      const conn = await connect(urlOf(server, 'app', 'app-secret', 'apps'));
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      expect((await ch.checkQueue('app.q')).messageCount).toBe(1);
      const refused = new Promise<Error>((resolve) => ch.once('error', resolve));
      await ch.assertQueue('other.q').catch(() => {});
      expect(asServerError(await refused).text).toBe("ACCESS_REFUSED - access to queue 'other.q' in vhost 'apps' refused for user 'app'");
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('a fresh node without definitions makes the configured default user and vhost with full permissions', async () => {
    const server = await startOn(tempDir('warren-access-'), { defaultUser: 'admin', defaultPass: 'pw', defaultVhost: 'main', defaultUserTags: ['administrator', 'monitoring'] });
    try {
      expect(await login(urlOf(server, 'admin', 'pw', 'main'))).toBe('ok');
      expect(await login(urlOf(server, 'guest', 'guest'))).toBe(LOGIN_REFUSED);
      expect(server.broker.users.get('admin')?.tags).toEqual(['administrator', 'monitoring']);
      expect(server.broker.permissions.get('admin', 'main')).toEqual({ user: 'admin', vhost: 'main', configure: '.*', write: '.*', read: '.*' });
    } finally {
      await server.close();
    }
  });

  it('a data dir from before users were stored (guest and / implied) upgrades without loss', async () => {
    const dataDir = tempDir('warren-access-');
    const legacy = {
      warren_version: '0.1.0',
      vhosts: [{ name: '/' }],
      queues: [{ name: 'old.q', vhost: '/', durable: true, auto_delete: false, arguments: {} }],
      exchanges: [{ name: 'old.x', vhost: '/', type: 'fanout', durable: true, auto_delete: false, internal: false, arguments: {} }],
      bindings: [{ source: 'old.x', vhost: '/', destination: 'old.q', destination_type: 'queue', routing_key: '', arguments: {} }],
    };
    fs.writeFileSync(path.join(dataDir, 'definitions.json'), JSON.stringify(legacy));
    const server = await startOn(dataDir);
    try {
      const conn = await connect(urlOf(server, 'guest', 'guest'));
      const ch = await conn.createChannel();
      expect((await ch.checkQueue('old.q')).messageCount).toBe(0);
      await ch.checkExchange('old.x');
      await conn.close();
    } finally {
      await server.close();
    }
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'definitions.json'), 'utf8')) as { users: { name: string }[]; bindings: unknown[] };
    expect(stored.users.map((u) => u.name)).toEqual(['guest']);
    expect(stored.bindings).toHaveLength(1);
  });

  it('imports the definitions a RabbitMQ 3.10 node exported (HTTP and rabbitmqctl forms) unchanged', async () => {
    for (const sample of ['definitions.json', 'rabbitmqctl-export_definitions.json']) {
      const server = await startOn(tempDir('warren-access-'), { loadDefinitions: path.join(SAMPLES, sample) });
      try {
        expect(await login(urlOf(server, 'guest', 'guest', 'staging'))).toBe('ok');
        const exported = exportDefinitions(server.broker, 'test');
        expect(exported.users?.map((u) => [u.name, u.tags])).toEqual([
          ['guest', ['administrator']],
          ['monitor', ['monitoring']],
        ]);
        expect(exported.permissions).toContainEqual({ user: 'monitor', vhost: 'staging', configure: '^$', write: '^amq\\.', read: '.*' });
        expect(exported.topic_permissions).toEqual([{ user: 'monitor', vhost: 'staging', exchange: 'amq.topic', write: '^a', read: '.*' }]);
        expect(exported.vhosts.map((v) => v.name).sort()).toEqual(['/', 'staging']);
      } finally {
        await server.close();
      }
    }
  });

  it('deleting a user closes its connections with 320; a permission change applies to an open channel at once', async () => {
    const server = await startOn(tempDir('warren-access-'));
    try {
      const broker = server.broker;
      broker.putUser({ name: 'tmpu', passwordHash: hashPassword('p'), hashingAlgorithm: SHA256, tags: ['impersonator'] });
      broker.setPermission({ user: 'tmpu', vhost: '/', configure: '.*', write: '.*', read: '.*' });
      const conn = await connect(urlOf(server, 'tmpu', 'p'));
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.assertExchange('tmp.x', 'fanout', { durable: false });
      // An impersonator may publish with another user's user_id.
      ch.publish('tmp.x', '', Buffer.from('1'), { userId: 'someoneelse' });
      await ch.checkExchange('tmp.x');
      broker.setPermission({ user: 'tmpu', vhost: '/', configure: '.*', write: '^$', read: '.*' });
      const refused = new Promise<Error>((resolve) => ch.once('error', resolve));
      ch.publish('tmp.x', '', Buffer.from('2'));
      expect(asServerError(await timeout(refused, 5_000, 'channel.close')).text).toBe(
        "ACCESS_REFUSED - access to exchange 'tmp.x' in vhost '/' refused for user 'tmpu'",
      );
      const closed = closedBy(conn);
      expect(broker.deleteUser('tmpu')).toBe(true);
      expect(await closed).toBe('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - user \'tmpu\' is deleted"');
      expect(broker.permissions.get('tmpu', '/')).toBeUndefined();
      expect(await login(urlOf(server, 'tmpu', 'p'))).toBe(LOGIN_REFUSED);
    } finally {
      await server.close();
    }
  });

  it('vhosts are isolated; deleting one closes its connections with 320 and deletes its stored messages', async () => {
    const dataDir = tempDir('warren-access-');
    let server = await startOn(dataDir);
    try {
      const broker = server.broker;
      for (const name of ['va', 'vb']) {
        broker.putVhost(name);
        broker.setPermission({ user: 'guest', vhost: name, configure: '.*', write: '.*', read: '.*' });
      }
      const counts: Record<string, number> = { va: 2, vb: 1 };
      for (const [vhost, count] of Object.entries(counts)) {
        const conn = await connect(urlOf(server, 'guest', 'guest', vhost));
        const ch = await conn.createConfirmChannel();
        await ch.assertQueue('jobs', { durable: true });
        await ch.bindQueue('jobs', 'amq.direct', 'k');
        for (let i = 0; i < count; i++) ch.publish('amq.direct', 'k', Buffer.from(`${vhost}${i}`), { persistent: true });
        await ch.waitForConfirms();
        await conn.close();
      }
      const conn = await connect(urlOf(server, 'guest', 'guest', 'va'));
      const closed = closedBy(conn);
      expect(broker.deleteVhost('va')).toBe(true);
      expect(await closed).toBe('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - vhost \'va\' is deleted"');
      expect(broker.permissions.hasAccess('guest', 'va')).toBe(false);
      // A new vhost of the same name starts empty, and stays so after a restart: the old messages left the log.
      broker.putVhost('va');
      broker.setPermission({ user: 'guest', vhost: 'va', configure: '.*', write: '.*', read: '.*' });
      const again = await connect(urlOf(server, 'guest', 'guest', 'va'));
      expect((await (await again.createChannel()).assertQueue('jobs', { durable: true })).messageCount).toBe(0);
      await again.close();
    } finally {
      await server.close();
    }
    server = await startOn(dataDir);
    try {
      const answers: Record<string, number> = {};
      for (const vhost of ['va', 'vb']) {
        const conn = await connect(urlOf(server, 'guest', 'guest', vhost));
        const ch = await conn.createChannel();
        answers[vhost] = (await ch.assertQueue('jobs', { durable: true })).messageCount;
        await conn.close();
      }
      expect(answers).toEqual({ va: 0, vb: 1 });
    } finally {
      await server.close();
    }
  });

  it('only the configured mechanisms are offered; loopback_users none lets guest in from anywhere', async () => {
    const server = await startOn(tempDir('warren-access-'), { authMechanisms: ['PLAIN'], loopbackUsers: [] });
    try {
      const client = await RawAmqp.connect(server.port);
      client.write(PROTOCOL_HEADER);
      const start = await client.expectMethod(10, 10);
      client.destroy();
      expect(start.payload.includes(Buffer.from('PLAIN'))).toBe(true);
      expect(start.payload.includes(Buffer.from('AMQPLAIN'))).toBe(false);
    } finally {
      await server.close();
    }
  });
});

/** Runs a command; its stdout, or throws with its stderr. */
function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
}

/** Why a network namespace with a veth pair cannot be made here, or null if it can. */
function namespaceUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root: cannot create a network namespace';
  const probe = `wrn-probe-${crypto.randomBytes(3).toString('hex')}`;
  try {
    sh('ip', ['netns', 'add', probe]);
    sh('ip', ['netns', 'del', probe]);
    return null;
  } catch (error) {
    return `ip netns add failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

const noNamespace = namespaceUnavailable();
const execFileAsync = promisify(execFile);

describe.skipIf(noNamespace !== null)(`Warren: loopback_users from another network namespace${noNamespace === null ? '' : ` (skipped: ${noNamespace})`}`, () => {
  it('guest is refused on a non-loopback address (403, as RabbitMQ) while another user is accepted', async () => {
    const tag = crypto.randomBytes(3).toString('hex');
    const ns = `wrn-${tag}`;
    const [hostEnd, nsEnd] = [`wva${tag}`, `wvb${tag}`];
    const octet = 16 + (crypto.randomBytes(1)[0]! % 200);
    const [hostAddress, nsAddress] = [`10.251.${octet}.1`, `10.251.${octet}.2`];
    try {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd]);
      sh('ip', ['link', 'set', nsEnd, 'netns', ns]);
      sh('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostEnd]);
      sh('ip', ['link', 'set', hostEnd, 'up']);
      sh('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsEnd]);
      sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', nsEnd, 'up']);
      sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      // Listening on the veth's own address only: nothing outside this link can reach it.
      const server = await startOn(tempDir('warren-access-'), { host: hostAddress });
      try {
        server.broker.putUser({ name: 'remote', passwordHash: hashPassword('remote'), hashingAlgorithm: SHA256, tags: [] });
        server.broker.setPermission({ user: 'remote', vhost: '/', configure: '.*', write: '.*', read: '.*' });
        // Asynchronously: the broker answering runs in this process.
        const from = async (user: string) => {
          const url = `amqp://${user}:${user}@${hostAddress}:${server.port}/%2F`;
          const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, PYTHON, path.join(ROOT, 'interop', 'clients', 'pika_access.py'), 'login', url], { timeout: 15_000 });
          return JSON.parse(stdout) as unknown;
        };
        expect(await from('guest')).toEqual([
          'ProbableAuthenticationError',
          "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.'",
        ]);
        expect(await from('remote')).toBe('ok');
        expect(server.broker.logins).toEqual({ succeeded: 1, failed: 1 });
      } finally {
        await server.close();
      }
    } finally {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // never created
      }
      try {
        sh('ip', ['link', 'del', hostEnd]);
      } catch {
        // gone with the namespace
      }
    }
  }, 30_000);
});

const rabbitMissing = gate(rabbitmqDependency());

describe.skipIf(rabbitMissing)(label('Definitions round trip: what Warren exports, RabbitMQ imports', rabbitmqDependency()), () => {
  it('users, vhosts, permissions and topic permissions from a Warren export work on RabbitMQ', async () => {
    const server = await startOn(tempDir('warren-access-'));
    let exported;
    try {
      expect(importDefinitions(server.broker, DEFINITIONS as unknown as DefinitionsDocument)).toEqual([]);
      server.broker.vhost('/')!.declareExchange('lim.topic', 'topic', false, { durable: true, autoDelete: false, internal: false, arguments: {} });
      exported = exportDefinitions(server.broker, 'test');
    } finally {
      await server.close();
    }
    const rabbit = await startRabbitMQ({ definitions: exported });
    try {
      const url = rabbit.url;
      const answers = {
        limited: await rawLogin(url, 'limited', 'limited', ''),
        strong: await rawLogin(url, 'strong', 'strong', ''),
        novhost: await rawLogin(url, 'novhost', 'novhost', ''),
        novhostStaging: await rawLogin(url, 'novhost', 'novhost', 'staging'),
        topic: await amqplibCase(url, withUser(url, 'limited', 'limited'), { name: 'topic', steps: [['publish', 'lim.topic', 'denied.x']] }),
        queue: await amqplibCase(url, withUser(url, 'limited', 'limited'), { name: 'queue', steps: [['declareQueue', 'other.q']] }),
      };
      expect(answers).toEqual({
        limited: 'ok',
        strong: 'ok',
        novhost: { kind: 'connection.close', code: 530, text: "NOT_ALLOWED - access to vhost '/' refused for user 'novhost'", classId: 10, methodId: 40 },
        novhostStaging: 'ok',
        topic: [403, "ACCESS_REFUSED - access to topic 'denied.x' in exchange 'lim.topic' in vhost '/' refused for user 'limited'"],
        queue: [403, "ACCESS_REFUSED - access to queue 'other.q' in vhost '/' refused for user 'limited'"],
      });
    } finally {
      await rabbit.stop();
    }
  }, 120_000);
});
