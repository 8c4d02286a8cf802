// Durability across a graceful restart, Warren against a private RabbitMQ
// node (the reference): durable/transient exchanges, queues and bindings, an
// exclusive queue, persistent/transient messages, acked and delivered-unacked
// messages; after the restart (SIGTERM + start on the same data dir for
// Warren, SIGTERM + start on the same mnesia dir for RabbitMQ) the scenario
// reports what exists, counts, bodies and redelivered flags in order, and
// which bindings still route. Warren's answer must equal RabbitMQ's.
//
// Warren only: a second Warren on a data dir in use refuses to start (naming
// the lock and the holder's pid); Warren restarts after SIGTERM with a
// 50,000-message backlog (start-up time printed), and a priority queue whose
// high-priority messages are paged out keeps delivering them first.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ChannelModel, Options } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asServerError, channel, confirmChannel, connect, timeout } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';
import { type WarrenProcess, runWarrenToExit, warrenOnOneDataDir } from './support/warren.js';

/** A server error as text ("404 NOT_FOUND - ..."), or rethrow anything else. */
function errorText(err: unknown): string {
  const e = asServerError(err);
  return `${e.code} ${e.text}`;
}

type Passive = { messageCount: number; consumerCount: number } | string;

async function passiveQueue(conn: ChannelModel, name: string): Promise<Passive> {
  const ch = await channel(conn);
  try {
    const ok = await ch.checkQueue(name);
    await ch.close();
    return { messageCount: ok.messageCount, consumerCount: ok.consumerCount };
  } catch (err) {
    return errorText(err);
  }
}

async function passiveExchange(conn: ChannelModel, name: string): Promise<string> {
  const ch = await channel(conn);
  try {
    await ch.checkExchange(name);
    await ch.close();
    return 'exists';
  } catch (err) {
    return errorText(err);
  }
}

interface Got {
  body: string;
  redelivered: boolean;
  persistent: boolean;
}

/** basic.get (no-ack) until empty, bounded. */
async function getAll(conn: ChannelModel, queue: string): Promise<Got[] | string> {
  const ch = await channel(conn);
  try {
    const out: Got[] = [];
    for (let i = 0; i < 1_000; i++) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) break;
      out.push({ body: m.content.toString(), redelivered: m.fields.redelivered, persistent: m.properties.deliveryMode === 2 });
    }
    await ch.close();
    return out;
  } catch (err) {
    return errorText(err);
  }
}

async function publishConfirmed(conn: ChannelModel, exchange: string, routingKey: string, msgs: [string, boolean][]): Promise<string> {
  const ch = await conn.createConfirmChannel();
  let closedBy: unknown;
  ch.on('error', (err: unknown) => {
    closedBy ??= err;
  });
  try {
    for (const [body, persistent] of msgs) ch.publish(exchange, routingKey, Buffer.from(body), { persistent });
    await timeout(ch.waitForConfirms(), 10_000, 'publisher confirms');
    await ch.close();
    return 'confirmed';
  } catch (err) {
    try {
      return errorText(closedBy ?? err);
    } catch {
      return `error: ${(err as Error).message}`;
    }
  }
}

async function declareQueue(conn: ChannelModel, name: string, opts: Options.AssertQueue): Promise<string> {
  const ch = await channel(conn);
  try {
    await ch.assertQueue(name, opts);
    await ch.close();
    return 'ok';
  } catch (err) {
    return errorText(err);
  }
}

// ---------------------------------------------------------------------------
// The scenario: the same steps against either broker; `restart` stops the
// broker gracefully, starts it on the same data and returns its new URL.

interface Names {
  dx: string; // durable direct exchange
  fx: string; // durable fanout exchange, bound to dx with key 'e2e' (exchange-to-exchange)
  tx: string; // transient fanout exchange
  dq: string; // durable queue, default exchange
  dqBound: string; // durable queue bound to dx 'k' (durable binding)
  dqE2e: string; // durable queue bound to fx
  dqTx: string; // durable queue bound to tx (the binding dies with tx)
  dqArgs: string; // durable queue with x- arguments
  tq: string; // transient queue bound to dx 'k' (transient binding)
  eqDurable: string; // exclusive, durable
  eq: string; // exclusive, transient
}

