// Recovery never refuses to start because of what a client stored: every kind
// of durable object a client can create (exchanges of each type, e2e and
// headers bindings, queues with arguments, a server-named amq.gen-* queue,
// oddly named queues) comes back after a restart, on Warren as on a private
// RabbitMQ node (the reference). Warren only: one hand-damaged stored
// definition is skipped with an error-level log line and the rest comes up.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asServerError, channel, confirmChannel, connect, timeout } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';
import { type WarrenProcess, warrenOnOneDataDir } from './support/warren.js';

const id = crypto.randomBytes(3).toString('hex');
const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers'] as const;
/** Queue names a client may use: unicode, spaces, the longest shortstr. */
const ODD_NAMES = [`ünïcødé ☃ ${id}`, `with spaces ${id}`, `${id}.${'q'.repeat(255 - id.length - 1)}`];
const ARGS = { 'x-message-ttl': 2_592_000_000, 'x-max-length': 10, 'x-overflow': 'reject-publish', 'x-max-priority': 5 };

interface Snapshot {
  exchanges: Record<string, string>;
  queues: Record<string, unknown>;
  redeclareArgs: string;
  routes: Record<string, unknown>;
}

async function passive(conn: ChannelModel, op: 'checkQueue' | 'checkExchange', name: string): Promise<unknown> {
  const ch = await channel(conn);
  try {
    const ok = await ch[op](name);
    await ch.close();
    return op === 'checkQueue' ? { messages: (ok as { messageCount: number }).messageCount } : 'exists';
  } catch (error) {
    const e = asServerError(error);
    return `${e.code} ${e.text}`;
  }
}

/** Declares one of everything; returns the server-chosen queue name. */
async function store(url: string): Promise<string> {
  const conn = await connect(url);
  try {
    const ch = await channel(conn);
    for (const type of EXCHANGE_TYPES) await ch.assertExchange(`rec-${type}-${id}`, type, { durable: true });
    await ch.assertExchange(`rec-internal-${id}`, 'topic', { durable: true, internal: true, arguments: { 'alternate-exchange': `rec-fanout-${id}` } });
    await ch.bindExchange(`rec-fanout-${id}`, `rec-direct-${id}`, 'e2e');
    const serverNamed = (await ch.assertQueue('', { durable: true, exclusive: false })).queue;
    for (const name of ODD_NAMES) await ch.assertQueue(name, { durable: true });
    await ch.assertQueue(`rec-args-${id}`, { durable: true, arguments: ARGS });
    await ch.bindQueue(serverNamed, `rec-fanout-${id}`, '');
    await ch.bindQueue(ODD_NAMES[0]!, `rec-headers-${id}`, '', { 'x-match': 'all', k: 'v' });
    await ch.bindQueue(ODD_NAMES[1]!, `rec-topic-${id}`, 'a.*.#');
    await ch.bindQueue(ODD_NAMES[2]!, 'amq.direct', `rk-${id}`);
    const confirm = await confirmChannel(conn);
    confirm.sendToQueue(serverNamed, Buffer.from('kept'), { persistent: true });
    await timeout(confirm.waitForConfirms(), 5_000, 'confirms');
    return serverNamed;
  } finally {
    await conn.close().catch(() => {});
  }
}

async function snapshot(url: string, serverNamed: string): Promise<Snapshot> {
  const conn = await connect(url);
  try {
    const exchanges: Record<string, string> = {};
    for (const type of [...EXCHANGE_TYPES, 'internal']) exchanges[type] = (await passive(conn, 'checkExchange', `rec-${type}-${id}`)) as string;
    const queues: Record<string, unknown> = { serverNamed: await passive(conn, 'checkQueue', serverNamed), args: await passive(conn, 'checkQueue', `rec-args-${id}`) };
    for (const [i, name] of ODD_NAMES.entries()) queues[`odd${i}`] = await passive(conn, 'checkQueue', name);
    let redeclareArgs = 'declare-ok';
    const ch = await channel(conn);
    await ch.assertQueue(`rec-args-${id}`, { durable: true, arguments: ARGS }).catch((error: unknown) => (redeclareArgs = asServerError(error).text));
    const confirm = await confirmChannel(conn);
    // Only through exchanges that came back (a publish to a missing one closes the channel).
    if (exchanges.direct === 'exists') confirm.publish(`rec-direct-${id}`, 'e2e', Buffer.from('e2e'));
    if (exchanges.headers === 'exists') confirm.publish(`rec-headers-${id}`, '', Buffer.from('headers'), { headers: { k: 'v' } });
    if (exchanges.topic === 'exists') confirm.publish(`rec-topic-${id}`, 'a.b.c', Buffer.from('topic'));
    confirm.publish('amq.direct', `rk-${id}`, Buffer.from('amq.direct'));
    await timeout(confirm.waitForConfirms(), 5_000, 'confirms');
    const get = await channel(conn);
    const routes: Record<string, unknown> = {};
    for (const [label, name] of [['serverNamed', serverNamed], ...ODD_NAMES.map((n, i) => [`odd${i}`, n])] as [string, string][]) {
      const bodies: string[] = [];
      for (let m = await get.get(name, { noAck: true }); m !== false; m = await get.get(name, { noAck: true })) bodies.push(m.content.toString());
      routes[label] = bodies;
    }
    return { exchanges, queues, redeclareArgs, routes };
  } finally {
    await conn.close().catch(() => {});
  }
}

