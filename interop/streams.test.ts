// Streams (x-queue-type: stream) over AMQP 0-9-1, against a private RabbitMQ
// 3.10.8 node: what a declare may ask, with RabbitMQ's texts; the refusals
// (406 without a consumer prefetch; 540 connection closes for no-ack, get,
// nack/reject, purge); where consumers start (first, last, next, an offset, a
// negative one, a timestamp, an interval); credit (the prefetch); several
// consumers each reading everything; x-stream-offset on every delivery;
// retention by x-max-length-bytes over small segments; basic.cancel when the
// stream is deleted. pika and Go amqp091 consume a stream too.
// Warren only: a restart and a kill -9 keep every confirmed message, and
// offsets continue.
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { channel, confirmChannel, connect, declareAnswer, sleep, timeout, tx, waitUntil, withConnection } from './support/amqp.js';
import { buildGo, runGo, runPika } from './support/clients.js';
import { compareBrokers, scenario } from './support/compare.js';
import { gate, goAmqpDependency, label, pikaDependency, rabbitmqDependency } from './support/deps.js';
import { freePort } from './support/ports.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { startWarren, warrenOnOneDataDir } from './support/warren.js';

const STREAM = { 'x-queue-type': 'stream' };

/** A delivery as the scenarios compare it: body, its x-stream-offset header, redelivered. */
function seen(m: ConsumeMessage): { body: string; offset: unknown; redelivered: boolean } {
  return { body: m.content.toString(), offset: m.properties.headers?.['x-stream-offset'], redelivered: m.fields.redelivered };
}

/** Runs `body` on a connection with the stream `queue` declared (arguments `args`) and a channel; deletes the stream afterwards. */
async function onStream<T>(url: string, queue: string, args: object, body: (conn: ChannelModel, ch: Channel) => Promise<T>): Promise<T> {
  return withConnection(url, async (conn) => {
    const ch = await channel(conn);
    await ch.assertQueue(queue, { arguments: args });
    const result = await body(conn, ch);
    await ch.deleteQueue(queue);
    return result;
  });
}

/** Publishes on a confirm channel, one message per confirm (a chunk each in RabbitMQ), and waits for each. */
async function publishEach(conn: ChannelModel, queue: string, bodies: string[]): Promise<void> {
  const ch = await confirmChannel(conn);
  for (const body of bodies) {
    ch.sendToQueue(queue, Buffer.from(body));
    await timeout(ch.waitForConfirms(), 5_000, 'publisher confirm');
  }
  await ch.close();
}

/** Publishes a batch and waits for the confirms. */
async function publishBatch(conn: ChannelModel, queue: string, bodies: string[], size = 0): Promise<void> {
  const ch = await confirmChannel(conn);
  for (const body of bodies) ch.sendToQueue(queue, size > 0 ? Buffer.concat([Buffer.from(body), Buffer.alloc(size - body.length, 'x')]) : Buffer.from(body));
  await timeout(ch.waitForConfirms(), 10_000, 'publisher confirms');
  await ch.close();
}

/** A consumer on its own channel (prefetch `prefetch`), keeping what it got; acks each at once unless `hold`. */
async function reader(conn: ChannelModel, queue: string, offset: unknown, prefetch = 100, hold = false): Promise<{ ch: Channel; got: ConsumeMessage[]; tag: string }> {
  const ch = await channel(conn);
  await ch.prefetch(prefetch);
  const got: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (m === null) return;
      got.push(m);
      if (!hold) ch.ack(m);
    },
    { arguments: offset === undefined ? {} : { 'x-stream-offset': offset } },
  );
  return { ch, got, tag: consumerTag };
}

function closeOf(error: unknown, name: string): unknown {
  const e = error as Error & { code?: number };
  const text = /with message "([\s\S]*)"$/.exec(e.message)?.[1] ?? e.message;
  return { code: e.code, text: name === '' ? text : text.split(`'${name}'`).join("'Q'") };
}

/**
 * What the broker answers to `op` on a fresh connection: a channel close or a
 * connection close (code and text, the queue's name written Q), or 'ok'.
 */
