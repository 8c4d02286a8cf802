// Policies and operator policies, compared with a private RabbitMQ node: the
// same policy is set on both (rabbitmqctl set_policy on RabbitMQ, the VHost
// operations `warren ctl` and the management API will call on an in-process
// Warren), and a scenario whose answer depends on it runs against each.
// Then Warren alone: policies from a definitions.json written before start,
// and policies surviving a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Channel, Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyValidationError } from '../src/broker/access/policies.js';
import { Broker } from '../src/broker/broker.js';
import { exportPolicies, importPolicies, type ParameterDocument, type PolicyDocument } from '../src/broker/policy-definitions.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import { channel, confirmChannel, sleep, waitUntil, withConnection } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { startRabbitMQ, type RabbitNode } from './support/rabbitmq.js';
import { rabbitmqctl } from './support/rabbitmqctl.js';
import { startWarren } from './support/warren.js';

interface PolicyOptions {
  applyTo?: string;
  priority?: number;
}

/** A broker the scenarios can set policies on; a refused policy resolves to RabbitMQ's text. */
interface PolicyBroker {
  url: string;
  setPolicy(name: string, pattern: string, definition: unknown, opts?: PolicyOptions): Promise<string>;
  clearPolicy(name: string): Promise<void>;
  setOperatorPolicy(name: string, pattern: string, definition: unknown, opts?: PolicyOptions): Promise<string>;
}

function rabbitPolicies(node: RabbitNode): PolicyBroker {
  const set = async (verb: string, name: string, pattern: string, definition: unknown, opts: PolicyOptions = {}) => {
    const flags = [...(opts.applyTo ? ['--apply-to', opts.applyTo] : []), ...(opts.priority !== undefined ? ['--priority', String(opts.priority)] : [])];
    const result = await rabbitmqctl(node, [verb, ...flags, name, pattern, JSON.stringify(definition)]);
    if (result.code === 0) return 'ok';
    // "Error:\nValidation failed\n\n<text>\n": the text is what the HTTP API answers too.
    const refused = /Validation failed\n\n([\s\S]*?)\n*$/.exec(result.stderr);
    if (refused === null) throw new Error(`rabbitmqctl ${verb} failed (${result.code}): ${result.stderr}`);
    return refused[1]!;
  };
  return {
    url: node.url,
    setPolicy: (name, pattern, definition, opts) => set('set_policy', name, pattern, definition, opts),
    setOperatorPolicy: (name, pattern, definition, opts) => set('set_operator_policy', name, pattern, definition, opts),
    async clearPolicy(name) {
      const result = await rabbitmqctl(node, ['clear_policy', name]);
      if (result.code !== 0) throw new Error(`rabbitmqctl clear_policy failed: ${result.stderr}`);
    },
  };
}

function warrenPolicies(server: RunningServer): PolicyBroker {
  const vhost = () => server.broker.vhost('/')!;
  const set = (apply: () => unknown): Promise<string> => {
    try {
      apply();
      return Promise.resolve('ok');
    } catch (error) {
      if (error instanceof PolicyValidationError) return Promise.resolve(error.message);
      throw error;
    }
  };
  return {
    url: `amqp://guest:guest@127.0.0.1:${server.port}`,
    setPolicy: (name, pattern, definition, opts = {}) =>
      set(() => vhost().setPolicy(name, { pattern, definition, applyTo: opts.applyTo, priority: opts.priority })),
    setOperatorPolicy: (name, pattern, definition, opts = {}) =>
      set(() => vhost().setOperatorPolicy(name, { pattern, definition, applyTo: opts.applyTo, priority: opts.priority })),
    async clearPolicy(name) {
      vhost().clearPolicy(name);
    },
  };
}

async function startInProcess(dataDir: string): Promise<RunningServer> {
  return startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent', managementPort: -1, metricsPort: -1 }, createLogger('silent'));
}

/** basic.get until empty; the bodies. */
async function bodies(ch: Channel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (let m = await ch.get(queue, { noAck: true }); m; m = await ch.get(queue, { noAck: true })) out.push(m.content.toString());
  return out;
}

/** Polls a passive declare until the queue holds `count` messages (RabbitMQ applies a policy to a queue asynchronously). */
async function untilCount(ch: Channel, queue: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await ch.checkQueue(queue)).messageCount !== count) {
    if (Date.now() > deadline) throw new Error(`queue ${queue} did not reach ${count} messages in 5 s`);
    await sleep(20);
  }
}

