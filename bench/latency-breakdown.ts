/**
 * Where latency-1k's tail comes from. Run: npx tsx bench/latency-breakdown.ts [seconds]
 *
 * Starts Warren in this process (from src/, management off, a temp data dir)
 * and runs amqpperf's latency-1k (1 producer at 1,000 msg/s, 1 consumer, 100 B,
 * acks) against it as a child process. Meanwhile it measures, inside the broker:
 *
 * - read → write: from the 'data' event that brought a publish (a chunk of more
 *   than 100 bytes; acks are 21) to the start of the output flush that writes
 *   the delivery on the consumer's connection (more than 100 bytes pending),
 *   split into handling the read (publish, route, deliver, encode) and the wait
 *   from there to the flush (setImmediate: the rest of the poll phase), and
 *   how long that flush (the socket write) takes. At 1,000 msg/s one message is
 *   in flight at a time, so reads and writes pair up.
 * - from amqpperf's send timestamp (body bytes 0-7, its own clock) to the
 *   broker's read and to the write start, less the same figure of the fastest
 *   message (the clocks differ by a constant): "(+)" rows are the delay beyond
 *   the fastest message, the publisher's send and the broker's wake-up included;
 * - event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution);
 * - GC pauses (PerformanceObserver 'gc'), by kind;
 * - CPU contention: run-queue wait of the broker's main thread per time slice
 *   (/proc/self/task/<pid>/schedstat), i.e. how long it waited for a core each
 *   time it became runnable, on average.
 *
 * amqpperf's end-to-end figures (producer send → consumer receive, both in the
 * amqpperf process) are printed beside them; what end-to-end has beyond
 * read → write is the client, the kernel's loopback and the scheduler.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createHistogram, monitorEventLoopDelay, performance, PerformanceObserver, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../src/index.js';
import { Connection } from '../src/session/connection.js';

const seconds = Number(process.argv[2] ?? 10);
const AMQPPERF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/perf/build/amqpperf');
if (!fs.existsSync(AMQPPERF)) throw new Error(`${AMQPPERF} missing: run ../shared/perf/build.sh`);

const readToWrite = createHistogram();
const readHandled = createHistogram();
const handledToFlush = createHistogram();
const writeTime = createHistogram();
let lastPublishRead = 0;
/** When onData returned for that publish: what follows until the flush is the wait for the check phase (setImmediate). */
let lastPublishHandled = 0;
/** amqpperf's send timestamp in that publish's body (ns on its own clock). */
let lastPublishStamp = 0;
/** Per message, ns on the broker's clock minus the send stamp: at the read and at the flush (a constant clock offset included). */
const sentToRead: number[] = [];
const sentToFlush: number[] = [];

/** The send timestamp amqpperf puts in body bytes 0-7, from a chunk holding method, header and body frames; 0 if not found. */
function sendStamp(chunk: Buffer): number {
  let at = 0;
  for (let frame = 0; frame < 2; frame++) {
    if (at + 7 > chunk.length) return 0;
    at += 7 + chunk.readUInt32BE(at + 3) + 1;
  }
  if (at + 15 > chunk.length || chunk[at] !== 3) return 0;
  return Number(chunk.readBigUInt64BE(at + 7));
}
let measuring = false;
type Hooked = { onData(chunk: Buffer): void; flush(): void; writer: { pendingBytes: number } };
const proto = Connection.prototype as unknown as Hooked;
const onData = proto.onData;
const flush = proto.flush;
proto.onData = function (this: Hooked, chunk: Buffer) {
  if (chunk.length <= 100) return onData.call(this, chunk);
  lastPublishRead = performance.now();
  lastPublishStamp = sendStamp(chunk);
  onData.call(this, chunk);
  lastPublishHandled = performance.now();
};
proto.flush = function (this: Hooked) {
  if (!measuring || lastPublishRead === 0 || this.writer.pendingBytes <= 100) return flush.call(this);
  const start = performance.now();
  flush.call(this);
  const end = performance.now();
  record(readToWrite, start - lastPublishRead);
  record(readHandled, lastPublishHandled - lastPublishRead);
  record(handledToFlush, start - lastPublishHandled);
  if (lastPublishStamp !== 0) {
    sentToRead.push(lastPublishRead * 1e6 - lastPublishStamp);
    sentToFlush.push(start * 1e6 - lastPublishStamp);
  }
  record(writeTime, end - start);
  lastPublishRead = 0;
};
/** ms → ns, at least 1 (a histogram refuses 0). */
function record(h: RecordableHistogram, ms: number): void {
  h.record(Math.max(1, Math.round(ms * 1e6)));
}

