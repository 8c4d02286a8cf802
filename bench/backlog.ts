/**
 * A backlog in one durable queue (not a test): N persistent 1 KB messages
 * published with confirms into one queue nobody consumes, the broker restarted
 * with them on disk, then the queue drained by one consumer (prefetch 100,
 * an ack per message).
 *
 *   npx tsx bench/backlog.ts [N=1000000] [brokers=warren,rabbitmq]
 *
 * Per tenth of N it prints the backlog, the publish rate of that tenth and the
 * broker's RSS (VmRSS, peak over the tenth); then the restart time (process
 * start, after a graceful stop, to the queue answering a passive declare with
 * all N messages); then,
 * per tenth of the drain, the consume rate and RSS. The empty-queue rate is
 * measured first, for comparison: one producer and one consumer on another
 * queue (confirm-persistent's shape), the consumer's msg/s.
 *
 * The load comes from amqpperf (../shared/perf). Each broker runs on its own
 * temp dir on 127.0.0.1, removed at the end. A 1 KB message takes about
 * 1.1 KB of disk: check `df -h` before a large N.
 *
 * Environment: FILL_CONFIRM (unconfirmed publishes allowed while filling,
 * 1000), EMPTY_SECONDS (10), BENCH_DOC (docs/scale-backlog.md; "-" = don't
 * write), BENCH_PLOT (docs/scale-backlog.svg; "-" = none), BACKLOG_QUEUES (1):
 * more than one spreads the backlog round-robin over that many queues (amqpperf
 * --queues), whose records then interleave in the log, and drains them with one
 * consumer each; docs and plots are then not written unless BENCH_DOC / BENCH_PLOT say where.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, ensureWarrenBuilt, startWarren, type WarrenProcess } from '../interop/support/warren.js';
import { findRabbitBeamPid } from './support/rabbit-pid.js';
import { lineChart } from './support/svg-plot.js';
import { rssMb } from './idle-rss.js';

const N = Number(process.argv[2] ?? 1_000_000);
const BROKERS = (process.argv[3] ?? 'warren,rabbitmq').split(',');
const STEPS = 10;
const FILL_CONFIRM = Number(process.env.FILL_CONFIRM ?? 1000);
const EMPTY_SECONDS = Number(process.env.EMPTY_SECONDS ?? 10);
const QUEUES = Number(process.env.BACKLOG_QUEUES ?? 1);
// docs/scale-backlog.md describes one queue.
const DOC = process.env.BENCH_DOC ?? (QUEUES === 1 ? 'docs/scale-backlog.md' : '-');
const PLOT = process.env.BENCH_PLOT ?? (QUEUES === 1 ? 'docs/scale-backlog.svg' : '-');
const QUEUE = 'bench-backlog';
/** The backlog's queues and the amqpperf options that name them. */
const BACKLOG_QUEUE_NAMES = QUEUES === 1 ? [QUEUE] : Array.from({ length: QUEUES }, (_, i) => `${QUEUE}-${i + 1}`);
const BACKLOG_QUEUE_ARGS = QUEUES === 1 ? ['-u', QUEUE] : ['--queues', String(QUEUES), '--queue-pattern', `${QUEUE}-%d`];
const EMPTY_QUEUE = 'bench-empty';
const PERF_DIR = path.resolve(ROOT, '..', 'shared', 'perf');

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[backlog ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`);

interface Step {
  /** Messages in the queue at the end of the step. */
  backlog: number;
  rate: number;
  rssMb: number;
}

interface BrokerRun {
  broker: string;
  emptyRate: number;
  emptyRssMb: number;
  fill: Step[];
  restartMs: number;
  rssAfterRestartMb: number;
  drain: Step[];
  diskMb: number;
}

function duMb(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sm', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return NaN;
  }
}

interface PerfJson {
  sent_rate: number | null;
  recv_rate: number | null;
  sent: number;
  received: number;
  rss_peak_mb: number | null;
  errors: string[];
}

/** One amqpperf run to its end; its JSON line. */
function amqpperf(bin: string, url: string, pid: number, args: string[]): Promise<PerfJson> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--uri', `${url}/%2f`, '--json', '--pid', String(pid), '--warmup', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        const json = JSON.parse(line) as PerfJson;
        if (code !== 0 || json.errors.length > 0) reject(new Error(`amqpperf exit ${code}: ${json.errors.join('; ')}\n${err}`));
        else resolve(json);
      } catch {
        reject(new Error(`amqpperf exit ${code}, no JSON\n${err}`));
      }
    });
  });
}

/** Waits until the queue answers a passive declare with at least `count` messages. */
async function waitForCount(url: string, queue: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await amqp.connect(url);
      try {
        const ch = await conn.createChannel();
        const ok = await ch.checkQueue(queue);
        if (ok.messageCount >= count) return;
      } finally {
        await conn.close().catch(() => {});
      }
    } catch {
      // not up yet, or the queue not recovered yet
    }
    if (Date.now() > deadline) throw new Error(`${queue} did not reach ${count} messages within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function deleteQueue(url: string, queue: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
  } finally {
    await conn.close().catch(() => {});
  }
}

