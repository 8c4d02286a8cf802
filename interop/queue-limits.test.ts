// Queue arguments that change a queue's behaviour, compared with a private
// RabbitMQ node: message TTL (x-message-ttl and the expiration property),
// length limits (x-max-length, x-max-length-bytes, x-overflow), queue expiry
// (x-expires), dead-lettering for 'expired' and 'maxlen', and the 406 answers
// to arguments that are not valid.
import type { Channel, ConfirmChannel, Message } from 'amqplib';
import { expect } from 'vitest';
import {
  channel,
  confirmChannel,
  deaths,
  asServerError,
  drain,
  expectChannelError,
  type ServerError,
  sleep,
  timeout,
  waitUntil,
  withConnection,
} from './support/amqp.js';
import { compareBrokers, scenario } from './support/compare.js';

/** Publishes on a confirm channel; each publish's answer, 'ack' or 'nack', in order. */
/** Polls a passive declare until the queue holds `count` messages. */
async function untilCount(ch: Channel, queue: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await ch.checkQueue(queue)).messageCount !== count) {
    if (Date.now() > deadline) throw new Error(`queue ${queue} did not reach ${count} messages in 5 s`);
    await sleep(20);
  }
}

/** RabbitMQ's answer to a queue.declare argument that is not valid (the queue's name written Q). */
function invalidArg(arg: string, reason: string): ServerError {
  return { code: 406, text: `PRECONDITION_FAILED - invalid arg '${arg}' for queue 'Q' in vhost '/': ${reason}`, classId: 50, methodId: 10 };
}

/** RabbitMQ's answer to a basic.publish whose expiration is not a TTL. */
function invalidExpiration(expiration: string, reason: string): ServerError {
  return { code: 406, text: `PRECONDITION_FAILED - invalid expiration '${expiration}': ${reason}`, classId: 60, methodId: 40 };
}

async function confirmEach(ch: ConfirmChannel, queue: string, bodies: string[]): Promise<string[]> {
  const answers = bodies.map(
    (body) =>
      new Promise<string>((resolve) => {
        ch.sendToQueue(queue, Buffer.from(body), {}, (error) => resolve(error ? 'nack' : 'ack'));
      }),
  );
  return timeout(Promise.all(answers), 5_000, 'publisher confirms');
}