function names(id: string): Names {
  return {
    dx: `dur-dx-${id}`,
    fx: `dur-fx-${id}`,
    tx: `dur-tx-${id}`,
    dq: `dur-dq-${id}`,
    dqBound: `dur-dq-bound-${id}`,
    dqE2e: `dur-dq-e2e-${id}`,
    dqTx: `dur-dq-tx-${id}`,
    dqArgs: `dur-dq-args-${id}`,
    tq: `dur-tq-${id}`,
    eqDurable: `dur-eq-durable-${id}`,
    eq: `dur-eq-${id}`,
  };
}

const QUEUE_LABELS = ['dq', 'dqBound', 'dqE2e', 'dqTx', 'dqArgs', 'tq', 'eqDurable', 'eq'] as const;
const EXCHANGE_LABELS = ['dx', 'fx', 'tx'] as const;
const ARGS = { 'x-max-length': 100, 'x-custom': 'kept' };

interface Result {
  before: {
    publishes: Record<string, string>;
    held: string[];
    counts: Record<string, Passive>;
  };
  after: {
    exchanges: Record<string, string>;
    queues: Record<string, Passive>;
    bodies: Record<string, Got[] | string>;
    redeclareSameArgs: string;
    redeclareOtherArgs: string;
    routing: Record<string, unknown>;
  };
}

async function durabilityScenario(url: string, id: string, restart: () => Promise<string>): Promise<Result> {
  const n = names(id);
  const setup = await connect(url);
  const holder = await connect(url); // owns the exclusive queues and the unacked deliveries; still open at the restart
  let before: Result['before'];
  try {
    const ch = await channel(setup);
    await ch.assertExchange(n.dx, 'direct', { durable: true });
    await ch.assertExchange(n.fx, 'fanout', { durable: true });
    await ch.assertExchange(n.tx, 'fanout', { durable: false });
    await ch.bindExchange(n.fx, n.dx, 'e2e');
    await ch.assertQueue(n.dq, { durable: true });
    await ch.assertQueue(n.dqBound, { durable: true });
    await ch.bindQueue(n.dqBound, n.dx, 'k');
    await ch.assertQueue(n.dqE2e, { durable: true });
    await ch.bindQueue(n.dqE2e, n.fx, '');
    await ch.assertQueue(n.dqTx, { durable: true });
    await ch.bindQueue(n.dqTx, n.tx, '');
    await ch.assertQueue(n.dqArgs, { durable: true, arguments: ARGS });
    await ch.assertQueue(n.tq, { durable: false });
    await ch.bindQueue(n.tq, n.dx, 'k');
    await ch.close();
    const hch = await channel(holder);
    await hch.assertQueue(n.eqDurable, { durable: true, exclusive: true });
    await hch.assertQueue(n.eq, { durable: false, exclusive: true });

    const publishes: Record<string, string> = {};
    publishes.dq = await publishConfirmed(setup, '', n.dq, [
      ['dq-p1', true],
      ['dq-t1', false],
      ['dq-p2', true],
      ['dq-t2', false],
      ['dq-p3', true],
      ['dq-p4', true],
    ]);
    publishes.k = await publishConfirmed(setup, n.dx, 'k', [
      ['k-p1', true],
      ['k-t1', false],
      ['k-p2', true],
    ]);
    publishes.e2e = await publishConfirmed(setup, n.dx, 'e2e', [
      ['e-p1', true],
      ['e-p2', true],
    ]);
    publishes.tx = await publishConfirmed(setup, n.tx, '', [
      ['x-p1', true],
      ['x-t1', false],
    ]);
    publishes.eq = await publishConfirmed(holder, '', n.eqDurable, [['eq-p1', true]]);
    publishes.eqT = await publishConfirmed(holder, '', n.eq, [['eqt-p1', true]]);

    // Delivered, not acked: dq's head (basic.get) and dqBound's head (basic.consume, prefetch 1).
    const held: string[] = [];
    const g1 = await hch.get(n.dq, { noAck: false });
    if (g1 === false) throw new Error(`${n.dq} is empty`);
    held.push(g1.content.toString());
    await hch.prefetch(1);
    let resolveDelivered!: () => void;
    const delivered = new Promise<void>((r) => (resolveDelivered = r));
    await hch.consume(
      n.dqBound,
      (m) => {
        if (m !== null) {
          held.push(m.content.toString());
          resolveDelivered();
        }
      },
      { noAck: false },
    );
    await timeout(delivered, 5_000, `a delivery from ${n.dqBound}`);
    // Delivered and acked: the next of dq (transient) and the first of dqE2e.
    const ach = await channel(setup);
    for (const q of [n.dq, n.dqE2e]) {
      const m = await ach.get(q, { noAck: false });
      if (m === false) throw new Error(`${q} is empty`);
      held.push(`acked ${m.content.toString()}`);
      ach.ack(m);
    }
    await ach.close(); // close-ok after the acks: they were processed

    const counts: Record<string, Passive> = {};
    for (const l of QUEUE_LABELS) counts[l] = await passiveQueue(l.startsWith('eq') ? holder : setup, n[l]);
    before = { publishes, held, counts };
  } finally {
    await setup.close().catch(() => {});
  }

  const url2 = await restart();
  await holder.close().catch(() => {}); // the broker closed it at shutdown

  const conn = await connect(url2);
  try {
    const exchanges: Record<string, string> = {};
    for (const l of EXCHANGE_LABELS) exchanges[l] = await passiveExchange(conn, n[l]);
    const queues: Record<string, Passive> = {};
    for (const l of QUEUE_LABELS) queues[l] = await passiveQueue(conn, n[l]);
    const bodies: Record<string, Got[] | string> = {};
    for (const l of QUEUE_LABELS) bodies[l] = await getAll(conn, n[l]);

    const redeclareSameArgs = await declareQueue(conn, n.dqArgs, { durable: true, arguments: ARGS });
    const redeclareOtherArgs = await declareQueue(conn, n.dqArgs, { durable: true, arguments: { ...ARGS, 'x-max-length': 5 } });

    // Which bindings still route.
    const routing: Record<string, unknown> = {};
    routing.publishK = await publishConfirmed(conn, n.dx, 'k', [['after-k', true]]);
    routing.publishE2e = await publishConfirmed(conn, n.dx, 'e2e', [['after-e2e', true]]);
    routing.publishTxGone = await publishConfirmed(conn, n.tx, '', [['after-tx-gone', true]]);
    // Transient exchange and queue declared again: their old bindings must not come back.
    const ch = await channel(conn);
    await ch.assertExchange(n.tx, 'fanout', { durable: false });
    await ch.assertQueue(n.tq, { durable: false });
    await ch.close();
    routing.publishTx = await publishConfirmed(conn, n.tx, '', [['after-tx', true]]);
    routing.publishK2 = await publishConfirmed(conn, n.dx, 'k', [['after-k2', false]]);
    for (const l of ['dqBound', 'dqE2e', 'dqTx', 'tq', 'dq'] as const) routing[l] = ((await getAll(conn, n[l])) as Got[] | string);
    return { before, after: { exchanges, queues, bodies, redeclareSameArgs, redeclareOtherArgs, routing } };
  } finally {
    await conn.close().catch(() => {});
  }
}

