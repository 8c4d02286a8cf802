// Quorum queues (x-queue-type: quorum) against a private RabbitMQ 3.10.8 node
// (quorum queues run on a single node): what a declare may and may not ask,
// with RabbitMQ's texts; the delivery limit with and without a dead-letter
// exchange; x-delivery-count on redeliveries and gets; where returned messages
// go; consumer priorities and single active consumer; the refusals RabbitMQ
// answers with a connection close (540). pika runs one scenario too.
// Warren only: a message published transient into a quorum queue is still
// there after a restart and after kill -9.
import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { channel, confirmChannel, connect, deaths, declareAnswer, type ServerError, timeout, waitUntil, withConnection } from './support/amqp.js';
import { runPika } from './support/clients.js';
import { compareBrokers, scenario } from './support/compare.js';
import { pikaDependency } from './support/deps.js';
import { warrenOnOneDataDir } from './support/warren.js';

const QUORUM = { 'x-queue-type': 'quorum' };

/** A delivery as the scenarios compare it: body, redelivered, and the x-delivery-count header (absent: undefined). */
function seen(m: Message): { body: string; redelivered: boolean; count: unknown } {
  return { body: m.content.toString(), redelivered: m.fields.redelivered, count: m.properties.headers?.['x-delivery-count'] };
}

/** Publishes on a confirm channel and waits for the confirms (a quorum queue has stored them by then). */
async function publishAll(conn: ChannelModel, queue: string, bodies: string[], options: (body: string) => object = () => ({})): Promise<void> {
  const ch = await confirmChannel(conn);
  for (const body of bodies) ch.sendToQueue(queue, Buffer.from(body), options(body));
  await timeout(ch.waitForConfirms(), 5_000, 'publisher confirms');
  await ch.close();
}

/** An operation's connection.close (a fresh connection), or 'ok'. */
async function connectionAnswer(url: string, op: (ch: Channel) => Promise<unknown>): Promise<'ok' | { code: number; text: string }> {
  const conn = await connect(url);
  const closed = new Promise<{ code: number; text: string }>((resolve) => {
    conn.on('error', (error: Error & { code?: number }) => resolve({ code: error.code ?? 0, text: error.message.replace(/^.*with message "/, '').replace(/"$/, '') }));
  });
  const ch = await channel(conn);
  const done = op(ch).then(
    () => 'ok' as const,
    () => null,
  );
  const first = await timeout(Promise.race([closed, done]), 5_000, 'an answer');
  const answer = first === null ? await timeout(closed, 5_000, 'connection.close') : first;
  await conn.close().catch(() => {});
  return answer;
}

async function deleteQueues(conn: ChannelModel, names: string[]): Promise<void> {
  const ch = await channel(conn);
  for (const name of names) await ch.deleteQueue(name);
  await ch.close();
}

/** Every argument a quorum queue takes, with valid values. */
const ALL_QUORUM_ARGUMENTS = {
  ...QUORUM, 'x-message-ttl': 60_000, 'x-expires': 600_000, 'x-max-length': 10, 'x-max-length-bytes': 1000, 'x-overflow': 'reject-publish',
  'x-delivery-limit': 2, 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'k', 'x-dead-letter-strategy': 'at-least-once',
  'x-single-active-consumer': true, 'x-max-in-memory-length': 5, 'x-max-in-memory-bytes': 500, 'x-quorum-initial-group-size': 3,
  'x-queue-leader-locator': 'balanced',
};

const refused = (text: string): ServerError => ({ code: 406, text: `PRECONDITION_FAILED - ${text}`, classId: 50, methodId: 10 });

