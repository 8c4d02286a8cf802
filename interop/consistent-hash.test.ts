// The x-consistent-hash exchange side by side with a private RabbitMQ 3.10.8 node running the
// rabbitmq_consistent_hash_exchange plugin: the same bindings in the same order must put every
// message on the same queue, and bad arguments get the same answers.
import crypto from 'node:crypto';
import type { Channel, Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channel, confirmChannel, expectChannelError, type ServerError, timeout, withConnection } from './support/amqp.js';
import { runPika } from './support/clients.js';
import { compareBrokers, scenario } from './support/compare.js';
import { gate, label, pikaDependency, rabbitmqDependency } from './support/deps.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';
import { warrenOnOneDataDir } from './support/warren.js';

const PLUGIN = 'rabbitmq_consistent_hash_exchange';

/** Every message body in each queue (basic.get until empty), keyed by the queue's name without the scenario id. */
async function drainAll(ch: Channel, id: string, queues: string[]): Promise<Record<string, string[]>> {
  const placed: Record<string, string[]> = {};
  for (const queue of queues) {
    const bodies: string[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) break;
      bodies.push(m.content.toString());
    }
    placed[queue.slice(id.length + 1)] = bodies;
  }
  return placed;
}

function bindingRefused(text: string): ServerError {
  return { code: 406, text: `PRECONDITION_FAILED - ${text}`, classId: 50, methodId: 20 };
}

