import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type Channel as AmqpChannel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerStats, MESSAGE_STAT_NAMES, MessageStats } from '../../src/broker/stats.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { waitFor } from '../wait-for.js';

// Every test compares every counter before and after one action: the ones named must move by the amount
// given, and all others must stay put.

let running: RunningServer;
let connection: amqp.ChannelModel;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-stats-'));
  running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, metricsPort: -1 }, createLogger('silent'));
  connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`);
});

afterAll(async () => {
  await connection?.close();
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const NODE_ONLY = [
  'publish_confirm',
  'routed',
  'connectionsOpened',
  'connectionsClosed',
  'channelsOpened',
  'channelsClosed',
  'queuesDeclared',
  'queuesCreated',
  'queuesDeleted',
] as const;

/** Every counter of the node, the vhost, every queue and exchange, and every open channel, by a flat name. */
function snapshot(): Map<string, number> {
  const values = new Map<string, number>();
  const add = (prefix: string, stats: MessageStats) => {
    for (const name of MESSAGE_STAT_NAMES) values.set(`${prefix}.${name}`, stats[name]);
  };
  const broker = running.broker;
  add('node', broker.stats);
  for (const name of NODE_ONLY) values.set(`node.${name}`, broker.stats[name]);
  for (const [cause, counts] of Object.entries(broker.stats.deadLettered)) {
    values.set(`node.dead_lettered.${cause}.at_most_once`, counts.at_most_once);
    values.set(`node.dead_lettered.${cause}.disabled`, counts.disabled);
  }
  for (const vhost of broker.vhosts.values()) {
    add(`vhost ${vhost.name}`, vhost.stats);
    for (const queue of vhost.queues.values()) add(`queue ${queue.name}`, queue.stats);
    for (const exchange of vhost.exchanges.values()) add(`exchange ${exchange.name || 'amq.default'}`, exchange.stats);
  }
  for (const conn of running.connections) for (const channel of conn.channels.values()) add(`channel ${channel.number}`, channel.stats);
  return values;
}

/** The counters that changed since `before`, with their change; a counter that appeared counts from 0. */
function changes(before: Map<string, number>): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [name, value] of snapshot()) {
    const delta = value - (before.get(name) ?? 0);
    if (delta !== 0) moved[name] = delta;
  }
  return moved;
}

/** The channel number amqplib gave `channel`. */
const numberOf = (channel: AmqpChannel): number => (channel as unknown as { ch: number }).ch;

/** A round trip on `channel`: the broker has handled everything sent before it. */
const sync = async (channel: AmqpChannel, queue: string) => {
  await channel.checkQueue(queue);
};

describe('message statistics counters', () => {
  let channel: AmqpChannel;
  let c: string;

  beforeAll(async () => {
    channel = await connection.createChannel();
    c = `channel ${numberOf(channel)}`;
    await channel.assertQueue('stats.q', { durable: false });
  });

  it('a publish routed to a queue: publish on channel, vhost, node and queue, publish_in/out on the exchange, routed', async () => {
    const before = snapshot();
    channel.sendToQueue('stats.q', Buffer.from('one'));
    await sync(channel, 'stats.q');
    expect(changes(before)).toEqual({
      [`${c}.publish`]: 1,
      'vhost /.publish': 1,
      'node.publish': 1,
      'node.routed': 1,
      'queue stats.q.publish': 1,
      'exchange amq.default.publish_in': 1,
      'exchange amq.default.publish_out': 1,
    });
    await channel.purgeQueue('stats.q');
  });

  it('an unroutable publish: drop_unroutable, or return_unroutable when mandatory; no routed, no publish_out', async () => {
    let before = snapshot();
    channel.publish('amq.direct', 'nowhere', Buffer.from('x'));
    await sync(channel, 'stats.q');
    expect(changes(before)).toEqual({
      [`${c}.publish`]: 1,
      [`${c}.drop_unroutable`]: 1,
      'vhost /.publish': 1,
      'vhost /.drop_unroutable': 1,
      'node.publish': 1,
      'node.drop_unroutable': 1,
      'exchange amq.direct.publish_in': 1,
    });
    before = snapshot();
    const returned = new Promise((resolve) => channel.once('return', resolve));
    channel.publish('amq.direct', 'nowhere', Buffer.from('x'), { mandatory: true });
    await returned;
    expect(changes(before)).toEqual({
      [`${c}.publish`]: 1,
      [`${c}.return_unroutable`]: 1,
      'vhost /.publish': 1,
      'vhost /.return_unroutable': 1,
      'node.publish': 1,
      'node.return_unroutable': 1,
      'exchange amq.direct.publish_in': 1,
    });
  });

  it('publishes on a confirm channel: publish_confirm when received, confirm when acked', async () => {
    const confirming: ConfirmChannel = await connection.createConfirmChannel();
    const cc = `channel ${numberOf(confirming)}`;
    const before = snapshot();
    for (let i = 0; i < 3; i++) confirming.sendToQueue('stats.q', Buffer.from('c'));
    await confirming.waitForConfirms();
    expect(changes(before)).toEqual({
      [`${cc}.publish`]: 3,
      [`${cc}.confirm`]: 3,
      'vhost /.publish': 3,
      'vhost /.confirm': 3,
      'node.publish': 3,
      'node.publish_confirm': 3,
      'node.confirm': 3,
      'node.routed': 3,
      'queue stats.q.publish': 3,
      'exchange amq.default.publish_in': 3,
      'exchange amq.default.publish_out': 3,
    });
    await confirming.close();
    await channel.purgeQueue('stats.q');
  });

  it('basic.get with and without ack, and on an empty queue', async () => {
    channel.sendToQueue('stats.q', Buffer.from('a'));
    channel.sendToQueue('stats.q', Buffer.from('b'));
    await sync(channel, 'stats.q');
    let before = snapshot();
    const got = await channel.get('stats.q', { noAck: false });
    expect(changes(before)).toEqual({ [`${c}.get`]: 1, 'vhost /.get': 1, 'node.get': 1, 'queue stats.q.get': 1 });
    before = snapshot();
    channel.ack(got as amqp.GetMessage);
    await sync(channel, 'stats.q');
    expect(changes(before)).toEqual({ [`${c}.ack`]: 1, 'vhost /.ack': 1, 'node.ack': 1, 'queue stats.q.ack': 1 });
    before = snapshot();
    await channel.get('stats.q', { noAck: true });
    expect(changes(before)).toEqual({ [`${c}.get_no_ack`]: 1, 'vhost /.get_no_ack': 1, 'node.get_no_ack': 1, 'queue stats.q.get_no_ack': 1 });
    before = snapshot();
    expect(await channel.get('stats.q')).toBe(false);
    expect(changes(before)).toEqual({ [`${c}.get_empty`]: 1, 'vhost /.get_empty': 1, 'node.get_empty': 1, 'queue stats.q.get_empty': 1 });
  });

  it('deliveries to consumers: deliver (manual ack), deliver_no_ack, redeliver after a requeue; a reject dead-letters without ack', async () => {
    const consumerChannel = await connection.createChannel();
    const cc = `channel ${numberOf(consumerChannel)}`;
    const received: amqp.ConsumeMessage[] = [];
    const { consumerTag } = await consumerChannel.consume('stats.q', (m) => m && received.push(m), { noAck: false });
    let before = snapshot();
    channel.sendToQueue('stats.q', Buffer.from('d'));
    await waitFor(() => received.length === 1);
    const delivered = changes(before);
    expect(delivered).toMatchObject({ [`${cc}.deliver`]: 1, 'vhost /.deliver': 1, 'node.deliver': 1, 'queue stats.q.deliver': 1 });
    expect(Object.keys(delivered).filter((k) => /deliver|redeliver|ack/.test(k))).toHaveLength(4);

    before = snapshot();
    consumerChannel.nack(received[0] as amqp.ConsumeMessage, false, true);
    await waitFor(() => received.length === 2);
    expect(changes(before)).toEqual({
      [`${cc}.deliver`]: 1,
      [`${cc}.redeliver`]: 1,
      'vhost /.deliver': 1,
      'vhost /.redeliver': 1,
      'node.deliver': 1,
      'node.redeliver': 1,
      'queue stats.q.deliver': 1,
      'queue stats.q.redeliver': 1,
    });

    before = snapshot();
    consumerChannel.reject(received[1] as amqp.ConsumeMessage, false);
    await sync(consumerChannel, 'stats.q');
    // stats.q has no dead-letter exchange: RabbitMQ's strategy "disabled", the message is dropped.
    expect(changes(before)).toEqual({ 'node.dead_lettered.rejected.disabled': 1 });
    await consumerChannel.cancel(consumerTag);

    const autoAck: amqp.ConsumeMessage[] = [];
    await consumerChannel.consume('stats.q', (m) => m && autoAck.push(m), { noAck: true });
    before = snapshot();
    channel.sendToQueue('stats.q', Buffer.from('e'));
    await waitFor(() => autoAck.length === 1);
    const noAck = changes(before);
    expect(noAck).toMatchObject({ [`${cc}.deliver_no_ack`]: 1, 'vhost /.deliver_no_ack': 1, 'node.deliver_no_ack': 1, 'queue stats.q.deliver_no_ack': 1 });
    expect(Object.keys(noAck).filter((k) => /deliver|ack/.test(k))).toHaveLength(4);
    await consumerChannel.close();
  });

  it('dead letters by cause and whether the queue has a dead-letter exchange', async () => {
    await channel.assertQueue('stats.dlq', { durable: false });
    await channel.assertQueue('stats.ttl', { durable: false, arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'stats.dlq' } });
    await channel.assertQueue('stats.max', { durable: false, arguments: { 'x-max-length': 1 } });
    const before = snapshot();
    channel.sendToQueue('stats.ttl', Buffer.from('expires'));
    channel.sendToQueue('stats.max', Buffer.from('1'));
    channel.sendToQueue('stats.max', Buffer.from('2'));
    await sync(channel, 'stats.q');
    const moved = changes(before);
    expect(moved['node.dead_lettered.expired.at_most_once']).toBe(1);
    expect(moved['node.dead_lettered.maxlen.disabled']).toBe(1);
    expect(moved['queue stats.dlq.publish']).toBe(1);
    expect(Object.keys(moved).filter((k) => k.startsWith('node.dead_lettered'))).toHaveLength(2);
  });

  it('churn: connections, channels and queues opened, declared, created, closed and deleted', async () => {
    let before = snapshot();
    const other = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`);
    const ch = await other.createChannel();
    await ch.assertQueue('stats.churn', { durable: false });
    await ch.assertQueue('stats.churn', { durable: false });
    await ch.checkQueue('stats.churn');
    await ch.deleteQueue('stats.churn');
    await ch.close();
    const churn = changes(before);
    expect(churn).toEqual({
      'node.connectionsOpened': 1,
      'node.channelsOpened': 1,
      'node.channelsClosed': 1,
      'node.queuesDeclared': 2,
      'node.queuesCreated': 1,
      'node.queuesDeleted': 1,
    });
    // A connection closed with a channel open: the channel counts as closed too.
    before = snapshot();
    await other.createChannel();
    await other.close();
    await waitFor(() => running.broker.stats.connectionsClosed === (before.get('node.connectionsClosed') ?? 0) + 1);
    expect(changes(before)).toEqual({ 'node.channelsOpened': 1, 'node.channelsClosed': 1, 'node.connectionsClosed': 1 });
  });
});