const got = (body: string, redelivered = false, persistent = true): Got => ({ body, redelivered, persistent });

function checkResult(r: Result, id: string): void {
  const n = names(id);
  const notFoundQueue = (q: string) => `404 NOT_FOUND - no queue '${q}' in vhost '/'`;
  const notFoundExchange = (x: string) => `404 NOT_FOUND - no exchange '${x}' in vhost '/'`;
  expect(r.before.publishes).toEqual({ dq: 'confirmed', k: 'confirmed', e2e: 'confirmed', tx: 'confirmed', eq: 'confirmed', eqT: 'confirmed' });
  expect(r.before.held).toEqual(['dq-p1', 'k-p1', 'acked dq-t1', 'acked e-p1']);
  expect(r.before.counts).toEqual({
    dq: { messageCount: 4, consumerCount: 0 },
    dqBound: { messageCount: 2, consumerCount: 1 },
    dqE2e: { messageCount: 1, consumerCount: 0 },
    dqTx: { messageCount: 2, consumerCount: 0 },
    dqArgs: { messageCount: 0, consumerCount: 0 },
    tq: { messageCount: 3, consumerCount: 0 },
    eqDurable: { messageCount: 1, consumerCount: 0 },
    eq: { messageCount: 1, consumerCount: 0 },
  });
  const a = r.after;
  expect(a.exchanges, 'durable exchanges survive, transient ones do not').toEqual({ dx: 'exists', fx: 'exists', tx: notFoundExchange(n.tx) });
  expect(a.queues, 'durable queues survive with their persistent messages (delivered-unacked ones included)').toEqual({
    dq: { messageCount: 4, consumerCount: 0 },
    dqBound: { messageCount: 2, consumerCount: 0 },
    dqE2e: { messageCount: 1, consumerCount: 0 },
    dqTx: { messageCount: 1, consumerCount: 0 },
    dqArgs: { messageCount: 0, consumerCount: 0 },
    tq: notFoundQueue(n.tq),
    eqDurable: notFoundQueue(n.eqDurable),
    eq: notFoundQueue(n.eq),
  });
  expect(a.bodies, 'persistent messages in order; delivered-unacked ones redelivered; transient ones gone').toEqual({
    dq: [got('dq-p1', true), got('dq-p2'), got('dq-p3'), got('dq-p4')],
    dqBound: [got('k-p1', true), got('k-p2')],
    dqE2e: [got('e-p2')],
    dqTx: [got('x-p1')],
    dqArgs: [],
    tq: notFoundQueue(n.tq),
    eqDurable: notFoundQueue(n.eqDurable),
    eq: notFoundQueue(n.eq),
  });
  expect(a.redeclareSameArgs).toBe('ok');
  expect(a.redeclareOtherArgs).toMatch(/^406 PRECONDITION_FAILED - inequivalent arg 'x-max-length'/);
  expect(a.routing).toEqual({
    publishK: 'confirmed',
    publishE2e: 'confirmed',
    publishTxGone: notFoundExchange(n.tx),
    publishTx: 'confirmed',
    publishK2: 'confirmed',
    dqBound: [got('after-k'), got('after-k2', false, false)],
    dqE2e: [got('after-e2e')],
    dqTx: [],
    tq: [],
    dq: [],
  });
}

