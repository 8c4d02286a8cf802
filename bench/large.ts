/**
 * Large messages, Warren against RabbitMQ: `npx tsx bench/large.ts`. A private RabbitMQ node and Warren
 * (127.0.0.1, free ports), and amqpperf (../shared/perf) with large-256k's flags at three body sizes: 256 KiB
 * (the shared large-256k scenario), 1 MiB and 16 MiB — one producer with confirms (-c 10), one consumer with
 * prefetch 10 acking each message, a transient non-durable queue. Rounds alternate which broker goes first; the
 * table gives medians of received msg/s, MB/s of body, broker CPU µs per message (the broker process's user +
 * system time over the run, divided by the messages received), latency p50/p99 and peak RSS. Prints the table
 * and writes docs/performance-large.md.
 *
 * Environment: SCENARIO_SECONDS (10; the first 1 s is warm-up), ROUNDS (3), SIZES (bytes, space-separated;
 * default "262144 1048576 16777216"), BENCH_DOC (docs/performance-large.md; "-" = don't write).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, startWarren, type WarrenProcess } from '../interop/support/warren.js';
import { median } from './support/run.js';

const SECONDS = process.env.SCENARIO_SECONDS ?? '10';
const ROUNDS = Number(process.env.ROUNDS ?? '3');
const SIZES = (process.env.SIZES ?? '262144 1048576 16777216').split(/\s+/).filter((s) => s !== '').map(Number);
const DOC = process.env.BENCH_DOC ?? path.join(ROOT, 'docs', 'performance-large.md');

interface Result {
  recv_rate: number;
  lat_us: { p50: number; p99: number } | null;
  rss_peak_mb: number | null;
  broker_cpu_pct: number | null;
  errors: string[];
}

interface Row {
  rate: number;
  cpuUsPerMsg: number | null;
  p50: number | null;
  p99: number | null;
  rssPeak: number | null;
}

function sizeName(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}


function run(amqpperf: string, uri: string, pid: number, size: number): Row | string {
  // large-256k's flags (../shared/perf/scenarios.sh) with the body size changed.
  const args = ['--uri', uri, '--id', `large-${sizeName(size)}`, '-z', SECONDS, '--json', '--pid', String(pid)];
  args.push('-x', '1', '-y', '1', '-s', String(size), '-q', '10', '-c', '10');
  let out: string;
  try {
    out = execFileSync(amqpperf, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: (Number(SECONDS) + 120) * 1000 });
  } catch (error) {
    const e = error as { stdout?: string; message: string };
    out = e.stdout ?? '';
    if (out.trim() === '') return `amqpperf failed: ${e.message.split('\n')[0]}`;
  }
  const r = JSON.parse(out.trim().split('\n').pop() as string) as Result;
  if (r.errors.length > 0) return r.errors.join('; ');
  return {
    rate: r.recv_rate,
    cpuUsPerMsg: r.broker_cpu_pct === null || r.recv_rate === 0 ? null : (r.broker_cpu_pct / 100) * 1e6 / r.recv_rate,
    p50: r.lat_us?.p50 ?? null,
    p99: r.lat_us?.p99 ?? null,
    rssPeak: r.rss_peak_mb,
  };
}

/** The private node's beam.smp: rabbitmq-server writes its PID to RABBITMQ_PID_FILE, which the harness puts in the node's dir. */
async function beamPid(rabbit: RabbitNode): Promise<number> {
  const file = path.join(rabbit.dir, 'rabbitmq.pid');
  for (let waited = 0; waited < 10_000; waited += 100) {
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : 0;
    if (pid > 0) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no PID in ${file}`);
}

const int = (x: number | null) => (x === null ? '–' : Math.round(x).toLocaleString('en-US'));

let rabbit: RabbitNode | undefined;
let warren: WarrenProcess | undefined;
let failed = false;
try {
  const amqpperf = execFileSync(path.resolve(ROOT, '..', 'shared', 'perf', 'build.sh'), { encoding: 'utf8' }).trim().split('\n').pop() as string;
  rabbit = await startRabbitMQ();
  warren = await startWarren();
  const brokers = [
    { name: 'Warren', uri: `amqp://guest:guest@127.0.0.1:${warren.port}/%2f`, pid: warren.pid },
    { name: 'RabbitMQ', uri: `amqp://guest:guest@127.0.0.1:${rabbit.port}/%2f`, pid: await beamPid(rabbit) },
  ];
  const rows = new Map<string, Row[]>();
  const errors: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of SIZES) {
      const order = round % 2 === 0 ? brokers : [...brokers].reverse();
      for (const broker of order) {
        const r = run(amqpperf, broker.uri, broker.pid, size);
        const key = `${broker.name} ${size}`;
        process.stderr.write(`round ${round + 1} ${key}: ${typeof r === 'string' ? `FAILED ${r}` : `${int(r.rate)} msg/s, ${int(r.cpuUsPerMsg)} µs CPU/msg`}\n`);
        if (typeof r === 'string') {
          failed = true;
          errors.push(`${key}: ${r}`);
        } else rows.set(key, [...(rows.get(key) ?? []), r]);
      }
    }
  }
  const lines = [
    '| body | broker | msg/s | MB/s | Warren/RabbitMQ msg/s | broker CPU µs/msg | p50 µs | p99 µs | peak RSS MB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const size of SIZES) {
    const rate = (name: string) => median((rows.get(`${name} ${size}`) ?? []).map((r) => r.rate));
    for (const broker of brokers) {
      const mine = rows.get(`${broker.name} ${size}`) ?? [];
      const m = (f: (r: Row) => number | null) => median(mine.map(f));
      const r = m((x) => x.rate);
      const w = rate('Warren');
      const q = rate('RabbitMQ');
      const ratio = broker.name === 'Warren' && w !== null && q !== null && q > 0 ? `${(w / q).toFixed(2)}×` : '';
      lines.push(
        `| ${sizeName(size)} | ${broker.name} | ${int(r)} | ${r === null ? '–' : ((r * size) / 1e6).toFixed(0)} | ${ratio} | ${int(m((x) => x.cpuUsPerMsg))} | ${int(m((x) => x.p50))} | ${int(m((x) => x.p99))} | ${m((x) => x.rssPeak)?.toFixed(0) ?? '–'} |`,
      );
    }
  }
  const table = lines.join('\n');
  console.log(table);
  for (const e of errors) console.log(`failed: ${e}`);
  if (DOC !== '-') {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const doc = `# Large messages: Warren and RabbitMQ

Written by \`npx tsx bench/large.ts\` (see bench/README.md) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC,
Warren ${commit}, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average at the end
${os.loadavg().map((x) => x.toFixed(1)).join(' ')}. Medians of ${ROUNDS} round(s) of ${SECONDS} s per broker and size (the first 1 s is warm-up),
the brokers alternating which goes first.

amqpperf with large-256k's flags and the body size changed: \`-x 1 -y 1 -s SIZE -q 10 -c 10\` (one producer with at most
10 unconfirmed messages, one consumer with prefetch 10 acking each message, a transient non-durable queue). MB/s is
body bytes received; CPU µs/msg is the broker process's CPU time over the run per message received; peak RSS is the
broker's highest VmRSS during the run (it carries over from earlier runs on the same broker).

${table}
${errors.map((e) => `\nfailed: ${e}`).join('')}
`;
    fs.writeFileSync(DOC, doc);
    process.stderr.write(`wrote ${DOC}\n`);
  }
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await warren?.stop();
  await rabbit?.stop();
}
process.exit(failed ? 1 : 0);
