// amqplib (the Node client) against RabbitMQ and against Warren: the same
// scenario on both, Warren's answer must equal RabbitMQ's, and each answer is
// also checked against the values AMQP 0-9-1 / RabbitMQ define.
import crypto from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { expect } from 'vitest';
import {
  asServerError,
  channel,
  confirmChannel,
  collect,
  drain,
  expectChannelError,
  publishConfirmed,
  sleep,
  summary,
  timeout,
  tx,
  waitUntil,
  withConnection,
} from './support/amqp.js';
import { compareBrokers, scenario } from './support/compare.js';

const V = "in vhost '/'";

const scenarios = [
  scenario({
    name: 'exchange types route publish→queue',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const out: Record<string, unknown> = {};
        const cases: Array<[string, string, Record<string, unknown> | undefined, Array<[string, Record<string, unknown> | undefined]>]> = [
          ['direct', 'rk.a', undefined, [['rk.a', undefined], ['rk.b', undefined]]],
          ['fanout', 'ignored', undefined, [['any', undefined], ['thing', undefined]]],
          ['topic', 'a.*.c', undefined, [['a.b.c', undefined], ['a.b.b.c', undefined], ['a..c', undefined]]],
          ['headers', '', { 'x-match': 'all', k: 'v', n: 1 }, [['', { k: 'v', n: 1 }], ['', { k: 'v' }], ['', { k: 'v', n: 1, extra: true }]]],
        ];
        for (const [type, pattern, args, pubs] of cases) {
          const ex = `${id}.${type}`;
          const q = `${id}.q.${type}`;
          const declared = await ch.assertExchange(ex, type, { durable: false, autoDelete: false });
          const qok = await ch.assertQueue(q, { durable: false });
          await ch.bindQueue(q, ex, pattern, args);
          // basic.get on the same channel is processed after these publishes: no wait needed.
          for (const [i, [rk, headers]] of pubs.entries()) ch.publish(ex, rk, Buffer.from(`${type}-${i}`), { headers });
          out[type] = { declared, qok, got: await drain(ch, q) };
          await ch.deleteQueue(q);
          await ch.deleteExchange(ex);
        }
        return out;
      });
    },
    check(r) {
      const v = r as Record<string, { got: string[]; qok: { messageCount: number; consumerCount: number } }>;
      expect(v.direct!.got).toEqual(['direct-0']);
      expect(v.fanout!.got).toEqual(['fanout-0', 'fanout-1']);
      // '*' matches exactly one word, and an empty word is a word: 'a..c' matches 'a.*.c'
      expect(v.topic!.got).toEqual(['topic-0', 'topic-2']);
      expect(v.headers!.got).toEqual(['headers-0', 'headers-2']);
      expect(v.direct!.qok).toMatchObject({ messageCount: 0, consumerCount: 0 });
    },
  }),

  scenario({
    name: 'publish, consume, ack; queue.declare-ok counts',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        const first = await ch.assertQueue(q, { durable: false });
        await publishConfirmed(conn, '', q, ['m1', 'm2', 'm3']);
        const afterPublish = await ch.assertQueue(q, { durable: false });
        const cch = await channel(conn);
        await cch.prefetch(1);
        const { msgs } = await collect(cch, q);
        await waitUntil(() => msgs.length === 1, 5_000, 'first delivery');
        const withConsumer = await ch.checkQueue(q);
        cch.ack(msgs[0]!);
        await waitUntil(() => msgs.length === 2, 5_000, 'second delivery');
        cch.ack(msgs[1]!);
        await waitUntil(() => msgs.length === 3, 5_000, 'third delivery');
        cch.ack(msgs[2]!);
        // A round trip to the queue on the acking channel: its acks are processed by then.
        await cch.checkQueue(q);
        const afterAcks = await ch.checkQueue(q);
        await cch.close();
        const afterCancel = await ch.checkQueue(q);
        await ch.deleteQueue(q);
        return { first, afterPublish, withConsumer, afterAcks, afterCancel, deliveries: msgs.map(summary) };
      });
    },
    check(r) {
      const v = r as Record<'first' | 'afterPublish' | 'withConsumer' | 'afterAcks' | 'afterCancel', { messageCount: number }> & { deliveries: unknown[] };
      expect(v.first).toMatchObject({ messageCount: 0, consumerCount: 0 });
      expect(v.afterPublish).toMatchObject({ messageCount: 3, consumerCount: 0 });
      expect(v.withConsumer).toMatchObject({ messageCount: 2, consumerCount: 1 });
      expect(v.afterAcks).toMatchObject({ messageCount: 0, consumerCount: 1 });
      expect(v.afterCancel).toMatchObject({ messageCount: 0, consumerCount: 0 });
      expect(v.deliveries).toEqual([
        { body: 'm1', redelivered: false, deliveryTag: 1 },
        { body: 'm2', redelivered: false, deliveryTag: 2 },
        { body: 'm3', redelivered: false, deliveryTag: 3 },
      ]);
    },
  }),

  scenario({
    name: 'basic.get, get-empty, purge count, delete counts',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        await publishConfirmed(conn, '', q, ['a', 'b']);
        const gets = [];
        for (let i = 0; i < 3; i++) {
          const m = await ch.get(q, { noAck: false });
          gets.push(m === false ? false : { body: m.content.toString(), fields: m.fields });
        }
        ch.ackAll();
        await publishConfirmed(conn, '', q, ['1', '2', '3', '4', '5']);
        const purge1 = await ch.purgeQueue(q);
        const purge2 = await ch.purgeQueue(q);
        await publishConfirmed(conn, '', q, ['x', 'y', 'z']);
        const del = await ch.deleteQueue(q);
        const q2 = `${id}.empty`;
        await ch.assertQueue(q2, { durable: false });
        const del2 = await ch.deleteQueue(q2);
        return { gets, purge1, purge2, del, del2 };
      });
    },
    check(r) {
      const v = r as { gets: unknown[]; purge1: unknown; purge2: unknown; del: unknown; del2: unknown };
      expect(v.gets[0]).toMatchObject({ body: 'a', fields: { deliveryTag: 1, redelivered: false, exchange: '', messageCount: 1 } });
      expect(v.gets[1]).toMatchObject({ body: 'b', fields: { deliveryTag: 2, redelivered: false, exchange: '', messageCount: 0 } });
      expect(v.gets[2]).toBe(false);
      expect(v.purge1).toEqual({ messageCount: 5 });
      expect(v.purge2).toEqual({ messageCount: 0 });
      expect(v.del).toEqual({ messageCount: 3 });
      expect(v.del2).toEqual({ messageCount: 0 });
    },
  }),

  scenario({
    name: 'queue.delete if-empty / if-unused refused with 406',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        await publishConfirmed(conn, '', q, ['x']);
        const notEmpty = await expectChannelError(ch, () => ch.deleteQueue(q, { ifEmpty: true }));
        const ch2 = await channel(conn);
        await ch2.consume(q, () => {}, { noAck: false });
        const ch3 = await channel(conn);
        const inUse = await expectChannelError(ch3, () => ch3.deleteQueue(q, { ifUnused: true }));
        const ch4 = await channel(conn);
        const stillThere = await ch4.checkQueue(q);
        await ch4.deleteQueue(q);
        return { notEmpty, inUse, stillThere: stillThere.queue === q };
      });
    },
    check(r) {
      const v = r as { notEmpty: unknown; inUse: unknown; stillThere: boolean };
      expect(v.notEmpty).toMatchObject({ code: 406, classId: 50, methodId: 40 });
      expect(v.inUse).toMatchObject({ code: 406, classId: 50, methodId: 40 });
      expect(v.stillThere).toBe(true);
    },
  }),

  scenario({
    name: 'round-robin over 3 consumers with prefetch 1',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const admin = await channel(conn);
        await admin.assertQueue(q, { durable: false });
        const consumers: Array<{ ch: Channel; msgs: ConsumeMessage[]; tag: string }> = [];
        for (let i = 0; i < 3; i++) {
          const ch = await channel(conn);
          await ch.prefetch(1);
          consumers.push({ ch, ...(await collect(ch, q)) });
        }
        await publishConfirmed(conn, '', q, ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
        await waitUntil(() => consumers.every((c) => c.msgs.length === 1), 5_000, 'one message each');
        await sleep(150);
        const firstRound = consumers.map((c) => c.msgs.map((m) => m.content.toString()));
        // Ack one consumer at a time; each ack frees exactly one slot.
        for (let round = 1; round < 3; round++) {
          for (const c of consumers) {
            c.ch.ack(c.msgs[round - 1]!);
            await waitUntil(() => c.msgs.length === round + 1, 5_000, 'next delivery after ack');
          }
        }
        await sleep(100);
        const got = consumers.map((c) => c.msgs.map((m) => m.content.toString()));
        await admin.deleteQueue(q);
        return { firstRound, got };
      });
    },
    check(r) {
      const v = r as { firstRound: string[][]; got: string[][] };
      expect(v.firstRound).toEqual([['0'], ['1'], ['2']]);
      expect(v.got).toEqual([
        ['0', '3', '6'],
        ['1', '4', '7'],
        ['2', '5', '8'],
      ]);
    },
  }),

  scenario({
    name: 'round-robin over 3 consumers without prefetch limit',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        const cs = [await collect(ch, q, { noAck: true }), await collect(ch, q, { noAck: true }), await collect(ch, q, { noAck: true })];
        await publishConfirmed(conn, '', q, ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
        await waitUntil(() => cs.reduce((n, c) => n + c.msgs.length, 0) === 9, 5_000, '9 deliveries');
        await ch.deleteQueue(q);
        return cs.map((c) => c.msgs.map((m) => m.content.toString()));
      });
    },
    check(r) {
      expect(r).toEqual([
        ['0', '3', '6'],
        ['1', '4', '7'],
        ['2', '5', '8'],
      ]);
    },
  }),

  scenario({
    name: 'prefetch window of 2 is never exceeded',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        await publishConfirmed(conn, '', q, ['a', 'b', 'c', 'd', 'e']);
        await ch.prefetch(2);
        const { msgs } = await collect(ch, q);
        await waitUntil(() => msgs.length >= 2, 5_000, 'two deliveries');
        await sleep(500);
        const received = msgs.map((m) => m.content.toString());
        const ok = await ch.checkQueue(q);
        ch.ack(msgs[0]!);
        await waitUntil(() => msgs.length >= 3, 5_000, 'third delivery after one ack');
        await sleep(300);
        const afterOneAck = msgs.map((m) => m.content.toString());
        await ch.deleteQueue(q);
        return { received, ready: ok.messageCount, afterOneAck };
      });
    },
    check(r) {
      expect(r).toEqual({ received: ['a', 'b'], ready: 3, afterOneAck: ['a', 'b', 'c'] });
    },
  }),

  scenario({
    name: 'nack/reject with requeue: redelivered=true, original position kept',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        await publishConfirmed(conn, '', q, ['m1', 'm2', 'm3', 'm4', 'm5']);
        const m1 = await ch.get(q);
        const m2 = await ch.get(q);
        const m3 = await ch.get(q);
        if (!m1 || !m2 || !m3) throw new Error('basic.get returned empty');
        ch.reject(m2, true);
        ch.nack(m1, false, true);
        const after = [];
        for (;;) {
          const m = await ch.get(q, { noAck: true });
          if (m === false) break;
          after.push({ body: m.content.toString(), redelivered: m.fields.redelivered });
        }
        // reject without requeue drops the message
        ch.reject(m3, false);
        const left = await ch.checkQueue(q);
        // consumer path: nack requeue goes straight back to the consumer, redelivered
        await publishConfirmed(conn, '', q, ['c1', 'c2']);
        const cch = await channel(conn);
        const { msgs } = await collect(cch, q);
        await waitUntil(() => msgs.length === 2, 5_000, 'two deliveries');
        cch.nack(msgs[0]!, false, true);
        await waitUntil(() => msgs.length === 3, 5_000, 'redelivery');
        cch.ackAll();
        await cch.checkQueue(q);
        await ch.deleteQueue(q);
        return { after, left: left.messageCount, consumed: msgs.map(summary) };
      });
    },
    check(r) {
      expect(r).toEqual({
        after: [
          { body: 'm1', redelivered: true },
          { body: 'm2', redelivered: true },
          { body: 'm4', redelivered: false },
          { body: 'm5', redelivered: false },
        ],
        left: 0,
        consumed: [
          { body: 'c1', redelivered: false, deliveryTag: 1 },
          { body: 'c2', redelivered: false, deliveryTag: 2 },
          { body: 'c1', redelivered: true, deliveryTag: 3 },
        ],
      });
    },
  }),

  scenario({
    name: 'closing a channel with unacked messages redelivers them to another consumer',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const admin = await channel(conn);
        await admin.assertQueue(q, { durable: false });
        await publishConfirmed(conn, '', q, ['u1', 'u2', 'u3']);
        const ch1 = await channel(conn);
        const first = await collect(ch1, q);
        await waitUntil(() => first.msgs.length === 3, 5_000, 'three deliveries');
        const ch2 = await channel(conn);
        const second = await collect(ch2, q);
        await sleep(200);
        const beforeClose = second.msgs.length;
        await ch1.close();
        await waitUntil(() => second.msgs.length === 3, 5_000, 'redelivery to the other consumer');
        ch2.ackAll();
        await ch2.checkQueue(q);
        const ok = await admin.checkQueue(q);
        await admin.deleteQueue(q);
        return { beforeClose, redelivered: second.msgs.map(summary), after: ok };
      });
    },
    check(r) {
      const v = r as { beforeClose: number; redelivered: unknown; after: { messageCount: number; consumerCount: number } };
      expect(v.beforeClose).toBe(0);
      expect(v.redelivered).toEqual([
        { body: 'u1', redelivered: true, deliveryTag: 1 },
        { body: 'u2', redelivered: true, deliveryTag: 2 },
        { body: 'u3', redelivered: true, deliveryTag: 3 },
      ]);
      expect(v.after).toMatchObject({ messageCount: 0, consumerCount: 1 });
    },
  }),

  scenario({
    name: 'mandatory publish with no route → basic.return 312 NO_ROUTE',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const returned = new Promise<unknown>((resolve) => {
          ch.once('return', (m) => resolve({ fields: m.fields, body: m.content.toString(), properties: { messageId: m.properties.messageId } }));
        });
        ch.publish('amq.direct', `${id}.nowhere`, Buffer.from('lost'), { mandatory: true, messageId: 'mid-1' });
        const ret = await timeout(returned, 5_000, 'basic.return');
        // not mandatory: silently dropped, channel stays open
        ch.publish('amq.direct', `${id}.nowhere`, Buffer.from('dropped'));
        const stillOpen = await ch.checkExchange('amq.direct').then(() => true);
        return { ret, stillOpen };
      });
    },
    check(r) {
      expect(r).toEqual({
        ret: {
          fields: { replyCode: 312, replyText: 'NO_ROUTE', exchange: 'amq.direct', routingKey: expect.stringMatching(/\.nowhere$/) },
          body: 'lost',
          properties: { messageId: 'mid-1' },
        },
        stillOpen: true,
      });
    },
  }),

  scenario({
    name: 'channel errors: reply code, text, class and method',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const out: Record<string, unknown> = {};
        let ch = await channel(conn);
        out.publishToMissingExchange = await expectChannelError(ch, () => ch.publish(`${id}.noex`, 'rk', Buffer.from('x')));
        ch = await channel(conn);
        out.passiveMissingQueue = await expectChannelError(ch, () => ch.checkQueue(`${id}.noq`));
        ch = await channel(conn);
        out.passiveMissingExchange = await expectChannelError(ch, () => ch.checkExchange(`${id}.noex`));
        ch = await channel(conn);
        await ch.assertQueue(`${id}.q`, { durable: false });
        out.redeclareDurable = await expectChannelError(ch, () => ch.assertQueue(`${id}.q`, { durable: true }));
        ch = await channel(conn);
        await ch.assertExchange(`${id}.ex`, 'direct', { durable: false });
        out.redeclareExchangeType = await expectChannelError(ch, () => ch.assertExchange(`${id}.ex`, 'fanout', { durable: false }));
        ch = await channel(conn);
        out.reservedExchange = await expectChannelError(ch, () => ch.assertExchange(`amq.${id}`, 'direct'));
        ch = await channel(conn);
        out.bindMissingQueue = await expectChannelError(ch, () => ch.bindQueue(`${id}.noq`, 'amq.direct', 'rk'));
        ch = await channel(conn);
        out.consumeMissingQueue = await expectChannelError(ch, () => ch.consume(`${id}.noq`, () => {}));
        ch = await channel(conn);
        out.deleteDefaultExchange = await expectChannelError(ch, () => ch.deleteExchange('amq.direct'));
        ch = await channel(conn);
        await ch.deleteQueue(`${id}.q`);
        await ch.deleteExchange(`${id}.ex`);
        return out;
      });
    },
    check(r) {
      const v = r as Record<string, { code: number; text: string; classId: number; methodId: number }>;
      expect(v.publishToMissingExchange).toMatchObject({ code: 404, classId: 60, methodId: 40 });
      expect(v.publishToMissingExchange!.text).toMatch(/^NOT_FOUND - no exchange '.*\.noex' in vhost '\/'$/);
      expect(v.passiveMissingQueue).toMatchObject({ code: 404, classId: 50, methodId: 10 });
      expect(v.passiveMissingQueue!.text).toMatch(/^NOT_FOUND - no queue '.*\.noq' in vhost '\/'$/);
      expect(v.passiveMissingExchange).toMatchObject({ code: 404, classId: 40, methodId: 10 });
      expect(v.redeclareDurable).toMatchObject({ code: 406, classId: 50, methodId: 10 });
      expect(v.redeclareDurable!.text).toMatch(/^PRECONDITION_FAILED - inequivalent arg 'durable' for queue '.*\.q' in vhost '\/': received 'true' but current is 'false'$/);
      expect(v.redeclareExchangeType).toMatchObject({ code: 406, classId: 40, methodId: 10 });
      expect(v.reservedExchange).toMatchObject({ code: 403, classId: 40, methodId: 10 });
      expect(v.reservedExchange!.text).toMatch(/^ACCESS_REFUSED - exchange name 'amq\..*' contains reserved prefix 'amq\.\*'$/);
      expect(v.bindMissingQueue).toMatchObject({ code: 404, classId: 50, methodId: 20 });
      expect(v.consumeMissingQueue).toMatchObject({ code: 404, classId: 60, methodId: 20 });
      expect(v.deleteDefaultExchange).toMatchObject({ code: 403, classId: 40, methodId: 20 });
    },
  }),

  scenario({
    name: 'exchange.declare of an existing amq.* exchange: looked up first; only a new amq. name is refused; the type is checked before the name',
    async run(url, id) {
      const answers: Record<string, unknown> = {};
      await withConnection(url, async (conn) => {
        const declare = async (name: string, type: string, options: Record<string, unknown>): Promise<unknown> => {
          const ch = await channel(conn);
          try {
            await ch.assertExchange(name, type, options);
            await ch.close();
            return 'declare-ok';
          } catch (error) {
            return asServerError(error);
          }
        };
        answers.topicDurable = await declare('amq.topic', 'topic', { durable: true });
        answers.matchDurable = await declare('amq.match', 'headers', { durable: true });
        answers.directWithArgument = await declare('amq.direct', 'direct', { durable: true, arguments: { 'x-anything': 1 } });
        answers.directNonDurable = await declare('amq.direct', 'direct', { durable: false });
        answers.directAsFanout = await declare('amq.direct', 'fanout', { durable: true });
        answers.directAutoDelete = await declare('amq.direct', 'direct', { durable: true, autoDelete: true });
        answers.directInternal = await declare('amq.direct', 'direct', { durable: true, internal: true });
        answers.trace = await declare('amq.rabbitmq.trace', 'topic', { durable: true });
        answers.traceInternal = await declare('amq.rabbitmq.trace', 'topic', { durable: true, internal: true });
        answers.newAmqName = await declare(`amq.${id}`, 'direct', { durable: true });
        answers.defaultExchange = await declare('', 'direct', { durable: true });
        await declare(`${id}.x`, 'direct', { arguments: { 'alternate-exchange': 'a', 'x-other': 1 } });
        answers.otherArgument = await declare(`${id}.x`, 'direct', { arguments: { 'alternate-exchange': 'a', 'x-other': 2 } });
        answers.otherAlternate = await declare(`${id}.x`, 'direct', { arguments: { 'alternate-exchange': 'b' } });
        const ch = await channel(conn);
        await ch.deleteExchange(`${id}.x`);
      });
      // An unknown type closes the connection (503), whatever the name.
      for (const name of ['amq.topic', `amq.${id}`, '']) {
        answers[`bogusType:${name.replace(id, 'ID')}`] = await withConnection(url, async (conn) => {
          const closed = new Promise<unknown>((resolve) => conn.on('error', (error: Error) => resolve(asServerError(error))));
          const ch = await conn.createChannel();
          ch.on('error', () => {});
          await ch.assertExchange(name, 'bogus').catch(() => {});
          return timeout(closed, 5_000, 'connection.close');
        }).catch((error: unknown) => String(error));
      }
      return answers;
    },
    check(r) {
      const v = r as Record<string, unknown>;
      const inequivalent = (arg: string, received: string, current: string) => ({
        code: 406,
        text: `PRECONDITION_FAILED - inequivalent arg '${arg}' for exchange 'amq.direct' ${V}: received '${received}' but current is '${current}'`,
        classId: 40,
        methodId: 10,
      });
      // amqplib reports no class and method for a connection.close (raw-frames.test.ts checks them: 40/10).
      const bogus = { code: 503, text: "COMMAND_INVALID - unknown exchange type 'bogus'", classId: 0, methodId: 0 };
      expect(v).toEqual({
        topicDurable: 'declare-ok',
        matchDurable: 'declare-ok',
        directWithArgument: 'declare-ok',
        directNonDurable: inequivalent('durable', 'false', 'true'),
        directAsFanout: inequivalent('type', 'fanout', 'direct'),
        directAutoDelete: inequivalent('auto_delete', 'true', 'false'),
        directInternal: inequivalent('internal', 'true', 'false'),
        trace: { ...inequivalent('internal', 'false', 'true'), text: `PRECONDITION_FAILED - inequivalent arg 'internal' for exchange 'amq.rabbitmq.trace' ${V}: received 'false' but current is 'true'` },
        traceInternal: 'declare-ok',
        newAmqName: { code: 403, text: expect.stringMatching(/^ACCESS_REFUSED - exchange name 'amq\..*' contains reserved prefix 'amq\.\*'$/), classId: 40, methodId: 10 },
        defaultExchange: { code: 403, text: 'ACCESS_REFUSED - operation not permitted on the default exchange', classId: 40, methodId: 10 },
        otherArgument: 'declare-ok',
        otherAlternate: {
          code: 406,
          text: expect.stringMatching(/^PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '.*\.x' in vhost '\/': received 'b' but current is 'a'$/),
          classId: 40,
          methodId: 10,
        },
        'bogusType:amq.topic': bogus,
        'bogusType:amq.ID': bogus,
        'bogusType:': bogus,
      });
    },
  }),

  scenario({
    name: 'reply text over 255 bytes is cut to 252 bytes + "..."',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const long = `${id}.${'x'.repeat(240 - id.length)}`;
        const ch = await channel(conn);
        const err = await expectChannelError(ch, () => ch.checkQueue(long));
        return { err, nameLength: long.length };
      });
    },
    check(r) {
      const v = r as { err: { code: number; text: string }; nameLength: number };
      expect(v.nameLength).toBe(241);
      expect(v.err.code).toBe(404);
      expect(Buffer.byteLength(v.err.text)).toBe(255);
      expect(v.err.text.endsWith('...')).toBe(true);
      expect(v.err.text.startsWith("NOT_FOUND - no queue '")).toBe(true);
    },
  }),

  scenario({
    name: 'exclusive queue used from another connection → 405 RESOURCE_LOCKED',
    async run(url, id) {
      return withConnection(url, async (owner) => {
        const q = `${id}.excl`;
        const och = await channel(owner);
        await och.assertQueue(q, { exclusive: true, durable: false });
        return withConnection(url, async (other) => {
          const out: Record<string, unknown> = {};
          let ch = await channel(other);
          out.consume = await expectChannelError(ch, () => ch.consume(q, () => {}));
          ch = await channel(other);
          out.declare = await expectChannelError(ch, () => ch.assertQueue(q, { exclusive: true, durable: false }));
          ch = await channel(other);
          out.passive = await expectChannelError(ch, () => ch.checkQueue(q));
          ch = await channel(other);
          out.get = await expectChannelError(ch, () => ch.get(q));
          // the owner can still use it
          out.ownerPassive = await och.checkQueue(q);
          return out;
        });
      });
    },
    check(r) {
      const v = r as Record<string, { code: number; text: string; classId: number; methodId: number }>;
      expect(v.consume).toMatchObject({ code: 405, classId: 60, methodId: 20 });
      expect(v.consume!.text).toMatch(/^RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '.*\.excl' in vhost '\/'/);
      expect(v.declare).toMatchObject({ code: 405, classId: 50, methodId: 10 });
      expect(v.passive).toMatchObject({ code: 405, classId: 50, methodId: 10 });
      expect(v.get).toMatchObject({ code: 405, classId: 60, methodId: 70 });
      expect(v.ownerPassive).toMatchObject({ messageCount: 0, consumerCount: 0 });
    },
  }),

  scenario({
    name: 'redeclaring a queue with another exclusive flag → 405 RESOURCE_LOCKED, before the other checks',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const exclusive = `${id}.excl`;
        const shared = `${id}.shared`;
        const setup = await channel(conn);
        await setup.assertQueue(exclusive, { exclusive: true, durable: false });
        await setup.assertQueue(shared, { exclusive: false, durable: false, autoDelete: true });
        const text = (e: { code: number; text: string; classId: number; methodId: number }) => ({ ...e, text: e.text.replace(id, 'ID') });
        let ch = await channel(conn);
        const nowShared = text(await expectChannelError(ch, () => ch.assertQueue(exclusive, { exclusive: false, durable: false })));
        ch = await channel(conn);
        const nowExclusive = text(await expectChannelError(ch, () => ch.assertQueue(shared, { exclusive: true, durable: false, autoDelete: true })));
        ch = await channel(conn);
        const durableFirst = text(await expectChannelError(ch, () => ch.assertQueue(exclusive, { exclusive: false, durable: true })));
        return withConnection(url, async (other) => {
          const och = await channel(other);
          const otherDurableFirst = text(await expectChannelError(och, () => och.assertQueue(exclusive, { exclusive: true, durable: true })));
          return { nowShared, nowExclusive, durableFirst, otherDurableFirst };
        });
      });
    },
    check(r) {
      const v = r as Record<string, { code: number; classId: number; methodId: number }>;
      expect(v.nowShared).toMatchObject({ code: 405, classId: 50, methodId: 10 });
      expect(v.nowExclusive).toMatchObject({ code: 405, classId: 50, methodId: 10 });
      expect(v.durableFirst).toMatchObject({ code: 405, classId: 50, methodId: 10 });
      expect(v.otherDurableFirst).toMatchObject({ code: 405, classId: 50, methodId: 10 });
    },
  }),

  scenario({
    name: 'publisher confirms: confirm.select then acks',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await confirmChannel(conn);
        const acks: Array<{ deliveryTag: number; multiple: boolean }> = [];
        ch.on('ack', (f) => acks.push(f));
        await ch.assertQueue(q, { durable: false });
        const results = await Promise.all(
          ['c1', 'c2', 'c3'].map(
            (b) => new Promise<string>((resolve) => ch.sendToQueue(q, Buffer.from(b), {}, (err) => resolve(err ? `nack:${String(err)}` : 'ack'))),
          ),
        );
        // unroutable + mandatory: basic.return, then still an ack
        const events: string[] = [];
        ch.on('return', () => events.push('return'));
        const unroutable = await new Promise<string>((resolve) =>
          ch.publish('amq.direct', `${id}.nowhere`, Buffer.from('u'), { mandatory: true }, (err) => {
            events.push(err ? 'nack' : 'ack');
            resolve(err ? 'nack' : 'ack');
          }),
        );
        await timeout(ch.waitForConfirms(), 5_000, 'waitForConfirms');
        const highestTag = Math.max(...acks.map((a) => a.deliveryTag));
        const ok = await ch.checkQueue(q);
        await ch.deleteQueue(q);
        return { results, unroutable, events, highestTag, messageCount: ok.messageCount };
      });
    },
    check(r) {
      expect(r).toEqual({ results: ['ack', 'ack', 'ack'], unroutable: 'ack', events: ['return', 'ack'], highestTag: 4, messageCount: 3 });
    },
  }),

  scenario({
    name: 'topic and headers routing through amq.topic / amq.headers',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const topicPatterns = ['a.*', 'a.#', '#.z', '*.*.*', '#', 'a.b.c'];
        const keys = ['a', 'a.b', 'a.b.c', 'x.y.z', 'a.z', 'z', ''];
        const topic: Record<string, string[]> = {};
        for (const [i, p] of topicPatterns.entries()) {
          const q = `${id}.t${i}`;
          await ch.assertQueue(q, { durable: false, autoDelete: false });
          await ch.bindQueue(q, 'amq.topic', p === '#' ? '#' : `${id}.${p}`);
        }
        for (const k of keys) ch.publish('amq.topic', k === '' ? id : `${id}.${k}`, Buffer.from(k || '(empty)'));
        const headerBindings: Array<Record<string, unknown>> = [
          { 'x-match': 'all', a: 1, b: 'two' },
          { 'x-match': 'any', a: 1, b: 'two' },
          { 'x-match': 'all' },
          { 'x-match': 'any', missing: 'x' },
          { 'x-match': 'all', id },
        ];
        const headerMsgs: Array<Record<string, unknown>> = [{ a: 1, b: 'two', id }, { a: 1, id }, { b: 'three', id }, { id }];
        for (const [i, args] of headerBindings.entries()) {
          const q = `${id}.h${i}`;
          await ch.assertQueue(q, { durable: false });
          // 'all' bindings also require this run's id; 'any' bindings can't, and
          // nothing else publishes to amq.headers on these private brokers.
          await ch.bindQueue(q, 'amq.headers', '', args['x-match'] === 'all' ? { ...args, id } : args);
        }
        for (const [i, h] of headerMsgs.entries()) ch.publish('amq.headers', '', Buffer.from(`h${i}`), { headers: h });
        for (const [i] of topicPatterns.entries()) topic[topicPatterns[i]!] = await drain(ch, `${id}.t${i}`);
        const headers: Record<string, string[]> = {};
        for (const [i, b] of headerBindings.entries()) headers[JSON.stringify(b)] = await drain(ch, `${id}.h${i}`);
        for (const [i] of topicPatterns.entries()) await ch.deleteQueue(`${id}.t${i}`);
        for (const [i] of headerBindings.entries()) await ch.deleteQueue(`${id}.h${i}`);
        return { topic, headers };
      });
    },
    check(r) {
      const v = r as { topic: Record<string, string[]>; headers: Record<string, string[]> };
      // patterns are prefixed with the run id, so 'a.*' means '<id>.a.*' against keys '<id>.<key>'
      expect(v.topic['a.*']).toEqual(['a.b', 'a.z']);
      expect(v.topic['a.#']).toEqual(['a', 'a.b', 'a.b.c', 'a.z']);
      expect(v.topic['#.z']).toEqual(['x.y.z', 'a.z', 'z']);
      expect(v.topic['*.*.*']).toEqual(['a.b.c', 'x.y.z']);
      expect(v.topic['#']).toEqual(['a', 'a.b', 'a.b.c', 'x.y.z', 'a.z', 'z', '(empty)']);
      expect(v.topic['a.b.c']).toEqual(['a.b.c']);
      expect(Object.values(v.headers)).toEqual([['h0'], ['h0', 'h1'], ['h0', 'h1', 'h2', 'h3'], [], ['h0', 'h1', 'h2', 'h3']]);
    },
  }),

  scenario({
    name: 'exchange-to-exchange bindings',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const src = `${id}.src`;
        const mid = `${id}.mid`;
        const q = `${id}.q`;
        await ch.assertExchange(src, 'direct', { durable: false });
        await ch.assertExchange(mid, 'fanout', { durable: false });
        await ch.assertQueue(q, { durable: false });
        await ch.bindExchange(mid, src, 'k1');
        await ch.bindQueue(q, mid, '');
        ch.publish(src, 'k1', Buffer.from('via-e2e'));
        ch.publish(src, 'k2', Buffer.from('not-bound'));
        const bound = await drain(ch, q);
        await ch.unbindExchange(mid, src, 'k1');
        ch.publish(src, 'k1', Buffer.from('after-unbind'));
        const unbound = await drain(ch, q);
        // binding to a missing source exchange
        const err = await expectChannelError(ch, () => ch.bindExchange(mid, `${id}.none`, 'k'));
        const ch2 = await channel(conn);
        await ch2.deleteQueue(q);
        await ch2.deleteExchange(mid);
        await ch2.deleteExchange(src);
        return { bound, unbound, err };
      });
    },
    check(r) {
      const v = r as { bound: string[]; unbound: string[]; err: { code: number; text: string } };
      expect(v.bound).toEqual(['via-e2e']);
      expect(v.unbound).toEqual([]);
      expect(v.err.code).toBe(404);
      expect(v.err.text).toMatch(/^NOT_FOUND - no exchange '.*\.none' in vhost '\/'$/);
    },
  }),

  scenario({
    name: 'all basic properties round-trip publisher → consumer',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        const ts = 1_700_000_000;
        ch.sendToQueue(q, Buffer.from('props'), {
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          headers: {
            str: 'string value ünïcødé',
            int: 42,
            negative: -7,
            big: 2 ** 40,
            float: 3.25,
            bool: true,
            boolFalse: false,
            nil: null,
            bytes: Buffer.from([0, 1, 2, 255]),
            nested: { inner: 'x', n: 1, deeper: { ok: true } },
            array: [1, 'two', false, { three: 3 }],
            empty: '',
            typedLong: { '!': 'long', value: 123 },
            typedTimestamp: { '!': 'timestamp', value: ts },
            typedDouble: { '!': 'double', value: 1.5 },
            typedFloat: { '!': 'float', value: 2.5 },
            typedByte: { '!': 'byte', value: -3 },
            typedShort: { '!': 'short', value: 1000 },
            typedDecimal: { '!': 'decimal', value: { places: 2, digits: 12345 } },
          },
          deliveryMode: 2,
          priority: 5,
          correlationId: 'corr-1',
          replyTo: 'reply.queue',
          expiration: '60000',
          messageId: 'msg-1',
          timestamp: ts,
          type: 'test.type',
          userId: 'guest',
          appId: 'warren-interop',
        });
        ch.sendToQueue(q, Buffer.from('bare'));
        const { msgs } = await collect(ch, q, { noAck: true });
        await waitUntil(() => msgs.length === 2, 5_000, 'two deliveries');
        const norm = (v: unknown): unknown => {
          if (Buffer.isBuffer(v)) return { buffer: v.toString('hex') };
          if (Array.isArray(v)) return v.map(norm);
          if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
          return v;
        };
        await ch.deleteQueue(q);
        return msgs.map((m) => ({ body: m.content.toString(), properties: norm(m.properties) }));
      });
    },
    check(r) {
      const [full, bare] = r as Array<{ body: string; properties: Record<string, unknown> }>;
      expect(full!.body).toBe('props');
      expect(full!.properties).toMatchObject({
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 2,
        priority: 5,
        correlationId: 'corr-1',
        replyTo: 'reply.queue',
        expiration: '60000',
        messageId: 'msg-1',
        timestamp: 1_700_000_000,
        type: 'test.type',
        userId: 'guest',
        appId: 'warren-interop',
      });
      expect(full!.properties.headers).toMatchObject({
        str: 'string value ünïcødé',
        int: 42,
        negative: -7,
        big: 2 ** 40,
        float: 3.25,
        bool: true,
        boolFalse: false,
        bytes: { buffer: '000102ff' },
        nested: { inner: 'x', n: 1, deeper: { ok: true } },
        array: [1, 'two', false, { three: 3 }],
        empty: '',
        typedLong: 123,
        // amqplib decodes a timestamp field value as a typed object
        typedTimestamp: { '!': 'timestamp', value: 1_700_000_000 },
        typedDouble: 1.5,
        typedFloat: 2.5,
        typedByte: -3,
        typedShort: 1000,
      });
      expect(bare!.body).toBe('bare');
      // amqplib always sends a headers table (empty when none given)
      expect(bare!.properties.headers).toEqual({});
      expect(bare!.properties.messageId).toBeUndefined();
    },
  }),

  scenario({
    name: '5 MB message over frameMax 4096, and a zero-length body',
    timeoutMs: 60_000,
    async run(url, id) {
      const big = crypto.createHash('sha256').update(id).digest();
      const body = Buffer.alloc(5 * 1024 * 1024);
      for (let i = 0; i < body.length; i += big.length) big.copy(body, i);
      const sep = url.includes('?') ? '&' : '?';
      return withConnection(`${url}${sep}frameMax=4096`, async (conn) => {
        const q = `${id}.q`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { durable: false });
        ch.sendToQueue(q, body, { messageId: 'big' });
        ch.sendToQueue(q, Buffer.alloc(0), { messageId: 'empty' });
        const { msgs } = await collect(ch, q, { noAck: true });
        await waitUntil(() => msgs.length === 2, 30_000, 'both messages');
        await ch.deleteQueue(q);
        return msgs.map((m) => ({
          messageId: m.properties.messageId,
          length: m.content.length,
          equal: m.content.equals(m.properties.messageId === 'big' ? body : Buffer.alloc(0)),
        }));
      });
    },
    check(r) {
      expect(r).toEqual([
        { messageId: 'big', length: 5 * 1024 * 1024, equal: true },
        { messageId: 'empty', length: 0, equal: true },
      ]);
    },
  }),

  scenario({
    name: 'tx.select / commit / rollback',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.q`;
        const admin = await channel(conn);
        await admin.assertQueue(q, { durable: false });
        const ch = await channel(conn);
        await tx.select(ch);
        ch.sendToQueue(q, Buffer.from('t1'));
        ch.sendToQueue(q, Buffer.from('t2'));
        // A round trip on the transactional channel: both publishes are held in the transaction by then.
        await ch.checkQueue(q);
        const beforeCommit = (await admin.checkQueue(q)).messageCount;
        await tx.commit(ch);
        const afterCommit = (await admin.checkQueue(q)).messageCount;
        ch.sendToQueue(q, Buffer.from('t3'));
        await tx.rollback(ch);
        const afterRollback = (await admin.checkQueue(q)).messageCount;
        // acks are transactional too
        const m = await ch.get(q);
        if (!m) throw new Error('expected a message');
        ch.ack(m);
        await tx.rollback(ch);
        const ackRolledBack = (await admin.checkQueue(q)).messageCount;
        ch.ack(m);
        await tx.commit(ch);
        const ackCommitted = (await admin.checkQueue(q)).messageCount;
        // commit without select on a fresh channel
        const plain = await channel(conn);
        const err = await expectChannelError(plain, () => tx.commit(plain));
        await admin.deleteQueue(q);
        return { beforeCommit, afterCommit, afterRollback, first: m.content.toString(), ackRolledBack, ackCommitted, err };
      });
    },
    check(r) {
      const v = r as Record<string, unknown>;
      expect(v).toMatchObject({ beforeCommit: 0, afterCommit: 2, afterRollback: 2, first: 't1', ackRolledBack: 1, ackCommitted: 1 });
      expect(v.err).toMatchObject({ code: 406, classId: 90, methodId: 20 });
    },
  }),
];

compareBrokers('amqplib: RabbitMQ vs Warren', scenarios);