interface Target {
  url(): string;
  pid(): number;
  dataDir: string;
  /** Stops gracefully and starts again on the same data; returns when (Date.now()) the new start began. */
  restart(): Promise<number>;
  stop(): Promise<void>;
}

async function startTarget(broker: string): Promise<Target> {
  if (broker === 'warren') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-backlog-'));
    let w: WarrenProcess;
    try {
      w = await startWarren({ dataDir });
    } catch (error) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
    return {
      url: () => w.url,
      pid: () => w.pid,
      dataDir,
      async restart() {
        await w.stop();
        const s = Date.now();
        // Recovery of a large backlog takes longer than the harness's default 20 s (as for RabbitMQ's restart below).
        w = await startWarren({ dataDir, timeoutMs: 600_000 });
        return s;
      },
      async stop() {
        await w.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (broker === 'rabbitmq') {
    const node: RabbitNode = await startRabbitMQ({ diskFreeLimit: '1GB' });
    let pid = findRabbitBeamPid(node.nodeName);
    return {
      url: () => node.url,
      pid: () => pid,
      dataDir: node.dir,
      async restart() {
        const r = await node.restart({ timeoutMs: 600_000 });
        const s = Date.now() - r.startMs;
        pid = findRabbitBeamPid(node.nodeName);
        return s;
      },
      stop: () => node.stop(),
    };
  }
  throw new Error(`unknown broker ${broker} (warren, rabbitmq)`);
}

async function run(broker: string, bin: string): Promise<BrokerRun> {
  log(`${broker}: starting`);
  const target = await startTarget(broker);
  try {
    const common = ['-s', '1000', '-f', 'persistent', '--auto-delete=false'];
    log(`${broker}: empty-queue rate, ${EMPTY_SECONDS} s`);
    const empty = await amqpperf(bin, target.url(), target.pid(), [...common, '-x', '1', '-y', '1', '-c', '100', '-q', '100', '-u', EMPTY_QUEUE, '-z', String(EMPTY_SECONDS)]);
    await deleteQueue(target.url(), EMPTY_QUEUE);

    const per = Math.ceil(N / STEPS);
    const fill: Step[] = [];
    let backlog = 0;
    for (let i = 0; i < STEPS; i++) {
      const count = Math.min(per, N - backlog);
      const r = await amqpperf(bin, target.url(), target.pid(), [...common, '-x', '1', '-y', '0', '-c', String(FILL_CONFIRM), ...BACKLOG_QUEUE_ARGS, '-C', String(count), '-z', '0']);
      backlog += r.sent;
      fill.push({ backlog, rate: r.sent_rate ?? NaN, rssMb: r.rss_peak_mb ?? rssMb(target.pid()) });
      log(`${broker}: fill ${backlog} messages, ${Math.round(r.sent_rate ?? 0)} msg/s, RSS ${fill.at(-1)!.rssMb.toFixed(0)} MB`);
    }
    const diskMb = duMb(target.dataDir);

    log(`${broker}: restart with ${backlog} messages in ${QUEUES} queue(s) on disk (${diskMb} MB)`);
    const restart0 = await target.restart();
    for (const queue of BACKLOG_QUEUE_NAMES) await waitForCount(target.url(), queue, backlog / QUEUES, 1_200_000);
    const restartMs = Date.now() - restart0;
    const rssAfterRestartMb = rssMb(target.pid());
    log(`${broker}: restarted in ${restartMs} ms, RSS ${rssAfterRestartMb.toFixed(0)} MB`);

    const drain: Step[] = [];
    let left = backlog;
    for (let i = 0; i < STEPS && left > 0; i++) {
      // One consumer per queue, each taking its share of the tenth.
      const count = Math.ceil(Math.min(per, left) / QUEUES);
      const r = await amqpperf(bin, target.url(), target.pid(), [...common, '-x', '0', '-y', String(QUEUES), '-q', '100', ...BACKLOG_QUEUE_ARGS, '-D', String(count), '-z', '0']);
      left -= r.received;
      drain.push({ backlog: left, rate: r.recv_rate ?? NaN, rssMb: r.rss_peak_mb ?? rssMb(target.pid()) });
      log(`${broker}: drained to ${left}, ${Math.round(r.recv_rate ?? 0)} msg/s, RSS ${drain.at(-1)!.rssMb.toFixed(0)} MB`);
    }
    return { broker, emptyRate: empty.recv_rate ?? NaN, emptyRssMb: empty.rss_peak_mb ?? NaN, fill, restartMs, rssAfterRestartMb, drain, diskMb };
  } finally {
    await target.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

function table(runs: BrokerRun[]): string {
  const names = runs.map((r) => r.broker);
  const lines: string[] = [];
  const row = (cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
  row(['', ...names.flatMap((b) => [`${b} msg/s`, `${b} RSS MB`])]);
  row(['---', ...names.flatMap(() => ['---:', '---:'])]);
  row(['empty queue (1 producer, 1 consumer)', ...runs.flatMap((r) => [fmt(r.emptyRate), fmt(r.emptyRssMb)])]);
  for (let i = 0; i < STEPS; i++) {
    const backlog = runs[0]?.fill[i]?.backlog ?? NaN;
    row([`publish, backlog → ${fmt(backlog)}`, ...runs.flatMap((r) => [fmt(r.fill[i]?.rate ?? NaN), fmt(r.fill[i]?.rssMb ?? NaN)])]);
  }
  row(['restart with the backlog: ms to all messages back', ...runs.flatMap((r) => [fmt(r.restartMs) + ' ms', fmt(r.rssAfterRestartMb)])]);
  for (let i = 0; i < STEPS; i++) {
    const backlog = runs[0]?.drain[i]?.backlog ?? NaN;
    row([`consume, backlog → ${fmt(backlog)}`, ...runs.flatMap((r) => [fmt(r.drain[i]?.rate ?? NaN), fmt(r.drain[i]?.rssMb ?? NaN)])]);
  }
  row([
    'consume from the backlog (median) / empty-queue rate',
    ...runs.flatMap((r) => [`${Math.round((100 * median(r.drain.map((s) => s.rate))) / r.emptyRate)} %`, '']),
  ]);
  row(['disk for the backlog', ...runs.flatMap((r) => [`${fmt(r.diskMb)} MB`, ''])]);
  return lines.join('\n');
}

async function main(): Promise<void> {
  // Each queue gets the same share of every tenth, so that each drain consumer knows how many to take.
  if (!(Number.isInteger(QUEUES) && QUEUES >= 1) || (QUEUES > 1 && N % (STEPS * QUEUES) !== 0)) {
    throw new Error(`BACKLOG_QUEUES=${QUEUES}: a whole number of queues, dividing N/${STEPS} (N=${N})`);
  }
  ensureWarrenBuilt();
  const bin = execFileSync(path.join(PERF_DIR, 'build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 2] }).trim();
  const runs: BrokerRun[] = [];
  for (const broker of BROKERS) runs.push(await run(broker, bin));
  const md = table(runs);
  console.log(md);
  if (DOC !== '-') {
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const plotLine =
      PLOT === '-'
        ? ''
        : `\n![publish and consume rate against the backlog](${path.basename(PLOT)})\n\n![broker RSS against the backlog](${path.basename(PLOT).replace(/\.svg$/, '-rss.svg')})\n`;
    fs.writeFileSync(
      path.join(ROOT, DOC),
      `# A backlog in one durable queue\n\n` +
        `${N.toLocaleString('en-US')} persistent 1 KB messages published with confirms (at most ${FILL_CONFIRM} unconfirmed) into one durable ` +
        `queue with no consumer, the broker restarted, then the queue drained by one consumer (prefetch 100, an ack per message). ` +
        `RSS is the broker's VmRSS, peak over each tenth. Measured ${when} UTC on a shared ${os.cpus().length}-core machine ` +
        `(load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(', ')}): rates are noisy. ` +
        `The empty-queue rate is bounded by its publisher (at most 100 unconfirmed, each confirm after the disk write), ` +
        `so the consume/empty ratio says the backlog does not slow consumers down, not by how much it could.\n\n` +
        `Reproduce: \`npx tsx bench/backlog.ts ${N} ${BROKERS.join(',')}\`\n\n${md}\n${plotLine}`,
    );
    log(`wrote ${DOC}`);
  }
  if (PLOT !== '-') {
    const series = runs.flatMap((r) => [
      { label: `${r.broker} publish msg/s`, points: r.fill.map((s) => [s.backlog, s.rate] as const) },
      { label: `${r.broker} consume msg/s`, points: r.drain.map((s) => [s.backlog, s.rate] as const), dashed: true },
    ]);
    fs.writeFileSync(
      path.join(ROOT, PLOT),
      lineChart({ title: `msg/s against the backlog (${N.toLocaleString('en-US')} × 1 KB)`, xLabel: 'messages in the queue', yLabel: 'msg/s', series, yInclude: [0] }),
    );
    const rss = runs.flatMap((r) => [
      { label: `${r.broker} RSS, publishing`, points: r.fill.map((s) => [s.backlog, s.rssMb] as const) },
      { label: `${r.broker} RSS, consuming`, points: r.drain.map((s) => [s.backlog, s.rssMb] as const), dashed: true },
    ]);
    const rssPlot = PLOT.replace(/\.svg$/, '-rss.svg');
    fs.writeFileSync(
      path.join(ROOT, rssPlot),
      lineChart({ title: 'broker RSS against the backlog', xLabel: 'messages in the queue', yLabel: 'MB', series: rss, yInclude: [0, 300] }),
    );
    log(`wrote ${PLOT}, ${rssPlot}`);
  }
}

await main();