function check(s: Snapshot): void {
  expect(s).toEqual({
    exchanges: { direct: 'exists', fanout: 'exists', topic: 'exists', headers: 'exists', internal: 'exists' },
    queues: { serverNamed: { messages: 1 }, args: { messages: 0 }, odd0: { messages: 0 }, odd1: { messages: 0 }, odd2: { messages: 0 } },
    redeclareArgs: 'declare-ok',
    routes: { serverNamed: ['kept', 'e2e'], odd0: ['headers'], odd1: ['topic'], odd2: ['amq.direct'] },
  });
}

const rabbitDep = rabbitmqDependency();
let reference: Snapshot | undefined;

describe('recovery: every kind of stored object comes back (compared with RabbitMQ)', () => {
  describe.skipIf(gate(rabbitDep))(label('RabbitMQ (reference)', rabbitDep), () => {
    let rabbit: RabbitNode | undefined;
    beforeAll(async () => {
      rabbit = await startRabbitMQ();
    }, 90_000);
    afterAll(async () => {
      await rabbit?.stop();
    }, 30_000);

    it('after stop + start', async () => {
      const node = rabbit!;
      const serverNamed = await store(node.url);
      expect(serverNamed).toMatch(/^amq\.gen-/);
      await node.restart();
      reference = await snapshot(node.url, serverNamed);
      check(reference);
    }, 120_000);
  });

  describe('Warren', () => {
    const restarts = warrenOnOneDataDir('warren-recovery-');
    let warren: WarrenProcess | undefined;

    it('after SIGTERM + start on the same data dir, twice', async () => {
      warren = await restarts.start();
      const serverNamed = await store(warren.url);
      expect(serverNamed).toMatch(/^amq\.gen-/);
      for (let i = 0; i < 2; i++) {
        expect(await warren.kill('SIGTERM')).toEqual({ exited: true, code: 0, signal: null });
        warren = await restarts.start();
      }
      expect(warren.output()).not.toMatch(/"level":(50|60)/);
      const s = await snapshot(warren.url, serverNamed);
      check(s);
      if (reference !== undefined) expect(s).toEqual(reference);
    }, 60_000);
  });
});

describe('Warren: a stored definition that cannot be restored', () => {
  const restarts = warrenOnOneDataDir('warren-recovery-damaged-');

  it('is skipped with an error-level line naming it and why; everything else comes up', async () => {
    let warren = await restarts.start();
    const serverNamed = await store(warren.url);
    expect(await warren.kill('SIGTERM')).toEqual({ exited: true, code: 0, signal: null });
    const file = path.join(restarts.dataDir, 'definitions.json');
    const document = JSON.parse(fs.readFileSync(file, 'utf8')) as { queues: Record<string, unknown>[]; exchanges: Record<string, unknown>[] };
    const damaged = document.exchanges.find((x) => x.name === `rec-topic-${id}`)!;
    damaged.type = 'no-such-type';
    fs.writeFileSync(file, JSON.stringify(document));
    warren = await restarts.start();
    const skipped = warren
      .output()
      .split('\n')
      .filter((line) => line.includes('definitions.skipped'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(skipped.map((l) => l.level)).toEqual([50, 50]);
    expect(skipped[0]!.msg).toContain(`rec-topic-${id}`);
    expect(skipped[0]!.msg).toContain("unknown exchange type 'no-such-type'");
    // Its binding goes with it; the rest is there.
    expect(skipped[1]!.msg).toContain(`no exchange 'rec-topic-${id}'`);
    const s = await snapshot(warren.url, serverNamed);
    expect(s.exchanges).toEqual({ direct: 'exists', fanout: 'exists', topic: `404 NOT_FOUND - no exchange 'rec-topic-${id}' in vhost '/'`, headers: 'exists', internal: 'exists' });
    expect(s.routes).toEqual({ serverNamed: ['kept', 'e2e'], odd0: ['headers'], odd1: [], odd2: ['amq.direct'] });
  }, 60_000);
});

describe('Warren: a definitions file that does not parse', () => {
  const restarts = warrenOnOneDataDir('warren-recovery-unparsable-');

  it('is set aside with an error-level line; Warren starts and its stored messages come back', async () => {
    let warren = await restarts.start();
    const serverNamed = await store(warren.url);
    expect(await warren.kill('SIGTERM')).toEqual({ exited: true, code: 0, signal: null });
    const file = path.join(restarts.dataDir, 'definitions.json');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.slice(0, text.length / 2));
    warren = await restarts.start();
    const damaged = warren
      .output()
      .split('\n')
      .filter((line) => line.includes('definitions.damaged'))
      .map((line) => JSON.parse(line) as { level: number; keptAs: string });
    expect(damaged.map((l) => l.level)).toEqual([50]);
    expect(fs.readFileSync(damaged[0]!.keptAs, 'utf8')).toBe(text.slice(0, text.length / 2));
    const conn = await connect(warren.url);
    try {
      expect(await passive(conn, 'checkQueue', serverNamed)).toEqual({ messages: 1 });
    } finally {
      await conn.close();
    }
  }, 60_000);
});