describe('rates', () => {
  it('of a connection: bytes in and out per second between two samples', async () => {
    const conn = [...running.connections][0];
    expect(conn).toBeDefined();
    const sampled = conn as NonNullable<typeof conn>;
    sampled.sampleTraffic(1_000);
    const [recvBefore, sendBefore] = [sampled.recvOct, sampled.sendOct];
    const ch = await connection.createChannel();
    await ch.close();
    sampled.sampleTraffic(3_000);
    expect(sampled.recvOct).toBeGreaterThan(recvBefore);
    expect(sampled.recvOctRate).toBe((sampled.recvOct - recvBefore) / 2);
    expect(sampled.sendOctRate).toBe((sampled.sendOct - sendBefore) / 2);
    sampled.sampleTraffic(5_000);
    expect(sampled.recvOctRate).toBe(0);
  });

  it('are per second over the last sampling period, 0 before two samples', () => {
    const stats = new BrokerStats();
    expect(stats.rate('publish')).toBe(0);
    stats.sample(1_000);
    stats.publish += 50;
    stats.deliver += 10;
    stats.get_no_ack += 5;
    expect(stats.rate('publish')).toBe(0);
    stats.sample(6_000);
    expect(stats.rate('publish')).toBe(10);
    expect(stats.rate('deliver')).toBe(2);
    expect(stats.rate('deliver_get')).toBe(3);
    expect(stats.rate('ack')).toBe(0);
    stats.sample(11_000);
    expect(stats.rate('publish')).toBe(0);
    expect(stats.deliver_get).toBe(15);
  });

  it('of a counter set that never counted (an idle queue) allocate nothing; its first counts get their rate against the last sample', () => {
    const stats = new MessageStats();
    for (const now of [0, 5_000, 10_000]) stats.sample(now);
    expect(stats.rates).toBeNull();
    expect(stats.rate('publish')).toBe(0);
    stats.publish += 20;
    stats.sample(12_000);
    expect(stats.rate('publish')).toBe(10);
    expect(stats.rates).not.toBeNull();
    const firstAtZero = new MessageStats();
    firstAtZero.ack += 4;
    firstAtZero.sample(0);
    expect(firstAtZero.rate('ack')).toBe(0);
    firstAtZero.ack += 4;
    firstAtZero.sample(2_000);
    expect(firstAtZero.rate('ack')).toBe(2);
  });
});