/** What a dead letter says about its death. */
function death(m: Message): { body: string; routingKey: string; reason: unknown; queue: unknown } {
  const first = (m.properties.headers?.['x-death'] as Record<string, unknown>[] | undefined)?.[0];
  return { body: m.content.toString(), routingKey: m.fields.routingKey, reason: first?.['reason'], queue: first?.['queue'] };
}

/** Consumes `count` messages from `queue` (noAck), within 5 s. */
async function receive(ch: Channel, queue: string, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const { consumerTag } = await ch.consume(queue, (m) => m && got.push(m), { noAck: true });
  await waitUntil(() => got.length >= count, 5_000, `${count} messages from ${queue}`);
  await ch.cancel(consumerTag);
  return got;
}

interface PolicyScenario {
  name: string;
  run(broker: PolicyBroker, id: string): Promise<unknown>;
  check(result: unknown): void;
}

const scenarios: PolicyScenario[] = [
  {
    name: 'max-length policy: a third publish drops the head; a lower x-max-length wins; the highest priority applies alone',
    async run(broker, id) {
      await broker.setPolicy(`${id}-len2`, `^${id}\\.`, { 'max-length': 2 }, { applyTo: 'queues', priority: 2 });
      await broker.setPolicy(`${id}-len1`, `^${id}\\.`, { 'max-length': 1 }, { applyTo: 'queues', priority: 1 });
      return withConnection(broker.url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(`${id}.plain`, { exclusive: true });
        await ch.assertQueue(`${id}.arg`, { exclusive: true, arguments: { 'x-max-length': 1 } });
        await ch.assertQueue(`${id}.argabove`, { exclusive: true, arguments: { 'x-max-length': 10 } });
        await ch.assertQueue(`other-${id}`, { exclusive: true });
        for (const q of [`${id}.plain`, `${id}.arg`, `${id}.argabove`, `other-${id}`]) {
          for (const body of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(body));
        }
        await untilCount(ch, `other-${id}`, 3);
        return {
          plain: await bodies(ch, `${id}.plain`),
          arg: await bodies(ch, `${id}.arg`),
          argAbove: await bodies(ch, `${id}.argabove`),
          unmatched: await bodies(ch, `other-${id}`),
        };
      });
    },
    check(r) {
      expect(r).toEqual({ plain: ['b', 'c'], arg: ['c'], argAbove: ['b', 'c'], unmatched: ['a', 'b', 'c'] });
    },
  },
  {
    name: "message-ttl policy: the message expires and is dead-lettered to the policy's DLX; x-arguments: a lower TTL and a DLX win",
    async run(broker, id) {
      await broker.setPolicy(`${id}-ttl`, `^${id}\\.src`, {
        'message-ttl': 100,
        'dead-letter-exchange': '',
        'dead-letter-routing-key': `${id}.dead`,
      });
      return withConnection(broker.url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(`${id}.dead`, { exclusive: true });
        await ch.assertQueue(`${id}.dead2`, { exclusive: true });
        await ch.assertExchange(`${id}.dlx2`, 'fanout', { autoDelete: true, durable: false });
        await ch.bindQueue(`${id}.dead2`, `${id}.dlx2`, '');
        await ch.assertQueue(`${id}.src.policy`, { exclusive: true });
        await ch.assertQueue(`${id}.src.longarg`, { exclusive: true, arguments: { 'x-message-ttl': 600_000 } });
        // The argument's DLX wins; the policy's dead-letter routing key still applies (each key is resolved alone).
        await ch.assertQueue(`${id}.src.dlx`, { exclusive: true, arguments: { 'x-dead-letter-exchange': `${id}.dlx2` } });
        ch.sendToQueue(`${id}.src.policy`, Buffer.from('policy'));
        ch.sendToQueue(`${id}.src.longarg`, Buffer.from('longarg'));
        ch.sendToQueue(`${id}.src.dlx`, Buffer.from('dlx'));
        const dead = (await receive(ch, `${id}.dead`, 2)).map(death).sort((a, b) => a.body.localeCompare(b.body));
        const dead2 = (await receive(ch, `${id}.dead2`, 1)).map(death);
        return { dead, dead2 };
      });
    },
    check(r) {
      const v = r as { dead: { body: string; reason: string }[]; dead2: { body: string; reason: string; routingKey: string }[] };
      expect(v.dead2[0]!.routingKey).toMatch(/\.dead$/);
      expect(v.dead.map((d) => [d.body, d.reason])).toEqual([['longarg', 'expired'], ['policy', 'expired']]);
      expect(v.dead2.map((d) => [d.body, d.reason])).toEqual([['dlx', 'expired']]);
    },
  },
  {
    name: 'setting a policy on a full queue drops and dead-letters the head at once; clearing it lifts the limit',
    async run(broker, id) {
      return withConnection(broker.url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(`${id}.dead`, { exclusive: true });
        await ch.assertQueue(`${id}.work`, { exclusive: true });
        for (const body of ['1', '2', '3', '4', '5']) ch.sendToQueue(`${id}.work`, Buffer.from(body));
        await untilCount(ch, `${id}.work`, 5);
        await broker.setPolicy(`${id}-cap`, `^${id}\\.work$`, { 'max-length': 2, 'dead-letter-exchange': '', 'dead-letter-routing-key': `${id}.dead` });
        await untilCount(ch, `${id}.work`, 2);
        const dead = (await receive(ch, `${id}.dead`, 3)).map(death);
        await broker.clearPolicy(`${id}-cap`);
        // Cleared: RabbitMQ applies it to the queue asynchronously; poll with publishes until one is kept past 2.
        for (let i = 0; (await ch.checkQueue(`${id}.work`)).messageCount < 3; i++) {
          if (i > 250) throw new Error('the cleared policy still limits the queue');
          ch.sendToQueue(`${id}.work`, Buffer.from('probe'));
          await sleep(20);
        }
        return { dead, keptFirst: (await bodies(ch, `${id}.work`)).slice(0, 2) };
      });
    },
    check(r) {
      const v = r as { dead: { body: string; reason: string }[]; keptFirst: string[] };
      expect(v.dead.map((d) => [d.body, d.reason])).toEqual([['1', 'maxlen'], ['2', 'maxlen'], ['3', 'maxlen']]);
      expect(v.keptFirst).toEqual(['4', '5']);
    },
  },
  {
    name: 'a message-ttl policy set on a queue applies to messages that arrive after it; those already queued keep none',
    async run(broker, id) {
      return withConnection(broker.url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(`${id}.dead`, { exclusive: true });
        await ch.assertQueue(`${id}.q`, { exclusive: true });
        ch.sendToQueue(`${id}.q`, Buffer.from('before'));
        await untilCount(ch, `${id}.q`, 1);
        await broker.setPolicy(`${id}-ttl`, `^${id}\\.q$`, { 'message-ttl': 50, 'dead-letter-exchange': '', 'dead-letter-routing-key': `${id}.dead` });
        // RabbitMQ applies a policy to a queue asynchronously: a declare of the same queue is answered after it.
        await ch.assertQueue(`${id}.q`, { exclusive: true });
        ch.sendToQueue(`${id}.q`, Buffer.from('after'));
        // Waits out 'after''s TTL (to see that it cannot leave from behind a head that does not expire).
        await sleep(300);
        const waiting = (await ch.checkQueue(`${id}.q`)).messageCount;
        const head = await ch.get(`${id}.q`, { noAck: true });
        // Now 'after' is the head, long expired: it is dead-lettered without another touch of the queue.
        const dead = (await receive(ch, `${id}.dead`, 1)).map(death);
        return { waiting, head: head ? head.content.toString() : null, dead };
      });
    },
    check(r) {
      const v = r as { waiting: number; head: string; dead: { body: string; reason: string }[] };
      expect([v.waiting, v.head]).toEqual([2, 'before']);
      expect(v.dead.map((d) => [d.body, d.reason])).toEqual([['after', 'expired']]);
    },
  },
  {
    name: 'operator policy: the lower of its max-length and the policy one applies',
    async run(broker, id) {
      await broker.setPolicy(`${id}-p`, `^${id}\\.`, { 'max-length': 5, overflow: 'reject-publish' });
      await broker.setOperatorPolicy(`${id}-op`, `^${id}\\.`, { 'max-length': 2 });
      return withConnection(broker.url, async (conn) => {
        const ch = await confirmChannel(conn);
        await ch.assertQueue(`${id}.q`, { exclusive: true });
        const answers = await Promise.all(
          ['a', 'b', 'c', 'd'].map(
            (body) => new Promise<string>((resolve) => ch.sendToQueue(`${id}.q`, Buffer.from(body), {}, (error) => resolve(error ? 'nack' : 'ack'))),
          ),
        );
        return { answers, kept: await bodies(ch, `${id}.q`) };
      });
    },
    check(r) {
      expect(r).toEqual({ answers: ['ack', 'ack', 'nack', 'nack'], kept: ['a', 'b'] });
    },
  },
  {
    name: "alternate-exchange policy: what an exchange cannot route goes to the policy's AE, not back to the publisher",
    async run(broker, id) {
      await broker.setPolicy(`${id}-ae`, `^${id}\\.x$`, { 'alternate-exchange': `${id}.ae` }, { applyTo: 'exchanges' });
      return withConnection(broker.url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertExchange(`${id}.x`, 'direct', { autoDelete: true, durable: false });
        await ch.assertExchange(`${id}.ae`, 'fanout', { autoDelete: true, durable: false });
        await ch.assertQueue(`${id}.caught`, { exclusive: true });
        await ch.bindQueue(`${id}.caught`, `${id}.ae`, '');
        const returned: string[] = [];
        ch.on('return', (m: Message) => returned.push(m.content.toString()));
        ch.publish(`${id}.x`, 'nowhere', Buffer.from('lost?'), { mandatory: true });
        const caught = (await receive(ch, `${id}.caught`, 1)).map((m) => m.content.toString());
        return { caught, returned };
      });
    },
    check(r) {
      expect(r).toEqual({ caught: ['lost?'], returned: [] });
    },
  },
  {
    name: "a policy RabbitMQ refuses: the same validation texts",
    async run(broker, id) {
      return {
        ttl: await broker.setPolicy(`${id}-bad`, '.*', { 'message-ttl': -1 }),
        unknown: await broker.setPolicy(`${id}-bad`, '.*', { nonsense: 1 }),
        applyTo: await broker.setPolicy(`${id}-bad`, '.*', { 'max-length': 1 }, { applyTo: 'bogus' }),
        operator: await broker.setOperatorPolicy(`${id}-bad`, '.*', { overflow: 'drop-head' }),
        ignored: await broker.setPolicy(`${id}-ha`, `^${id}-none$`, { 'ha-mode': 'all', 'queue-mode': 'lazy' }),
      };
    },
    check(r) {
      expect(r).toEqual({
        ttl: '-1 is not a valid message TTL',
        unknown: '[{<<"nonsense">>,1}] are not recognised policy settings',
        applyTo: "apply-to 'bogus' unrecognised; should be 'queues', 'exchanges' or 'all'",
        operator: '[{<<"overflow">>,<<"drop-head">>}] are not recognised policy settings',
        ignored: 'ok',
      });
    },
  },
];