const scenarios = [
  scenario({
    name: 'routing keys land on the same queues; shares follow weights; unbinding the last-bound queue moves only its keys',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await confirmChannel(conn);
        const exchange = `${id}.chx`;
        await ch.assertExchange(exchange, 'x-consistent-hash', { autoDelete: false, durable: false });
        const queues = ['a', 'b', 'c', 'd'].map((n) => `${id}.${n}`);
        const weights = ['1', '2', '3', '2'];
        for (let i = 0; i < queues.length; i++) {
          await ch.assertQueue(queues[i]!, { exclusive: true });
          await ch.bindQueue(queues[i]!, exchange, weights[i]!);
        }
        const publishAll = async (round: string): Promise<void> => {
          for (let i = 0; i < 400; i++) ch.publish(exchange, `order-${i}`, Buffer.from(`${round}${i}`));
          await timeout(ch.waitForConfirms(), 5_000, 'confirms');
        };
        await publishAll('');
        const before = await drainAll(ch, id, queues);
        await ch.unbindQueue(queues[3]!, exchange, '2');
        await publishAll('');
        const afterLastRemoved = await drainAll(ch, id, queues);
        await ch.unbindQueue(queues[0]!, exchange, '1');
        await publishAll('');
        const afterFirstRemoved = await drainAll(ch, id, queues);
        await ch.deleteExchange(exchange);
        return { before, afterLastRemoved, afterFirstRemoved };
      });
    },
    check(r) {
      const { before, afterLastRemoved } = r as Record<string, Record<string, string[]>>;
      const counts = Object.fromEntries(Object.entries(before!).map(([q, bodies]) => [q, bodies.length]));
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(400);
      // Weights 1:2:3:2 of 400 messages: 50/100/150/100, give or take.
      expect(counts.c!).toBeGreaterThan(counts.a!);
      for (const q of ['a', 'b', 'c']) {
        expect(before![q]!.every((body) => afterLastRemoved![q]!.includes(body)), `${q} kept its keys`).toBe(true);
      }
      expect(afterLastRemoved!.d).toEqual([]);
    },
  }),

  scenario({
    name: 'hash-header and hash-property (message_id, correlation_id, timestamp) choose the queue; missing values all go one way',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await confirmChannel(conn);
        const result: Record<string, Record<string, string[]>> = {};
        const variants: [string, Record<string, string>, (i: number) => object][] = [
          ['header', { 'hash-header': 'tenant' }, (i) => ({ headers: i % 7 === 0 ? {} : { tenant: `t-${i}`, n: i } })],
          ['header-int', { 'hash-header': 'n' }, (i) => ({ headers: { n: i * 1000 } })],
          ['message_id', { 'hash-property': 'message_id' }, (i) => (i % 5 === 0 ? {} : { messageId: `m-${i}` })],
          ['correlation_id', { 'hash-property': 'correlation_id' }, (i) => ({ correlationId: `c-${i}`, contentType: 'text/plain' })],
          ['timestamp', { 'hash-property': 'timestamp' }, (i) => ({ timestamp: 1_700_000_000 + i })],
        ];
        for (const [name, args, props] of variants) {
          const exchange = `${id}.${name}`;
          await ch.assertExchange(exchange, 'x-consistent-hash', { durable: false, arguments: args });
          const queues = ['x', 'y', 'z'].map((n) => `${id}.${name}.${n}`);
          for (const queue of queues) {
            await ch.assertQueue(queue, { exclusive: true });
            await ch.bindQueue(queue, exchange, '1');
          }
          for (let i = 0; i < 60; i++) ch.publish(exchange, 'same-key', Buffer.from(String(i)), props(i));
          await timeout(ch.waitForConfirms(), 5_000, 'confirms');
          result[name] = await drainAll(ch, id, queues);
          await ch.deleteExchange(exchange);
        }
        return result;
      });
    },
    check(r) {
      for (const [name, placed] of Object.entries(r as Record<string, Record<string, string[]>>)) {
        const sizes = Object.values(placed).map((b) => b.length);
        expect(sizes.reduce((a, b) => a + b, 0), name).toBe(60);
        expect(sizes.filter((n) => n > 0).length, `${name} spreads over more than one queue`).toBeGreaterThan(1);
      }
    },
  }),

  scenario({
    name: 'an exchange as a destination, CC keys (the first key is hashed), a queue bound twice (first weight wins, either unbind removes it)',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await confirmChannel(conn);
        const exchange = `${id}.chx`;
        await ch.assertExchange(exchange, 'x-consistent-hash', { durable: false });
        await ch.assertExchange(`${id}.fan`, 'fanout', { durable: false });
        const queues = ['a', 'b', 'f1', 'f2'].map((n) => `${id}.${n}`);
        for (const queue of queues) await ch.assertQueue(queue, { exclusive: true });
        await ch.bindQueue(queues[0]!, exchange, '1');
        await ch.bindExchange(`${id}.fan`, exchange, '2');
        await ch.bindQueue(queues[1]!, exchange, '1');
        await ch.bindQueue(queues[1]!, exchange, '5');
        await ch.bindQueue(queues[2]!, `${id}.fan`, '');
        await ch.bindQueue(queues[3]!, `${id}.fan`, '');
        const publishAll = async (): Promise<void> => {
          for (let i = 0; i < 200; i++) {
            ch.publish(exchange, `k-${i}`, Buffer.from(String(i)), i % 3 === 0 ? { CC: [`cc-${i}`, `other-${i}`] } : {});
          }
          await timeout(ch.waitForConfirms(), 5_000, 'confirms');
        };
        await publishAll();
        const bound = await drainAll(ch, id, queues);
        await ch.unbindQueue(queues[1]!, exchange, '1');
        await publishAll();
        const afterUnbind = await drainAll(ch, id, queues);
        await ch.deleteExchange(exchange);
        await ch.deleteExchange(`${id}.fan`);
        return { bound, afterUnbind };
      });
    },
    check(r) {
      const { bound, afterUnbind } = r as Record<string, Record<string, string[]>>;
      expect(bound!.f1).toEqual(bound!.f2);
      expect(bound!.a!.length + bound!.b!.length + bound!.f1!.length).toBe(200);
      // b's other binding (weight 5) is still there, but b is off the ring.
      expect(afterUnbind!.b).toEqual([]);
      expect(afterUnbind!.a!.length + afterUnbind!.f1!.length).toBe(200);
    },
  }),

  scenario({
    name: 'bad binding keys and exchange arguments get the plugin answers',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const answers: unknown[] = [];
        const exchange = `${id}.chx`;
        const setup = await channel(conn);
        await setup.assertExchange(exchange, 'x-consistent-hash', { durable: false });
        await setup.assertQueue(`${id}.q`, { exclusive: true });
        for (const key of ['abc', '', '1.5', '0', '-2', ' 3', 'é']) {
          const ch = await channel(conn);
          answers.push(await expectChannelError(ch, () => ch.bindQueue(`${id}.q`, exchange, key)));
        }
        const ch = await channel(conn);
        await ch.bindQueue(`${id}.q`, exchange, '+4');
        answers.push('bound with +4');
        for (const args of [{ 'hash-header': 'h', 'hash-property': 'message_id' }, { 'hash-property': 'app_id' }, { 'hash-property': 'Message_Id' }]) {
          const c = await channel(conn);
          answers.push(await expectChannelError(c, () => c.assertExchange(`${id}.bad`, 'x-consistent-hash', { durable: false, arguments: args })));
        }
        const c = await channel(conn);
        answers.push(await expectChannelError(c, () => c.checkExchange(`${id}.bad`)));
        await setup.deleteExchange(exchange);
        return answers;
      });
    },
    check(r) {
      const declareRefused = (text: string): ServerError => ({ code: 406, text: `PRECONDITION_FAILED - ${text}`, classId: 40, methodId: 10 });
      expect(r).toEqual([
        bindingRefused('The binding key must be an integer: <<"abc">>'),
        bindingRefused('The binding key must be an integer: <<>>'),
        bindingRefused('The binding key must be an integer: <<"1.5">>'),
        bindingRefused('The binding key must be greater than 0'),
        bindingRefused('The binding key must be greater than 0'),
        bindingRefused('The binding key must be an integer: <<" 3">>'),
        bindingRefused('The binding key must be an integer: <<"é">>'),
        'bound with +4',
        declareRefused('hash-header and hash-property are mutually exclusive'),
        declareRefused('Unsupported property: app_id'),
        declareRefused('Unsupported property: Message_Id'),
        expect.objectContaining({ code: 404 }),
      ]);
    },
  }),

  scenario({
    name: 'no bindings: unroutable (mandatory returns 312 NO_ROUTE; the alternate exchange takes it)',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await confirmChannel(conn);
        const returned: string[] = [];
        ch.on('return', (m: Message) => {
          const fields = m.fields as unknown as { replyCode: number; replyText: string };
          returned.push(`${fields.replyCode} ${fields.replyText} ${m.content.toString()}`);
        });
        await ch.assertExchange(`${id}.ae`, 'fanout', { durable: false });
        await ch.assertQueue(`${id}.ae-q`, { exclusive: true });
        await ch.bindQueue(`${id}.ae-q`, `${id}.ae`, '');
        await ch.assertExchange(`${id}.plain`, 'x-consistent-hash', { durable: false });
        await ch.assertExchange(`${id}.with-ae`, 'x-consistent-hash', { durable: false, arguments: { 'alternate-exchange': `${id}.ae` } });
        ch.publish(`${id}.plain`, 'k', Buffer.from('lost'), { mandatory: true });
        ch.publish(`${id}.with-ae`, 'k', Buffer.from('to-ae'), { mandatory: true });
        await timeout(ch.waitForConfirms(), 5_000, 'confirms');
        const got = await ch.get(`${id}.ae-q`, { noAck: true });
        await ch.deleteExchange(`${id}.plain`);
        await ch.deleteExchange(`${id}.with-ae`);
        await ch.deleteExchange(`${id}.ae`);
        return { returned, alternate: got === false ? null : got.content.toString() };
      });
    },
    check(r) {
      expect(r).toEqual({ returned: ['312 NO_ROUTE lost'], alternate: 'to-ae' });
    },
  }),

  scenario({
    name: 'pika: a header-hashed exchange places messages as RabbitMQ does',
    async run(url, id) {
      return runPika('pika_consistent_hash.py', [url, id]);
    },
    check(r) {
      const placed = r as Record<string, string[]>;
      expect(Object.values(placed).reduce((n, b) => n + b.length, 0)).toBe(60);
    },
  }),
];

