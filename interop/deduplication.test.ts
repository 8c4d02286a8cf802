// Message deduplication (LavinMQ's x-message-deduplication), Warren only: RabbitMQ 3.10 has no such
// feature (it ignores the arguments) and LavinMQ is not available here. amqplib for the semantics,
// amqp091-go for one scenario, and kill -9 between a confirmed publish and its retry for the durable cache.
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asServerError, channel, confirmChannel, connect, drain, expectChannelError, sleep, timeout, withConnection } from './support/amqp.js';
import { buildGo, runGo } from './support/clients.js';
import { gate, goAmqpDependency, label } from './support/deps.js';
import { startWarren, type WarrenProcess, warrenOnOneDataDir } from './support/warren.js';

const HEADER = 'x-deduplication-header';
const DEDUP = { 'x-message-deduplication': true };

/** Publishes each message on a confirm channel, one at a time; the broker's answer to each ('ack' or 'nack'). */
async function publishEach(ch: ConfirmChannel, exchange: string, routingKey: string, messages: { body: string; headers?: object; mandatory?: boolean; persistent?: boolean }[]): Promise<string[]> {
  const answers: string[] = [];
  for (const m of messages) {
    answers.push(
      await timeout(
        new Promise<string>((resolve) => {
          ch.publish(exchange, routingKey, Buffer.from(m.body), { headers: m.headers, mandatory: m.mandatory, persistent: m.persistent }, (err) => resolve(err ? 'nack' : 'ack'));
        }),
        5_000,
        'confirm',
      ),
    );
  }
  return answers;
}

const ids = (...values: string[]) => values.map((v, i) => ({ body: `${v}#${i}`, headers: { [HEADER]: v } }));

