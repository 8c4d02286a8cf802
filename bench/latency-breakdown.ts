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
 * - GC pauses (PerformanceObserver 'gc'), by kind;
 * - CPU contention: run-queue wait of the broker's main thread per time slice
 *   (/proc/self/task/<pid>/schedstat), i.e. how long it waited for a core each
 *   time it became runnable, on average;
 * - per message: the time of each stage (read, VHost.publish = route, Queue.enqueue,
 *   Channel.deliver and its return = encoded, read handled, flush, written), the
 *   main thread's run-queue wait (one pread of /proc/thread-self/schedstat at the
 *   read, the flush and after the write; a few µs each, outside the stages) and
 *   the timer callbacks and GC pauses around it. For the slowest 1 % (by read →
 *   write start, and by publisher send → end of the write) it prints each stage's
 *   median beside all messages' and how many of them had run-queue wait, a GC
 *   pause, a timer callback or other reads near them; then what each timer costs.
 *
 * No event-loop delay monitor: at 1 ms resolution its own timer woke the loop
 * every millisecond, next to every message, and it measured itself.
 *
 * amqpperf's end-to-end figures (producer send → consumer receive, both in the
 * amqpperf process) are printed beside them; what end-to-end has beyond
 * read → write is the client, the kernel's loopback and the scheduler.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createHistogram, performance, PerformanceObserver, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../src/index.js';
import { Queue } from '../src/broker/queue.js';
import { VHost } from '../src/broker/vhost.js';
import { Channel } from '../src/session/channel.js';
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

/**
 * Per message, the stages of one publish through the broker (performance.now(), ms), for finding what the slow
 * ones have in common. At 1,000 msg/s one message is in flight at a time, so a stage belongs to the last read.
 */
const STAGES = ['read', 'route', 'enqueue', 'deliver', 'encoded', 'handled', 'flush', 'written'] as const;
const S = Object.fromEntries(STAGES.map((name, i) => [name, i])) as Record<(typeof STAGES)[number], number>;
const stage = new Float64Array(STAGES.length);
interface Traced {
  at: Float64Array;
  /** Main thread's run-queue wait (ns) from the read to the start of the write, and during the write. */
  waitNs: number;
  writeWaitNs: number;
  /** Run-queue wait (ns) from the previous message's write to this read: waking up for the read. */
  wakeWaitNs: number;
  /** Reads of other chunks (acks) between this read being handled and the flush. */
  otherReads: number;
  /** Broker's clock at the read minus amqpperf's send stamp (ns; a constant clock offset included), NaN without one. */
  sentToRead: number;
}
const traced: Traced[] = [];
let otherReads = 0;
/** /proc/thread-self/schedstat of the main thread, read with one pread: run ns, run-queue wait ns, time slices. */
const schedFd = fs.openSync('/proc/thread-self/schedstat', 'r');
const schedBuf = Buffer.alloc(96);
function schedNow(): [number, number, number] {
  const n = fs.readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  const [run, wait, slices] = schedBuf.toString('latin1', 0, n).trim().split(' ').map(Number);
  return [run!, wait!, slices!];
}
let schedAtRead: [number, number, number] = [0, 0, 0];
let schedAtLastWrite: [number, number, number] | undefined;