const SCENARIO_TIMEOUT = 40_000;
const runId = Math.random().toString(16).slice(2, 8);
const ids = new Map(scenarios.map((s, i) => [s.name, `pol${i}-${runId}`]));
const reference = new Map<string, unknown>();

describe('policies: Warren against RabbitMQ', () => {
  const rabbitDep = rabbitmqDependency();
  const rabbitMissing = gate(rabbitDep);

  describe.skipIf(rabbitMissing)(label('RabbitMQ (reference)', rabbitDep), () => {
    let node: RabbitNode | undefined;
    beforeAll(async () => {
      node = await startRabbitMQ();
    }, 90_000);
    afterAll(async () => {
      await node?.stop();
    }, 30_000);
    it('definitions round trip: a Warren export of policies imports into RabbitMQ, and its export back into Warren, unchanged', async () => {
      const warren = new Broker();
      const vhost = warren.putVhost('/');
      vhost.setPolicy(`rt-${runId}`, { pattern: '^orders\\.', applyTo: 'queues', priority: 7, definition: { 'message-ttl': 30000, 'dead-letter-exchange': 'dlx', 'ha-mode': 'all' } });
      vhost.setOperatorPolicy(`rt-op-${runId}`, { pattern: '^rt-none$', applyTo: 'queues', definition: { 'max-length': 100, expires: 60000 } });
      const exported = exportPolicies(warren);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'warren-policies-')), 'policies.json');
      fs.chmodSync(path.dirname(file), 0o755);
      fs.writeFileSync(file, JSON.stringify(exported), { mode: 0o644 });
      try {
        const imported = await rabbitmqctl(node!, ['import_definitions', file]);
        expect(imported.code, imported.stderr).toBe(0);
      } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
      const back = await rabbitmqctl(node!, ['export_definitions', '-']);
      expect(back.code, back.stderr).toBe(0);
      const fromRabbit = JSON.parse(back.stdout) as { policies: PolicyDocument[]; parameters: ParameterDocument[] };
      const ours = {
        policies: fromRabbit.policies.filter((p) => p.name.endsWith(runId)),
        parameters: fromRabbit.parameters.filter((p) => p.name.endsWith(runId)),
      };
      // rabbitmqctl writes an operator policy's definition as [[key, value], …]: Warren reads both forms.
      const roundTrip = new Broker();
      roundTrip.putVhost('/');
      expect(importPolicies(roundTrip, ours)).toEqual([]);
      expect(exportPolicies(roundTrip)).toEqual(exported);
    }, SCENARIO_TIMEOUT);

    for (const s of scenarios) {
      it(
        s.name,
        async () => {
          const result = await s.run(rabbitPolicies(node!), ids.get(s.name)!);
          reference.set(s.name, result);
          s.check(result);
        },
        SCENARIO_TIMEOUT,
      );
    }
  });

  describe('Warren', () => {
    let server: RunningServer | undefined;
    let dataDir = '';
    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-policies-'));
      server = await startInProcess(dataDir);
    });
    afterAll(async () => {
      await server?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    for (const s of scenarios) {
      it(
        s.name,
        async () => {
          const result = await s.run(warrenPolicies(server!), ids.get(s.name)!);
          s.check(result);
          if (reference.has(s.name)) expect(result, 'Warren must answer exactly as RabbitMQ did').toEqual(reference.get(s.name));
        },
        SCENARIO_TIMEOUT,
      );
    }
  });
});