describe('message deduplication (Warren)', () => {
  let warren: WarrenProcess | undefined;
  let conn: ChannelModel | undefined;
  beforeAll(async () => {
    warren = await startWarren();
    conn = await connect(warren.url);
  }, 150_000);
  afterAll(async () => {
    await conn?.close().catch(() => {});
    await warren?.stop();
  }, 30_000);

  it('a queue drops a message whose header value it has seen; the confirm is still an ack; other queues on the route keep it', async () => {
    const ch = await confirmChannel(conn!);
    await ch.assertExchange('dd.fan', 'fanout', { durable: false });
    await ch.assertQueue('dd.q', { exclusive: true, arguments: DEDUP });
    await ch.assertQueue('dd.plain', { exclusive: true });
    await ch.bindQueue('dd.q', 'dd.fan', '');
    await ch.bindQueue('dd.plain', 'dd.fan', '');
    const answers = await publishEach(ch, 'dd.fan', '', [...ids('a', 'b', 'a', 'c', 'b'), { body: 'no-header#5' }, { body: 'no-header#6' }]);
    expect(answers).toEqual(Array(7).fill('ack'));
    expect(await drain(ch, 'dd.q')).toEqual(['a#0', 'b#1', 'c#3', 'no-header#5', 'no-header#6']);
    expect((await drain(ch, 'dd.plain')).length).toBe(7);
    // Still remembered after the first copies were consumed.
    await publishEach(ch, '', 'dd.q', ids('a'));
    expect(await drain(ch, 'dd.q')).toEqual([]);
    await ch.close();
  });

  it('mandatory: a duplicate every queue drops comes back 312 NO_ROUTE (as LavinMQ), and is acked', async () => {
    const ch = await confirmChannel(conn!);
    const returned: string[] = [];
    ch.on('return', (m: Message) => returned.push(m.content.toString()));
    await ch.assertQueue('dd.mandatory', { exclusive: true, arguments: DEDUP });
    const answers = await publishEach(ch, '', 'dd.mandatory', ids('x', 'x').map((m) => ({ ...m, mandatory: true })));
    expect(answers).toEqual(['ack', 'ack']);
    expect(returned).toEqual(['x#1']);
    await ch.close();
  });

  it('an exchange routes a duplicate nowhere (not to its alternate exchange either); the first one counts even if unroutable', async () => {
    const ch = await confirmChannel(conn!);
    await ch.assertExchange('dd.ae', 'fanout', { durable: false });
    await ch.assertQueue('dd.ae-q', { exclusive: true });
    await ch.bindQueue('dd.ae-q', 'dd.ae', '');
    await ch.assertExchange('dd.x', 'direct', { durable: false, arguments: { ...DEDUP, 'alternate-exchange': 'dd.ae' } });
    await ch.assertQueue('dd.x1', { exclusive: true });
    await ch.assertQueue('dd.x2', { exclusive: true });
    await ch.bindQueue('dd.x1', 'dd.x', 'k');
    await ch.bindQueue('dd.x2', 'dd.x', 'k');
    expect(await publishEach(ch, 'dd.x', 'k', ids('p', 'q', 'p'))).toEqual(['ack', 'ack', 'ack']);
    expect(await publishEach(ch, 'dd.x', 'elsewhere', ids('r', 'r', 'p'))).toEqual(['ack', 'ack', 'ack']);
    expect(await publishEach(ch, 'dd.x', 'k', ids('r'))).toEqual(['ack']);
    expect(await drain(ch, 'dd.x1')).toEqual(['p#0', 'q#1']);
    expect(await drain(ch, 'dd.x2')).toEqual(['p#0', 'q#1']);
    expect(await drain(ch, 'dd.ae-q')).toEqual(['r#0']);
    await ch.close();
  });

  it('x-cache-size bounds the cache (the oldest entry goes first); x-deduplication-header names the header', async () => {
    const ch = await confirmChannel(conn!);
    await ch.assertQueue('dd.small', { exclusive: true, arguments: { ...DEDUP, 'x-cache-size': 2, 'x-deduplication-header': 'order' } });
    const orders = (...values: string[]) => values.map((v, i) => ({ body: `${v}#${i}`, headers: { order: v, [HEADER]: 'ignored' } }));
    await publishEach(ch, '', 'dd.small', orders('1', '2', '1', '3', '1', '3'));
    expect(await drain(ch, 'dd.small')).toEqual(['1#0', '2#1', '3#3', '1#4']);
    await ch.close();
  });

  it('x-cache-ttl expires entries; a message x-cache-ttl header sets its own', async () => {
    const ch = await confirmChannel(conn!);
    await ch.assertQueue('dd.ttl', { exclusive: true, arguments: { ...DEDUP, 'x-cache-ttl': 300 } });
    await publishEach(ch, '', 'dd.ttl', [
      { body: 'long#0', headers: { [HEADER]: 'long', 'x-cache-ttl': 60_000 } },
      { body: 'default#1', headers: { [HEADER]: 'default' } },
      { body: 'short#2', headers: { [HEADER]: 'short', 'x-cache-ttl': 1 } },
    ]);
    // Waits past the 300 ms default and the 1 ms entry, not past the 60 s one.
    await sleep(400);
    await publishEach(ch, '', 'dd.ttl', [
      { body: 'long#3', headers: { [HEADER]: 'long' } },
      { body: 'default#4', headers: { [HEADER]: 'default' } },
      { body: 'short#5', headers: { [HEADER]: 'short' } },
      { body: 'default#6', headers: { [HEADER]: 'default' } },
    ]);
    expect(await drain(ch, 'dd.ttl')).toEqual(['long#0', 'default#1', 'short#2', 'default#4', 'short#5']);
    await ch.close();
  });

  it('arguments that cannot work are refused with 406 (LavinMQ texts); redeclaring with other settings is inequivalent', async () => {
    const answers = [];
    for (const args of [{ 'x-message-deduplication': 'yes' }, { ...DEDUP, 'x-cache-size': 0 }, { ...DEDUP, 'x-cache-ttl': 'soon' }, { ...DEDUP, 'x-deduplication-header': 7 }]) {
      const ch = await channel(conn!);
      answers.push(await expectChannelError(ch, () => ch.assertQueue('dd.bad', { exclusive: true, arguments: args })));
    }
    const ch = await channel(conn!);
    answers.push(await expectChannelError(ch, () => ch.assertExchange('dd.bad-x', 'topic', { durable: false, arguments: { ...DEDUP, 'x-cache-size': -5 } })));
    const c = await channel(conn!);
    await c.assertQueue('dd.eq', { exclusive: true, arguments: { ...DEDUP, 'x-cache-size': 10 } });
    answers.push(await expectChannelError(c, () => c.assertQueue('dd.eq', { exclusive: true, arguments: { ...DEDUP, 'x-cache-size': 20 } })));
    expect(answers).toEqual([
      { code: 406, text: 'PRECONDITION_FAILED - x-message-deduplication header not a boolean', classId: 50, methodId: 10 },
      { code: 406, text: 'PRECONDITION_FAILED - x-cache-size header less than minimum value 1', classId: 50, methodId: 10 },
      { code: 406, text: 'PRECONDITION_FAILED - x-cache-ttl header not an integer', classId: 50, methodId: 10 },
      { code: 406, text: 'PRECONDITION_FAILED - x-deduplication-header header not a string', classId: 50, methodId: 10 },
      { code: 406, text: 'PRECONDITION_FAILED - x-cache-size header less than minimum value 1', classId: 40, methodId: 10 },
      { code: 406, text: "PRECONDITION_FAILED - inequivalent arg 'x-cache-size' for queue 'dd.eq' in vhost '/': received '20' but current is '10'", classId: 50, methodId: 10 },
    ]);
  });

  const go = goAmqpDependency();
  describe.skipIf(gate(go))(label('amqp091-go', go), () => {
    beforeAll(() => buildGo('amqp091_dedup.go'), 180_000);
    it('publisher retries with confirms: every publish acked, each message kept once', async () => {
      const r = (await runGo('amqp091_dedup.go', [warren!.url, 'dd'])) as { acks: boolean[]; bodies: string[] };
      expect(r).toEqual({ acks: Array(10).fill(true), bodies: ['m0-try0', 'm1-try0', 'm2-try0', 'm3-try0', 'm4-try0'] });
    });
  });
});