const gcPauses = new Map<number, RecordableHistogram>();
const gcObserver = new PerformanceObserver((list) => {
  if (!measuring) return;
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind: number } }).detail?.kind ?? 0;
    let h = gcPauses.get(kind);
    if (h === undefined) gcPauses.set(kind, (h = createHistogram()));
    record(h, entry.duration);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const loopDelay = monitorEventLoopDelay({ resolution: 1 });

/** Percentiles of raw values (ns), shaped as a histogram's. */
function sorted(values: number[]): { count: number; percentile(p: number): number; max: number } {
  const v = [...values].sort((a, b) => a - b);
  return { count: v.length, max: v[v.length - 1] ?? 0, percentile: (p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] ?? 0 };
}

function schedstat(): { run: number; wait: number; slices: number } {
  const [run, wait, slices] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { run: run!, wait: wait!, slices: slices! };
}

const broker = await startBroker();
try {
  const warmup = 1;
  const uri = `amqp://guest:guest@127.0.0.1:${broker.port}/%2f`;
  const args = ['--uri', uri, '--id', 'latency-1k', '-z', String(seconds), '--json', '--pid', String(process.pid)];
  // Not execFileSync: the broker runs in this process's event loop.
  const perf = spawn(AMQPPERF, [...args, '-x', '1', '-y', '1', '-r', '1000', '-s', '100'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  perf.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let sched0 = schedstat();
  // Skip the connections' set-up and amqpperf's warm-up second, as its own figures do.
  setTimeout(() => {
    measuring = true;
    loopDelay.enable();
    sched0 = schedstat();
  }, warmup * 1000);
  const code = await new Promise<number | null>((resolve) => perf.once('exit', resolve));
  measuring = false;
  loopDelay.disable();
  const sched1 = schedstat();
  if (code !== 0) throw new Error(`amqpperf exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { recv_rate: number; broker_cpu_pct: number; lat_us: Record<string, number> };
  const us = (ns: number) => (ns / 1000).toFixed(0).padStart(7);
  const row = (name: string, h: { count: number; percentile(p: number): number; max: number }, extra = '') => {
    const percentiles = `p50 ${us(h.percentile(50))}  p99 ${us(h.percentile(99))}  p99.9 ${us(h.percentile(99.9))}  max ${us(h.max)} µs`;
    console.log(`${name.padEnd(34)} n ${String(h.count).padStart(6)}  ${percentiles}${extra}`);
  };
  const l = result.lat_us;
  const e2e = `p50 ${String(l.p50).padStart(7)}  p99 ${String(l.p99).padStart(7)}  max ${l.max} µs`;
  console.log(`end to end (amqpperf)              recv ${result.recv_rate.toFixed(0)} msg/s  ${e2e}  broker cpu ${result.broker_cpu_pct}%`);
  row('broker read → write start', readToWrite);
  row('  of which: the read handled', readHandled);
  row('  of which: handled → flush', handledToFlush);
  row('broker socket write (flush)', writeTime);
  // The clocks differ by a constant: measured from the fastest message, these are the delays beyond it.
  const fastest = Math.min(...sentToRead);
  row('publisher send → broker read (+)', sorted(sentToRead.map((ns) => ns - fastest)));
  row('publisher send → write start (+)', sorted(sentToFlush.map((ns) => ns - fastest)));
  row('event-loop delay', { count: loopDelay.count, percentile: (p) => loopDelay.percentile(p), max: loopDelay.max });
  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'minor mark-compact', 4: 'mark-compact', 8: 'incremental', 16: 'weak callbacks' };
  for (const [kind, h] of gcPauses) row(`GC pause: ${kinds[kind] ?? kind}`, h, `  total ${(h.count * h.mean / 1e6).toFixed(1)} ms`);
  const slices = sched1.slices - sched0.slices;
  const waitNs = sched1.wait - sched0.wait;
  const perSlice = (waitNs / 1000 / Math.max(1, slices)).toFixed(0);
  console.log(`run-queue wait (main thread)       ${slices} time slices, mean ${perSlice} µs per slice, ${(waitNs / 1e6).toFixed(0)} ms in all`);
  console.log(`load average                       ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} finally {
  gcObserver.disconnect();
  await broker.close();
}
