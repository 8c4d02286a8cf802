// The x-delayed-message exchange (rabbitmq-delayed-message-exchange's behaviour, built in). The plugin is
// not installed with Debian's RabbitMQ 3.10.8 here, so Warren is tested alone against the plugin's
// documented and observed behaviour (../shared/research/queue-types.md §4).
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asServerError, channel, confirmChannel, connect, expectChannelError, timeout, withConnection } from './support/amqp.js';
import { runPika } from './support/clients.js';
import { type WarrenProcess, startWarren, warrenOnOneDataDir } from './support/warren.js';

/** Consumes `queue` until `count` messages came, recording each body and its arrival time. */
function arrivals(ch: Channel, queue: string, count: number, ms: number): Promise<{ body: string; at: number; msg: ConsumeMessage }[]> {
  return timeout(
    new Promise((resolve) => {
      const got: { body: string; at: number; msg: ConsumeMessage }[] = [];
      void ch.consume(queue, (msg) => {
        if (msg === null) return;
        got.push({ body: msg.content.toString(), at: Date.now(), msg });
        if (got.length === count) resolve(got);
      }, { noAck: true });
    }),
    ms,
    `${count} messages on ${queue}`,
  );
}

describe('x-delayed-message', () => {
  let warren: WarrenProcess;
  let conn: ChannelModel;
  beforeAll(async () => {
    warren = await startWarren();
    conn = await connect(warren.url);
  }, 30_000);
  afterAll(async () => {
    await conn?.close().catch(() => undefined);
    await warren?.stop();
  });

  it('declare: a missing or self-referring x-delayed-type is 406, an unknown one 503 on the connection (the plugin texts)', async () => {
    const ch = await channel(conn);
    expect(await expectChannelError(ch, () => ch.assertExchange('dx.none', 'x-delayed-message'))).toMatchObject({
      code: 406,
      text: "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
    });
    const ch2 = await channel(conn);
    expect(await expectChannelError(ch2, () => ch2.assertExchange('dx.self', 'x-delayed-message', { arguments: { 'x-delayed-type': 'x-delayed-message' } }))).toMatchObject({
      code: 406,
      text: "PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'",
    });
    const other = await connect(warren.url);
    const closed = new Promise<unknown>((resolve) => other.on('error', resolve));
    const ch3 = await other.createChannel();
    ch3.on('error', () => undefined);
    await ch3.assertExchange('dx.bad', 'x-delayed-message', { arguments: { 'x-delayed-type': 'nope' } }).catch(() => undefined);
    expect(asServerError(await timeout(closed, 5_000, 'connection close'))).toMatchObject({ code: 503, text: "COMMAND_INVALID - invalid exchange type 'nope'" });
    // A redeclare with another x-delayed-type is refused (the plugin accepts it silently; LavinMQ compares).
    const ch4 = await channel(conn);
    await ch4.assertExchange('dx.eq', 'x-delayed-message', { arguments: { 'x-delayed-type': 'direct' } });
    expect((await expectChannelError(ch4, () => ch4.assertExchange('dx.eq', 'x-delayed-message', { arguments: { 'x-delayed-type': 'topic' } }))).code).toBe(406);
  });

  it('delivers no earlier than x-delay, in due order (ties in publish order); absent, 0 or negative x-delay routes at once', async () => {
    const ch = await confirmChannel(conn);
    await ch.assertExchange('dx.order', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'direct' } });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'dx.order', 'k');
    const sent: Record<string, number> = {};
    const publish = (body: string, delay: number | undefined) => {
      sent[body] = Date.now();
      ch.publish('dx.order', 'k', Buffer.from(body), delay === undefined ? {} : { headers: { 'x-delay': delay } });
      return delay ?? 0;
    };
    const delays: Record<string, number> = {};
    for (const [body, delay] of [['d600', 600], ['d200a', 200], ['d400', 400], ['d200b', 200], ['none', undefined], ['zero', 0], ['negative', -1000]] as const) {
      delays[body] = publish(body, delay);
    }
    await timeout(ch.waitForConfirms(), 5_000, 'confirms');
    const got = await arrivals(ch, queue, 7, 5_000);
    expect(got.map((g) => g.body)).toEqual(['none', 'zero', 'negative', 'd200a', 'd200b', 'd400', 'd600']);
    for (const { body, at } of got) expect(at - sent[body]!).toBeGreaterThanOrEqual(Math.max(0, delays[body]!) - 2);
    // The header is passed on unchanged (as the 3.10-series plugin).
    expect(got[3]!.msg.properties.headers?.['x-delay']).toBe(200);
  });

  it('routes through the underlying type with the bindings as they are when the message falls due', async () => {
    const ch = await confirmChannel(conn);
    await ch.assertExchange('dx.topic', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'topic' } });
    const early = (await ch.assertQueue('', { exclusive: true })).queue;
    const late = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(early, 'dx.topic', 'a.*');
    ch.publish('dx.topic', 'a.b', Buffer.from('m1'), { headers: { 'x-delay': 400 } });
    ch.publish('dx.topic', 'x.y', Buffer.from('m2'), { headers: { 'x-delay': 400 } });
    await timeout(ch.waitForConfirms(), 5_000, 'confirms');
    // After the publish, before the delay: the binding of `early` goes and `late` matches both keys.
    await ch.unbindQueue(early, 'dx.topic', 'a.*');
    await ch.bindQueue(late, 'dx.topic', '#');
    const got = await arrivals(ch, late, 2, 5_000);
    expect(got.map((g) => g.body)).toEqual(['m1', 'm2']);
    expect(await ch.checkQueue(early)).toMatchObject({ messageCount: 0 });
  });

  it('routes a due message with its CC and BCC routing keys, as RabbitMQ routes the message the plugin stored; BCC is not delivered', async () => {
    const ch = await confirmChannel(conn);
    await ch.assertExchange('dx.cc', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'direct' } });
    const queues: Record<string, string> = {};
    for (const key of ['to', 'cc', 'bcc', 'other']) {
      queues[key] = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(queues[key]!, 'dx.cc', key);
    }
    ch.publish('dx.cc', 'to', Buffer.from('m'), { headers: { 'x-delay': 300, CC: ['cc'], BCC: ['bcc'] } });
    await timeout(ch.waitForConfirms(), 5_000, 'confirms');
    expect(await ch.checkQueue(queues['cc']!)).toMatchObject({ messageCount: 0 });
    for (const key of ['to', 'cc', 'bcc']) {
      const [got] = await arrivals(ch, queues[key]!, 1, 5_000);
      expect(got!.msg.properties.headers).toMatchObject({ CC: ['cc'] });
      expect(got!.msg.properties.headers).not.toHaveProperty('BCC');
    }
    expect(await ch.checkQueue(queues['other']!)).toMatchObject({ messageCount: 0 });
  });

  it('a mandatory delayed publish is returned at once with 312 NO_ROUTE, as the plugin does, and still delivered when due', async () => {
    const ch = await confirmChannel(conn);
    await ch.assertExchange('dx.mandatory', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'fanout' } });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'dx.mandatory', '');
    const returned = new Promise<ConsumeMessage>((resolve) => ch.once('return', resolve));
    ch.publish('dx.mandatory', '', Buffer.from('m'), { mandatory: true, headers: { 'x-delay': 300 } });
    const ret = await timeout(returned, 5_000, 'basic.return');
    expect(ret.fields).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE' });
    await timeout(ch.waitForConfirms(), 5_000, 'confirms');
    expect((await arrivals(ch, queue, 1, 5_000))[0]!.body).toBe('m');
  });

  it('pika: due order and never early on a fanout underneath', async () => {
    const result = await runPika('pika_delayed.py', [warren.url, 'pk']);
    expect(result).toEqual({ order: ['now', 'd100', 'd200', 'd300'], neverEarly: true });
  });
});

