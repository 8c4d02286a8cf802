// Streams against a classic durable queue (not a test), on one Warren process, with an amqplib driver
// (amqpperf cannot pass consume arguments such as x-stream-offset):
//  - publish: one producer, persistent SIZE-byte messages, confirms with at most 1,000 outstanding, SECONDS s;
//  - consume: 1 and then 10 consumers (own connection each, prefetch 1,000, acks with multiple every 100) read
//    what was published: on the stream each from x-stream-offset first (each reads everything), on the classic
//    queue sharing its messages; the figure is deliveries per second over all consumers;
//  - RSS: a stream of BIG_MB megabytes (4 KiB messages), RSS after loading it and the peak while one
//    consumer reads all of it from first.
// Rounds alternate stream and classic (A B A B); medians are printed.
//   npx tsx bench/stream.ts [SECONDS=5] [BIG_MB=1024] [SIZE=128] [ROUNDS=3]
import amqp, { type ChannelModel } from 'amqplib';
import type { WarrenProcess } from '../interop/support/warren.js';
import { rssMb } from './idle-rss.js';
import { runOnWarren } from './support/run.js';

const SECONDS = Number(process.argv[2] ?? 5);
const BIG_MB = Number(process.argv[3] ?? 1024);
const SIZE = Number(process.argv[4] ?? 128);
const ROUNDS = Number(process.argv[5] ?? 3);
const WINDOW = 1_000;
const PREFETCH = 1_000;

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

type Kind = 'stream' | 'classic';
const queueArgs = (kind: Kind) => (kind === 'stream' ? { 'x-queue-type': 'stream' } : {});

/** Publishes persistent messages with confirms (WINDOW outstanding) for `ms`, or `count` of them; returns how many. */
async function publish(conn: ChannelModel, queue: string, body: Buffer, ms: number, count = Infinity): Promise<number> {
  const ch = await conn.createConfirmChannel();
  const until = Date.now() + ms;
  let sent = 0;
  while (Date.now() < until && sent < count) {
    const end = Math.min(count, sent + WINDOW);
    for (; sent < end; sent++) ch.sendToQueue(queue, body, { persistent: true });
    await ch.waitForConfirms();
  }
  await ch.close();
  return sent;
}

/**
 * `n` consumers, each on its own connection, until they have read `total` messages between them (a stream:
 * each reads all `perStream` from first; a classic queue: they share them): deliveries per second.
 */
async function consume(url: string, kind: Kind, queue: string, n: number, total: number): Promise<number> {
  let delivered = 0;
  const conns: ChannelModel[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    const conn = await amqp.connect(url);
    conns.push(conn);
    const ch = await conn.createChannel();
    await ch.prefetch(PREFETCH);
    let sinceAck = 0;
    await ch.consume(
      queue,
      (m) => {
        if (m === null) return;
        if (++sinceAck === 100) {
          ch.ack(m, true);
          sinceAck = 0;
        }
        if (++delivered === total) done();
      },
      { arguments: kind === 'stream' ? { 'x-stream-offset': 'first' } : {} },
    );
  }
  await finished;
  const rate = delivered / ((Date.now() - started) / 1000);
  for (const conn of conns) await conn.close();
  return rate;
}

async function main(warren: WarrenProcess): Promise<void> {
  const body = Buffer.alloc(SIZE, 'x');
  const results: Record<string, number[]> = {};
  const add = (key: string, value: number) => (results[key] ??= []).push(value);
  const conn = await amqp.connect(warren.url);
  const ch = await conn.createChannel();
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['stream', 'classic'] as Kind[]) {
      const queue = `bench.${kind}.${round}`;
      await ch.assertQueue(queue, { durable: true, arguments: queueArgs(kind) });
      const sent = await publish(conn, queue, body, SECONDS * 1000);
      add(`${kind} publish`, sent / SECONDS);
      // A stream's consumers each read all of it; a classic queue's share its messages, so it is filled again.
      add(`${kind} consume, 1 consumer`, await consume(warren.url, kind, queue, 1, sent));
      if (kind === 'classic') await publish(conn, queue, body, Infinity, sent);
      add(`${kind} consume, 10 consumers`, await consume(warren.url, kind, queue, 10, kind === 'stream' ? 10 * sent : sent));
      await ch.deleteQueue(queue);
      process.stderr.write(`round ${round + 1} ${kind} done\n`);
    }
  }
  console.log(`Warren, one process; ${SIZE}-byte persistent messages; ${SECONDS} s of publishing per round; median of ${ROUNDS} rounds (A B A B)`);
  for (const [key, values] of Object.entries(results)) {
    console.log(`${key.padEnd(32)} ${Math.round(median(values)).toString().padStart(8)} msg/s   (${values.map((v) => Math.round(v)).join(', ')})`);
  }

  // A large stream: RSS after loading BIG_MB, and while one consumer reads it all.
  const big = 'bench.big';
  await ch.assertQueue(big, { durable: true, arguments: queueArgs('stream') });
  const rssBefore = rssMb(warren.pid);
  const bigBody = Buffer.alloc(4096, 'y');
  const count = Math.ceil((BIG_MB * 1024 * 1024) / bigBody.length);
  const loadStart = Date.now();
  await publish(conn, big, bigBody, Infinity, count);
  const loadS = (Date.now() - loadStart) / 1000;
  const rssLoaded = rssMb(warren.pid);
  let peak = rssLoaded;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(warren.pid))), 200);
  const readConn = await amqp.connect(warren.url);
  const readCh = await readConn.createChannel();
  await readCh.prefetch(PREFETCH);
  let read = 0;
  const readStart = Date.now();
  await new Promise<void>((resolve) => {
    void readCh.consume(
      big,
      (m) => {
        if (m === null) return;
        if (++read % 100 === 0) readCh.ack(m, true);
        if (read === count) resolve();
      },
      { arguments: { 'x-stream-offset': 'first' } },
    );
  });
  const readS = (Date.now() - readStart) / 1000;
  clearInterval(sampler);
  console.log(
    `large stream: ${count} x 4 KiB = ${BIG_MB} MB loaded in ${loadS.toFixed(1)} s (${Math.round(count / loadS)} msg/s confirmed), ` +
      `read from first in ${readS.toFixed(1)} s (${Math.round(count / readS)} msg/s)`,
  );
  console.log(`RSS: ${rssBefore.toFixed(0)} MB before, ${rssLoaded.toFixed(0)} MB after loading, ${peak.toFixed(0)} MB peak while reading it all`);
  await readConn.close();
  await ch.deleteQueue(big);
  await conn.close();
}

runOnWarren(main);
