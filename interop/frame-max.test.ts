// Every frame a broker sends is at most the frame_max negotiated with that
// client, the 8-octet overhead included: deliveries, get-ok and returns of
// messages published by a client with a larger frame_max. Checked with a raw
// client at frame_max 4096 and 8192, and with amqplib at frameMax 4096 behind
// a proxy that measures every frame the broker sends; on a private RabbitMQ
// node and on Warren.
import crypto from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeout, waitUntil, withConnection } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { Args, body, contentHeader, FRAME_METHOD, type Frame, m, method, RawAmqp } from './support/raw-amqp.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { startWarren } from './support/warren.js';

interface Broker {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const BODY = 20_000;

/** The largest frame (overhead included) among `frames`, and the methods seen. */
function summarize(frames: Frame[]): { largestFrame: number; methods: string[] } {
  let largestFrame = 0;
  const methods: string[] = [];
  for (const f of frames) {
    largestFrame = Math.max(largestFrame, f.payload.length + 8);
    if (f.type === FRAME_METHOD) methods.push(`${f.payload.readUInt16BE(0)}.${f.payload.readUInt16BE(2)}`);
  }
  return { largestFrame, methods };
}

/** Frames until `count` method frames of id `until` have come (bounded). */
async function framesUntil(c: RawAmqp, until: string, count = 1, ms = 5_000): Promise<Frame[]> {
  const frames: Frame[] = [];
  const deadline = Date.now() + ms;
  let seen = 0;
  // The content of the last method follows it: read until the next quiet moment after it.
  while (Date.now() < deadline) {
    const f = await c.readFrame(seen >= count ? 300 : deadline - Date.now());
    if (f === null) break;
    frames.push(f);
    if (f.type === FRAME_METHOD && `${f.payload.readUInt16BE(0)}.${f.payload.readUInt16BE(2)}` === until) seen++;
  }
  return frames;
}

/** A raw client at `frameMax` gets a 20 KB message three ways: basic.get, basic.consume, and basic.return. */
async function rawClient(b: Broker, frameMax: number): Promise<{ largestFrame: number; methods: string[] }> {
  const queue = `frame-max-${crypto.randomBytes(4).toString('hex')}`;
  // Published with the default frame_max (131072): one body frame of 20,000 octets.
  await withConnection(b.url, async (conn) => {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    ch.sendToQueue(queue, Buffer.alloc(BODY, 0x61));
    ch.sendToQueue(queue, Buffer.alloc(BODY, 0x62));
    await ch.waitForConfirms();
    await ch.close();
  });
  const c = await RawAmqp.connect(b.port);
  try {
    await c.handshake({ frameMax });
    await c.openChannel(1);
    const frames: Frame[] = [];
    c.write(method(1, 60, 70, new Args().short(0).shortstr(queue).bit(true).build())); // basic.get no-ack
    frames.push(...(await framesUntil(c, '60.71')));
    c.write(m.basicConsume(1, queue, 'frame-max'));
    frames.push(...(await framesUntil(c, '60.60')));
    // mandatory, to a queue that does not exist: basic.return with the content
    const bodyFrames: Buffer[] = [];
    for (let sent = 0; sent < BODY; sent += frameMax - 8) bodyFrames.push(body(1, Buffer.alloc(Math.min(frameMax - 8, BODY - sent), 0x63)));
    c.write(Buffer.concat([m.basicPublish(1, '', `${queue}-nowhere`, { mandatory: true }), contentHeader(1, 60, BODY), ...bodyFrames]));
    frames.push(...(await framesUntil(c, '60.50')));
    c.write(m.queueDelete(1, queue));
    return summarize(frames);
  } finally {
    c.destroy();
  }
}

/** A TCP proxy in front of the broker that records the size of every frame the broker sends. */
async function measuringProxy(port: number): Promise<{ port: number; largestFrame(): number; close(): Promise<void> }> {
  let largest = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port });
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    let headerSkipped = false;
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      if (!headerSkipped) headerSkipped = true; // the broker speaks first only with frames
      while (pending.length >= 7 && pending.length >= 8 + pending.readUInt32BE(3)) {
        const size = pending.readUInt32BE(3);
        largest = Math.max(largest, size + 8);
        pending = pending.subarray(8 + size);
      }
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    largestFrame: () => largest,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** amqplib at frameMax 4096 consumes and gets 20 KB messages published at 131072. */
async function amqplibClient(b: Broker): Promise<{ largestFrame: number; received: number[] }> {
  const proxy = await measuringProxy(b.port);
  try {
    const queue = `frame-max-amqplib-${crypto.randomBytes(4).toString('hex')}`;
    await withConnection(b.url, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(queue, { durable: false, autoDelete: false });
      for (let i = 0; i < 3; i++) ch.sendToQueue(queue, Buffer.alloc(BODY, 0x61 + i));
      await ch.waitForConfirms();
      await ch.close();
    });
    const received: number[] = [];
    await withConnection(`amqp://guest:guest@127.0.0.1:${proxy.port}?frameMax=4096`, async (conn) => {
      const ch = await conn.createChannel();
      const got = await ch.get(queue, { noAck: true });
      if (got !== false) received.push(got.content.length);
      await ch.consume(queue, (msg) => msg && received.push(msg.content.length), { noAck: true });
      await waitUntil(() => received.length === 3, 5_000, 'three 20 KB messages');
      await ch.deleteQueue(queue);
      await ch.close();
    });
    return { largestFrame: proxy.largestFrame(), received };
  } finally {
    await proxy.close();
  }
}

function suite(start: () => Promise<Broker>): void {
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = await start();
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  }, 30_000);

  for (const frameMax of [4096, 8192]) {
    it(`raw client at frame_max ${frameMax}: get-ok, deliver and return of 20 KB bodies come in frames of at most ${frameMax} octets`, async () => {
      const got = await timeout(rawClient(broker as Broker, frameMax), 15_000, 'raw client');
      expect(got.methods).toEqual(expect.arrayContaining(['60.71', '60.60', '60.50']));
      expect(got.largestFrame).toBe(frameMax);
    }, 20_000);
  }

  it('amqplib at frameMax 4096: every frame the broker sends is at most 4096 octets', async () => {
    const got = await timeout(amqplibClient(broker as Broker), 15_000, 'amqplib client');
    expect(got.received).toEqual([BODY, BODY, BODY]);
    expect(got.largestFrame).toBe(4096);
  }, 20_000);
}

const rabbitDep = rabbitmqDependency();

describe('frame_max on output', () => {
  describe.skipIf(gate(rabbitDep))(label('RabbitMQ (reference)', rabbitDep), () => {
    suite(startRabbitMQ);
  });
  describe('Warren', () => {
    suite(() => startWarren());
  });
});
