// Delayed messages at scale (not a test): loads N small delayed messages into an x-delayed-message exchange
// of one Warren process, reports its RSS before and after loading, then consumes them as they fall due
// (about RATE per second) and reports how late they arrive (p50/p99/max of arrival − due time).
//   npx tsx bench/delayed.ts [N=1000000] [RATE=10000]
// Each message's x-delay is LEAD + i / RATE s, so the first falls due LEAD ms after its publish (LEAD, in ms,
// defaults to the time loading is expected to take: 5 s + 60 µs per message; BENCH_LEAD_MS overrides it).
// Publishes go out in windows of BENCH_WINDOW (500) awaiting their confirms. A message's due time here is the
// time its window was handed to amqplib plus its x-delay: amqplib writes nothing to the socket before that loop
// returns, so the broker receives it later and its own due time is later; lateness is never understated.
import amqp from 'amqplib';
import type { WarrenProcess } from '../interop/support/warren.js';
import { rssMb } from './idle-rss.js';
import { runOnWarren } from './support/run.js';

const N = Number(process.argv[2] ?? 1_000_000);
const RATE = Number(process.argv[3] ?? 10_000);
const LEAD_MS = Number(process.env.BENCH_LEAD_MS ?? 5_000 + N * 0.06);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 500);

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(warren: WarrenProcess): Promise<void> {
  const conn = await amqp.connect(warren.url);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange('bench.delayed', 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': 'direct' } });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'bench.delayed', 'k');
  await new Promise((r) => setTimeout(r, 1_000));
  const rssBefore = rssMb(warren.pid);

  // Message i's due time (its body is i): the end of its window's publish loop + its delay.
  const due = new Float64Array(N);
  const lateness = new Float64Array(N);
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const consumer = await conn.createChannel();
  await consumer.consume(queue, (msg) => {
    if (msg === null) return;
    lateness[received++] = Date.now() - due[msg.content.readUInt32BE(0)]!;
    if (received === N) done();
  }, { noAck: true });

  const loadStart = Date.now();
  const body = Buffer.alloc(16);
  for (let sent = 0; sent < N; ) {
    const start = sent;
    const end = Math.min(N, sent + WINDOW);
    for (; sent < end; sent++) {
      const delay = Math.round(LEAD_MS + (sent * 1_000) / RATE);
      due[sent] = delay;
      body.writeUInt32BE(sent, 0);
      ch.publish('bench.delayed', 'k', body, { headers: { 'x-delay': delay } });
    }
    const handedOver = Date.now();
    for (let i = start; i < end; i++) due[i] = due[i]! + handedOver;
    await ch.waitForConfirms();
  }
  const loadMs = Date.now() - loadStart;
  const rssLoaded = rssMb(warren.pid);
  console.log(`loaded ${N} delayed messages in ${(loadMs / 1000).toFixed(1)} s (${Math.round(N / (loadMs / 1000))}/s, confirmed)`);
  console.log(`RSS: ${rssBefore.toFixed(0)} MB before, ${rssLoaded.toFixed(0)} MB after loading (${received} already due and delivered)`);
  if (loadMs > LEAD_MS) console.log(`note: loading took longer than the lead (${LEAD_MS} ms): the first messages were due before the last was published`);

  await finished;
  const sorted = lateness.slice(0, received).sort();
  console.log(
    `lateness over ${received} messages at ~${RATE}/s due: p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p99 ${percentile(sorted, 0.99).toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms`,
  );
  console.log(`RSS after delivering: ${rssMb(warren.pid).toFixed(0)} MB`);
  await conn.close();
}

runOnWarren(main);
