// Crash safety of Warren's message store (Warren only, no reference broker):
// producers publish persistent messages through confirm channels and
// consumers ack part of what they get while Warren is SIGKILLed at a random
// moment; Warren restarts on the same data dir and the queues are drained.
//
// Checked after every kill:
//   - zero loss: every confirmed id that was not acked comes back;
//   - no corrupt body (each body carries its id and a SHA-256 of its contents),
//     no id that was never published, no id twice in the drain, no id
//     delivered twice in one broker lifetime before the kill;
//   - acked ids that reappear (acks not yet on disk at the kill) are counted
//     and printed, and must be at most 5 % of the acks of that lifetime;
//   - redelivered flags of the drained messages: a message delivered (and not
//     acked) at least FLAG_DEADLINE_MS before the kill must come back
//     redelivered=true; more recent ones may miss the flag (counted, printed);
//     messages never delivered before must not be flagged redelivered.
// Several kill/restart cycles run in one data dir (tens of thousands of
// messages), bounded in time.
import crypto from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { sleep, timeout, tx } from './support/amqp.js';
import { type WarrenProcess, warrenOnOneDataDir } from './support/warren.js';

const CYCLES = 5;
const KILL_AFTER_MS: [number, number] = [300, 1500];
const PRODUCERS = 4; // two per route
const WINDOW = 400; // unconfirmed publishes per producer
const PREFETCH = 50;
const ACK_PROBABILITY = 0.8;
const MAX_HELD = 20; // delivered-unacked a consumer keeps; beyond it the oldest is acked
const PINNED = 5; // the first deliveries of each consumer per lifetime are never acked
/**
 * A delivered-unacked message must come back redelivered=true if it was
 * delivered this long before the kill (far longer than a group commit);
 * more recent ones may miss the flag (the "delivered up to" record can be
 * unsynced at the kill): those are counted and printed.
 */
const FLAG_DEADLINE_MS = 250;
const TOLERANCE = 0.05;

const suffix = crypto.randomBytes(3).toString('hex');
const QUEUE_A = `crash-a-${suffix}`; // published through the default exchange
const EXCHANGE = `crash-x-${suffix}`; // durable direct
const QUEUE_B = `crash-b-${suffix}`; // bound to EXCHANGE with key 'b'
const ROUTES = [
  { name: 'a', exchange: '', routingKey: QUEUE_A, queue: QUEUE_A },
  { name: 'b', exchange: EXCHANGE, routingKey: 'b', queue: QUEUE_B },
] as const;

// --- bodies: "<id>|<route>|<payload>|<sha256(id|route|payload) first 16 hex>"
function makeBody(id: string, route: string): Buffer {
  const seed = crypto.createHash('sha256').update(id).digest();
  const size = 16 + (seed.readUInt16BE(0) % 2000);
  let payload = '';
  const pattern = seed.toString('hex');
  while (payload.length < size) payload += pattern;
  payload = payload.slice(0, size);
  const head = `${id}|${route}|${payload}`;
  return Buffer.from(`${head}|${crypto.createHash('sha256').update(head).digest('hex').slice(0, 16)}`);
}

/** The id and route of a body, or null if it is damaged. */
function parseBody(body: Buffer): { id: string; route: string } | null {
  const text = body.toString('latin1');
  const cut = text.lastIndexOf('|');
  if (cut < 0) return null;
  const head = text.slice(0, cut);
  if (crypto.createHash('sha256').update(head).digest('hex').slice(0, 16) !== text.slice(cut + 1)) return null;
  const [id, route] = head.split('|');
  if (id === undefined || route === undefined) return null;
  if (!makeBody(id, route).equals(body)) return null;
  return { id, route };
}

// --- what the clients saw, over the whole run
interface Published {
  route: string;
  cycle: number;
}
const published = new Map<string, Published>();
const confirmed = new Set<string>();
const nacked = new Set<string>();
/** id → Date.now() when the ack was written to the socket. */
const ackedAt = new Map<string, number>();

