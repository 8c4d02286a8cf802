/**
 * Message log figures: appends/s with group commit (1 KB persistent messages,
 * batches as a tight loop of appends per event-loop turn produces them),
 * fdatasyncs/s, recovery time for N records, bytes on disk per message.
 *
 *   npx tsx bench/storage.bench.ts [messages=1000000] [perTurn=1000]
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageLog, RecoveredQueue } from '../src/storage/message-log.js';

const N = Number(process.argv[2] ?? 1_000_000);
const PER_TURN = Number(process.argv[3] ?? 1000);
const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'warren-bench-'));
const props = Buffer.from([0x10, 0x00, 0x02]);
const body = Buffer.alloc(1024, 0x61);
const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;

try {
  let syncs = 0;
  let durable = 0;
  const { log } = await MessageLog.open({
    dir,
    onDurable: (t) => {
      syncs++;
      durable = t;
    },
    onError: (e) => {
      throw e;
    },
  });
  const t0 = performance.now();
  let msgId = 0;
  let last = 0;
  while (msgId < N) {
    for (let i = 0; i < PER_TURN && msgId < N; i++) last = log.appendPublish(++msgId, ['bench'], 'amq.direct', 'bench', props, body).ticket;
    // a publisher stops when too much is unsynced, as flow control would
    while (log.pendingBytes > 64 * 1024 * 1024) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }
  while (durable < last) await new Promise((r) => setImmediate(r));
  const secs = (performance.now() - t0) / 1000;
  console.log(`appends: ${N} x 1 KB in ${secs.toFixed(2)} s = ${Math.round(N / secs)} msg/s durable, ${(N * 1024 / 1048576 / secs).toFixed(0)} MB/s of bodies`);
  console.log(`fdatasyncs: ${syncs} (${Math.round(syncs / secs)}/s, ${Math.round(N / syncs)} msgs per sync)`);
  const disk = log.diskBytes;
  console.log(`disk: ${mb(disk)} for ${N} messages = ${(disk / N).toFixed(1)} bytes/message (body 1024)`);

  await log.close();

  // recovery of every message unsettled, then settle half and recover again
  const recover = async (label: string) => {
    (globalThis as { gc?: () => void }).gc?.();
    const rss0 = process.memoryUsage().rss;
    const t2 = performance.now();
    const r = await MessageLog.open({ dir, onDurable: () => {}, onError: () => {} });
    const rms = performance.now() - t2;
    const held = r.recovered.queues.get('bench') ?? new RecoveredQueue();
    (globalThis as { gc?: () => void }).gc?.();
    const rss1 = process.memoryUsage().rss;
    console.log(
      `recovery (${label}): ${r.recovered.stats.records} records in ${r.recovered.stats.segments} segments, ${(rms / 1000).toFixed(2)} s; ` +
        `${held.length} unsettled messages returned; RSS ${mb(rss1)} (+${mb(rss1 - rss0)}) while holding them`,
    );
    return { log: r.log, held };
  };
  const first = await recover('all unsettled');
  // read-back throughput in batches of 256 as a queue's read-ahead would
  const list = first.held;
  const t3 = performance.now();
  let bytes = 0;
  for (let i = 0; i < list.length; i += 256) {
    const positions = [];
    for (let j = i; j < Math.min(i + 256, list.length); j++) positions.push(list.position(j));
    const bodies = await first.log.readBodies(positions);
    for (const b of bodies) bytes += b.length;
  }
  const rs = (performance.now() - t3) / 1000;
  console.log(`read-back: ${list.length} bodies in ${rs.toFixed(2)} s = ${Math.round(list.length / rs)} msg/s (${mb(bytes)})`);
  const t1 = performance.now();
  for (let i = 1; i <= N; i += 2) first.log.appendSettle(i, 'bench');
  await first.log.whenIdle();
  console.log(`settle every other message (${N / 2} records): ${((performance.now() - t1) / 1000).toFixed(2)} s; disk now ${mb(first.log.diskBytes)}`);
  await first.log.close();
  const second = await recover('half settled');
  for (let i = 2; i <= N; i += 2) second.log.appendSettle(i, 'bench');
  await second.log.whenIdle();
  console.log(`all settled: disk ${second.log.diskBytes} bytes in ${second.log.segmentIds.length} segment(s)`);
  await second.log.close();

  // closed-loop publishers: each waits for its confirm before the next publish
  for (const publishers of [1, 16, 256]) {
    let confirmed = 0;
    let id = 0;
    let sync = 0;
    let lastTicket = 0;
    let done = false;
    let started = false;
    let resolve!: () => void;
    const finished = new Promise<void>((r) => (resolve = r));
    const send = (l: MessageLog) => {
      for (let p = 0; p < publishers; p++) lastTicket = l.appendPublish(++id, ['bench'], 'amq.direct', 'bench', props, body).ticket;
    };
    const { log: l } = await MessageLog.open({
      dir,
      onDurable: (t) => {
        if (!started) return;
        sync++;
        if (t >= lastTicket) {
          confirmed += publishers;
          if (done) resolve();
          else send(l);
        }
      },
      onError: (e) => {
        throw e;
      },
    });
    id = 2 * N + 1_000_000 * publishers;
    await l.whenIdle();
    started = true;
    const t4 = performance.now();
    send(l);
    await new Promise((r) => setTimeout(r, 2000));
    done = true;
    await finished;
    const s4 = (performance.now() - t4) / 1000;
    console.log(`closed loop, ${publishers} publisher(s) waiting for confirms: ${Math.round(confirmed / s4)} msg/s, ${Math.round(sync / s4)} fdatasync/s`);
    await l.close();
  }
} finally {
  await fsp.rm(dir, { recursive: true, force: true });
}