/** Timer callbacks that ran (start, end, name): wrapped before the broker starts, so its periodic work shows. */
const timerRuns: { start: number; end: number; name: string }[] = [];
for (const kind of ['setTimeout', 'setInterval'] as const) {
  const original = globalThis[kind] as (fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => NodeJS.Timeout;
  (globalThis as Record<string, unknown>)[kind] = (fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    const name = `${kind}(${ms ?? 0}) ${fn.name || '<anonymous>'}`;
    return original(
      function (this: unknown, ...args: unknown[]) {
        const start = performance.now();
        try {
          fn.apply(this, args);
        } finally {
          if (measuring) timerRuns.push({ start, end: performance.now(), name });
        }
      },
      ms,
      ...rest,
    );
  };
}
const gcRuns: { start: number; end: number; kind: number }[] = [];

type Hooked = { onData(chunk: Buffer): void; flush(): void; writer: { pendingBytes: number } };
const proto = Connection.prototype as unknown as Hooked;
const onData = proto.onData;
const flush = proto.flush;
/** Replaces `method` on `target` with one that records the time of its first call after each read (and of its return). */
function stamp(target: object, method: string, at: number, returned = -1): void {
  const t = target as Record<string, (...a: unknown[]) => unknown>;
  const original = t[method]!;
  t[method] = function (this: unknown, ...args: unknown[]) {
    if (stage[at] === 0 && stage[S.read] !== 0) stage[at] = performance.now();
    const result = original.apply(this, args);
    if (returned >= 0 && stage[returned] === 0 && stage[S.read] !== 0) stage[returned] = performance.now();
    return result;
  };
}
stamp(VHost.prototype, 'publish', S.route);
stamp(Queue.prototype, 'enqueue', S.enqueue);
stamp(Channel.prototype, 'deliver', S.deliver, S.encoded);
proto.onData = function (this: Hooked, chunk: Buffer) {
  if (chunk.length <= 100) {
    if (stage[S.read] !== 0) otherReads++;
    return onData.call(this, chunk);
  }
  stage.fill(0);
  otherReads = 0;
  if (measuring) schedAtRead = schedNow();
  lastPublishRead = stage[S.read] = performance.now();
  lastPublishStamp = sendStamp(chunk);
  onData.call(this, chunk);
  lastPublishHandled = stage[S.handled] = performance.now();
};
proto.flush = function (this: Hooked) {
  if (!measuring || lastPublishRead === 0 || this.writer.pendingBytes <= 100) return flush.call(this);
  const schedAtFlush = schedNow();
  const start = (stage[S.flush] = performance.now());
  flush.call(this);
  const end = (stage[S.written] = performance.now());
  const sched = schedNow();
  traced.push({
    at: Float64Array.from(stage),
    waitNs: schedAtFlush[1] - schedAtRead[1],
    writeWaitNs: sched[1] - schedAtFlush[1],
    wakeWaitNs: schedAtLastWrite === undefined ? 0 : schedAtRead[1] - schedAtLastWrite[1],
    otherReads,
    sentToRead: lastPublishStamp === 0 ? NaN : lastPublishRead * 1e6 - lastPublishStamp,
  });
  schedAtLastWrite = sched;
  stage.fill(0);
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
    gcRuns.push({ start: entry.startTime, end: entry.startTime + entry.duration, kind });
  }
});
gcObserver.observe({ entryTypes: ['gc'] });

/** Percentiles of raw values (ns), shaped as a histogram's. */
function sorted(values: number[]): { count: number; percentile(p: number): number; max: number } {
  const v = [...values].sort((a, b) => a - b);
  return { count: v.length, max: v[v.length - 1] ?? 0, percentile: (p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] ?? 0 };
}

function schedstat(): { run: number; wait: number; slices: number } {
  const [run, wait, slices] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { run: run!, wait: wait!, slices: slices! };
}

/** Median of `values` (0 if none). */
function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? 0 : v[Math.floor(v.length / 2)]!;
}

/**
 * The slowest 1 % of messages, by time in the broker (read → start of the write) and by publisher send → end of
 * the write: the median of each stage for them beside all messages', and how many had something else going on —
 * run-queue wait, a GC pause or a timer callback in the 2 ms before or during, other reads in between.
 */