interface CycleFigures {
  cycle: number;
  killAfterMs: number;
  published: number;
  confirmed: number;
  acked: number;
  deliveredUnackedAtKill: number;
  restartMs: number;
  recoveredLog: string;
  recovered: number;
  recoveredUnconfirmed: number;
  lost: number;
  corrupt: number;
  unknown: number;
  duplicatesInDrain: number;
  duplicatesBeforeKill: number;
  reappearedAcked: number;
  reappearedAckedOldestMs: number;
  redeliveredFlagMissing: number;
  redeliveredFlagMissingOld: number;
  redeliveredFlagSpurious: number;
}

/** One Warren lifetime: producers and consumers until the kill. */
class Load {
  stopped = false;
  killed = false;
  conns: ChannelModel[] = [];
  /** Deliveries in this lifetime: id → count. */
  delivered = new Map<string, number>();
  /** id → Date.now() of its (last) delivery in this lifetime. */
  deliveredAt = new Map<string, number>();
  /** Delivered and not acked (when the clients stopped). */
  held = new Set<string>();
  ackCount = 0;
  publishedCount = 0;
  confirmedCount = 0;
  corrupt = 0;
  unknown = 0;
  wrongRedelivered = 0;
  errors: string[] = [];
  private producers: Promise<void>[] = [];
  private wakers = new Set<() => void>();

  constructor(
    readonly url: string,
    readonly cycle: number,
  ) {}

  async start(): Promise<void> {
    const setup = await amqp.connect(this.url, { timeout: 5_000 });
    setup.on('error', () => {});
    this.conns.push(setup);
    const ch = await setup.createChannel();
    await ch.assertQueue(QUEUE_A, { durable: true });
    await ch.assertExchange(EXCHANGE, 'direct', { durable: true });
    await ch.assertQueue(QUEUE_B, { durable: true });
    await ch.bindQueue(QUEUE_B, EXCHANGE, 'b');
    await ch.close();
    for (const route of ROUTES) await this.startConsumer(route.queue, route.name);
    for (let p = 0; p < PRODUCERS; p++) {
      const conn = await amqp.connect(this.url, { timeout: 5_000 });
      conn.on('error', () => {});
      this.conns.push(conn);
      const cch = await conn.createConfirmChannel();
      cch.on('error', () => {});
      cch.on('close', () => this.wakeAll());
      this.producers.push(this.produce(cch, p, ROUTES[p % ROUTES.length]!));
    }
  }

  private async startConsumer(queue: string, route: string): Promise<void> {
    const conn = await amqp.connect(this.url, { timeout: 5_000 });
    conn.on('error', () => {});
    this.conns.push(conn);
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.prefetch(PREFETCH);
    const heldHere: ConsumeMessage[] = [];
    let pinned = 0;
    const ack = (m: ConsumeMessage, id: string) => {
      if (this.killed) return; // an ack after the kill never reaches the broker: keep it unacked
      ch.ack(m);
      ackedAt.set(id, Date.now());
      this.held.delete(id);
      this.ackCount++;
    };
    await ch.consume(
      queue,
      (m) => {
        if (m === null) return;
        const parsed = parseBody(m.content);
        if (parsed === null) {
          this.corrupt++;
          return;
        }
        if (!published.has(parsed.id) || parsed.route !== route) this.unknown++;
        // The queues are drained before every lifetime: nothing a consumer gets here was delivered before.
        if (m.fields.redelivered) this.wrongRedelivered++;
        this.delivered.set(parsed.id, (this.delivered.get(parsed.id) ?? 0) + 1);
        this.deliveredAt.set(parsed.id, Date.now());
        this.held.add(parsed.id);
        if (pinned < PINNED) {
          pinned++; // never acked in this lifetime
        } else if (Math.random() < ACK_PROBABILITY) {
          ack(m, parsed.id);
        } else {
          heldHere.push(m);
          if (heldHere.length > MAX_HELD) {
            const oldest = heldHere.shift()!;
            const p = parseBody(oldest.content)!;
            ack(oldest, p.id);
          }
        }
      },
      { noAck: false },
    );
  }

  private wakeAll(): void {
    for (const w of this.wakers) w();
    this.wakers.clear();
  }