describe('Warren: policies are durable', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-policies-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a definitions.json with policies, written into the data dir before start, takes effect', async () => {
    const dataDir = newDir();
    fs.writeFileSync(
      path.join(dataDir, 'definitions.json'),
      JSON.stringify({
        queues: [{ name: 'orders.eu', vhost: '/', durable: true, auto_delete: false, arguments: {} }],
        policies: [{ vhost: '/', name: 'cap', pattern: '^orders\\.', 'apply-to': 'queues', definition: { 'max-length': 1 }, priority: 0 }],
        parameters: [],
      }),
    );
    const warren = await startWarren({ dataDir });
    try {
      const kept = await withConnection(warren.url, async (conn) => {
        const ch = await channel(conn);
        for (const body of ['a', 'b']) ch.sendToQueue('orders.eu', Buffer.from(body));
        await untilCount(ch, 'orders.eu', 1);
        return bodies(ch, 'orders.eu');
      });
      expect(kept).toEqual(['b']);
    } finally {
      await warren.stop();
    }
  }, 60_000);

  it('policies and operator policies set at run time survive a restart and apply to the recovered queue', async () => {
    const dataDir = newDir();
    const first = await startInProcess(dataDir);
    try {
      await withConnection(`amqp://guest:guest@127.0.0.1:${first.port}`, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue('jobs', { durable: true });
      });
      const vhost = first.broker.vhost('/')!;
      vhost.setPolicy('ttl', { pattern: '^jobs$', applyTo: 'queues', priority: 3, definition: { 'message-ttl': 60_000, 'max-length': 10 } });
      vhost.setOperatorPolicy('cap', { pattern: '.*', definition: { 'max-length': 2 } });
    } finally {
      await first.close();
    }
    const second = await startInProcess(dataDir);
    try {
      const policies = (broker: Broker) => {
        const vhost = broker.vhost('/')!;
        return {
          policies: vhost.policies.list().map((p) => [p.name, p.pattern, p.applyTo, p.priority, p.definition]),
          operator: vhost.operatorPolicies.list().map((p) => [p.name, p.definition]),
          limits: [vhost.queues.get('jobs')?.limits.maxLength, vhost.queues.get('jobs')?.limits.messageTtl],
        };
      };
      expect(policies(second.broker)).toEqual({
        policies: [['ttl', '^jobs$', 'queues', 3, { 'max-length': 10, 'message-ttl': 60_000 }]],
        operator: [['cap', { 'max-length': 2 }]],
        limits: [2, 60_000],
      });
    } finally {
      await second.close();
    }
  }, 30_000);
});