function explainSlowest(fastestSentToRead: number): void {
  const inBroker = (t: Traced) => t.at[S.flush]! - t.at[S.read]!;
  const sentToWritten = (t: Traced) => (t.sentToRead - fastestSentToRead) / 1e6 + t.at[S.written]! - t.at[S.read]!;
  const near = (runs: { start: number; end: number }[], t: Traced, before: number) =>
    runs.some((r) => r.end >= t.at[S.read]! - before && r.start <= t.at[S.flush]!);
  const timersNear = (t: Traced) => timerRuns.filter((r) => r.end >= t.at[S.read]! - 2 && r.start <= t.at[S.flush]!);
  const columns: [string, (t: Traced) => number][] = [
    ['send→read+', (t) => (t.sentToRead - fastestSentToRead) / 1e6],
    ['wake wait', (t) => t.wakeWaitNs / 1e6],
    ['read→route', (t) => t.at[S.route]! - t.at[S.read]!],
    ['route→enq', (t) => t.at[S.enqueue]! - t.at[S.route]!],
    ['enq→deliver', (t) => t.at[S.deliver]! - t.at[S.enqueue]!],
    ['encode', (t) => t.at[S.encoded]! - t.at[S.deliver]!],
    ['→handled', (t) => t.at[S.handled]! - t.at[S.encoded]!],
    ['→flush', (t) => t.at[S.flush]! - t.at[S.handled]!],
    ['run-q wait', (t) => t.waitNs / 1e6],
    ['write', (t) => t.at[S.written]! - t.at[S.flush]!],
    ['of it r-q w', (t) => t.writeWaitNs / 1e6],
  ];
  const complete = traced.filter((t) => t.at.every((v) => v !== 0) && !Number.isNaN(t.sentToRead));
  console.log(`\nper message (µs, medians; ${complete.length} messages with every stage; run-q = run-queue wait)`);
  console.log(`${''.padEnd(30)}${columns.map(([name]) => name.padStart(12)).join('')}`);
  const line = (label: string, set: Traced[]) => {
    const cells = columns.map(([, f]) => (median(set.map(f)) * 1000).toFixed(0).padStart(12));
    console.log(`${label.padEnd(30)}${cells.join('')}`);
  };
  line('all', complete);
  for (const [label, key] of [['slowest 1 % read→write start', inBroker], ['slowest 1 % send→written', sentToWritten]] as const) {
    const slow = [...complete].sort((a, b) => key(b) - key(a)).slice(0, Math.max(1, Math.round(complete.length / 100)));
    line(label, slow);
    const share = (f: (t: Traced) => boolean) => `${((100 * slow.filter(f).length) / slow.length).toFixed(0)}%`;
    const timerNames = new Map<string, number>();
    for (const t of slow) for (const r of timersNear(t)) timerNames.set(r.name, (timerNames.get(r.name) ?? 0) + 1);
    console.log(
      `${''.padEnd(30)}threshold ${(key(slow[slow.length - 1]!) * 1000).toFixed(0)} µs; run-queue wait before the write ${share((t) => t.waitNs > 0)}` +
        `, waited to wake ${share((t) => t.wakeWaitNs > 0)}, GC within 2 ms ${share((t) => near(gcRuns, t, 2))}` +
        `, a timer within 2 ms ${share((t) => timersNear(t).length > 0)}, other reads before the flush ${share((t) => t.otherReads > 0)}`,
    );
    if (timerNames.size > 0) console.log(`${''.padEnd(30)}timers: ${[...timerNames].map(([n, c]) => `${n} ×${c}`).join(', ')}`);
  }
  const byName = new Map<string, number[]>();
  for (const r of timerRuns) byName.set(r.name, [...(byName.get(r.name) ?? []), (r.end - r.start) * 1000]);
  for (const [name, runs] of byName) {
    console.log(`timer ${name.padEnd(40)} ran ${String(runs.length).padStart(5)}×, median ${median(runs).toFixed(0)} µs, max ${Math.max(...runs).toFixed(0)} µs`);
  }
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
    sched0 = schedstat();
  }, warmup * 1000);
  const code = await new Promise<number | null>((resolve) => perf.once('exit', resolve));
  measuring = false;
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
  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'minor mark-compact', 4: 'mark-compact', 8: 'incremental', 16: 'weak callbacks' };
  for (const [kind, h] of gcPauses) row(`GC pause: ${kinds[kind] ?? kind}`, h, `  total ${(h.count * h.mean / 1e6).toFixed(1)} ms`);
  const slices = sched1.slices - sched0.slices;
  const waitNs = sched1.wait - sched0.wait;
  const perSlice = (waitNs / 1000 / Math.max(1, slices)).toFixed(0);
  console.log(`run-queue wait (main thread)       ${slices} time slices, mean ${perSlice} µs per slice, ${(waitNs / 1e6).toFixed(0)} ms in all`);
  console.log(`load average                       ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  explainSlowest(fastest);
} finally {
  gcObserver.disconnect();
  await broker.close();
}
