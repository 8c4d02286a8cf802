// RabbitMQ extensions clients rely on, compared with a private RabbitMQ node:
// direct reply-to, consumer priorities, server-sent basic.cancel, basic.recover,
// the default exchange's implicit bindings and the "last declared queue" shorthand.
import type { ConsumeMessage } from 'amqplib';
import { expect } from 'vitest';
import { channel, drain, expectChannelError, sleep, timeout, waitUntil, withConnection } from './support/amqp.js';
import { compareBrokers, scenario } from './support/compare.js';
import { Args, m, method, methodId, RawAmqp } from './support/raw-amqp.js';

const scenarios = [
  scenario({
    name: 'x-single-active-consumer: one consumer gets everything until it goes, then the next in line',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-single-active-consumer': true } });
        const got: Record<string, string[]> = { first: [], second: [], third: [] };
        const cancels: Record<string, () => Promise<unknown>> = {};
        // Priorities do not change who is active (RabbitMQ 3.10): the first to subscribe is.
        const priorities: Record<string, number> = { first: 0, second: 10, third: 5 };
        for (const name of Object.keys(got)) {
          const consumer = await channel(conn);
          const { consumerTag } = await consumer.consume(q, (m) => m && got[name]!.push(m.content.toString()), { noAck: true, priority: priorities[name] });
          cancels[name] = () => consumer.cancel(consumerTag);
        }
        for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(`a${i}`));
        await waitUntil(() => got.first!.length === 3, 5_000, 'three deliveries to the first consumer');
        const count = (await ch.checkQueue(q)).consumerCount;
        await cancels.first!();
        for (let i = 0; i < 2; i++) ch.sendToQueue(q, Buffer.from(`b${i}`));
        await waitUntil(() => got.first!.length + got.second!.length + got.third!.length === 5, 5_000, 'five deliveries');
        await sleep(100);
        return { got, count };
      });
    },
    check(r) {
      expect(r).toEqual({ got: { first: ['a0', 'a1', 'a2'], second: ['b0', 'b1'], third: [] }, count: 3 });
    },
  }),

  scenario({
    name: 'alternate exchanges: what an exchange cannot route goes to its alternate-exchange',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const main = `${id}.main`;
        const alternate = `${id}.ae`;
        const second = `${id}.ae2`;
        const looping = `${id}.loop`;
        await ch.assertExchange(second, 'fanout', { autoDelete: true });
        await ch.assertExchange(alternate, 'direct', { autoDelete: true, arguments: { 'alternate-exchange': second } });
        await ch.assertExchange(main, 'direct', { autoDelete: true, arguments: { 'alternate-exchange': alternate } });
        // Two exchanges naming each other: an unroutable message must not go round.
        await ch.assertExchange(looping, 'direct', { autoDelete: true, arguments: { 'alternate-exchange': `${id}.loop2` } });
        await ch.assertExchange(`${id}.loop2`, 'direct', { autoDelete: true, arguments: { 'alternate-exchange': looping } });
        const queues = ['routed', 'viaAe', 'viaSecond'];
        for (const name of queues) await ch.assertQueue(`${id}.${name}`, { exclusive: true });
        await ch.bindQueue(`${id}.routed`, main, 'k');
        await ch.bindQueue(`${id}.viaAe`, alternate, 'special');
        await ch.bindQueue(`${id}.viaSecond`, second, '');
        const returned: string[] = [];
        ch.on('return', (m: { content: Buffer }) => returned.push(m.content.toString()));
        ch.publish(main, 'k', Buffer.from('routed'), { mandatory: true });
        ch.publish(main, 'special', Buffer.from('via-ae'), { mandatory: true });
        ch.publish(main, 'other', Buffer.from('via-second'), { mandatory: true });
        ch.publish(looping, 'x', Buffer.from('looping'), { mandatory: true });
        await waitUntil(() => returned.length === 1, 5_000, 'the looping message returned');
        const got: Record<string, string[]> = {};
        for (const name of queues) got[name] = await drain(ch, `${id}.${name}`);
        return { got, returned };
      });
    },
    check(r) {
      expect(r).toEqual({ got: { routed: ['routed'], viaAe: ['via-ae'], viaSecond: ['via-second'] }, returned: ['looping'] });
    },
  }),

  scenario({
    name: 'sender-selected distribution: CC and BCC headers add routing keys, and BCC is not delivered',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const exchange = `${id}.x`;
        await ch.assertExchange(exchange, 'direct', { autoDelete: true });
        const got: Record<string, { body: string; headers: Record<string, unknown> }[]> = { one: [], two: [], three: [], four: [] };
        for (const key of Object.keys(got)) {
          const { queue } = await ch.assertQueue(`${id}.${key}`, { exclusive: true });
          await ch.bindQueue(queue, exchange, key);
          await ch.consume(queue, (m) => m && got[key]!.push({ body: m.content.toString(), headers: m.properties.headers ?? {} }), { noAck: true });
        }
        ch.publish(exchange, 'one', Buffer.from('direct'), { headers: { CC: ['two', 'one'], BCC: ['three'], other: 1 } });
        // Through the default exchange, the keys are queue names.
        ch.sendToQueue(`${id}.four`, Buffer.from('default'), { headers: { CC: [`${id}.two`] } });
        await waitUntil(() => got.one!.length + got.two!.length + got.three!.length + got.four!.length === 5, 5_000, 'five deliveries');
        await sleep(100);
        const bad = await channel(conn);
        const notAnArray = await expectChannelError(bad, () => bad.publish(exchange, 'one', Buffer.from('x'), { headers: { CC: 'two' } }));
        return { got, notAnArray };
      });
    },
    check(r) {
      const v = r as { got: Record<string, { body: string; headers: Record<string, unknown> }[]>; notAnArray: unknown };
      expect(Object.fromEntries(Object.entries(v.got).map(([k, list]) => [k, list.map((m) => m.body)]))).toEqual({
        one: ['direct'],
        two: ['direct', 'default'],
        three: ['direct'],
        four: ['default'],
      });
      for (const list of Object.values(v.got)) for (const m of list) expect(m.headers['BCC']).toBeUndefined();
      expect(v.got.three![0]!.headers['CC']).toEqual(['two', 'one']);
    },
  }),

  scenario({
    name: 'direct reply-to: request and reply without a reply queue',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const server = await channel(conn);
        const requests = `${id}.rpc`;
        await server.assertQueue(requests, { exclusive: true });
        const seenReplyTo: string[] = [];
        await server.consume(requests, (m) => {
          if (!m) return;
          seenReplyTo.push(m.properties.replyTo);
          server.sendToQueue(m.properties.replyTo, Buffer.from(`re:${m.content}`), { correlationId: m.properties.correlationId });
          server.ack(m);
        });
        const client = await channel(conn);
        const replies: { body: string; correlationId: string; routingKeyPrefix: string; redelivered: boolean }[] = [];
        await client.consume(
          'amq.rabbitmq.reply-to',
          (m) => {
            if (!m) return;
            replies.push({
              body: m.content.toString(),
              correlationId: m.properties.correlationId,
              routingKeyPrefix: m.fields.routingKey.slice(0, 'amq.rabbitmq.reply-to.'.length),
              redelivered: m.fields.redelivered,
            });
          },
          { noAck: true },
        );
        for (const n of ['1', '2']) client.sendToQueue(requests, Buffer.from(n), { replyTo: 'amq.rabbitmq.reply-to', correlationId: `c${n}` });
        await waitUntil(() => replies.length === 2, 5_000, 'two replies');
        const ackingClient = await channel(conn);
        const refused = await expectChannelError(ackingClient, () => ackingClient.consume('amq.rabbitmq.reply-to', () => {}, { noAck: false }));
        return {
          replies,
          replyToRewritten: seenReplyTo.every((r) => r.startsWith('amq.rabbitmq.reply-to.') && r.length > 'amq.rabbitmq.reply-to.'.length),
          refused: { code: refused.code, classId: refused.classId, methodId: refused.methodId },
        };
      });
    },
    check(r) {
      const v = r as { replies: { body: string; correlationId: string }[]; replyToRewritten: boolean; refused: unknown };
      expect(v.replies.map((x) => [x.body, x.correlationId])).toEqual([
        ['re:1', 'c1'],
        ['re:2', 'c2'],
      ]);
      expect(v.replyToRewritten).toBe(true);
      expect(v.refused).toEqual({ code: 406, classId: 60, methodId: 20 });
    },
  }),

  scenario({
    name: 'consumer priorities: the high-priority consumer gets messages while it has room',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true });
        await ch.prefetch(3);
        const got: Record<string, string[]> = { low: [], high: [] };
        await ch.consume(q, (m) => m && got.low!.push(m.content.toString()), { priority: 1 });
        await ch.consume(q, (m) => m && got.high!.push(m.content.toString()), { priority: 10 });
        for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(String(i)));
        await waitUntil(() => got.low!.length + got.high!.length === 5, 5_000, 'five deliveries');
        return got;
      });
    },
    check(r) {
      expect(r).toEqual({ high: ['0', '1', '2'], low: ['3', '4'] });
    },
  }),

  scenario({
    name: 'deleting a queue cancels its consumers with basic.cancel',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { durable: false });
        let cancelled = false;
        const { consumerTag } = await ch.consume(q, (m: ConsumeMessage | null) => {
          if (m === null) cancelled = true;
        });
        const other = await channel(conn);
        const deleted = await other.deleteQueue(q);
        await waitUntil(() => cancelled, 5_000, 'basic.cancel from the server');
        // The channel stays usable after a server-sent cancel.
        const check = await ch.assertQueue(`${id}.after`, { exclusive: true });
        return { cancelled, tagPrefix: consumerTag.slice(0, 9), deleted, after: check.messageCount };
      });
    },
    check(r) {
      expect(r).toEqual({ cancelled: true, tagPrefix: 'amq.ctag-', deleted: { messageCount: 0 }, after: 0 });
    },
  }),

  scenario({
    name: 'a channel deleting the queue it consumes from gets delete-ok before basic.cancel',
    async run(url, id) {
      // Frame order is only visible below a client library: a raw socket.
      const client = await RawAmqp.connect(Number(new URL(url).port));
      try {
        await client.handshake({ capabilities: { consumer_cancel_notify: true } });
        await client.openChannel(1);
        const q = `${id}.q`;
        client.write(m.queueDeclare(1, q));
        await client.expectMethod(50, 11);
        client.write(m.basicConsume(1, q, 'the-consumer'));
        await client.expectMethod(60, 21);
        client.write(m.queueDelete(1, q));
        const order: string[] = [];
        while (order.length < 2) {
          const frame = await client.readFrame(5_000);
          if (frame === null) break;
          const ids = methodId(frame);
          if (ids !== null) order.push(`${ids[0]}.${ids[1]}`);
        }
        return order;
      } finally {
        client.destroy();
      }
    },
    check(r) {
      // queue.delete-ok (50.41), then basic.cancel (60.30)
      expect(r).toEqual(['50.41', '60.30']);
    },
  }),

  scenario({
    name: 'after connection.close-ok the client, not the broker, closes the socket',
    async run(url) {
      const client = await RawAmqp.connect(Number(new URL(url).port));
      try {
        await client.handshake();
        client.write(method(0, 10, 50, new Args().short(200).shortstr('bye').short(0).short(0).build()));
        await client.expectMethod(10, 51);
        await sleep(300);
        return { closeOk: true, socketOpenAfterCloseOk: !client.isEnded };
      } finally {
        client.destroy();
      }
    },
    check(r) {
      expect(r).toEqual({ closeOk: true, socketOpenAfterCloseOk: true });
    },
  }),

  scenario({
    name: 'dead-lettering: a rejected message goes to the dead-letter exchange with x-death',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const dlx = `${id}.dlx`;
        const dlq = `${id}.dlq`;
        const q = `${id}.work`;
        await ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: false });
        await ch.assertQueue(dlq, { exclusive: true });
        await ch.bindQueue(dlq, dlx, '');
        await ch.assertQueue(q, { exclusive: true, arguments: { 'x-dead-letter-exchange': dlx } });
        ch.publish('amq.direct', q, Buffer.from('poison'), { headers: { kept: 'yes' }, expiration: '60000' });
        await ch.bindQueue(q, 'amq.direct', q);
        ch.publish('amq.direct', q, Buffer.from('poison'), { headers: { kept: 'yes' }, expiration: '60000' });
        let rejected = 0;
        await ch.consume(q, (m) => {
          if (m === null) return;
          ch.reject(m, false);
          rejected++;
        });
        await waitUntil(() => rejected === 1, 5_000, 'the rejection');
        let dead: false | import('amqplib').GetMessage = false;
        for (let i = 0; i < 50 && dead === false; i++) {
          dead = await ch.get(dlq, { noAck: true });
          if (dead === false) await sleep(20);
        }
        if (dead === false) return { dead: null };
        const headers = dead.properties.headers as Record<string, unknown>;
        const deaths = (headers['x-death'] as Record<string, unknown>[]).map(({ time, ...rest }) => ({ ...rest, hasTime: time !== undefined }));
        return {
          exchange: dead.fields.exchange.replace(id, 'ID'),
          routingKey: dead.fields.routingKey.replace(id, 'ID'),
          body: dead.content.toString(),
          expiration: dead.properties.expiration ?? null,
          kept: headers.kept,
          deaths: JSON.parse(JSON.stringify(deaths).split(id).join('ID')),
          first: [headers['x-first-death-reason'], String(headers['x-first-death-queue']).replace(id, 'ID'), headers['x-first-death-exchange']],
        };
      });
    },
    check(r) {
      expect(r).toEqual({
        exchange: 'ID.dlx',
        routingKey: 'ID.work',
        body: 'poison',
        expiration: null,
        kept: 'yes',
        deaths: [
          {
            count: 1,
            reason: 'rejected',
            queue: 'ID.work',
            exchange: 'amq.direct',
            'routing-keys': ['ID.work'],
            'original-expiration': '60000',
            hasTime: true,
          },
        ],
        first: ['rejected', 'ID.work', 'amq.direct'],
      });
    },
  }),

  scenario({
    name: 'basic.recover requeues unacked messages, redelivered',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const q = `${id}.q`;
        await ch.assertQueue(q, { exclusive: true });
        const seen: [string, boolean][] = [];
        await ch.consume(q, (m) => m && seen.push([m.content.toString(), m.fields.redelivered]));
        ch.sendToQueue(q, Buffer.from('a'));
        ch.sendToQueue(q, Buffer.from('b'));
        await waitUntil(() => seen.length === 2, 5_000, 'first deliveries');
        await timeout(ch.recover(), 5_000, 'basic.recover-ok');
        await waitUntil(() => seen.length === 4, 5_000, 'redeliveries');
        return seen;
      });
    },
    check(r) {
      expect(r).toEqual([
        ['a', false],
        ['b', false],
        ['a', true],
        ['b', true],
      ]);
    },
  }),

  scenario({
    name: 'an empty queue name means the queue this channel declared last',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const ch = await channel(conn);
        const declared = await ch.assertQueue('', { exclusive: true });
        await ch.bindQueue('', 'amq.direct', `${id}.k`);
        ch.publish('amq.direct', `${id}.k`, Buffer.from('via-binding'));
        const got = await ch.get('');
        const fresh = await channel(conn);
        const missing = await expectChannelError(fresh, () => fresh.get(''));
        return {
          generated: declared.queue.startsWith('amq.gen-'),
          body: got === false ? null : got.content.toString(),
          missing: { code: missing.code, text: missing.text },
        };
      });
    },
    check(r) {
      expect(r).toEqual({ generated: true, body: 'via-binding', missing: { code: 404, text: 'NOT_FOUND - no previously declared queue' } });
    },
  }),
];

compareBrokers('features: RabbitMQ vs Warren', scenarios);
