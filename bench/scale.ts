/**
 * Scale curves, Warren beside a private RabbitMQ node: `npm run bench:scale [-- queues bindings connections]`.
 *
 * - queues: RSS per idle queue (N_max queues declared on a fresh broker), then
 *   for each size n a run of amqpperf with n queues, one consumer each, 4
 *   publishers spread over them: msg/s and broker CPU µs per message.
 * - bindings: a topic exchange with n bindings ('*' and '#' mixed in, none
 *   matching the published keys but one catch-all), a publisher with 5,000
 *   distinct routing keys (more than Warren's 1,000-key route cache, so every
 *   publish walks the trie): broker CPU µs per published message.
 * - connections: RSS per idle connection at each size; then n active
 *   connections each publishing 10 msg/s with confirms (amqpperf): p99
 *   confirm latency and broker CPU.
 *
 * Each curve starts both brokers afresh and stops them after. Prints each
 * table, writes docs/scale.md and the plots docs/scale-*.svg (a run of some
 * curves replaces only their sections of an existing docs/scale.md). See bench/README.md
 * for the environment variables (sizes, seconds, rounds).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, startWarren, WARREN_NODE_FLAGS, type WarrenProcess } from '../interop/support/warren.js';
import { findRabbitBeamPid } from './support/rabbit-pid.js';
import { measureIdleRss, sampleRssKb } from './idle-rss.js';
import { lineChart, type PlotSeries } from './support/svg-plot.js';
import { CATCH_ALL_PATTERN, extraPattern, ROUTING_KEYS, routingKey } from './support/topic-keys.js';
import { exitAfter, median, sh, stopOnSignals } from './support/run.js';

const PERF_DIR = path.resolve(ROOT, '..', 'shared', 'perf');
const DOCS = path.join(ROOT, 'docs');
const SETTLE_MS = 3000;
// Two ticks of Warren's 5 s statistics sampler and then some: what sampling keeps per queue is in the figure.
const IDLE_QUEUE_SETTLE_MS = 11_000;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

const sizes = (name: string, dflt: string) =>
  (process.env[name] ?? dflt)
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
const QUEUE_SIZES = sizes('SCALE_QUEUES', '1 100 1000 10000');
const BINDING_SIZES = sizes('SCALE_BINDINGS', '10 1000 100000');
// More idle queues than the largest curve size: RSS moves by a few MB between samples, so 50,000 keeps that under 0.1 KB per queue.
const IDLE_QUEUES = Number(process.env.SCALE_IDLE_QUEUES ?? '50000');
const IDLE_CONN_SIZES = sizes('SCALE_IDLE_CONNECTIONS', '1000 10000');
const ACTIVE_CONN_SIZES = sizes('SCALE_ACTIVE_CONNECTIONS', '100 1000');
const SECONDS = Number(process.env.SCALE_SECONDS ?? '10');
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? '1');
const ROUTE_MESSAGES = Number(process.env.SCALE_ROUTE_MESSAGES ?? '200000');
const BROKERS = (process.env.SCALE_BROKERS ?? 'warren rabbitmq').split(/\s+/).filter(Boolean);
const DOC = process.env.SCALE_DOC ?? path.join(DOCS, 'scale.md');

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[scale ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------- brokers ----------

type BrokerName = 'Warren' | 'RabbitMQ';
interface Broker {
  name: BrokerName;
  uri: string;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<Broker>();
let perfChild: ChildProcess | undefined;

async function startBrokers(): Promise<Broker[]> {
  const out: Broker[] = [];
  if (BROKERS.includes('warren')) {
    const w: WarrenProcess = await startWarren();
    out.push({ name: 'Warren', uri: `${w.url}/%2f`, pid: w.pid, stop: () => w.stop() });
  }
  if (BROKERS.includes('rabbitmq')) {
    const r: RabbitNode = await startRabbitMQ();
    out.push({ name: 'RabbitMQ', uri: `${r.url}/%2f`, pid: findRabbitBeamPid(r.nodeName), stop: () => r.stop() });
  }
  for (const b of out) running.add(b);
  log(`started ${out.map((b) => `${b.name} (pid ${b.pid}, ${b.uri})`).join(', ')}; settling ${SETTLE_MS / 1000} s`);
  await sleep(SETTLE_MS);
  return out;
}

async function stopBrokers(brokers: Broker[]): Promise<void> {
  await Promise.allSettled(brokers.map((b) => b.stop()));
  for (const b of brokers) running.delete(b);
}

/** utime + stime of a process, in µs. */
function cpuMicros(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

// ---------- amqpperf ----------

interface PerfResult {
  sent_rate: number | null;
  recv_rate: number | null;
  confirm_rate: number | null;
  confirm_lat_us?: { p50: number; p99: number; max: number };
  lat_us?: { p50: number; p99: number };
  broker_cpu_pct: number | null;
  rss_peak_mb: number | null;
  errors: string[];
  warnings: string[];
}

let amqpperfBin: string | undefined;

async function amqpperf(args: string[]): Promise<PerfResult> {
  amqpperfBin ??= execFileSync(path.join(PERF_DIR, 'build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 2] }).trim();
  const bin = amqpperfBin;
  log(`amqpperf ${args.join(' ')}`);
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(bin, [...args, '--json'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    perfChild = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (c, sig) => resolve({ code: c ?? (sig ? 128 : 1), stdout, stderr }));
  });
  perfChild = undefined;
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`amqpperf exited ${code} without a result: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const r = JSON.parse(line) as PerfResult;
  if (code !== 0 || r.errors.length > 0) throw new Error(`amqpperf exited ${code}: ${r.errors.join('; ') || stderr.trim().split('\n').at(-1)}`);
  return r;
}

/** Broker CPU µs per message from amqpperf's figures (CPU % of one core over the measured window). */
const cpuPerMessage = (cpuPct: number | null, rate: number | null) => (cpuPct === null || !rate ? null : (cpuPct / 100) * 1e6 / rate);

// ---------- AMQP set-up helpers (parallel channels: declaring 100,000 things one RPC at a time is slow) ----------

async function onChannels(uri: string, count: number, width: number, op: (ch: amqp.Channel, i: number) => Promise<unknown>): Promise<void> {
  const conn = await amqp.connect(uri);
  conn.on('error', () => {});
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(width, count) }, async () => {
        const ch = await conn.createChannel();
        while (next < count) await op(ch, next++);
        await ch.close();
      }),
    );
  } finally {
    await conn.close().catch(() => {});
  }
}

// ---------- formatting ----------

const int = (x: number | null | undefined) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const fix = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '–' : x.toFixed(d));
function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
const COLORS: Record<BrokerName, string> = { Warren: '#d62728', RabbitMQ: '#1f77b4' };

interface Section {
  title: string;
  text: string;
  tables: string[];
  plots: { file: string; svg: string; caption: string }[];
  targets: string[];
}

function plot(file: string, caption: string, title: string, xLabel: string, yLabel: string, series: PlotSeries[]) {
  return { file, caption, svg: lineChart({ title, xLabel, yLabel, logX: true, yInclude: [0], series }) };
}
function seriesOf(brokers: BrokerName[], xs: number[], y: (b: BrokerName, x: number) => number | null): PlotSeries[] {
  return brokers.map((b) => ({ label: b, color: COLORS[b], points: xs.map((x) => [x, y(b, x)] as const) }));
}
function flatness(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && x > 0);
  return v.length < 2 ? null : Math.max(...v) / Math.min(...v);
}

// ---------- curve: queues ----------

async function queuesCurve(): Promise<Section> {
  const nMax = IDLE_QUEUES;
  const brokers = await startBrokers();
  const names = brokers.map((b) => b.name);
  const idle = new Map<BrokerName, { freshMb: number; beforeMb: number; withMb: number; kbPerQueue: number; declareS: number; error?: string }>();
  const runs = new Map<string, { rate: number | null; cpu: number | null; p99: number | null; rss: number | null; error?: string }[]>();
  try {
    // Idle queues first, on fresh brokers. A fresh broker's RSS grows with any burst of work (Node's young
    // generation grows from 1 to 16 MB semi-spaces under allocation; RabbitMQ's allocators grow too) and does not give it
    // back at once, so the same number of declare + delete round trips on one queue name per channel comes first
    // (nothing stays), then the RSS before, nMax queues declared, RSS IDLE_QUEUE_SETTLE_MS later.
    for (const b of brokers) {
      try {
        const fresh = await sampleRssKb(b.pid);
        await onChannels(b.uri, nMax, 16, async (ch) => {
          const q = await ch.assertQueue('', { exclusive: true });
          await ch.deleteQueue(q.queue);
        });
        await sleep(SETTLE_MS);
        const before = await sampleRssKb(b.pid);
        const t = Date.now();
        await onChannels(b.uri, nMax, 16, (ch, i) => ch.assertQueue(`scale-idle-${i}`, { durable: false, autoDelete: false }));
        const declareS = (Date.now() - t) / 1000;
        await sleep(IDLE_QUEUE_SETTLE_MS);
        const after = await sampleRssKb(b.pid);
        await onChannels(b.uri, nMax, 16, (ch, i) => ch.deleteQueue(`scale-idle-${i}`));
        const r = { freshMb: fresh / 1024, beforeMb: before / 1024, withMb: after / 1024, kbPerQueue: (after - before) / nMax, declareS };
        idle.set(b.name, r);
        log(`${b.name}: ${nMax} idle queues declared in ${declareS.toFixed(1)} s; ${r.kbPerQueue.toFixed(2)} KB per queue (RSS fresh ${r.freshMb.toFixed(1)} MB, after the churn ${r.beforeMb.toFixed(1)} MB)`);
      } catch (err) {
        idle.set(b.name, { freshMb: NaN, beforeMb: NaN, withMb: NaN, kbPerQueue: NaN, declareS: NaN, error: (err as Error).message });
        log(`${b.name}: idle queues failed: ${(err as Error).message}`);
      }
    }
    // Throughput by number of queues, ascending; queues declared beforehand (amqpperf redeclares them).
    const declared = new Map<BrokerName, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of QUEUE_SIZES) {
        const order = round % 2 ? [...brokers].reverse() : brokers;
        for (const b of order) {
          const from = declared.get(b.name) ?? 0;
          if (n > from) {
            await onChannels(b.uri, n - from, 16, (ch, i) => ch.assertQueue(`scale-q-${from + i + 1}`, { durable: false, autoDelete: false }));
            declared.set(b.name, n);
          }
          // What the previous run left (in flight when it stopped) is not this run's to receive.
          await onChannels(b.uri, n, 16, (ch, i) => ch.purgeQueue(`scale-q-${i + 1}`));
          const key = `${b.name}/${n}`;
          try {
            const r = await amqpperf([
              '--uri', b.uri, '--pid', String(b.pid), '-x', '4', '-y', String(Math.min(4, n)), '--queues', String(n),
              ...(n === 1 ? ['-u', 'scale-q-1'] : ['--queue-pattern', 'scale-q-%d']),
              '--auto-delete=false', '-e', '', '-s', '100', '-q', '50', '-z', String(SECONDS),
            ]);
            const rate = r.recv_rate;
            (runs.get(key) ?? runs.set(key, []).get(key))?.push({ rate, cpu: cpuPerMessage(r.broker_cpu_pct, rate), p99: r.lat_us?.p99 ?? null, rss: r.rss_peak_mb });
            log(`${b.name} ${n} queues: ${int(rate)} msg/s, ${fix(cpuPerMessage(r.broker_cpu_pct, rate))} µs/msg`);
          } catch (err) {
            (runs.get(key) ?? runs.set(key, []).get(key))?.push({ rate: null, cpu: null, p99: null, rss: null, error: (err as Error).message });
            log(`${b.name} ${n} queues failed: ${(err as Error).message}`);
          }
        }
      }
    }
  } finally {
    await stopBrokers(brokers);
  }
  const med = (b: BrokerName, n: number, f: 'rate' | 'cpu' | 'p99' | 'rss') => median((runs.get(`${b}/${n}`) ?? []).map((r) => r[f]));
  const errs = (b: BrokerName, n: number) => (runs.get(`${b}/${n}`) ?? []).flatMap((r) => (r.error ? [r.error] : []));
  const rows = QUEUE_SIZES.map((n) => [
    int(n),
    ...names.flatMap((b) => [int(med(b, n, 'rate')), fix(med(b, n, 'cpu')), int(med(b, n, 'p99')), fix(med(b, n, 'rss'))]),
    names.flatMap((b) => errs(b, n).map((e) => `${b}: ${e}`)).join('; ') || 'ok',
  ]);
  const throughput = table(['queues', ...names.flatMap((b) => [`${b} msg/s`, `${b} CPU µs/msg`, `${b} p99 µs`, `${b} peak RSS MB`]), 'status'], rows);
  const idleTable = table(
    ['broker', 'RSS fresh MB', 'RSS after the churn MB', `RSS with ${int(nMax)} idle queues MB`, 'KB per idle queue', 'declare time s', 'status'],
    names.map((b) => {
      const r = idle.get(b);
      return [b, fix(r?.freshMb), fix(r?.beforeMb), fix(r?.withMb), fix(r?.kbPerQueue, 2), fix(r?.declareS), r?.error ?? 'ok'];
    }),
  );
  const targets: string[] = [];
  const w = idle.get('Warren');
  if (w && Number.isFinite(w.kbPerQueue))
    targets.push(
      `RSS per idle queue ≤ 2 KB: Warren ${w.kbPerQueue.toFixed(2)} KB — ${w.kbPerQueue <= 2 ? `met (${(2 - w.kbPerQueue).toFixed(2)} KB under)` : `**missed** by ${(w.kbPerQueue - 2).toFixed(2)} KB`}` +
        (idle.get('RabbitMQ') ? `; RabbitMQ ${fix(idle.get('RabbitMQ')?.kbPerQueue, 2)} KB` : ''),
    );
  for (const b of names) {
    const fr = flatness(QUEUE_SIZES.map((n) => med(b, n, 'rate')));
    const fc = flatness(QUEUE_SIZES.map((n) => med(b, n, 'cpu')));
    targets.push(`${b}: msg/s max/min across sizes ${fix(fr, 2)}×; CPU µs/msg max/min ${fix(fc, 2)}× (flat = close to 1)`);
  }
  return {
    title: 'Queues',
    text:
      `RSS per idle queue: on a fresh broker, first ${int(nMax)} declare + delete round trips of a server-named exclusive queue ` +
      `(16 channels in parallel; nothing stays), because any burst of work grows a fresh broker's RSS for good (Node's young ` +
      `generation grows from 1 MB to 16 MB semi-spaces under allocation, RabbitMQ's allocators grow too): "RSS after the churn" ` +
      `against "RSS fresh" shows that growth. Then ${int(nMax)} non-durable queues declared the same way, RSS ${IDLE_QUEUE_SETTLE_MS / 1000} s ` +
      `later (after two ticks of Warren's 5 s statistics sampler); KB per idle queue = (RSS with − RSS after the churn) / ${int(nMax)}; then deleted. Throughput: for each size n, \`amqpperf -x 4 -y min(4,n) --queues n -s 100 -q 50 -z ${SECONDS}\` ` +
      `on the default exchange (4 publisher connections round-robin over the queues; each of the ≤ 4 consumer connections holds n/4 ` +
      `consumers on one channel, so every queue has exactly one consumer; manual acks, prefetch 50 per consumer). The queues are ` +
      `declared before each run (sizes ascending, so the n-queue run has exactly n queues). CPU µs/msg = broker CPU (one core = 100 %) over ` +
      `the measured window / received msg/s.`,
    tables: [idleTable, throughput],
    plots: [
      plot('scale-queues.svg', 'msg/s by number of queues', 'Throughput by number of queues (one consumer each)', 'queues', 'msg/s received', seriesOf(names, QUEUE_SIZES, (b, n) => med(b, n, 'rate'))),
      plot('scale-queues-cpu.svg', 'broker CPU µs per message by number of queues', 'Broker CPU per message by number of queues', 'queues', 'broker CPU µs / message', seriesOf(names, QUEUE_SIZES, (b, n) => med(b, n, 'cpu'))),
    ],
    targets,
  };
}

// ---------- curve: topic bindings ----------

async function routeOnce(b: Broker, messages: number): Promise<{ rate: number; cpu: number }> {
  const cons = await amqp.connect(b.uri);
  const pub = await amqp.connect(b.uri);
  cons.on('error', () => {});
  pub.on('error', () => {});
  try {
    const cch = await cons.createChannel();
    let received = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((r) => (done = r));
    await cch.consume('scale-topic-sink', () => {
      if (++received === messages) done();
    }, { noAck: true });
    const pch = await pub.createChannel();
    const body = Buffer.alloc(100, 'x');
    const cpu0 = cpuMicros(b.pid);
    const start = process.hrtime.bigint();
    for (let i = 0; i < messages; i++) {
      if (!pch.publish('scale-topic', routingKey(i), body)) await new Promise((r) => pch.once('drain', r));
    }
    const timeout = sleep(60_000).then(() => {
      throw new Error(`only ${received} of ${messages} routed messages arrived within 60 s`);
    });
    await Promise.race([all, timeout]);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = cpuMicros(b.pid) - cpu0;
    return { rate: messages / seconds, cpu: cpu / messages };
  } finally {
    await Promise.allSettled([cons.close(), pub.close()]);
  }
}

async function bindingsCurve(): Promise<Section> {
  const brokers = await startBrokers();
  const names = brokers.map((b) => b.name);
  const results = new Map<string, { rate: number | null; cpu: number | null; kbPerBinding: number | null; bindS: number | null; error?: string }[]>();
  try {
    for (const b of brokers) {
      await onChannels(b.uri, 1, 1, async (ch) => {
        await ch.assertExchange('scale-topic', 'topic', { durable: false });
        await ch.assertQueue('scale-topic-sink', { durable: false });
        for (let q = 0; q < 10; q++) await ch.assertQueue(`scale-topic-b${q}`, { durable: false });
        await ch.bindQueue('scale-topic-sink', 'scale-topic', CATCH_ALL_PATTERN);
      });
    }
    const bound = new Map<BrokerName, number>(names.map((b) => [b, 1]));
    for (const n of BINDING_SIZES) {
      const bindInfo = new Map<BrokerName, { kb: number | null; s: number | null; error?: string }>();
      for (const b of brokers) {
        const from = bound.get(b.name) ?? 1;
        if (n <= from) {
          bindInfo.set(b.name, { kb: null, s: null });
          continue;
        }
        const before = await sampleRssKb(b.pid);
        const t = Date.now();
        try {
          await onChannels(b.uri, n - from, 16, (ch, i) => ch.bindQueue(`scale-topic-b${(from + i) % 10}`, 'scale-topic', extraPattern(from + i)));
          bound.set(b.name, n);
          const s = (Date.now() - t) / 1000;
          await sleep(SETTLE_MS);
          // Below 10,000 added, RSS noise (a few MB) swamps the per-binding figure.
          bindInfo.set(b.name, { kb: n - from >= 10_000 ? ((await sampleRssKb(b.pid)) - before) / (n - from) : null, s });
          log(`${b.name}: ${n} bindings (${n - from} added in ${s.toFixed(1)} s)`);
        } catch (err) {
          bindInfo.set(b.name, { kb: null, s: null, error: (err as Error).message });
        }
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? [...brokers].reverse() : brokers;
        for (const b of order) {
          const key = `${b.name}/${n}`;
          const info = bindInfo.get(b.name);
          const entry = { rate: null as number | null, cpu: null as number | null, kbPerBinding: round === 0 ? (info?.kb ?? null) : null, bindS: round === 0 ? (info?.s ?? null) : null, error: info?.error };
          if (bound.get(b.name) === n) {
            try {
              const r = await routeOnce(b, ROUTE_MESSAGES);
              entry.rate = r.rate;
              entry.cpu = r.cpu;
              log(`${b.name} ${n} bindings: ${int(r.rate)} msg/s, ${r.cpu.toFixed(2)} µs/msg`);
            } catch (err) {
              entry.error = (err as Error).message;
              log(`${b.name} ${n} bindings failed: ${entry.error}`);
            }
          }
          (results.get(key) ?? results.set(key, []).get(key))?.push(entry);
        }
      }
    }
  } finally {
    await stopBrokers(brokers);
  }
  const med = (b: BrokerName, n: number, f: 'rate' | 'cpu' | 'kbPerBinding' | 'bindS') => median((results.get(`${b}/${n}`) ?? []).map((r) => r[f]));
  const rows = BINDING_SIZES.map((n) => [
    int(n),
    ...names.flatMap((b) => [int(med(b, n, 'rate')), fix(med(b, n, 'cpu'), 2), fix(med(b, n, 'kbPerBinding'), 2), fix(med(b, n, 'bindS'))]),
    [...new Set(names.flatMap((b) => (results.get(`${b}/${n}`) ?? []).flatMap((r) => (r.error ? [`${b}: ${r.error}`] : []))))].join('; ') || 'ok',
  ]);
  const targets = names.map((b) => {
    const first = med(b, BINDING_SIZES[0] as number, 'cpu');
    const last = med(b, BINDING_SIZES.at(-1) as number, 'cpu');
    if (first === null || last === null) return `${b}: routing cost ratio not measured`;
    const ratio = last / first;
    const verdict = b === 'Warren' ? (ratio <= 2 ? ` — target ≤ 2× met (${(2 - ratio).toFixed(2)}× to spare)` : ` — target ≤ 2× **missed** by ${(ratio - 2).toFixed(2)}×`) : '';
    return `${b}: CPU µs per published message at ${int(BINDING_SIZES.at(-1))} bindings / at ${int(BINDING_SIZES[0])}: ${ratio.toFixed(2)}×${verdict}`;
  });
  return {
    title: 'Topic bindings',
    text:
      `A topic exchange, one queue bound with \`*.orders.#\` (consumed, no-ack) and n − 1 further bindings to 10 other queues, ` +
      `cycling through \`r<i%10>.orders.x<i>.created\`, \`*.orders.x<i>.#\`, \`#.x<i>\`, \`r<i%10>.*.x<i>\`, \`x<i>.#\` — they share ` +
      `words and wildcards with the published keys but never match them, so every message is routed to exactly one queue and only the ` +
      `matching work grows with n. One amqplib publisher sends ${int(ROUTE_MESSAGES)} × 100 B messages with ${int(ROUTING_KEYS)} distinct ` +
      `keys \`r<j%10>.orders.k<j%${ROUTING_KEYS}>.created\` (more than Warren's 1,000-key route cache holds, so each publish walks the ` +
      `trie), without confirms; the time runs until the consumer has them all. CPU µs/msg = broker CPU (utime + stime from /proc) over ` +
      `that time / messages. KB per binding = RSS growth while adding that step's bindings (16 channels in parallel) / bindings added, given only where at least 10,000 were added. ` +
      `The publisher and consumer are the bench's own Node process (amqplib), which limits msg/s on both brokers; the CPU figure is the broker's alone.`,
    tables: [table(['bindings', ...names.flatMap((b) => [`${b} msg/s`, `${b} CPU µs/msg`, `${b} KB per binding`, `${b} bind time s`]), 'status'], rows)],
    plots: [
      plot('scale-bindings.svg', 'broker CPU µs per published message by number of topic bindings', 'Topic routing: broker CPU per message by bindings', 'bindings on the topic exchange', 'broker CPU µs / message', seriesOf(names, BINDING_SIZES, (b, n) => med(b, n, 'cpu'))),
    ],
    targets,
  };
}

// ---------- curve: connections ----------

async function connectionsCurve(): Promise<Section> {
  const brokers = await startBrokers();
  const names = brokers.map((b) => b.name);
  const idle = new Map<string, { kb: number | null; withMb: number | null; openS: number | null; error: string | null }>();
  const active = new Map<string, { p50: number | null; p99: number | null; rate: number | null; cpuPct: number | null; cpu: number | null; error?: string }[]>();
  try {
    for (const n of IDLE_CONN_SIZES) {
      for (const b of brokers) {
        log(`${b.name}: ${n} idle connections`);
        const r = await measureIdleRss(b.uri, b.pid, { connections: n, batch: 100, settleMs: SETTLE_MS, log });
        idle.set(`${b.name}/${n}`, { kb: r.kbPerConnection, withMb: r.withMb, openS: r.openSeconds, error: r.error });
        log(`${b.name}: ${fix(r.kbPerConnection)} KB per connection${r.error ? ` (${r.error})` : ''}`);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of ACTIVE_CONN_SIZES) {
        const order = round % 2 ? [...brokers].reverse() : brokers;
        for (const b of order) {
          const key = `${b.name}/${n}`;
          try {
            const r = await amqpperf([
              '--uri', b.uri, '--pid', String(b.pid), '-x', String(n), '-y', '10', '--queues', '10', '-r', '10', '-c', '10',
              '-s', '100', '-a', '-z', String(Math.max(SECONDS, 10)), '--warmup', '3',
            ]);
            const rate = r.confirm_rate;
            (active.get(key) ?? active.set(key, []).get(key))?.push({
              p50: r.confirm_lat_us?.p50 ?? null,
              p99: r.confirm_lat_us?.p99 ?? null,
              rate,
              cpuPct: r.broker_cpu_pct,
              cpu: cpuPerMessage(r.broker_cpu_pct, r.sent_rate),
            });
            log(`${b.name} ${n} active connections: ${int(rate)} confirms/s, p99 ${int(r.confirm_lat_us?.p99)} µs, CPU ${fix(r.broker_cpu_pct)} %`);
          } catch (err) {
            (active.get(key) ?? active.set(key, []).get(key))?.push({ p50: null, p99: null, rate: null, cpuPct: null, cpu: null, error: (err as Error).message });
            log(`${b.name} ${n} active connections failed: ${(err as Error).message}`);
          }
        }
      }
    }
  } finally {
    await stopBrokers(brokers);
  }
  const med = (b: BrokerName, n: number, f: 'p50' | 'p99' | 'rate' | 'cpuPct' | 'cpu') => median((active.get(`${b}/${n}`) ?? []).map((r) => r[f]));
  const idleTable = table(
    ['idle connections', ...names.flatMap((b) => [`${b} KB/connection`, `${b} RSS MB`, `${b} open time s`]), 'status'],
    IDLE_CONN_SIZES.map((n) => [
      int(n),
      ...names.flatMap((b) => {
        const r = idle.get(`${b}/${n}`);
        return [fix(r?.kb), fix(r?.withMb), fix(r?.openS)];
      }),
      names.flatMap((b) => (idle.get(`${b}/${n}`)?.error ? [`${b}: ${idle.get(`${b}/${n}`)?.error}`] : [])).join('; ') || 'ok',
    ]),
  );
  const activeTable = table(
    ['active connections', ...names.flatMap((b) => [`${b} confirms/s`, `${b} confirm p50 µs`, `${b} confirm p99 µs`, `${b} CPU %`, `${b} CPU µs/msg`]), 'status'],
    ACTIVE_CONN_SIZES.map((n) => [
      int(n),
      ...names.flatMap((b) => [int(med(b, n, 'rate')), int(med(b, n, 'p50')), int(med(b, n, 'p99')), fix(med(b, n, 'cpuPct')), fix(med(b, n, 'cpu'))]),
      names.flatMap((b) => (active.get(`${b}/${n}`) ?? []).flatMap((r) => (r.error ? [`${b}: ${r.error}`] : []))).join('; ') || 'ok',
    ]),
  );
  const targets: string[] = [];
  const big = Math.max(...IDLE_CONN_SIZES);
  const wk = idle.get(`Warren/${big}`)?.kb;
  if (wk !== null && wk !== undefined)
    targets.push(
      `≤ 12 KB per idle connection at ${int(big)}: Warren ${wk.toFixed(1)} KB — ${wk <= 12 ? `met (${(12 - wk).toFixed(1)} KB under)` : `**missed** by ${(wk - 12).toFixed(1)} KB`}` +
        (idle.has(`RabbitMQ/${big}`) ? `; RabbitMQ ${fix(idle.get(`RabbitMQ/${big}`)?.kb)} KB` : ''),
    );
  return {
    title: 'Connections',
    text:
      `Idle: n amqplib connections with one channel each, opened in batches of 100 from the bench's process, RSS after 20 s idle ` +
      `and once settled (two readings 1 s apart in a row within 0.5 MB, 30 s at most: opening them grows V8's young generation ` +
      `for some seconds) against RSS just before, settled the same way; closed again before the next size (the file-descriptor limit, \`ulimit -n\`, was ${ulimitN()} for the ` +
      `bench and both brokers). Active: \`amqpperf -x n -y 10 --queues 10 -r 10 -c 10 -s 100 -a -z ${Math.max(SECONDS, 10)} --warmup 3\` — ` +
      `n publisher connections each sending 10 msg/s with confirms (at most 10 outstanding), 10 no-ack consumers; confirm latency ` +
      `is publish to basic.ack as amqpperf measures it; CPU % is of one core over the measured window.`,
    tables: [idleTable, activeTable],
    plots: [
      plot('scale-connections.svg', 'RSS per idle connection by number of connections', 'Memory per idle connection', 'idle connections', 'KB per connection', seriesOf(names, IDLE_CONN_SIZES, (b, n) => idle.get(`${b}/${n}`)?.kb ?? null)),
      plot('scale-connections-active.svg', 'p99 confirm latency by number of active connections (10 msg/s each)', 'Confirm latency p99, active connections at 10 msg/s each', 'active connections', 'p99 confirm latency µs', seriesOf(names, ACTIVE_CONN_SIZES, (b, n) => med(b, n, 'p99'))),
    ],
    targets,
  };
}

function ulimitN(): string {
  try {
    return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

// ---------- main ----------

async function cleanup(): Promise<void> {
  if (perfChild?.pid !== undefined && perfChild.exitCode === null) {
    try {
      process.kill(-perfChild.pid, 'SIGINT');
    } catch {
      // gone
    }
    await sleep(3000);
    try {
      process.kill(-perfChild.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await stopBrokers([...running]);
}

stopOnSignals(cleanup, log);

const CURVES: Record<string, () => Promise<Section>> = { queues: queuesCurve, bindings: bindingsCurve, connections: connectionsCurve };

async function main(): Promise<number> {
  const chosen = process.argv.slice(2);
  for (const c of chosen) if (!(c in CURVES)) throw new Error(`unknown curve ${c}; choose from ${Object.keys(CURVES).join(', ')}`);
  const curves = chosen.length ? chosen : Object.keys(CURVES);
  const loadBefore = os.loadavg();
  let failed = false;
  log('building Warren (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  const sections: Section[] = [];
  for (const c of curves) {
    log(`curve: ${c}`);
    let s: Section;
    try {
      s = await (CURVES[c] as () => Promise<Section>)();
    } catch (err) {
      failed = true;
      log(`curve ${c} failed: ${(err as Error).stack ?? String(err)}`);
      s = { title: c, text: `**This curve failed**: ${(err as Error).message}`, tables: [], plots: [], targets: [] };
    }
    sections.push(s);
    process.stdout.write(`\n== ${s.title}\n\n${s.tables.join('\n\n')}\n\n${s.targets.map((t) => `- ${t}`).join('\n')}\n`);
  }
  const runSeconds = (Date.now() - t0) / 1000;
  if (DOC !== '-') {
    const cpus = os.cpus();
    const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) || 'unknown';
    const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) !== '';
    const envParts = Object.keys(process.env)
      .filter((k) => k.startsWith('SCALE_') && k !== 'SCALE_DOC')
      .sort()
      .map((k) => `${k}="${process.env[k]}"`);
    const cmd = [...envParts, 'npm run bench:scale', ...(chosen.length ? ['--', ...chosen] : [])].join(' ');
    const docDir = path.dirname(DOC);
    const sectionText = (s: Section, note = '') =>
      `## ${s.title}\n\n${note}${s.text}\n\n${s.tables.join('\n\n')}\n\n${s.plots.map((p) => `![${p.caption}](${p.file})`).join('\n\n')}\n\n${s.targets.map((t) => `- ${t}`).join('\n')}\n`;
    const body = sections.map((s) => sectionText(s)).join('\n');
    for (const s of sections) for (const p of s.plots) fs.writeFileSync(path.join(docDir, p.file), p.svg);
    const partial = chosen.length > 0 && chosen.length < Object.keys(CURVES).length && fs.existsSync(DOC);
    if (partial) {
      // Only some curves were run: their sections (and plots) are replaced, the others kept as they were, each
      // regenerated section saying the conditions it was run in (the file's Conditions table is the full run's).
      let doc = fs.readFileSync(DOC, 'utf8').replace('Each run overwrites this file and the\nplots it links.', 'A run of all curves overwrites this file and the\nplots it links; a run of some (`npm run bench:scale -- connections`) replaces only their sections and plots.');
      const note =
        `*Regenerated alone* (\`${cmd}\`, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit}${dirty ? ' with uncommitted changes in src/' : ''}, ` +
        `Warren with \`node ${WARREN_NODE_FLAGS.join(' ')}\`, load average at start ${loadBefore.map((x) => x.toFixed(2)).join(', ')}, ${runSeconds.toFixed(0)} s); ` +
        `the Conditions above are those of the other sections' run.\n\n`;
      for (const s of sections) {
        const start = doc.indexOf(`\n## ${s.title}\n`);
        if (start < 0) {
          doc = `${doc.trimEnd()}\n\n${sectionText(s, note)}`;
          continue;
        }
        const next = doc.indexOf('\n## ', start + 1);
        doc = `${doc.slice(0, start + 1)}${sectionText(s, note)}${next < 0 ? '' : doc.slice(next)}`;
      }
      fs.writeFileSync(DOC, doc);
      log(`replaced ${sections.map((s) => s.title).join(', ')} in ${path.relative(ROOT, DOC)}; wrote ${sections.flatMap((s) => s.plots.map((p) => p.file)).join(', ')}`);
      return failed ? 1 : 0;
    }
    const doc = `# Scale curves: Warren against RabbitMQ

Generated by \`npm run bench:scale\` (bench/scale.ts; see bench/README.md). A run of all curves overwrites this file and the
plots it links; a run of some (\`npm run bench:scale -- connections\`) replaces only their sections and plots. ${ROUNDS === 1 ? '**One round**: single-machine figures vary by 10–30 % between identical runs; `SCALE_ROUNDS=3` gives medians.' : `${ROUNDS} rounds, medians; brokers alternate order every round.`}

## Conditions

| | |
|---|---|
| date | ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} |
| machine | ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; shared with other work (load average at start ${loadBefore.map((x) => x.toFixed(2)).join(', ')}) |
| Node | ${process.version} |
| Warren | commit ${commit}${dirty ? ' (with uncommitted changes in src/)' : ''}, \`node ${WARREN_NODE_FLAGS.join(' ')} dist/cli.js --port 0 --host 127.0.0.1\` (the bin's Node flags), default configuration |
| RabbitMQ | ${sh('dpkg-query', ['-W', '-f', '${Version}', 'rabbitmq-server']) || 'unknown'} (Debian package), private node, default configuration; figures are its beam.smp process |
| load | amqpperf (../shared/perf) and the bench's own Node process (amqplib), on the same machine as both brokers |
| command | \`${cmd}\` |
| run time | ${runSeconds.toFixed(0)} s |

Each curve starts both brokers afresh (127.0.0.1, free ports) and stops them after; within a curve, the brokers are measured
one after the other, never at the same time.

${body}`;
    fs.writeFileSync(DOC, doc);
    log(`wrote ${path.relative(ROOT, DOC)} and ${sections.flatMap((s) => s.plots.map((p) => p.file)).join(', ')}`);
  }
  return failed ? 1 : 0;
}

await exitAfter(main, cleanup, log);