  private async produce(ch: ConfirmChannel, p: number, route: (typeof ROUTES)[number]): Promise<void> {
    let inFlight = 0;
    let closed = false;
    ch.on('close', () => {
      closed = true;
    });
    for (let seq = 0; !this.stopped && !closed; seq++) {
      while (inFlight >= WINDOW && !this.stopped && !closed) await new Promise<void>((r) => this.wakers.add(r));
      if (this.stopped || closed) break;
      const id = `${this.cycle}.${p}.${seq}`;
      published.set(id, { route: route.name, cycle: this.cycle });
      this.publishedCount++;
      inFlight++;
      let ok: boolean;
      try {
        ok = ch.publish(route.exchange, route.routingKey, makeBody(id, route.name), { persistent: true }, (err) => {
          inFlight--;
          if (err === null || err === undefined) {
            confirmed.add(id);
            this.confirmedCount++;
          } else if (err.message === 'message nacked') nacked.add(id);
          this.wakeAll();
        });
      } catch {
        break; // channel closed under us
      }
      if (!ok) await new Promise<void>((r) => {
        const done = () => r();
        ch.once('drain', done);
        this.wakers.add(done);
      });
      // Let confirms and deliveries in between publishes.
      if (seq % 50 === 49) await new Promise((r) => setImmediate(r));
    }
  }

  /** Stop the clients (after the kill): no more acks, producers end, connections closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    await timeout(Promise.all(this.producers), 10_000, 'producers to stop');
    await Promise.all(this.conns.map((c) => timeout(c.close(), 2_000, 'close').catch(() => {})));
  }
}

interface Drained {
  id: string | null;
  route: string;
  redelivered: boolean;
}

/** Consume both queues to empty, acking everything; bounded. */
async function drainAll(url: string): Promise<{ msgs: Drained[]; counts: Record<string, number> }> {
  const conn = await amqp.connect(url, { timeout: 5_000 });
  conn.on('error', () => {});
  try {
    const msgs: Drained[] = [];
    const counts: Record<string, number> = {};
    for (const route of ROUTES) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      const { messageCount, consumerCount } = await ch.checkQueue(route.queue);
      expect(consumerCount, `no consumer on ${route.queue} after the restart`).toBe(0);
      counts[route.name] = messageCount;
      await ch.prefetch(1000);
      let got = 0;
      let resolveDone!: () => void;
      const done = new Promise<void>((r) => (resolveDone = r));
      if (messageCount === 0) resolveDone();
      const { consumerTag } = await ch.consume(
        route.queue,
        (m) => {
          if (m === null) return;
          const parsed = parseBody(m.content);
          msgs.push({ id: parsed?.id ?? null, route: route.name, redelivered: m.fields.redelivered });
          ch.ack(m);
          if (parsed !== null) ackedAt.set(parsed.id, Date.now());
          if (++got >= messageCount) resolveDone();
        },
        { noAck: false },
      );
      await timeout(done, 20_000, `draining ${messageCount} messages from ${route.queue} (got ${got})`);
      await ch.cancel(consumerTag);
      // Nothing more than the count said (a late extra delivery would show here).
      await sleep(50);
      const after = await ch.checkQueue(route.queue);
      expect(after.messageCount, `${route.queue} empty after the drain`).toBe(0);
      expect(got, `${route.queue}: deliveries = message count at start`).toBe(messageCount);
      await ch.close();
    }
    return { msgs, counts };
  } finally {
    await conn.close().catch(() => {});
  }
}

function recoveredLine(output: string): string {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.includes('storage.recovered'));
  if (!line) return '(no storage.recovered line)';
  try {
    const rec = JSON.parse(line) as { messages?: number; queues?: number; totalMs?: number };
    return `messages=${rec.messages} queues=${rec.queues} totalMs=${rec.totalMs}`;
  } catch {
    return line.slice(0, 200);
  }
}