const rabbitDep = rabbitmqDependency();
const rabbitMissing = gate(rabbitDep);
const scenarioId = crypto.randomBytes(3).toString('hex');
let reference: Result | undefined;

describe('durability across a graceful restart (compared with RabbitMQ)', () => {
  describe.skipIf(rabbitMissing)(label('RabbitMQ (reference)', rabbitDep), () => {
    let rabbit: RabbitNode | undefined;
    beforeAll(async () => {
      rabbit = await startRabbitMQ();
      console.log(`[durability] private RabbitMQ ${rabbit.nodeName} on 127.0.0.1:${rabbit.port} started in ${rabbit.startMs} ms`);
    }, 90_000);
    afterAll(async () => {
      await rabbit?.stop();
    }, 30_000);

    it('exchanges, queues, bindings and messages after stop + start', async () => {
      if (!rabbit) throw new Error('RabbitMQ did not start');
      const node = rabbit;
      const t0 = Date.now();
      const r = await durabilityScenario(node.url, scenarioId, async () => {
        const t = await node.restart();
        console.log(`[durability] RabbitMQ restart: stop ${t.stopMs} ms${t.killed ? ' (SIGKILLed: no graceful stop within 30 s)' : ''}, start ${t.startMs} ms`);
        expect(t.killed, 'RabbitMQ stopped gracefully on SIGTERM').toBe(false);
        return node.url;
      });
      console.log(`[durability] RabbitMQ scenario: ${Date.now() - t0} ms`);
      reference = r;
      checkResult(r, scenarioId);
    }, 120_000);
  });

  describe('Warren', () => {
    const restarts = warrenOnOneDataDir('warren-durability-');
    let warren: WarrenProcess | undefined;

    it('exchanges, queues, bindings and messages after SIGTERM + start on the same data dir', async () => {
      const t0 = Date.now();
      warren = await restarts.start();
      const r = await durabilityScenario(warren.url, scenarioId, async () => {
        const s0 = Date.now();
        const k = await warren!.kill('SIGTERM');
        const stopMs = Date.now() - s0;
        expect(k, `Warren exits 0 on SIGTERM\n--- output\n${warren!.output()}`).toEqual({ exited: true, code: 0, signal: null });
        warren = await restarts.start();
        console.log(`[durability] Warren restart: stop ${stopMs} ms, start ${warren.startMs} ms`);
        return warren.url;
      });
      console.log(`[durability] Warren scenario: ${Date.now() - t0} ms`);
      checkResult(r, scenarioId);
      if (reference !== undefined) expect(r, 'Warren must answer exactly as RabbitMQ did').toEqual(reference);
    }, 60_000);
  });
});