const scenarios = [
  scenario({
    name: 'declare: durable only, arguments of the type only, x-queue-type checked and compared',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = (suffix: string) => `${id}.${suffix}`;
        const answers: Record<string, unknown> = {};
        const { 'x-queue-type': _type, ...withoutType } = ALL_QUORUM_ARGUMENTS;
        const cases: [string, string, object][] = [
          ['non-durable', q('a'), { durable: false, arguments: QUORUM }],
          ['exclusive', q('b'), { durable: false, exclusive: true, arguments: QUORUM }],
          ['auto-delete', q('c'), { durable: false, exclusive: true, autoDelete: true, arguments: QUORUM }],
          ['server-named', '', { arguments: QUORUM }],
          ['unknown type', q('d'), { arguments: { 'x-queue-type': 'Quorum' } }],
          ['x-max-priority', q('e'), { durable: false, arguments: { ...QUORUM, 'x-max-priority': 5 } }],
          ['x-queue-mode first', q('f'), { arguments: { ...QUORUM, 'x-queue-mode': 'lazy', 'x-max-priority': 1 } }],
          ['a bad value before an unsupported argument', q('g'), { arguments: { ...QUORUM, 'x-max-priority': 1, 'x-message-ttl': -1 } }],
          ['x-dead-letter-strategy', q('h'), { arguments: { ...QUORUM, 'x-dead-letter-strategy': 'sometimes' } }],
          ['x-queue-leader-locator', q('i'), { arguments: { ...QUORUM, 'x-queue-leader-locator': 'min-masters' } }],
          ['classic with x-delivery-limit', q('j'), { durable: false, arguments: { 'x-delivery-limit': 3 } }],
          [
            'the arguments a quorum queue takes',
            q('k'),
{ arguments: { ...ALL_QUORUM_ARGUMENTS, 'x-foo': 'ignored' } },
          ],
          ['redeclare without arguments: the first of the type\'s list that differs', q('k'), { arguments: {} }],
          ['redeclare without x-queue-type', q('k'), { arguments: withoutType }],
          ['redeclare classic', q('k'), { arguments: { ...ALL_QUORUM_ARGUMENTS, 'x-queue-type': 'classic' } }],
          ['redeclare another limit', q('k'), { arguments: { ...ALL_QUORUM_ARGUMENTS, 'x-delivery-limit': 3 } }],
          ['redeclare non-durable', q('k'), { durable: false, arguments: ALL_QUORUM_ARGUMENTS }],
          ['redeclare with arguments not compared', q('k'), { arguments: { ...ALL_QUORUM_ARGUMENTS, 'x-max-priority': 9, 'x-queue-mode': 'lazy' } }],
          ['classic', q('l'), { durable: false }],
          ['classic redeclared as quorum', q('l'), { durable: false, arguments: QUORUM }],
          ['classic redeclared with x-queue-type classic', q('l'), { durable: false, arguments: { 'x-queue-type': 'classic' } }],
        ];
        for (const [what, name, options] of cases) answers[what] = await declareAnswer(conn, name, options);
        await deleteQueues(conn, [q('k'), q('l')]);
        return answers;
      });
    },
    check(r) {
      expect(r).toEqual({
        'non-durable': refused("invalid property 'non-durable' for queue 'Q' in vhost '/'"),
        exclusive: refused("invalid property 'exclusive-owner' for queue 'Q' in vhost '/'"),
        'auto-delete': refused("invalid property 'auto-delete' for queue 'Q' in vhost '/'"),
        'server-named': refused('Cannot declare a server-named queue for type rabbit_quorum_queue'),
        'unknown type': refused(`invalid arg 'x-queue-type' for queue 'Q' in vhost '/': "unsupported queue type 'Quorum'"`),
        'x-max-priority': refused("invalid arg 'x-max-priority' for queue 'Q' in vhost '/' of queue type rabbit_quorum_queue"),
        'x-queue-mode first': refused("invalid arg 'x-queue-mode' for queue 'Q' in vhost '/' of queue type rabbit_quorum_queue"),
        'a bad value before an unsupported argument': refused("invalid arg 'x-message-ttl' for queue 'Q' in vhost '/': {value_negative,-1}"),
        'x-dead-letter-strategy': refused("invalid arg 'x-dead-letter-strategy' for queue 'Q' in vhost '/': invalid_dlx_strategy"),
        'x-queue-leader-locator': refused("invalid arg 'x-queue-leader-locator' for queue 'Q' in vhost '/': invalid_queue_locator_arg"),
        'classic with x-delivery-limit': refused("invalid arg 'x-delivery-limit' for queue 'Q' in vhost '/' of queue type rabbit_classic_queue"),
        'the arguments a quorum queue takes': 'ok',
        "redeclare without arguments: the first of the type's list that differs": refused(
          "inequivalent arg 'x-dead-letter-exchange' for queue 'Q' in vhost '/': received none but current is the value 'dlx' of type 'longstr'",
        ),
        'redeclare without x-queue-type': refused(
          "inequivalent arg 'x-queue-type' for queue 'Q' in vhost '/': received none but current is the value 'quorum' of type 'longstr'",
        ),
        'redeclare classic': refused("inequivalent arg 'x-queue-type' for queue 'Q' in vhost '/': received 'classic' but current is 'quorum'"),
        'redeclare another limit': refused("inequivalent arg 'x-delivery-limit' for queue 'Q' in vhost '/': received '3' but current is '2'"),
        'redeclare non-durable': refused("inequivalent arg 'durable' for queue 'Q' in vhost '/': received 'false' but current is 'true'"),
        'redeclare with arguments not compared': 'ok',
        classic: 'ok',
        'classic redeclared as quorum': refused(
          "inequivalent arg 'x-queue-type' for queue 'Q' in vhost '/': received the value 'quorum' of type 'longstr' but current is none",
        ),
        'classic redeclared with x-queue-type classic': 'ok',
      });
    },
  }),
  scenario({
    name: 'x-delivery-limit without a DLX: limit + 1 deliveries, then the message is dropped; the others are unaffected',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.limit`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: { ...QUORUM, 'x-delivery-limit': 2 } });
        await publishAll(conn, q, ['poison', 'm2', 'm3'], (body) => ({ headers: { k: body } }));
        await ch.prefetch(1);
        const log: unknown[] = [];
        await ch.consume(q, (m) => {
          if (m === null) return;
          log.push(seen(m));
          if (m.content.toString() === 'poison') ch.nack(m, false, true);
          else ch.ack(m);
        });
        await waitUntil(() => log.length >= 5, 5_000, 'five deliveries');
        const left = (await ch.checkQueue(q)).messageCount;
        await ch.deleteQueue(q);
        return { log, left };
      });
    },
    check(r) {
      expect(r).toEqual({
        log: [
          { body: 'poison', redelivered: false, count: undefined },
          // With a limit, a returned message goes back to the front.
          { body: 'poison', redelivered: true, count: 1 },
          { body: 'poison', redelivered: true, count: 2 },
          { body: 'm2', redelivered: false, count: undefined },
          { body: 'm3', redelivered: false, count: undefined },
        ],
        left: 0,
      });
    },
  }),
  scenario({
    name: 'x-delivery-limit with a DLX: dead-lettered with reason delivery_limit, headers kept, no x-delivery-count',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.dl`;
        const dead = `${id}.dead`;
        const ch = await channel(conn);
        await ch.assertQueue(dead, { durable: false });
        await ch.assertQueue(q, { arguments: { ...QUORUM, 'x-delivery-limit': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
        await publishAll(conn, q, ['poison'], () => ({ headers: { k: 'v' }, messageId: 'm-1', expiration: '60000' }));
        const log: unknown[] = [];
        await ch.consume(q, (m) => {
          if (m === null) return;
          log.push(seen(m));
          ch.reject(m, true);
        });
        let letter: Message | false = false;
        await waitUntil(() => log.length >= 1, 5_000, 'the delivery');
        const deadline = Date.now() + 5_000;
        while (letter === false && Date.now() < deadline) letter = await ch.get(dead, { noAck: true });
        if (letter === false) throw new Error('no dead letter');
        const headers = { ...letter.properties.headers };
        delete headers['x-death'];
        await ch.deleteQueue(q);
        await ch.deleteQueue(dead);
        return { log, deaths: deaths(letter), headers, messageId: letter.properties.messageId, expiration: letter.properties.expiration ?? null };
      });
    },
    check(r) {
      expect(r).toEqual({
        log: [{ body: 'poison', redelivered: false, count: undefined }],
        deaths: [{ count: 1, reason: 'delivery_limit', queue: expect.stringMatching(/\.dl$/), exchange: '', 'routing-keys': [expect.stringMatching(/\.dl$/)], 'original-expiration': '60000' }],
        headers: { k: 'v', 'x-first-death-reason': 'delivery_limit', 'x-first-death-queue': expect.stringMatching(/\.dl$/), 'x-first-death-exchange': '' },
        messageId: 'm-1',
        expiration: null,
      });
    },
  }),
  scenario({
    name: 'x-delivery-count: every basic.get (0 first), and each return counts: reject, channel close, basic.recover',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.count`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: { ...QUORUM, 'x-delivery-limit': 1 } });
        await publishAll(conn, q, ['m1', 'm2']);
        const gets: unknown[] = [];
        for (let i = 0; i < 5; i++) {
          const m = await ch.get(q);
          if (m === false) {
            gets.push(false);
            continue;
          }
          gets.push({ ...seen(m), messageCount: m.fields.messageCount });
          ch.reject(m, true);
        }
        const q2 = `${id}.count2`;
        await ch.assertQueue(q2, { arguments: QUORUM });
        await publishAll(conn, q2, ['a']);
        const rounds: unknown[] = [];
        // The consumer's channel closes with the message unacked: a return.
        const closing = await channel(conn);
        const first: ConsumeMessage[] = [];
        await closing.consume(q2, (m) => m && first.push(m));
        await waitUntil(() => first.length === 1, 5_000, 'the first delivery');
        rounds.push(seen(first[0]!));
        await closing.close();
        // basic.recover: a return too.
        const recovering = await channel(conn);
        const got: ConsumeMessage[] = [];
        await recovering.consume(q2, (m) => m && got.push(m));
        await waitUntil(() => got.length === 1, 5_000, 'the redelivery');
        await recovering.recover();
        await waitUntil(() => got.length === 2, 5_000, 'the recovered delivery');
        rounds.push(...got.map(seen));
        recovering.ack(got[1]!);
        await recovering.close();
        await ch.deleteQueue(q);
        await ch.deleteQueue(q2);
        return { gets, rounds };
      });
    },
    check(r) {
      expect(r).toEqual({
        gets: [
          { body: 'm1', redelivered: false, count: 0, messageCount: 1 },
          { body: 'm1', redelivered: true, count: 1, messageCount: 1 },
          { body: 'm2', redelivered: false, count: 0, messageCount: 0 },
          { body: 'm2', redelivered: true, count: 1, messageCount: 0 },
          false,
        ],
        rounds: [
          { body: 'a', redelivered: false, count: undefined },
          { body: 'a', redelivered: true, count: 1 },
          { body: 'a', redelivered: true, count: 2 },
        ],
      });
    },
  }),
  scenario({
    name: 'requeue position: the front, in return order, with a limit; the back without one; a publisher x-delivery-count passes',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const answers: Record<string, unknown> = {};
        for (const limit of [undefined, 10]) {
          const q = `${id}.pos${limit ?? ''}`;
          const ch = await channel(conn);
          await ch.assertQueue(q, { arguments: { ...QUORUM, ...(limit === undefined ? {} : { 'x-delivery-limit': limit }) } });
          await publishAll(conn, q, ['m1', 'm2', 'm3', 'm4'], (body) => (body === 'm4' ? { headers: { 'x-delivery-count': 7 } } : {}));
          await ch.prefetch(3);
          const log: ConsumeMessage[] = [];
          await ch.consume(q, (m) => {
            if (m === null) return;
            log.push(m);
            if (log.length > 3) ch.ack(m);
          });
          await waitUntil(() => log.length === 3, 5_000, 'three deliveries');
          ch.nack(log[1]!, false, true);
          ch.nack(log[0]!, false, true);
          ch.ack(log[2]!);
          await waitUntil(() => log.length === 6, 5_000, 'six deliveries');
          answers[limit === undefined ? 'no limit' : 'limit'] = log.map(seen);
          await ch.deleteQueue(q);
          await ch.close();
        }
        return answers;
      });
    },
    check(r) {
      const first = ['m1', 'm2', 'm3'].map((body) => ({ body, redelivered: false, count: undefined }));
      const m4 = { body: 'm4', redelivered: false, count: 7 };
      expect(r).toEqual({
        'no limit': [...first, m4, { body: 'm2', redelivered: true, count: 1 }, { body: 'm1', redelivered: true, count: 1 }],
        limit: [...first, { body: 'm2', redelivered: true, count: 1 }, { body: 'm1', redelivered: true, count: 1 }, m4],
      });
    },
  }),
  scenario({
    name: 'consumer priorities and single active consumer on a quorum queue',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.prio`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: QUORUM });
        const low = await channel(conn);
        const high = await channel(conn);
        await high.prefetch(1);
        const got: string[] = [];
        await low.consume(q, (m) => m && got.push(`low:${m.content.toString()}`), { priority: 0 });
        await high.consume(q, (m) => m && got.push(`high:${m.content.toString()}`), { priority: 5 });
        await publishAll(conn, q, ['m1', 'm2', 'm3']);
        await waitUntil(() => got.length === 3, 5_000, 'three deliveries');
        await low.close();
        await high.close();

        const sac = `${id}.sac`;
        await ch.assertQueue(sac, { arguments: { ...QUORUM, 'x-single-active-consumer': true } });
        const active = await channel(conn);
        const standby = await channel(conn);
        const first: string[] = [];
        const second: unknown[] = [];
        await active.consume(sac, (m) => m && first.push(m.content.toString()));
        await standby.consume(sac, (m) => {
          if (m === null) return;
          second.push(seen(m));
          standby.ack(m);
        });
        await publishAll(conn, sac, ['a', 'b']);
        await waitUntil(() => first.length === 2, 5_000, 'the active consumer');
        const beforeClose = second.length;
        // Its channel closes with both unacked: the other consumer takes over and gets them again.
        await active.close();
        await waitUntil(() => second.length === 2, 5_000, 'the next active consumer');
        await standby.close();
        await ch.deleteQueue(q);
        await ch.deleteQueue(sac);
        return { priorities: got.sort(), sac: { first, beforeClose, second } };
      });
    },
    check(r) {
      expect(r).toEqual({
        priorities: ['high:m1', 'low:m2', 'low:m3'],
        sac: {
          first: ['a', 'b'],
          beforeClose: 0,
          second: [
            { body: 'a', redelivered: true, count: 1 },
            { body: 'b', redelivered: true, count: 1 },
          ],
        },
      });
    },
  }),
  scenario({
    name: 'length and TTL: reject-publish-dlx acts as drop-head (3.10), x-message-ttl dead-letters expired',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.len`;
        const dead = `${id}.lendead`;
        const ch = await channel(conn);
        await ch.assertQueue(dead, { durable: false });
        await ch.assertQueue(q, { arguments: { ...QUORUM, 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
        await publishAll(conn, q, ['a', 'b', 'c']);
        const head = await ch.get(q, { noAck: true });
        const ttl = `${id}.ttl`;
        await ch.assertQueue(ttl, { arguments: { ...QUORUM, 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
        await publishAll(conn, ttl, ['t']);
        const letters: Message[] = [];
        const deadline = Date.now() + 5_000;
        while (letters.length < 3 && Date.now() < deadline) {
          const m = await ch.get(dead, { noAck: true });
          if (m !== false) letters.push(m);
        }
        await ch.deleteQueue(q);
        await ch.deleteQueue(ttl);
        await ch.deleteQueue(dead);
        return { head: head && head.content.toString(), letters: letters.map((m) => [m.content.toString(), deaths(m)[0]]) };
      });
    },
    check(r) {
      const death = (reason: string, queue: RegExp) => ({ count: 1, reason, queue: expect.stringMatching(queue), exchange: '', 'routing-keys': [expect.stringMatching(queue)], 'original-expiration': undefined });
      expect(r).toEqual({
        head: 'c',
        letters: [
          ['a', death('maxlen', /\.len$/)],
          ['b', death('maxlen', /\.len$/)],
          ['t', death('expired', /\.ttl$/)],
        ],
      });
    },
  }),
  scenario({
    name: 'refused with a connection close 540: global qos, queue.delete if-unused / if-empty',
    async run(url, id) {
      const q = `${id}.540`;
      await withConnection(url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: QUORUM });
        await ch.close();
      });
      const answers = {
        globalQos: await connectionAnswer(url, async (ch) => {
          await ch.prefetch(5, true);
          await ch.consume(q, () => {});
        }),
        ifUnused: await connectionAnswer(url, (ch) => ch.deleteQueue(q, { ifUnused: true })),
        ifEmpty: await connectionAnswer(url, (ch) => ch.deleteQueue(q, { ifEmpty: true })),
        purge: await connectionAnswer(url, (ch) => ch.purgeQueue(q)),
      };
      await withConnection(url, (conn) => deleteQueues(conn, [q]));
      return JSON.parse(JSON.stringify(answers).split(q).join('Q'));
    },
    check(r) {
      expect(r).toEqual({
        globalQos: { code: 540, text: "NOT_IMPLEMENTED - queue 'Q' in vhost '/' does not support global qos" },
        ifUnused: {
          code: 540,
          text: "NOT_IMPLEMENTED - cannot delete queue 'Q' in vhost '/'. queue.delete operations with if-unused flag set are not supported by quorum queues",
        },
        ifEmpty: {
          code: 540,
          text: "NOT_IMPLEMENTED - cannot delete queue 'Q' in vhost '/'. queue.delete operations with if-empty flag set are not supported by quorum queues",
        },
        purge: 'ok',
      });
    },
  }),
];

compareBrokers('quorum queues', scenarios);

compareBrokers(
  'quorum queues with pika',
  [
    scenario({
      name: 'pika: x-delivery-count on gets and the delivery_limit dead letter',
      run: (url, id) => runPika('pika_quorum.py', [url, id]),
      check(r) {
        expect(r).toEqual({
          gets: [
            { body: 'poison', redelivered: false, count: 0 },
            { body: 'poison', redelivered: true, count: 1 },
            { body: 'poison', redelivered: true, count: 2 },
            null,
          ],
          dead: { body: 'poison', reason: 'delivery_limit', first_death_reason: 'delivery_limit', count: null },
        });
      },
    }),
  ],
  { clientDeps: [pikaDependency()] },
);

describe('quorum queues: Warren only', () => {
  const warren = warrenOnOneDataDir('warren-quorum-');

  it('keeps a message published transient into a quorum queue across a restart and a kill -9 (not a classic durable queue\'s)', async () => {
    let broker = await warren.start();
    const bodies = async (conn: ChannelModel, queue: string): Promise<string[]> => {
      const ch = await channel(conn);
      const out: string[] = [];
      for (let m = await ch.get(queue); m !== false; m = await ch.get(queue)) out.push(m.content.toString());
      await ch.close(); // unacked: they go back
      return out;
    };
    await withConnection(broker.url, async (conn) => {
      const ch = await confirmChannel(conn);
      await ch.assertExchange('fan', 'fanout', { durable: true });
      await ch.assertQueue('qq', { arguments: QUORUM });
      await ch.assertQueue('classic', { durable: true });
      await ch.bindQueue('qq', 'fan', '');
      await ch.bindQueue('classic', 'fan', '');
      for (const body of ['a', 'b']) ch.publish('fan', '', Buffer.from(body), { deliveryMode: 1 });
      await timeout(ch.waitForConfirms(), 5_000, 'confirms');
    });
    await broker.stop();
    broker = await warren.start();
    const afterRestart = await withConnection(broker.url, async (conn) => {
      const before = { qq: await bodies(conn, 'qq'), classic: await bodies(conn, 'classic') };
      const ch = await confirmChannel(conn);
      ch.sendToQueue('qq', Buffer.from('c'), { deliveryMode: 1 });
      await timeout(ch.waitForConfirms(), 5_000, 'confirms');
      return before;
    });
    // Confirmed is on disk: kill -9 loses nothing.
    const killed = await broker.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    broker = await warren.start();
    const afterKill = await withConnection(broker.url, async (conn) => {
      const ch = await channel(conn);
      const declared = await ch.checkQueue('qq');
      return { count: declared.messageCount, bodies: await bodies(conn, 'qq') };
    });
    expect({ afterRestart, afterKill }).toEqual({ afterRestart: { qq: ['a', 'b'], classic: [] }, afterKill: { count: 3, bodies: ['a', 'b', 'c'] } });
  }, 60_000);
});