async function answerTo(url: string, queue: string, op: (ch: Channel, conn: ChannelModel) => Promise<unknown>): Promise<unknown> {
  const conn = await connect(url);
  const ch = await channel(conn);
  const closed = new Promise<unknown>((resolve) => {
    conn.on('error', (error: Error) => resolve({ scope: 'connection', ...(closeOf(error, queue) as object) }));
    ch.on('error', (error: Error) => resolve({ scope: 'channel', ...(closeOf(error, queue) as object) }));
  });
  const done = op(ch, conn).then(
    () => 'ok' as const,
    () => null,
  );
  const first = await timeout(Promise.race([closed, done]), 5_000, 'an answer');
  // A channel error may come with the connection's close right behind it: give it a moment.
  const answer = first === null || first === 'ok' ? await timeout(Promise.race([closed, sleep(300).then(() => first)]), 5_000, 'a close') : first;
  await conn.close().catch(() => {});
  return answer;
}

const refused = (text: string) => ({ code: 406, text: `PRECONDITION_FAILED - ${text}`, classId: 50, methodId: 10 });

/** Every argument a stream takes, with valid values. */
const ALL_STREAM_ARGUMENTS = {
  ...STREAM,
  'x-max-length-bytes': 1_000_000,
  'x-max-age': '7D',
  'x-stream-max-segment-size-bytes': 500_000,
  'x-initial-cluster-size': 1,
  'x-queue-leader-locator': 'balanced',
};