describe('crash safety: SIGKILL under load, restart on the same data dir (Warren)', () => {
  const restarts = warrenOnOneDataDir('warren-crash-');
  let warren: WarrenProcess;

  it(`${CYCLES} kill/restart cycles: zero loss of confirmed messages, no corruption, few reappearing acks`, async () => {
    const t0 = Date.now();
    const figures: CycleFigures[] = [];
    const failures: string[] = [];
    warren = await restarts.start();
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const load = new Load(warren.url, cycle);
      await load.start();
      const killAfterMs = KILL_AFTER_MS[0] + Math.floor(Math.random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]));
      await sleep(killAfterMs);

      // --- the crash
      load.killed = true;
      const killTime = Date.now();
      const k = await warren.kill('SIGKILL');
      expect(k.exited, 'Warren exits on SIGKILL').toBe(true);
      await load.stop();
      const heldAtKill = new Set(load.held);
      const heldOld = [...heldAtKill].filter((id) => killTime - load.deliveredAt.get(id)! >= FLAG_DEADLINE_MS).length;
      const deliveredBefore = new Set(load.delivered.keys());
      const duplicatesBeforeKill = [...load.delivered.values()].filter((n) => n > 1).length;
      const ackedThisLife = load.ackCount;

      // --- restart on the same dir
      const r0 = Date.now();
      warren = await restarts.start();
      const restartMs = Date.now() - r0;
      const { msgs } = await drainAll(warren.url);

      // --- checks
      const seen = new Map<string, number>();
      let corrupt = 0;
      let unknown = 0;
      let reappearedAcked = 0;
      let reappearedAckedOldestMs = 0;
      let flagMissing = 0;
      let flagMissingOld = 0;
      let flagMissingOldestMs = 0;
      let flagMissingNewestMs = Infinity;
      let flagSpurious = 0;
      let recoveredUnconfirmed = 0;
      const ackedBeforeKill = (id: string) => {
        const at = ackedAt.get(id);
        return at !== undefined && at <= killTime;
      };
      for (const m of msgs) {
        if (m.id === null) {
          corrupt++;
          continue;
        }
        const pub = published.get(m.id);
        if (pub === undefined || pub.route !== m.route) {
          unknown++;
          continue;
        }
        seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
        if (ackedBeforeKill(m.id)) {
          reappearedAcked++;
          reappearedAckedOldestMs = Math.max(reappearedAckedOldestMs, killTime - ackedAt.get(m.id)!);
          continue;
        }
        if (!confirmed.has(m.id)) recoveredUnconfirmed++;
        if (deliveredBefore.has(m.id) && !m.redelivered) {
          flagMissing++;
          const age = killTime - load.deliveredAt.get(m.id)!;
          flagMissingOldestMs = Math.max(flagMissingOldestMs, age);
          flagMissingNewestMs = Math.min(flagMissingNewestMs, age);
          if (age >= FLAG_DEADLINE_MS) flagMissingOld++;
        }
        if (!deliveredBefore.has(m.id) && m.redelivered) flagSpurious++;
      }
      const duplicatesInDrain = [...seen.values()].filter((n) => n > 1).length;
      const lostIds = [...confirmed].filter((id) => !ackedBeforeKill(id) && !seen.has(id));
      const f: CycleFigures = {
        cycle,
        killAfterMs,
        published: load.publishedCount,
        confirmed: load.confirmedCount,
        acked: ackedThisLife,
        deliveredUnackedAtKill: heldAtKill.size,
        restartMs,
        recoveredLog: recoveredLine(warren.output()),
        recovered: msgs.length,
        recoveredUnconfirmed,
        lost: lostIds.length,
        corrupt: corrupt + load.corrupt,
        unknown: unknown + load.unknown,
        duplicatesInDrain,
        duplicatesBeforeKill,
        reappearedAcked,
        reappearedAckedOldestMs,
        redeliveredFlagMissing: flagMissing,
        redeliveredFlagMissingOld: flagMissingOld,
        redeliveredFlagSpurious: flagSpurious,
      };
      figures.push(f);
      console.log(
        `[crash] cycle ${cycle}: killed after ${killAfterMs} ms; published ${f.published}, confirmed ${f.confirmed}, acked ${f.acked}, ` +
          `delivered-unacked at kill ${f.deliveredUnackedAtKill}; restart ${restartMs} ms (${f.recoveredLog}); recovered ${f.recovered} ` +
          `(${recoveredUnconfirmed} unconfirmed); lost ${f.lost}; corrupt ${f.corrupt}; unknown ${f.unknown}; ` +
          `duplicates in drain ${duplicatesInDrain}, before kill ${duplicatesBeforeKill}; reappeared acked ${reappearedAcked}` +
          (reappearedAcked ? ` (oldest ack ${reappearedAckedOldestMs} ms before the kill)` : '') +
          `; redelivered flag missing ${flagMissing}/${heldAtKill.size} (${heldOld} delivered >= ${FLAG_DEADLINE_MS} ms before the kill)` +
          (flagMissing ? ` (delivered ${flagMissingNewestMs}-${flagMissingOldestMs} ms before the kill; ${flagMissingOld} of them >= ${FLAG_DEADLINE_MS} ms)` : '') +
          `, spurious ${flagSpurious}; redelivered on first delivery ${load.wrongRedelivered}`,
      );

      const where = `cycle ${cycle}`;
      if (f.lost > 0) failures.push(`${where}: ${f.lost} confirmed, unacked messages lost after SIGKILL (e.g. ${lostIds.slice(0, 5).join(', ')})`);
      if (f.corrupt > 0) failures.push(`${where}: ${f.corrupt} corrupt bodies`);
      if (f.unknown > 0) failures.push(`${where}: ${f.unknown} messages that were never published to that queue`);
      if (duplicatesInDrain > 0) failures.push(`${where}: ${duplicatesInDrain} ids delivered more than once in the drain after the restart`);
      if (duplicatesBeforeKill > 0) failures.push(`${where}: ${duplicatesBeforeKill} ids delivered more than once before the kill (no requeue happened)`);
      if (load.wrongRedelivered > 0) failures.push(`${where}: ${load.wrongRedelivered} first deliveries flagged redelivered`);
      if (reappearedAcked > Math.max(1, TOLERANCE * ackedThisLife))
        failures.push(`${where}: ${reappearedAcked} acked messages reappeared (> ${TOLERANCE * 100} % of ${ackedThisLife} acks)`);
      if (flagMissingOld > 0)
        failures.push(
          `${where}: ${flagMissingOld} delivered-unacked messages delivered >= ${FLAG_DEADLINE_MS} ms before the kill came back with redelivered=false (up to ${flagMissingOldestMs} ms before)`,
        );
      if (flagSpurious > 0) failures.push(`${where}: ${flagSpurious} messages never delivered before came back with redelivered=true`);
      if (heldOld === 0) failures.push(`${where}: no delivered-unacked message old enough to check its redelivered flag (the consumers did not run)`);
      if (f.confirmed === 0) failures.push(`${where}: nothing was confirmed before the kill (the load did not run)`);
    }

    const total = (k: keyof CycleFigures) => figures.reduce((s, f) => s + (f[k] as number), 0);
    console.log(
      `[crash] total over ${CYCLES} cycles in ${Date.now() - t0} ms: published ${total('published')}, confirmed ${total('confirmed')}, ` +
        `acked ${total('acked')}, recovered ${total('recovered')}, lost ${total('lost')}, reappeared acked ${total('reappearedAcked')}, ` +
        `redelivered flag missing ${total('redeliveredFlagMissing')} (${total('redeliveredFlagMissingOld')} >= ${FLAG_DEADLINE_MS} ms), nacked ${nacked.size}`,
    );
    expect(failures).toEqual([]);
  }, 90_000);
});