describe('a durable deduplication cache survives kill -9 (Warren)', () => {
  const restarts = warrenOnOneDataDir('warren-dedup-');

  it('a publisher retrying after a crash creates no duplicate, on a durable queue and through a durable exchange', async () => {
    let warren = await restarts.start();
    await withConnection(warren.url, async (conn) => {
      const ch = await confirmChannel(conn);
      await ch.assertQueue('dd.durable', { durable: true, arguments: { ...DEDUP, 'x-cache-size': 1000 } });
      await ch.assertExchange('dd.durable-x', 'fanout', { durable: true, arguments: DEDUP });
      await ch.assertQueue('dd.durable-x-q', { durable: true });
      await ch.bindQueue('dd.durable-x-q', 'dd.durable-x', '');
      await ch.assertQueue('dd.transient', { durable: false, arguments: DEDUP });
      // Confirmed, then consumed and acked: only the cache remembers them.
      const first = ids('order-1', 'order-2').map((m) => ({ ...m, body: `${m.body}-first`, persistent: true }));
      expect(await publishEach(ch, '', 'dd.durable', first)).toEqual(['ack', 'ack']);
      expect(await publishEach(ch, 'dd.durable-x', '', first)).toEqual(['ack', 'ack']);
      expect(await publishEach(ch, '', 'dd.transient', first)).toEqual(['ack', 'ack']);
      expect(await drain(ch, 'dd.durable')).toEqual(['order-1#0-first', 'order-2#1-first']);
      expect(await drain(ch, 'dd.durable-x-q')).toEqual(['order-1#0-first', 'order-2#1-first']);
    }).catch((e: unknown) => {
      throw asServerError(e);
    });
    const killed = await warren.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    warren = await restarts.start();
    await withConnection(warren.url, async (conn) => {
      const ch = await confirmChannel(conn);
      const retry = ids('order-1', 'order-2', 'order-3').map((m) => ({ ...m, body: `${m.body}-retry`, persistent: true }));
      expect(await publishEach(ch, '', 'dd.durable', retry)).toEqual(['ack', 'ack', 'ack']);
      expect(await publishEach(ch, 'dd.durable-x', '', retry)).toEqual(['ack', 'ack', 'ack']);
      // A first copy may come back too: its removal (a no-ack get) need not have reached the disk before the kill.
      const retried = (bodies: string[]) => bodies.filter((body) => body.endsWith('-retry'));
      expect(retried(await drain(ch, 'dd.durable'))).toEqual(['order-3#2-retry']);
      expect(retried(await drain(ch, 'dd.durable-x-q'))).toEqual(['order-3#2-retry']);
      // A non-durable queue is gone after a restart, as in RabbitMQ, and with it its cache.
      const probe = await channel(conn);
      expect((await expectChannelError(probe, () => probe.checkQueue('dd.transient'))).code).toBe(404);
      // Deleting the queue deletes its cache: a new queue of that name starts empty.
      await ch.deleteQueue('dd.durable');
      await ch.assertQueue('dd.durable', { durable: true, arguments: { ...DEDUP, 'x-cache-size': 1000 } });
      expect(await publishEach(ch, '', 'dd.durable', ids('order-1'))).toEqual(['ack']);
      expect(await drain(ch, 'dd.durable')).toEqual(['order-1#0']);
      await ch.deleteQueue('dd.durable');
      await ch.deleteQueue('dd.durable-x-q');
      await ch.deleteExchange('dd.durable-x');
    });
  }, 120_000);
});