const scenarios = [
  scenario({
    name: 'x-message-ttl: expired messages leave the queue and are dead-lettered with reason expired',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const source = `${id}.ttl`;
        const dead = `${id}.dead`;
        await ch.assertQueue(dead, { exclusive: true });
        const declared = await ch.assertQueue(source, {
          exclusive: true,
          arguments: { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
        });
        for (const body of ['a', 'b']) ch.sendToQueue(source, Buffer.from(body), { headers: { n: body } });
        const letters: Message[] = [];
        await ch.consume(dead, (m) => m && letters.push(m), { noAck: true });
        await waitUntil(() => letters.length === 2, 5_000, 'two dead letters');
        return {
          declared: declared.messageCount,
          after: (await ch.checkQueue(source)).messageCount,
          letters: letters.map((m) => ({
            body: m.content.toString(),
            routingKey: m.fields.routingKey,
            exchange: m.fields.exchange,
            n: m.properties.headers?.['n'],
            firstDeathReason: m.properties.headers?.['x-first-death-reason'],
            deaths: deaths(m),
          })),
        };
      });
    },
    check(r) {
      const v = r as { after: number; letters: { body: string; deaths: { reason: string }[] }[] };
      expect(v.after).toBe(0);
      expect(v.letters.map((l) => l.body)).toEqual(['a', 'b']);
      expect(v.letters[0]!.deaths[0]!.reason).toBe('expired');
    },
  }),

  scenario({
    name: 'expiration property: the lower TTL wins, 0 means now or never, and a delivered message keeps it',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-message-ttl': 60_000 } });
        ch.sendToQueue(q, Buffer.from('zero'), { expiration: '0' });
        ch.sendToQueue(q, Buffer.from('short'), { expiration: '50' });
        ch.sendToQueue(q, Buffer.from('long'), { expiration: '100000' });
        await untilCount(ch, q, 1);
        const left = await drain(ch, q);
        // With a consumer ready, a message with expiration 0 is delivered.
        const got: Message[] = [];
        await ch.consume(q, (m) => m && got.push(m), { noAck: true });
        ch.sendToQueue(q, Buffer.from('now'), { expiration: '0' });
        await waitUntil(() => got.length === 1, 5_000, 'the expiration 0 delivery');
        return { left, delivered: got.map((m) => ({ body: m.content.toString(), expiration: m.properties.expiration })) };
      });
    },
    check(r) {
      expect(r).toEqual({ left: ['long'], delivered: [{ body: 'now', expiration: '0' }] });
    },
  }),

  scenario({
    name: 'per-message TTL expires at the head only: a short TTL behind a long one waits',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true });
        ch.sendToQueue(q, Buffer.from('long'), { expiration: '60000' });
        ch.sendToQueue(q, Buffer.from('short'), { expiration: '50' });
        // Nothing to await: what is checked is that 'short', overdue behind 'long', is still counted.
        await sleep(300);
        const count = (await ch.checkQueue(q)).messageCount;
        const first = await ch.get(q, { noAck: true });
        // 'short', now at the head, has expired: it is dropped before the get.
        const second = await ch.get(q, { noAck: true });
        return { count, first: first && first.content.toString(), second: second && second.content.toString() };
      });
    },
    check(r) {
      expect(r).toEqual({ count: 2, first: 'long', second: false });
    },
  }),

  scenario({
    name: 'x-max-length drop-head: the oldest messages go, dead-lettered with reason maxlen',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        const dead = `${id}.dead`;
        await ch.assertQueue(dead, { exclusive: true });
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
        const confirm = await confirmChannel(conn);
        const answers = await confirmEach(confirm, q, ['1', '2', '3', '4', '5']);
        const letters: Message[] = [];
        await ch.consume(dead, (m) => m && letters.push(m), { noAck: true });
        await waitUntil(() => letters.length === 3, 5_000, 'three dead letters');
        return {
          answers,
          kept: await drain(ch, q),
          letters: letters.map((m) => ({ body: m.content.toString(), deaths: deaths(m) })),
        };
      });
    },
    check(r) {
      const v = r as { answers: string[]; kept: string[]; letters: { body: string; deaths: { reason: string }[] }[] };
      expect(v.answers).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
      expect(v.kept).toEqual(['4', '5']);
      expect(v.letters.map((l) => [l.body, l.deaths[0]!.reason])).toEqual([
        ['1', 'maxlen'],
        ['2', 'maxlen'],
        ['3', 'maxlen'],
      ]);
    },
  }),

  scenario({
    name: 'x-max-length-bytes drop-head counts body bytes of ready messages',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-max-length-bytes': 10 } });
        await confirmEach(await confirmChannel(conn), q, ['aaaa', 'bbbb', 'cccc', 'dd']);
        return drain(ch, q);
      });
    },
    check(r) {
      expect(r).toEqual(['bbbb', 'cccc', 'dd']);
    },
  }),

  scenario({
    name: 'x-overflow reject-publish: a full queue nacks new publishes, the rest are kept',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        const bytes = `${id}.bytes`;
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-max-length': 2, 'x-overflow': 'reject-publish' } });
        await ch.assertQueue(bytes, { exclusive: true, arguments: { 'x-max-length-bytes': 10, 'x-overflow': 'reject-publish' } });
        const confirm = await confirmChannel(conn);
        const byLength = await confirmEach(confirm, q, ['1', '2', '3', '4']);
        const kept = await drain(ch, q);
        const afterRoom = await confirmEach(confirm, q, ['5']);
        const byBytes = await confirmEach(confirm, bytes, ['aaaa', 'bbbb', 'cccc', 'dd']);
        // A mandatory publish turned away by a full queue was routed: nacked, not returned.
        const returned: string[] = [];
        confirm.on('return', (m: Message) => returned.push(m.content.toString()));
        const mandatory = await new Promise<string>((resolve) => {
          confirm.sendToQueue(bytes, Buffer.from('x'), { mandatory: true }, (error) => resolve(error ? 'nack' : 'ack'));
        });
        confirm.sendToQueue(`${id}.nowhere`, Buffer.from('unroutable'), { mandatory: true });
        await timeout(confirm.waitForConfirms(), 5_000, 'confirms');
        return { byLength, kept, afterRoom, byBytes, mandatory, returned, keptBytes: await drain(ch, bytes), keptAfterRoom: await drain(ch, q) };
      });
    },
    check(r) {
      expect(r).toEqual({
        byLength: ['ack', 'ack', 'nack', 'nack'],
        kept: ['1', '2'],
        afterRoom: ['ack'],
        byBytes: ['ack', 'ack', 'nack', 'ack'],
        mandatory: 'nack',
        returned: ['unroutable'],
        keptBytes: ['aaaa', 'bbbb', 'dd'],
        keptAfterRoom: ['5'],
      });
    },
  }),

  scenario({
    name: 'x-overflow reject-publish-dlx: the turned-away message is dead-lettered',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        const dead = `${id}.dead`;
        await ch.assertQueue(dead, { exclusive: true });
        await ch.assertQueue(q, {
          exclusive: true,
          arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
        });
        const answers = await confirmEach(await confirmChannel(conn), q, ['1', '2']);
        const letters: Message[] = [];
        await ch.consume(dead, (m) => m && letters.push(m), { noAck: true });
        await waitUntil(() => letters.length === 1, 5_000, 'one dead letter');
        return { answers, kept: await drain(ch, q), letters: letters.map((m) => ({ body: m.content.toString(), deaths: deaths(m) })) };
      });
    },
    check(r) {
      const v = r as { answers: string[]; kept: string[]; letters: { body: string; deaths: { reason: string }[] }[] };
      expect(v.answers).toEqual(['ack', 'nack']);
      expect(v.kept).toEqual(['1']);
      expect(v.letters.map((l) => [l.body, l.deaths[0]!.reason])).toEqual([['2', 'maxlen']]);
    },
  }),

  scenario({
    name: 'x-expires: an unused queue is deleted; a consumer keeps it alive',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const unused = `${id}.unused`;
        const consumed = `${id}.consumed`;
        await ch.assertQueue(unused, { arguments: { 'x-expires': 200 } });
        await ch.assertQueue(consumed, { arguments: { 'x-expires': 200 } });
        const { consumerTag } = await ch.consume(consumed, () => {}, { noAck: true });
        // A sleep, not a poll: a passive declare is a use, which restarts the x-expires clock.
        await sleep(600);
        const probe = await channel(conn);
        const gone = await expectChannelError(probe, () => probe.checkQueue(unused));
        const alive = (await ch.checkQueue(consumed)).consumerCount;
        await ch.cancel(consumerTag);
        await sleep(600);
        const probe2 = await channel(conn);
        const goneLater = await expectChannelError(probe2, () => probe2.checkQueue(consumed));
        return { gone, alive, goneLater };
      });
    },
    check(r) {
      const v = r as { gone: { code: number; text: string }; alive: number; goneLater: { code: number } };
      expect(v.gone.code).toBe(404);
      expect(v.alive).toBe(1);
      expect(v.goneLater.code).toBe(404);
    },
  }),

  scenario({
    name: 'a message dead-lettered back to its own queue by TTL is dropped, not cycled',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
        ch.sendToQueue(q, Buffer.from('loop'));
        // Several TTLs: a message going round would be back in the queue by now.
        await sleep(400);
        return (await ch.checkQueue(q)).messageCount;
      });
    },
    check(r) {
      expect(r).toBe(0);
    },
  }),

  scenario({
    name: 'x-max-priority: higher priorities first, FIFO within one, priorities above the maximum count as it',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-max-priority': 5 } });
        const confirm = await confirmChannel(conn);
        const sent: [string, number | undefined][] = [['a', undefined], ['b', 3], ['c', 9], ['d', 5], ['e', 3], ['f', 0], ['g', 4]];
        for (const [body, priority] of sent) confirm.sendToQueue(q, Buffer.from(body), priority === undefined ? {} : { priority });
        await timeout(confirm.waitForConfirms(), 5_000, 'confirms');
        // Two taken and requeued: they go back to their place in their priority.
        const taken = [await ch.get(q), await ch.get(q)];
        for (const m of taken) if (m) ch.nack(m, false, true);
        const order: { body: string; priority: number | undefined; redelivered: boolean }[] = [];
        for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) {
          order.push({ body: m.content.toString(), priority: m.properties.priority, redelivered: m.fields.redelivered });
        }
        // With a consumer: the same order, as deliveries.
        for (const [body, priority] of sent) confirm.sendToQueue(q, Buffer.from(body), priority === undefined ? {} : { priority });
        await timeout(confirm.waitForConfirms(), 5_000, 'confirms');
        const delivered: string[] = [];
        await ch.consume(q, (m) => m && delivered.push(m.content.toString()), { noAck: true });
        await waitUntil(() => delivered.length === sent.length, 5_000, 'deliveries');
        return { taken: taken.map((m) => m && m.content.toString()), order, delivered };
      });
    },
    check(r) {
      const v = r as { taken: string[]; order: { body: string; redelivered: boolean }[]; delivered: string[] };
      expect(v.taken).toEqual(['c', 'd']);
      expect(v.order.map((m) => m.body)).toEqual(['c', 'd', 'g', 'b', 'e', 'a', 'f']);
      expect(v.order.map((m) => m.redelivered)).toEqual([true, true, false, false, false, false, false]);
      expect(v.delivered).toEqual(['c', 'd', 'g', 'b', 'e', 'a', 'f']);
    },
  }),

  scenario({
    name: 'queue arguments that are not valid get 406 with RabbitMQ\'s text',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const cases: Record<string, unknown>[] = [
          { 'x-message-ttl': -1 },
          { 'x-message-ttl': 'abc' },
          { 'x-message-ttl': 1.5 },
          { 'x-expires': 0 },
          { 'x-max-length': -1 },
          { 'x-max-length-bytes': 'x' },
          { 'x-overflow': 'bogus' },
          { 'x-max-priority': 300 },
          { 'x-max-priority': -1 },
          { 'x-single-active-consumer': 'yes' },
        ];
        const answers = [];
        for (const [i, args] of cases.entries()) {
          const ch = await channel(conn);
          const error = await expectChannelError(ch, () => ch.assertQueue(`${id}.${i}`, { arguments: args }));
          answers.push({ code: error.code, text: error.text.replace(`${id}.${i}`, 'Q'), classId: error.classId, methodId: error.methodId });
        }
        return answers;
      });
    },
    check(r) {
      expect(r).toEqual([
        invalidArg('x-message-ttl', '{value_negative,-1}'),
        invalidArg('x-message-ttl', '"expected integer, got longstr"'),
        invalidArg('x-message-ttl', '"expected integer, got double"'),
        invalidArg('x-expires', '{value_zero,0}'),
        invalidArg('x-max-length', '{value_negative,-1}'),
        invalidArg('x-max-length-bytes', '"expected integer, got longstr"'),
        invalidArg('x-overflow', 'invalid_overflow'),
        invalidArg('x-max-priority', '{max_value_exceeded,300}'),
        invalidArg('x-max-priority', '{value_negative,-1}'),
        invalidArg('x-single-active-consumer', '{unacceptable_type,longstr}'),
      ]);
    },
  }),

  scenario({
    name: 'an expiration that is not a TTL closes the channel with 406',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const answers = [];
        for (const expiration of ['abc', '-1', '1.5', '']) {
          const ch = await channel(conn);
          await ch.assertQueue(`${id}.q`, { exclusive: true });
          answers.push(await expectChannelError(ch, () => ch.sendToQueue(`${id}.q`, Buffer.from('x'), { expiration })));
        }
        return answers;
      });
    },
    check(r) {
      expect(r).toEqual([
        invalidExpiration('abc', 'no_integer'),
        invalidExpiration('-1', '{value_negative,-1}'),
        invalidExpiration('1.5', '{leftover_string,".5"}'),
        invalidExpiration('', 'no_integer'),
      ]);
    },
  }),

  scenario({
    name: 'TTLs and expiry past 2^31 ms (Node\'s longest timer) keep queues and messages; past ten years (RabbitMQ\'s limit) they get 406',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const thirtyDays = 2_592_000_000;
        const ch = await channel(conn);
        const expiring = `${id}.expires`;
        const ttl = `${id}.ttl`;
        await ch.assertQueue(expiring, { exclusive: true, arguments: { 'x-expires': thirtyDays } });
        await ch.assertQueue(ttl, { exclusive: true, arguments: { 'x-message-ttl': thirtyDays } });
        const confirm = await confirmChannel(conn);
        await confirmEach(confirm, ttl, ['by-queue-ttl']);
        confirm.sendToQueue(ttl, Buffer.from('by-expiration'), { expiration: String(thirtyDays) });
        confirm.sendToQueue(ttl, Buffer.from('at-the-limit'), { expiration: '4294967295' });
        await timeout(confirm.waitForConfirms(), 5_000, 'confirms');
        // A sleep, not an event: what is checked is that nothing expires early.
        await sleep(300);
        const kept = { expiringQueue: (await ch.checkQueue(expiring)).messageCount, messages: (await ch.checkQueue(ttl)).messageCount };
        /** The server's answer to `op` on a fresh channel: its channel.close, or the queue's message count. */
        const answer = async (op: (probe: Channel, q: string) => Promise<unknown> | unknown, i: number): Promise<unknown> => {
          const probe = await channel(conn);
          const q = `${id}.p${i}`;
          const closed = new Promise<ServerError>((resolve) => probe.once('error', (err: Error) => resolve(asServerError(err))));
          const done = Promise.resolve()
            .then(() => op(probe, q))
            .then(() => probe.checkQueue(q))
            .then((ok) => ok.messageCount, () => null);
          const first = await timeout(Promise.race([closed, done]), 5_000, 'an answer');
          return first === null ? timeout(closed, 5_000, 'channel.close') : first;
        };
        const refused = [];
        for (const [i, expiration] of ['315360000001', '99999999999999999999', '-99999999999999999999', '315360000000', '0060000', '+60000', '-0'].entries()) {
          refused.push(
            await answer(async (probe, q) => {
              await probe.assertQueue(q, { exclusive: true });
              probe.sendToQueue(q, Buffer.from('x'), { expiration });
            }, i),
          );
        }
        const args = [];
        const tables = [{ 'x-message-ttl': 315360000001 }, { 'x-expires': 315360000001 }, { 'x-message-ttl': 315360000000 }, { 'x-expires': 315360000000 }];
        for (const [i, table] of tables.entries()) {
          const error = await answer((probe, q) => probe.assertQueue(q, { exclusive: true, arguments: table }), 10 + i);
          args.push(typeof error === 'object' && error !== null ? { ...(error as ServerError), text: (error as ServerError).text.replace(`${id}.p${10 + i}`, 'Q') } : error);
        }
        return { kept, refused, args };
      });
    },
    check(r) {
      expect(r).toEqual({
        kept: { expiringQueue: 0, messages: 3 },
        refused: [
          invalidExpiration('315360000001', '{value_too_large,315360000001}'),
          // Erlang's ~p breaks a term that would reach column 79 of the text.
          invalidExpiration('99999999999999999999', `{value_too_large,\n${' '.repeat(44)}99999999999999999999}`),
          invalidExpiration('-99999999999999999999', `{value_negative,\n${' '.repeat(45)}-99999999999999999999}`),
          1,
          1,
          1,
          // -0 is 0: no consumer can take it now, so it is dropped.
          0,
        ],
        args: [
          invalidArg('x-message-ttl', '{value_too_large,315360000001}'),
          invalidArg('x-expires', '{value_too_large,315360000001}'),
          0,
          0,
        ],
      });
    },
  }),
];

compareBrokers('queue arguments: TTL, length limits, expiry', scenarios);