compareBrokers('x-consistent-hash exchange (rabbitmq_consistent_hash_exchange)', scenarios, {
  plugins: [PLUGIN],
  clientDeps: [pikaDependency()],
});

/**
 * Placements of a durable x-consistent-hash exchange before and after a restart, bindings made in
 * neither name nor weight order. RabbitMQ 3.10.8 rebuilds the ring at boot in the order its route
 * table yields the bindings (observed: neither binding, name nor key order), so keys move; Warren
 * rebuilds it in binding order, so they stay.
 */
async function restartScenario(url: string, id: string, restart: () => Promise<string>): Promise<Record<string, Record<string, string[]>>> {
  const exchange = `${id}.durable-chx`;
  const names = ['x', 'd', 'm', 'b', 'q'];
  const keys = ['2', '1', '2', '1', '3'];
  const queues = names.map((n) => `${id}.${n}`);
  const publishAndDrain = (target: string) =>
    withConnection(target, async (conn) => {
      const ch = await confirmChannel(conn);
      for (let i = 0; i < 300; i++) ch.publish(exchange, `user-${i}`, Buffer.from(String(i)));
      await timeout(ch.waitForConfirms(), 5_000, 'confirms');
      return drainAll(ch, id, queues);
    });
  await withConnection(url, async (conn) => {
    const ch = await channel(conn);
    await ch.assertExchange(exchange, 'x-consistent-hash', { durable: true });
    for (let i = 0; i < queues.length; i++) {
      await ch.assertQueue(queues[i]!, { durable: true });
      await ch.bindQueue(queues[i]!, exchange, keys[i]!);
    }
  });
  const before = await publishAndDrain(url);
  const url2 = await restart();
  const after = await publishAndDrain(url2);
  await withConnection(url2, async (conn) => {
    const ch = await channel(conn);
    for (const queue of queues) await ch.deleteQueue(queue);
    await ch.deleteExchange(exchange);
  });
  return { before, after };
}

