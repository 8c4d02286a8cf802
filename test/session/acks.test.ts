import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type Channel as AmqpChannel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import type { Channel } from '../../src/session/channel.js';
import { waitFor } from '../wait-for.js';

// Acks through a real server and client: basic.ack is read in place (Channel.onAck) and a delivery settled in
// order is reused for the next one (UnackedDeliveries.recycle). These pin what the client sees of both.

let running: RunningServer;
let connection: amqp.ChannelModel;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-acks-'));
  running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, metricsPort: -1, managementPort: -1 }, createLogger('silent'));
  connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`);
});

afterAll(async () => {
  await connection?.close();
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The broker's side of the client's channel. */
function brokerChannel(channel: AmqpChannel): Channel {
  const number = (channel as unknown as { ch: number }).ch;
  for (const conn of running.connections) {
    const found = conn.channels.get(number);
    if (found !== undefined) return found;
  }
  throw new Error(`no channel ${number}`);
}

// amqplib has no tx API; its channel rpc takes the numeric method ids.
const TX_SELECT = 0x005a000a;
const TX_SELECT_OK = 0x005a000b;
const TX_COMMIT = 0x005a0014;
const TX_COMMIT_OK = 0x005a0015;
type Rpc = { rpc(method: number, fields: object, expect: number): Promise<unknown> };

/** A fresh queue with `count` messages whose bodies are "0", "1", ... */
async function queueWith(channel: AmqpChannel, name: string, count: number): Promise<void> {
  await channel.assertQueue(name, { durable: false, autoDelete: false });
  await channel.purgeQueue(name);
  for (let i = 0; i < count; i++) channel.sendToQueue(name, Buffer.from(String(i)));
  await waitFor(() => running.broker.vhost('/')!.queues.get(name)!.messageCount === count);
}

describe('basic.ack', () => {
  it('acking each delivery in turn keeps the prefetch window full and delivers every message once, in order', async () => {
    const channel = await connection.createChannel();
    await queueWith(channel, 'acks.each', 300);
    await channel.prefetch(10);
    const seen: string[] = [];
    let maxUnacked = 0;
    const broker = brokerChannel(channel);
    await channel.consume('acks.each', (msg) => {
      maxUnacked = Math.max(maxUnacked, broker.unackedMessages);
      seen.push(msg!.content.toString());
      channel.ack(msg!);
    });
    await waitFor(() => seen.length === 300);
    await waitFor(() => broker.unackedMessages === 0);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    expect(maxUnacked).toBe(10);
    expect(running.broker.vhost('/')!.queues.get('acks.each')!.unackedCount).toBe(0);
    await channel.close();
  });

  it('acks out of order, single and multiple, settle exactly the tags named; later deliveries still settle', async () => {
    const channel = await connection.createChannel();
    await queueWith(channel, 'acks.mixed', 8);
    await channel.prefetch(5);
    const got: ConsumeMessage[] = [];
    await channel.consume('acks.mixed', (msg) => got.push(msg!));
    await waitFor(() => got.length === 5);
    const broker = brokerChannel(channel);
    channel.ack(got[2]!); // out of order: stays in the list, settled
    channel.ack(got[0]!); // the head
    await waitFor(() => got.length === 7);
    expect(broker.unackedMessages).toBe(5);
    channel.ack(got[3]!, true); // multiple: tag 2 (tag 1 and 3 are gone already) and 4
    await waitFor(() => got.length === 8);
    expect(broker.unackedMessages).toBe(4);
    expect(got.map((m) => m.content.toString())).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    for (const msg of got.slice(4)) channel.ack(msg);
    await waitFor(() => broker.unackedMessages === 0);
    expect(running.broker.vhost('/')!.queues.get('acks.mixed')!.unackedCount).toBe(0);
    await channel.close();
  });

  it('an ack of a tag that is not unacked closes the channel with 406 naming basic.ack (60, 80)', async () => {
    const channel = await connection.createChannel();
    await queueWith(channel, 'acks.unknown', 1);
    const got: ConsumeMessage[] = [];
    await channel.consume('acks.unknown', (msg) => got.push(msg!));
    await waitFor(() => got.length === 1);
    const closed = new Promise<Error & { code?: number; classId?: number; methodId?: number }>((resolve) => channel.once('error', resolve));
    channel.ack(got[0]!);
    channel.ack(got[0]!); // twice: the second is unknown
    const error = await closed;
    expect(error.code).toBe(406);
    expect(error.message).toContain('unknown delivery tag 1');
    expect([error.classId, error.methodId]).toEqual([60, 80]);
    // The first ack settled; nothing went back to the queue.
    await waitFor(() => running.broker.vhost('/')!.queues.get('acks.unknown')!.unackedCount === 0);
    expect(running.broker.vhost('/')!.queues.get('acks.unknown')!.messageCount).toBe(0);
  });

  it('nacks with requeue, one by one after acks, put the messages back in their original order', async () => {
    const channel = await connection.createChannel();
    await queueWith(channel, 'acks.requeue', 4);
    await channel.prefetch(4);
    const got: ConsumeMessage[] = [];
    const tag = (await channel.consume('acks.requeue', (msg) => got.push(msg!))).consumerTag;
    await waitFor(() => got.length === 4);
    channel.ack(got[0]!);
    await channel.cancel(tag);
    channel.nack(got[3]!, false, true);
    channel.nack(got[1]!, false, true);
    channel.nack(got[2]!, false, true);
    const queue = running.broker.vhost('/')!.queues.get('acks.requeue')!;
    await waitFor(() => queue.messageCount === 3);
    const again: ConsumeMessage[] = [];
    await channel.consume('acks.requeue', (msg) => again.push(msg!), { noAck: true });
    await waitFor(() => again.length === 3);
    expect(again.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([
      ['1', true],
      ['2', true],
      ['3', true],
    ]);
    await channel.close();
  });

  it('in a transaction, an ack settles at tx.commit, not before', async () => {
    const channel = await connection.createChannel();
    await queueWith(channel, 'acks.tx', 2);
    await channel.prefetch(1);
    const got: ConsumeMessage[] = [];
    await channel.consume('acks.tx', (msg) => got.push(msg!));
    await waitFor(() => got.length === 1);
    await (channel as unknown as Rpc).rpc(TX_SELECT, {}, TX_SELECT_OK);
    const broker = brokerChannel(channel);
    channel.ack(got[0]!);
    await channel.checkQueue('acks.tx');
    expect(broker.unackedMessages).toBe(1);
    expect(got.length).toBe(1);
    await (channel as unknown as Rpc).rpc(TX_COMMIT, {}, TX_COMMIT_OK);
    await waitFor(() => got.length === 2);
    expect(got[1]!.content.toString()).toBe('1');
    await channel.close();
  });

  it('a channel number reused after a close takes publishes and acks on the new channel (the connection keeps the last channel a frame came on)', async () => {
    const first = await connection.createChannel();
    await queueWith(first, 'acks.reused', 1);
    const number = (first as unknown as { ch: number }).ch;
    const old = brokerChannel(first);
    await first.close();
    const second = await connection.createChannel();
    expect((second as unknown as { ch: number }).ch).toBe(number);
    const broker = brokerChannel(second);
    expect(broker).not.toBe(old);
    second.sendToQueue('acks.reused', Buffer.from('1'));
    await second.prefetch(10);
    const got: ConsumeMessage[] = [];
    await second.consume('acks.reused', (msg) => got.push(msg!));
    await waitFor(() => got.length === 2);
    for (const msg of got) second.ack(msg);
    await waitFor(() => broker.unackedMessages === 0);
    expect(got.map((msg) => msg.content.toString())).toEqual(['0', '1']);
    expect(broker.stats.publish).toBe(1);
    expect(broker.stats.ack).toBe(2);
    expect(old.stats.ack).toBe(0);
    await second.close();
  });
});