describe('Warren data dir lock', () => {
  const lockDir = warrenOnOneDataDir('warren-lock-');

  it('a second Warren on a data dir in use exits non-zero naming the lock and the holder pid; the first keeps serving', async () => {
    const dataDir = lockDir.dataDir;
    let first = await lockDir.start();
    const second = await runWarrenToExit({ dataDir, timeoutMs: 15_000 });
    console.log(`[durability] second Warren on ${dataDir}: exit code ${second.code} after ${second.ms} ms; output:\n${second.output.trim()}`);
    expect(second.signal).toBeNull();
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.output).toContain(path.join(dataDir, 'LOCK'));
    expect(second.output).toMatch(new RegExp(`\\b${first.pid}\\b`));
    expect(fs.readlinkSync(path.join(dataDir, 'LOCK')), 'the lock still names the first Warren').toBe(String(first.pid));

    const conn = await connect(first.url);
    const ch = await channel(conn);
    const ok = await ch.assertQueue(`lock-check-${scenarioId}`, { durable: true });
    expect(ok.messageCount).toBe(0);
    await conn.close();

    // A lock left by a killed Warren is stale: a new Warren takes it over.
    const k = await first.kill('SIGKILL');
    expect(k.exited).toBe(true);
    expect(fs.lstatSync(path.join(dataDir, 'LOCK')).isSymbolicLink(), 'SIGKILL leaves the lock behind').toBe(true);
    first = await lockDir.start();
    expect(fs.readlinkSync(path.join(dataDir, 'LOCK'))).toBe(String(first.pid));
    const conn2 = await connect(first.url);
    await channel(conn2);
    await conn2.close();
  }, 60_000);
});

describe('Warren start-up with a 50,000-message backlog', () => {
  const restarts = warrenOnOneDataDir('warren-backlog-');

  it('restarts after SIGTERM with every message of the backlog, priority order included', async () => {
    const TOTAL = 50_000;
    const queue = `backlog-${scenarioId}`;
    const priorityQueue = `backlog-priority-${scenarioId}`;
    const LOW = 25_000;
    let warren = await restarts.start();
    const conn = await connect(warren.url);
    const ch = await confirmChannel(conn);
    await ch.assertQueue(queue, { durable: true });
    const p0 = Date.now();
    const pad = 'x'.repeat(100);
    for (let i = 0; i < TOTAL; i++) {
      if (!ch.publish('', queue, Buffer.from(`m-${i}-${pad}`), { persistent: true })) await new Promise((r) => ch.once('drain', r));
      if (i % 5_000 === 4_999) await timeout(ch.waitForConfirms(), 30_000, 'confirms');
    }
    await timeout(ch.waitForConfirms(), 30_000, 'confirms');
    const publishMs = Date.now() - p0;
    expect((await ch.checkQueue(queue)).messageCount).toBe(TOTAL);
    // Past the 20,000 messages a queue keeps in memory, the high-priority ones are paged out.
    await ch.assertQueue(priorityQueue, { durable: true, arguments: { 'x-max-priority': 9 } });
    for (let i = 0; i < LOW; i++) {
      if (!ch.publish('', priorityQueue, Buffer.from(`low-${i}`), { persistent: true, priority: 1 })) await new Promise((r) => ch.once('drain', r));
    }
    for (let i = 0; i < 3; i++) ch.publish('', priorityQueue, Buffer.from(`high-${i}`), { persistent: true, priority: 9 });
    await timeout(ch.waitForConfirms(), 30_000, 'confirms');
    const before = await ch.get(priorityQueue, { noAck: true });
    expect(before && before.content.toString()).toBe('high-0');
    await conn.close();

    const s0 = Date.now();
    const k = await warren.kill('SIGTERM', 20_000);
    const stopMs = Date.now() - s0;
    expect(k, `Warren exits 0 on SIGTERM\n--- output\n${warren.output()}`).toEqual({ exited: true, code: 0, signal: null });

    warren = await restarts.start({ timeoutMs: 30_000 });
    const recovered = warren
      .output()
      .split('\n')
      .find((l) => l.includes('storage.recovered'));
    console.log(
      `[durability] backlog: ${TOTAL} persistent messages confirmed in ${publishMs} ms; SIGTERM stop ${stopMs} ms; ` +
        `start-up with the backlog ${warren.startMs} ms (spawn to "listening"); Warren's recovery line: ${recovered ?? '(none)'}`,
    );
    const conn2 = await connect(warren.url);
    const ch2 = await channel(conn2);
    expect((await ch2.checkQueue(queue)).messageCount).toBe(TOTAL);
    const first = await ch2.get(queue, { noAck: true });
    expect(first && { body: first.content.toString(), redelivered: first.fields.redelivered }).toEqual({ body: `m-0-${pad}`, redelivered: false });
    const heads: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await ch2.get(priorityQueue, { noAck: true });
      heads.push(m === false ? 'empty' : m.content.toString());
    }
    expect(heads).toEqual(['high-1', 'high-2', 'low-0']);
    await conn2.close();
  }, 90_000);
});