const rabbitDep = rabbitmqDependency();
const restartId = `chx-restart-${crypto.randomBytes(3).toString('hex')}`;
let restartReference: Record<string, Record<string, string[]>> | undefined;

describe('x-consistent-hash: a durable exchange across a restart', () => {
  describe.skipIf(gate(rabbitDep))(label('RabbitMQ (reference)', rabbitDep), () => {
    let rabbit: RabbitNode | undefined;
    beforeAll(async () => {
      rabbit = await startRabbitMQ({ plugins: [PLUGIN] });
    }, 90_000);
    afterAll(async () => {
      await rabbit?.stop();
    }, 30_000);
    it('RabbitMQ 3.10.8 rebuilds the ring in another order: keys move', async () => {
      const node = rabbit!;
      restartReference = await restartScenario(node.url, restartId, async () => {
        await node.restart();
        return node.url;
      });
      expect(restartReference.after).not.toEqual(restartReference.before);
    }, 120_000);
  });

  describe('Warren', () => {
    const restarts = warrenOnOneDataDir('warren-chx-');
    it('Warren keeps the binding order: every key stays where it was, and where RabbitMQ put it before its restart', async () => {
      let warren = await restarts.start();
      const r = await restartScenario(warren.url, restartId, async () => {
        await warren.kill('SIGTERM');
        warren = await restarts.start();
        return warren.url;
      });
      expect(r.after).toEqual(r.before);
      if (restartReference !== undefined) expect(r.before, 'the same placements as RabbitMQ before its restart').toEqual(restartReference.before);
    }, 60_000);
  });
});