// RabbitMQ 3.10 keeps a durable queue, exchange and binding whose declare-ok /
// bind-ok the client got when the node is SIGKILLed right after (checked by
// hand with the harness's private node: queue, exchange, binding and a
// confirmed message all back). Warren must too: a client that got the -ok
// relies on it, and messages published through a lost binding are dropped.
describe('crash safety: definitions acknowledged just before SIGKILL (Warren)', () => {
  const restarts = warrenOnOneDataDir('warren-crash-defs-');
  let warren: WarrenProcess;

  it('durable exchange, queue, queue and exchange bindings survive a SIGKILL right after the -ok', async () => {
    const ROUNDS = 3;
    const report: string[] = [];
    warren = await restarts.start();
    for (let round = 0; round < ROUNDS; round++) {
      const x = `defs-x-${suffix}-${round}`;
      const fx = `defs-fx-${suffix}-${round}`;
      const q = `defs-q-${suffix}-${round}`;
      const conn = await amqp.connect(warren.url, { timeout: 5_000 });
      conn.on('error', () => {});
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => {});
      await ch.assertExchange(x, 'direct', { durable: true });
      await ch.assertExchange(fx, 'fanout', { durable: true });
      await ch.assertQueue(q, { durable: true });
      await ch.bindExchange(fx, x, 'e2e');
      await ch.bindQueue(q, x, 'k');
      await ch.bindQueue(q, fx, '');
      ch.publish(x, 'k', Buffer.from(`before-${round}`), { persistent: true });
      await timeout(ch.waitForConfirms(), 5_000, 'confirm');
      const k = await warren.kill('SIGKILL');
      expect(k.exited).toBe(true);
      warren = await restarts.start();

      const conn2 = await amqp.connect(warren.url, { timeout: 5_000 });
      conn2.on('error', () => {});
      const state: Record<string, unknown> = {};
      const check = async (what: string, op: (c: amqp.Channel) => Promise<unknown>) => {
        const c = await conn2.createChannel();
        c.on('error', () => {});
        try {
          state[what] = await op(c);
          await c.close();
        } catch (err) {
          state[what] = `error: ${(err as Error).message.replace(/^.*with message "(.*)"$/, '$1')}`;
        }
      };
      await check('exchange', (c) => c.checkExchange(x).then(() => 'exists'));
      await check('fanoutExchange', (c) => c.checkExchange(fx).then(() => 'exists'));
      await check('queue', (c) => c.checkQueue(q).then((ok) => ({ messageCount: ok.messageCount })));
      const pch = await conn2.createConfirmChannel();
      pch.on('error', () => {});
      pch.publish(x, 'k', Buffer.from(`after-k-${round}`), { persistent: true });
      pch.publish(x, 'e2e', Buffer.from(`after-e2e-${round}`), { persistent: true });
      state.publishAfter = await timeout(pch.waitForConfirms(), 5_000, 'confirms').then(
        () => 'confirmed',
        (err: Error) => `error: ${err.message}`,
      );
      await check('bodies', async (c) => {
        const bodies: string[] = [];
        for (let m = await c.get(q, { noAck: true }); m !== false; m = await c.get(q, { noAck: true })) bodies.push(m.content.toString());
        return bodies;
      });
      await conn2.close().catch(() => {});
      report.push(`round ${round}: ${JSON.stringify(state)}`);
      expect
        .soft(state, `round ${round}: what was acknowledged before the SIGKILL is there after the restart`)
        .toEqual({
          exchange: 'exists',
          fanoutExchange: 'exists',
          queue: { messageCount: 1 },
          publishAfter: 'confirmed',
          bodies: [`before-${round}`, `after-k-${round}`, `after-e2e-${round}`],
        });
    }
    console.log(`[crash] definitions acknowledged right before SIGKILL:\n${report.join('\n')}`);
  }, 30_000);
});