describe('x-delayed-message: persistent delayed messages of a durable exchange', () => {
  const node = warrenOnOneDataDir('warren-delayed-');

  it('survive a restart and kill -9 and are delivered when due, overdue ones at once', async () => {
    let warren = await node.start();
    await withConnection(warren.url, async (c) => {
      const ch = await confirmChannel(c);
      await ch.assertExchange('dx.durable', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
      await ch.assertQueue('dx.q', { durable: true });
      await ch.bindQueue('dx.q', 'dx.durable', 'k');
      await ch.assertQueue('dx.q.cc', { durable: true });
      await ch.bindQueue('dx.q.cc', 'dx.durable', 'k-cc');
      // Its CC routing key is kept on disk with it.
      ch.publish('dx.durable', 'k', Buffer.from('graceful'), { persistent: true, headers: { 'x-delay': 300, CC: ['k-cc'] } });
      await timeout(ch.waitForConfirms(), 5_000, 'confirms');
    });
    await warren.stop();
    warren = await node.start();
    await withConnection(warren.url, async (c) => {
      const ch = await confirmChannel(c);
      // Published before the stop, due while the broker was down: routed right after the start.
      expect((await arrivals(ch, 'dx.q', 1, 5_000)).map((g) => g.body)).toEqual(['graceful']);
      expect((await arrivals(ch, 'dx.q.cc', 1, 5_000)).map((g) => g.body)).toEqual(['graceful']);
    });
    let confirmedAt = 0;
    await withConnection(warren.url, async (c) => {
      const ch = await confirmChannel(c);
      ch.publish('dx.durable', 'k', Buffer.from('k2'), { persistent: true, headers: { 'x-delay': 1500 } });
      ch.publish('dx.durable', 'k', Buffer.from('k1'), { persistent: true, headers: { 'x-delay': 1000 } });
      await timeout(ch.waitForConfirms(), 5_000, 'confirms');
      confirmedAt = Date.now();
    });
    // Confirmed means on disk: a kill -9 right after loses nothing.
    await warren.kill('SIGKILL');
    warren = await node.start();
    await withConnection(warren.url, async (c) => {
      const ch = await channel(c);
      const got = await arrivals(ch, 'dx.q', 2, 10_000);
      expect(got.map((g) => g.body)).toEqual(['k1', 'k2']);
      expect(got[0]!.at - confirmedAt).toBeGreaterThanOrEqual(900);
    });
    await warren.kill('SIGKILL');
    warren = await node.start();
    // Released messages are settled in the delay store: nothing comes back a second time (this waits a little
    // to let a wrongly restored message reach the queue).
    await withConnection(warren.url, async (c) => {
      const ch = await channel(c);
      await new Promise((r) => setTimeout(r, 300));
      expect(await ch.checkQueue('dx.q')).toMatchObject({ messageCount: 0 });
    });
  }, 60_000);
});