const scenarios = [
  scenario({
    name: 'declare: durable only, not server-named, the arguments of the type only, x-max-age and the segment size checked',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = (suffix: string) => `${id}.${suffix}`;
        const { 'x-queue-type': _type, ...withoutType } = ALL_STREAM_ARGUMENTS;
        const cases: [string, string, object][] = [
          ['non-durable', q('a'), { durable: false, arguments: STREAM }],
          ['exclusive', q('b'), { durable: true, exclusive: true, arguments: STREAM }],
          ['auto-delete', q('c'), { durable: true, autoDelete: true, arguments: STREAM }],
          ['server-named', '', { arguments: STREAM }],
          ...['x-max-priority', 'x-message-ttl', 'x-max-length', 'x-expires', 'x-delivery-limit'].map(
            (arg): [string, string, object] => [arg, q(arg), { arguments: { ...STREAM, [arg]: 5 } }],
          ),
          ['x-dead-letter-exchange', q('dlx'), { arguments: { ...STREAM, 'x-dead-letter-exchange': 'dlx' } }],
          ['x-single-active-consumer', q('sac'), { arguments: { ...STREAM, 'x-single-active-consumer': true } }],
          ['x-overflow', q('ovf'), { arguments: { ...STREAM, 'x-overflow': 'reject-publish' } }],
          ['x-max-age malformed', q('age1'), { arguments: { ...STREAM, 'x-max-age': '10x' } }],
          ['x-max-age zero', q('age2'), { arguments: { ...STREAM, 'x-max-age': '0s' } }],
          ['x-max-age lowercase day', q('age3'), { arguments: { ...STREAM, 'x-max-age': '1d' } }],
          ['x-max-length-bytes negative', q('mlb'), { arguments: { ...STREAM, 'x-max-length-bytes': -1 } }],
          ['segment size too large', q('seg'), { arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 3_000_000_001 } }],
          ['segment size too large and non-durable', q('seg2'), { durable: false, arguments: { ...STREAM, 'x-stream-max-segment-size-bytes': 3_000_000_001 } }],
          ['the arguments a stream takes', q('k'), { arguments: { ...ALL_STREAM_ARGUMENTS, 'x-foo': 'ignored' } }],
          ["redeclare without arguments: the first of the type's list that differs", q('k'), { arguments: {} }],
          ['redeclare without x-queue-type', q('k'), { arguments: withoutType }],
          ['redeclare another x-max-age', q('k'), { arguments: { ...ALL_STREAM_ARGUMENTS, 'x-max-age': '8D' } }],
          ['redeclare another segment size', q('k'), { arguments: { ...ALL_STREAM_ARGUMENTS, 'x-stream-max-segment-size-bytes': 600_000 } }],
          ['redeclare classic', q('k'), { arguments: { ...ALL_STREAM_ARGUMENTS, 'x-queue-type': 'classic' } }],
          ['redeclare with arguments not compared', q('k'), { arguments: { ...ALL_STREAM_ARGUMENTS, 'x-max-priority': 9 } }],
        ];
        const answers: Record<string, unknown> = {};
        for (const [what, name, options] of cases) answers[what] = await declareAnswer(conn, name, options);
        const ch = await channel(conn);
        await ch.deleteQueue(q('k'));
        await ch.close();
        return answers;
      });
    },
    check(r) {
      const unsupported = (arg: string) => refused(`invalid arg '${arg}' for queue 'Q' in vhost '/' of queue type rabbit_stream_queue`);
      expect(r).toEqual({
        'non-durable': refused("invalid property 'non-durable' for queue 'Q' in vhost '/'"),
        exclusive: refused("invalid property 'exclusive-owner' for queue 'Q' in vhost '/'"),
        'auto-delete': refused("invalid property 'auto-delete' for queue 'Q' in vhost '/'"),
        'server-named': refused('Cannot declare a server-named queue for type rabbit_stream_queue'),
        'x-max-priority': unsupported('x-max-priority'),
        'x-message-ttl': unsupported('x-message-ttl'),
        'x-max-length': unsupported('x-max-length'),
        'x-expires': unsupported('x-expires'),
        'x-delivery-limit': unsupported('x-delivery-limit'),
        'x-dead-letter-exchange': unsupported('x-dead-letter-exchange'),
        'x-single-active-consumer': unsupported('x-single-active-consumer'),
        'x-overflow': unsupported('x-overflow'),
        'x-max-age malformed': refused("invalid arg 'x-max-age' for queue 'Q' in vhost '/': invalid_max_age"),
        'x-max-age zero': refused("invalid arg 'x-max-age' for queue 'Q' in vhost '/': invalid_max_age"),
        'x-max-age lowercase day': refused("invalid arg 'x-max-age' for queue 'Q' in vhost '/': invalid_max_age"),
        'x-max-length-bytes negative': refused("invalid arg 'x-max-length-bytes' for queue 'Q' in vhost '/': {value_negative,-1}"),
        'segment size too large': refused('Exceeded max value for x-stream-max-segment-size-bytes'),
        'segment size too large and non-durable': refused("invalid property 'non-durable' for queue 'Q' in vhost '/'"),
        'the arguments a stream takes': 'ok',
        "redeclare without arguments: the first of the type's list that differs": refused(
          "inequivalent arg 'x-max-length-bytes' for queue 'Q' in vhost '/': received none but current is the value '1000000' of type 'signedint'",
        ),
        'redeclare without x-queue-type': refused(
          "inequivalent arg 'x-queue-type' for queue 'Q' in vhost '/': received none but current is the value 'stream' of type 'longstr'",
        ),
        'redeclare another x-max-age': refused("inequivalent arg 'x-max-age' for queue 'Q' in vhost '/': received '8D' but current is '7D'"),
        'redeclare another segment size': refused(
          "inequivalent arg 'x-stream-max-segment-size-bytes' for queue 'Q' in vhost '/': received '600000' but current is '500000'",
        ),
        'redeclare classic': refused("inequivalent arg 'x-queue-type' for queue 'Q' in vhost '/': received 'classic' but current is 'stream'"),
        'redeclare with arguments not compared': 'ok',
      });
    },
  }),
  scenario({
    name: 'refusals: no consumer prefetch (406), no-ack, basic.get, nack, reject, purge (540 connection closes); a global prefetch is no refusal',
    async run(url, id) {
      const q = `${id}.refusals`;
      await withConnection(url, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: STREAM });
        await ch.close();
        await publishEach(conn, q, ['m0']);
      });
      const settle = (how: 'nack' | 'reject' | 'nack-multiple') => async (ch: Channel) => {
        await ch.prefetch(10);
        const got: ConsumeMessage[] = [];
        await ch.consume(q, (m) => m && got.push(m), { arguments: { 'x-stream-offset': 'first' } });
        await waitUntil(() => got.length === 1, 5_000, 'a delivery');
        if (how === 'nack') ch.nack(got[0]!, false, true);
        else if (how === 'reject') ch.reject(got[0]!, false);
        else ch.nack(got[0]!, true, false);
        await ch.checkQueue(q);
      };
      const answers = {
        noPrefetch: await answerTo(url, q, (ch) => ch.consume(q, () => {})),
        globalOnly: await answerTo(url, q, async (ch) => {
          await ch.prefetch(5, true);
          await ch.consume(q, () => {});
        }),
        globalAndConsumer: await answerTo(url, q, async (ch) => {
          await ch.prefetch(5, true);
          await ch.prefetch(5, false);
          await ch.consume(q, () => {});
        }),
        noAck: await answerTo(url, q, async (ch) => {
          await ch.prefetch(5);
          await ch.consume(q, () => {}, { noAck: true });
        }),
        noAckWithoutPrefetch: await answerTo(url, q, (ch) => ch.consume(q, () => {}, { noAck: true })),
        get: await answerTo(url, q, (ch) => ch.get(q)),
        getNoAck: await answerTo(url, q, (ch) => ch.get(q, { noAck: true })),
        nack: await answerTo(url, q, settle('nack')),
        reject: await answerTo(url, q, settle('reject')),
        nackMultiple: await answerTo(url, q, settle('nack-multiple')),
        purge: await answerTo(url, q, (ch) => ch.purgeQueue(q)),
        consumeWithPrefetch: await answerTo(url, q, async (ch) => {
          await ch.prefetch(5);
          await ch.consume(q, () => {}, { arguments: { 'x-stream-offset': 'first' } });
        }),
      };
      await withConnection(url, async (conn) => {
        const ch = await channel(conn);
        await ch.deleteQueue(q);
      });
      return answers;
    },
    check(r) {
      const q = "queue 'Q' in vhost '/'";
      const notImplemented = (text: string) => ({ scope: 'connection', code: 540, text: `NOT_IMPLEMENTED - ${text}` });
      expect(r).toEqual({
        noPrefetch: { scope: 'channel', code: 406, text: `PRECONDITION_FAILED - consumer prefetch count is not set for '${q}'` },
        // Only a global prefetch is no consumer prefetch; both are accepted.
        globalOnly: { scope: 'channel', code: 406, text: `PRECONDITION_FAILED - consumer prefetch count is not set for '${q}'` },
        globalAndConsumer: 'ok',
        noAck: notImplemented(`automatic acknowledgement not supported by stream queues ${q}`),
        // The prefetch is checked first.
        noAckWithoutPrefetch: { scope: 'channel', code: 406, text: `PRECONDITION_FAILED - consumer prefetch count is not set for '${q}'` },
        get: notImplemented(`basic.get not supported by stream queues ${q}`),
        getNoAck: notImplemented(`basic.get not supported by stream queues ${q}`),
        nack: notImplemented(`basic.nack and basic.reject not supported by stream queues ${q}`),
        reject: notImplemented(`basic.nack and basic.reject not supported by stream queues ${q}`),
        nackMultiple: notImplemented(`basic.nack and basic.reject not supported by stream queues ${q}`),
        purge: notImplemented(`queue.purge not supported by stream queues ${q}`),
        consumeWithPrefetch: 'ok',
      });
    },
  }),
  scenario({
    name: 'where consumers start: first, last, next, an offset, a negative offset, beyond the end, an interval; x-stream-offset on each',
    timeoutMs: 30_000,
    async run(url, id) {
      const q = `${id}.offsets`;
      return onStream(url, q, STREAM, async (conn) => {
        await publishEach(conn, q, ['m0', 'm1', 'm2', 'm3', 'm4']);
        const first = await reader(conn, q, 'first');
        const last = await reader(conn, q, 'last');
        const next = await reader(conn, q, 'next');
        const absent = await reader(conn, q, undefined);
        const two = await reader(conn, q, 2);
        const negative = await reader(conn, q, -3);
        const beyond = await reader(conn, q, 7);
        const interval = await reader(conn, q, '10m');
        const long = await reader(conn, q, { '!': 'long', value: 3 });
        await waitUntil(() => first.got.length === 5 && interval.got.length === 5 && negative.got.length === 5, 5_000, 'the history');
        await sleep(300);
        await publishEach(conn, q, ['m5', 'm6', 'm7', 'm8']);
        const all = { first, last, next, absent, two, negative, beyond, interval, long };
        await waitUntil(() => first.got.length === 9 && beyond.got.length === 2, 5_000, 'the new messages');
        await sleep(300);
        const result: Record<string, unknown> = {};
        for (const [name, r] of Object.entries(all)) result[name] = r.got.map(seen);
        return result;
      });
    },
    check(r) {
      const m = (from: number, to = 8) => Array.from({ length: to - from + 1 }, (_, i) => ({ body: `m${from + i}`, offset: from + i, redelivered: false }));
      expect(r).toEqual({
        first: m(0),
        last: m(4),
        next: m(5),
        absent: m(5),
        two: m(2),
        negative: m(0),
        beyond: m(7),
        interval: m(0),
        long: m(3),
      });
    },
  }),
  scenario({
    name: 'a timestamp offset (AMQP timestamp, seconds): the messages stored from then on',
    timeoutMs: 30_000,
    async run(url, id) {
      const q = `${id}.timestamp`;
      return onStream(url, q, STREAM, async (conn) => {
        await publishEach(conn, q, ['old0', 'old1']);
        const from = Math.ceil(Date.now() / 1000) + 1;
        while (Date.now() < from * 1000 + 100) await sleep(20);
        await publishEach(conn, q, ['new0', 'new1']);
        const since = await reader(conn, q, { '!': 'timestamp', value: from });
        const future = await reader(conn, q, { '!': 'timestamp', value: from + 3600 });
        await waitUntil(() => since.got.length >= 2, 5_000, 'the messages since then');
        await sleep(300);
        return { since: since.got.map(seen), future: future.got.map(seen) };
      });
    },
    check(r) {
      expect(r).toEqual({
        since: [
          { body: 'new0', offset: 2, redelivered: false },
          { body: 'new1', offset: 3, redelivered: false },
        ],
        future: [],
      });
    },
  }),
  scenario({
    name: 'credit: with prefetch 2 exactly 2 unacked; an ack returns credit, a multiple ack all of it',
    async run(url, id) {
      const q = `${id}.credit`;
      return onStream(url, q, STREAM, async (conn) => {
        await publishEach(conn, q, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
        const held = await reader(conn, q, 'first', 2, true);
        const counts: number[] = [];
        await waitUntil(() => held.got.length === 2, 5_000, 'two deliveries');
        await sleep(300);
        counts.push(held.got.length);
        held.ch.ack(held.got[0]!);
        await waitUntil(() => held.got.length === 3, 5_000, 'the third delivery');
        await sleep(300);
        counts.push(held.got.length);
        held.ch.ack(held.got[2]!, true);
        await waitUntil(() => held.got.length === 5, 5_000, 'two more');
        await sleep(300);
        counts.push(held.got.length);
        held.ch.ack(held.got[4]!, true);
        await waitUntil(() => held.got.length === 6, 5_000, 'the last');
        counts.push(held.got.length);
        // (declare-ok's consumer count is not compared: RabbitMQ 3.10 reports 0 for a stream's consumers, Warren the number.)
        return { counts, bodies: held.got.map((m) => m.content.toString()) };
      });
    },
    check(r) {
      expect(r).toEqual({ counts: [2, 3, 5, 6], bodies: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'] });
    },
  }),
  scenario({
    name: 'many consumers at different offsets each see every message from theirs; acks remove nothing',
    timeoutMs: 30_000,
    async run(url, id) {
      const q = `${id}.many`;
      return onStream(url, q, STREAM, async (conn) => {
        const bodies = Array.from({ length: 50 }, (_, i) => `b${i}`);
        await publishBatch(conn, q, bodies.slice(0, 20));
        const readers = [await reader(conn, q, 'first', 7), await reader(conn, q, 10, 3), await reader(conn, q, 'next', 50), await reader(conn, q, 'first', 1)];
        await sleep(200);
        await publishBatch(conn, q, bodies.slice(20));
        await waitUntil(() => readers[0]!.got.length === 50 && readers[1]!.got.length === 40 && readers[2]!.got.length === 30 && readers[3]!.got.length === 50, 10_000, 'every message');
        // A reader started afterwards replays all of it: consuming removed nothing.
        const late = await reader(conn, q, 'first', 10);
        await waitUntil(() => late.got.length === 50, 10_000, 'the replay');
        await sleep(300);
        const summary = [...readers, late].map((r) => {
          const offsets = r.got.map((m) => m.properties.headers?.['x-stream-offset'] as number);
          return { count: r.got.length, first: r.got[0]?.content.toString(), last: r.got.at(-1)?.content.toString(), ordered: offsets.every((o, i) => i === 0 || o > offsets[i - 1]!) };
        });
        return summary;
      });
    },
    check(r) {
      expect(r).toEqual([
        { count: 50, first: 'b0', last: 'b49', ordered: true },
        { count: 40, first: 'b10', last: 'b49', ordered: true },
        { count: 30, first: 'b20', last: 'b49', ordered: true },
        { count: 50, first: 'b0', last: 'b49', ordered: true },
        { count: 50, first: 'b0', last: 'b49', ordered: true },
      ]);
    },
  }),
  scenario({
    name: 'a channel closed with unacked deliveries frees the credit; a new consumer reads from its own offset',
    async run(url, id) {
      const q = `${id}.close`;
      return onStream(url, q, STREAM, async (conn) => {
        await publishEach(conn, q, ['x0', 'x1', 'x2']);
        const held = await reader(conn, q, 'first', 2, true);
        await waitUntil(() => held.got.length === 2, 5_000, 'two deliveries');
        await held.ch.close();
        const again = await reader(conn, q, 1, 5);
        await waitUntil(() => again.got.length === 2, 5_000, 'the deliveries');
        await sleep(200);
        return { again: again.got.map(seen) };
      });
    },
    check(r) {
      expect(r).toEqual({
        again: [
          { body: 'x1', offset: 1, redelivered: false },
          { body: 'x2', offset: 2, redelivered: false },
        ],
      });
    },
  }),
  scenario({
    name: 'retention: x-max-length-bytes over small segments drops the oldest segments; first then starts later',
    timeoutMs: 30_000,
    async run(url, id) {
      const q = `${id}.retention`;
      return onStream(url, q, { ...STREAM, 'x-max-length-bytes': 20_000, 'x-stream-max-segment-size-bytes': 5_000 }, async (conn) => {
        for (let round = 0; round < 10; round++) {
          await publishBatch(conn, q, Array.from({ length: 20 }, (_, i) => `r${round * 20 + i}-`), 200);
        }
        // RabbitMQ removes segments when one rolls over, a moment later.
        await sleep(1_500);
        await publishEach(conn, q, ['tail']);
        await sleep(500);
        const all = await reader(conn, q, 'first', 500);
        await waitUntil(() => all.got.some((m) => m.content.toString() === 'tail'), 5_000, 'the newest message');
        await sleep(200);
        const offsets = all.got.map((m) => m.properties.headers?.['x-stream-offset'] as number);
        const firstBody = all.got[0]!.content.toString().split('-')[0];
        // Qualitative: RabbitMQ's chunking and segment sizes are not Warren's.
        return {
          startsLater: offsets[0]! > 0,
          keptAtMost: all.got.length * 200 <= 20_000 + 2 * 5_000 + 1_000,
          keptSome: all.got.length >= 20,
          // Increasing (not contiguous in RabbitMQ, whose segment rolls take offsets too).
          increasing: offsets.every((o, i) => i === 0 || o > offsets[i - 1]!),
          firstIsAMessage: /^r\d+$/.test(firstBody!),
          last: all.got.at(-1)!.content.toString(),
        };
      });
    },
    check(r) {
      expect(r).toEqual({ startsLater: true, keptAtMost: true, keptSome: true, increasing: true, firstIsAMessage: true, last: 'tail' });
    },
  }),
  scenario({
    name: 'transactions and exchanges: a committed publish through a fanout to a stream and a durable queue is in both; a rollback in neither',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.tx`;
        const classic = `${id}.txc`;
        const fan = `${id}.fan`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: STREAM });
        await ch.assertQueue(classic, { durable: true });
        await ch.assertExchange(fan, 'fanout', { durable: true });
        await ch.bindQueue(q, fan, '');
        await ch.bindQueue(classic, fan, '');
        const txch = await channel(conn);
        await tx.select(txch);
        txch.publish(fan, '', Buffer.from('kept'), { persistent: true });
        await tx.commit(txch);
        txch.publish(fan, '', Buffer.from('dropped'), { persistent: true });
        await tx.rollback(txch);
        const r = await reader(conn, q, 'first', 10);
        await waitUntil(() => r.got.length >= 1, 5_000, 'the committed message');
        await sleep(200);
        const classicBodies: string[] = [];
        for (let m = await ch.get(classic, { noAck: true }); m !== false; m = await ch.get(classic, { noAck: true })) classicBodies.push(m.content.toString());
        await ch.deleteQueue(q);
        await ch.deleteQueue(classic);
        await ch.deleteExchange(fan);
        return { stream: r.got.map(seen), classic: classicBodies };
      });
    },
    check(r) {
      expect(r).toEqual({ stream: [{ body: 'kept', offset: 0, redelivered: false }], classic: ['kept'] });
    },
  }),
  scenario({
    name: 'deleting the stream cancels its consumers (basic.cancel)',
    async run(url, id) {
      return withConnection(url, async (conn) => {
        const q = `${id}.delete`;
        const ch = await channel(conn);
        await ch.assertQueue(q, { arguments: STREAM });
        await publishEach(conn, q, ['d0']);
        const consumer = await channel(conn);
        await consumer.prefetch(10);
        const events: string[] = [];
        await consumer.consume(q, (m) => {
          if (m === null) events.push('cancel');
          else {
            events.push(m.content.toString());
            consumer.ack(m);
          }
        }, { arguments: { 'x-stream-offset': 'first' } });
        await waitUntil(() => events.length === 1, 5_000, 'the delivery');
        const deleted = await ch.deleteQueue(q);
        await waitUntil(() => events.includes('cancel'), 5_000, 'basic.cancel');
        // The consumer's channel stays usable.
        await consumer.checkExchange('amq.direct');
        return { events, deletedCount: typeof deleted.messageCount };
      });
    },
    check(r) {
      expect(r).toEqual({ events: ['d0', 'cancel'], deletedCount: 'number' });
    },
  }),
];

compareBrokers('streams', scenarios);

/** The guest user (RabbitMQ 3.10's export of guest/guest) and a policy giving queues named policy-retention* small segments and a byte limit (apply-to 'streams' is RabbitMQ 3.12's). */
const POLICY_DEFINITIONS = {
  users: [{ name: 'guest', password_hash: 'lWgYbyI/cg6ApTMALnxsetnttc4Wrv2kHBVeVRJImTYBUYtt', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'], limits: {} }],
  vhosts: [{ name: '/' }],
  permissions: [{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }],
  policies: [
    {
      vhost: '/',
      name: 'stream-retention',
      pattern: '^policy-retention',
      'apply-to': 'queues',
      priority: 0,
      definition: { 'max-length-bytes': 20_000, 'stream-max-segment-size-bytes': 5_000 },
    },
  ],
};

compareBrokers(
  'streams with a retention policy',
  [
    scenario({
      name: 'policy retention: which of max-length-bytes and stream-max-segment-size-bytes a policy sets on a stream',
      timeoutMs: 40_000,
      async run(url, id) {
        return withConnection(url, async (conn) => {
          const ch = await channel(conn);
          const cases: Record<string, object> = {
            // The policy gives the byte limit, the argument the segment size.
            'policy max-length-bytes': { ...STREAM, 'x-stream-max-segment-size-bytes': 5_000 },
            // The policy gives the segment size, the argument the byte limit.
            'policy stream-max-segment-size-bytes': { ...STREAM, 'x-max-length-bytes': 20_000 },
          };
          const answers: Record<string, unknown> = {};
          for (const [what, args] of Object.entries(cases)) {
            const q = `${id}.${what.split(' ')[1]}`;
            await ch.assertQueue(q, { arguments: args });
            for (let round = 0; round < 10; round++) await publishBatch(conn, q, Array.from({ length: 20 }, (_, i) => `r${round * 20 + i}-`), 200);
            await sleep(1_500);
            await publishEach(conn, q, ['tail']);
            await sleep(500);
            const all = await reader(conn, q, 'first', 500);
            await waitUntil(() => all.got.some((m) => m.content.toString() === 'tail'), 5_000, 'the newest message');
            await sleep(200);
            await all.ch.close();
            const first = all.got[0]!.properties.headers?.['x-stream-offset'] as number;
            await ch.deleteQueue(q);
            answers[what] = { startsLater: first > 0, last: all.got.at(-1)!.content.toString() };
          }
          return answers;
        });
      },
      check(r) {
        // RabbitMQ 3.10 takes both keys from a policy for a stream (observed).
        expect(r).toEqual({
          'policy max-length-bytes': { startsLater: true, last: 'tail' },
          'policy stream-max-segment-size-bytes': { startsLater: true, last: 'tail' },
        });
      },
    }),
  ],
  { definitions: POLICY_DEFINITIONS },
);

compareBrokers(
  'streams with pika',
  [
    scenario({
      name: 'pika: consume a stream from first with a prefetch and acks',
      run: (url, id) => runPika('pika_stream.py', [url, id]),
      check(r) {
        expect(r).toEqual({ deliveries: [0, 1, 2].map((i) => ({ body: `p${i}`, offset: i, redelivered: false })) });
      },
    }),
  ],
  { clientDeps: [pikaDependency()] },
);

compareBrokers(
  'streams with Go amqp091',
  [
    scenario({
      name: 'amqp091-go: consume a stream from first with a prefetch and acks',
      run: (url, id) => runGo('amqp091_stream.go', [url, id]),
      check(r) {
        expect(r).toEqual({ deliveries: [0, 1, 2].map((i) => ({ body: `g${i}`, offset: i, redelivered: false })) });
      },
    }),
  ],
  { clientDeps: [goAmqpDependency()], prepare: () => buildGo('amqp091_stream.go').then(() => {}), prepareTimeoutMs: 180_000 },
);

/** GET /api/queues/%2F/<queue> on a management listener as guest, once `ready` holds of the answer (RabbitMQ's counts lag). */
async function queueInfo(http: string, queue: string, ready: (info: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${http}/api/queues/%2F/${encodeURIComponent(queue)}`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      signal: AbortSignal.timeout(5_000),
    });
    const info = (await response.json()) as Record<string, unknown>;
    if (ready(info) || Date.now() > deadline) return info;
    await sleep(250);
  }
}

describe.skipIf(gate(rabbitmqDependency()))(label('streams in the management API, side by side', rabbitmqDependency()), () => {
  it('shows type stream, its arguments and the messages it retains', async () => {
    const run = async (amqpUrl: string, http: string) => {
      const name = 'mgmt-stream';
      await withConnection(amqpUrl, async (conn) => {
        const ch = await channel(conn);
        await ch.assertQueue(name, { arguments: { ...STREAM, 'x-max-age': '1D' } });
        await publishEach(conn, name, ['a', 'b', 'c']);
      });
      const info = await queueInfo(http, name, (i) => i['messages'] === 3);
      return { type: info['type'], durable: info['durable'], arguments: info['arguments'], messages: info['messages'], members: Array.isArray(info['members']) };
    };
    const rabbit = await startRabbitMQ({ management: true });
    let reference: unknown;
    try {
      reference = await run(rabbit.url, `http://127.0.0.1:${rabbit.managementPort!}`);
    } finally {
      await rabbit.stop();
    }
    const managementPort = await freePort();
    const warren = await startWarren({ args: ['--management-port', String(managementPort)] });
    try {
      const answer = await run(warren.url, `http://127.0.0.1:${managementPort}`);
      expect(reference).toEqual({ type: 'stream', durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': '1D' }, messages: 3, members: true });
      expect(answer).toEqual(reference);
    } finally {
      await warren.stop();
    }
  }, 150_000);
});

describe('streams: Warren only', () => {
  const warren = warrenOnOneDataDir('warren-streams-');

  it('keeps every confirmed message across a restart and a kill -9; offsets continue', async () => {
    let broker = await warren.start();
    const readAll = async (url: string): Promise<{ body: string; offset: unknown }[]> =>
      withConnection(url, async (conn) => {
        const r = await reader(conn, 'log', 'first', 1000);
        const ch = await channel(conn);
        const count = (await ch.checkQueue('log')).messageCount;
        await waitUntil(() => r.got.length === count, 5_000, `${count} messages`);
        await sleep(100);
        return r.got.map((m) => ({ body: m.content.toString(), offset: m.properties.headers?.['x-stream-offset'] }));
      });
    await withConnection(broker.url, async (conn) => {
      const ch = await channel(conn);
      await ch.assertQueue('log', { arguments: STREAM });
      await publishBatch(conn, 'log', ['a', 'b', 'c']);
    });
    await broker.stop();
    broker = await warren.start();
    const afterRestart = await readAll(broker.url);
    // A burst confirmed as a whole, then the broker killed: nothing confirmed is lost.
    await withConnection(broker.url, (conn) => publishBatch(conn, 'log', Array.from({ length: 500 }, (_, i) => `k${i}`)));
    const killed = await broker.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    broker = await warren.start();
    await withConnection(broker.url, (conn) => publishEach(conn, 'log', ['after']));
    const afterKill = await readAll(broker.url);
    expect(afterRestart).toEqual(['a', 'b', 'c'].map((body, offset) => ({ body, offset })));
    expect(afterKill).toHaveLength(504);
    expect(afterKill.slice(0, 3)).toEqual(afterRestart);
    expect(afterKill.slice(3, 503).map((m) => m.body)).toEqual(Array.from({ length: 500 }, (_, i) => `k${i}`));
    expect(afterKill.at(-1)).toEqual({ body: 'after', offset: 503 });
  }, 60_000);
});