// A tx.commit-ok promises the transaction's persistent messages are safe, as
// RabbitMQ does: it is sent only once they are on disk. Killed the moment
// commit-ok arrives, Warren must bring every committed message back.
describe('crash safety: transactions committed just before SIGKILL (Warren)', () => {
  const restarts = warrenOnOneDataDir('warren-crash-tx-');
  let warren: WarrenProcess;

  it('every message of a committed transaction survives a SIGKILL right after commit-ok', async () => {
    const ROUNDS = 5;
    const PER_TX = 200;
    const q = `tx-q-${suffix}`;
    const body = Buffer.alloc(4096, 0x61);
    const counts: number[] = [];
    warren = await restarts.start();
    for (let round = 1; round <= ROUNDS; round++) {
      const conn = await amqp.connect(warren.url, { timeout: 5_000 });
      conn.on('error', () => {});
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.assertQueue(q, { durable: true });
      await tx.select(ch);
      for (let i = 0; i < PER_TX; i++) ch.sendToQueue(q, body, { persistent: true, messageId: `${round}-${i}` });
      await timeout(tx.commit(ch), 5_000, 'tx.commit-ok');
      const k = await warren.kill('SIGKILL');
      expect(k.exited).toBe(true);
      warren = await restarts.start();
      const check = await amqp.connect(warren.url, { timeout: 5_000 });
      const cch = await check.createChannel();
      counts.push((await cch.checkQueue(q)).messageCount);
      await check.close();
    }
    console.log(`[crash] messages after each commit + SIGKILL: ${counts.join(', ')}`);
    expect(counts).toEqual(Array.from({ length: ROUNDS }, (_, i) => (i + 1) * PER_TX));
  }, 60_000);
});
