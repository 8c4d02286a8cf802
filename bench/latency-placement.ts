/**
 * Where latency-1k's tail comes from on this machine: `npx tsx bench/latency-placement.ts`. Warren and a private
 * RabbitMQ node (127.0.0.1, free ports) under amqpperf's latency-1k flags (`-x 1 -y 1 -r 1000 -s 100`), with three
 * CPU placements of broker and client: as the OS schedules them, both on one core, and on separate cores (taskset;
 * every thread of the broker). At 1,000 msg/s every message wakes a sleeping client and broker thread: when the
 * thread to wake is on another core that has gone idle, the wake-up crosses cores, and on a virtual machine an idle
 * virtual core first has to be scheduled again by the host. Pinning everything to one core removes the cross-core
 * wake-ups without changing the work: what a percentile loses there is their cost, what it keeps is not. The p99 of
 * every round is listed, to show how much the tail moves between runs of the same build.
 * Rounds alternate which broker goes first; medians of p50, p95, p99 and max. Prints the table and writes
 * docs/performance-latency.md.
 *
 * Environment: SCENARIO_SECONDS (8; the first 1 s is warm-up), ROUNDS (3), BENCH_DOC
 * (docs/performance-latency.md; "-" = don't write).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, startWarren, WARREN_NODE_FLAGS, type WarrenProcess } from '../interop/support/warren.js';
import { findRabbitBeamPid } from './support/rabbit-pid.js';
import { exitAfter, median, sh, stopOnSignals } from './support/run.js';

const SECONDS = process.env.SCENARIO_SECONDS ?? '8';
const ROUNDS = Number(process.env.ROUNDS ?? '3');
const DOC = process.env.BENCH_DOC ?? path.join(ROOT, 'docs', 'performance-latency.md');
const ALL_CORES = `0-${os.cpus().length - 1}`;

interface Placement {
  name: string;
  broker: string;
  client: string;
}

// With one core there is nothing to separate: only the OS's own placement is measured.
const PLACEMENTS: Placement[] =
  os.cpus().length < 2
    ? [{ name: 'as the OS schedules', broker: ALL_CORES, client: ALL_CORES }]
    : [
        { name: 'as the OS schedules', broker: ALL_CORES, client: ALL_CORES },
        { name: 'broker and client on core 0', broker: '0', client: '0' },
        { name: 'broker on core 1, client on core 0', broker: '1', client: '0' },
      ];

interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  cpuPct: number | null;
}

function run(amqpperf: string, uri: string, pid: number, placement: Placement): Latency | string {
  execFileSync('taskset', ['-a', '-p', '-c', placement.broker, String(pid)], { stdio: 'ignore' });
  const args = ['-c', placement.client, amqpperf, '--uri', uri, '--id', 'latency-1k', '-z', SECONDS, '--json', '--pid', String(pid)];
  args.push('-x', '1', '-y', '1', '-r', '1000', '-s', '100');
  let out: string;
  try {
    out = execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: (Number(SECONDS) + 60) * 1000 });
  } catch (error) {
    const e = error as { stdout?: string; message: string };
    out = e.stdout ?? '';
    if (out.trim() === '') return `amqpperf failed: ${e.message.split('\n')[0]}`;
  } finally {
    execFileSync('taskset', ['-a', '-p', '-c', ALL_CORES, String(pid)], { stdio: 'ignore' });
  }
  const r = JSON.parse(out.trim().split('\n').pop() as string) as {
    lat_us: { p50: number; p95: number; p99: number; max: number } | null;
    broker_cpu_pct: number | null;
    errors: string[];
  };
  if (r.errors.length > 0) return r.errors.join('; ');
  if (r.lat_us === null) return 'no latency figures';
  return { ...r.lat_us, cpuPct: r.broker_cpu_pct };
}

const int = (x: number | null) => (x === null ? '–' : Math.round(x).toLocaleString('en-US'));

let rabbit: RabbitNode | undefined;
let warren: WarrenProcess | undefined;
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const stop = async () => {
  await warren?.stop();
  await rabbit?.stop();
};
stopOnSignals(stop, log);

async function main(): Promise<number> {
  let failed = false;
  const amqpperf = execFileSync(path.resolve(ROOT, '..', 'shared', 'perf', 'build.sh'), { encoding: 'utf8' }).trim().split('\n').pop() as string;
  rabbit = await startRabbitMQ();
  warren = await startWarren();
  const brokers = [
    { name: 'Warren', uri: `amqp://guest:guest@127.0.0.1:${warren.port}/%2f`, pid: warren.pid },
    { name: 'RabbitMQ', uri: `amqp://guest:guest@127.0.0.1:${rabbit.port}/%2f`, pid: findRabbitBeamPid(rabbit.nodeName) },
  ];
  const loadAtStart = os.loadavg();
  const results = new Map<string, Latency[]>();
  const errors: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const placement of PLACEMENTS) {
      const order = round % 2 === 0 ? brokers : [...brokers].reverse();
      for (const broker of order) {
        const r = run(amqpperf, broker.uri, broker.pid, placement);
        const key = `${broker.name}|${placement.name}`;
        process.stderr.write(`round ${round + 1} ${broker.name}, ${placement.name}: ${typeof r === 'string' ? `FAILED ${r}` : `p50 ${r.p50} p99 ${r.p99} µs`}\n`);
        if (typeof r === 'string') {
          failed = true;
          errors.push(`${broker.name}, ${placement.name}: ${r}`);
        } else results.set(key, [...(results.get(key) ?? []), r]);
      }
    }
  }
  const lines = [
    '| placement | broker | p50 µs | p95 µs | p99 µs | max µs | broker CPU % | Warren p99 ≤ RabbitMQ p50 | p99 of each round µs |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const placement of PLACEMENTS) {
    const m = (name: string, f: (r: Latency) => number | null) => median((results.get(`${name}|${placement.name}`) ?? []).map(f));
    for (const broker of brokers) {
      let verdict = '';
      if (broker.name === 'Warren') {
        const w = m('Warren', (r) => r.p99);
        const q = m('RabbitMQ', (r) => r.p50);
        verdict = w === null || q === null ? '–' : w <= q ? `met (${int(w)} ≤ ${int(q)})` : `missed by ${int(w - q)} µs`;
      }
      lines.push(
        `| ${placement.name} | ${broker.name} | ${int(m(broker.name, (r) => r.p50))} | ${int(m(broker.name, (r) => r.p95))} | ${int(m(broker.name, (r) => r.p99))} | ${int(m(broker.name, (r) => r.max))} | ${m(broker.name, (r) => r.cpuPct)?.toFixed(1) ?? '–'} | ${verdict} | ${(results.get(`${broker.name}|${placement.name}`) ?? []).map((r) => int(r.p99)).join(', ')} |`,
      );
    }
  }
  const table = lines.join('\n');
  console.log(table);
  for (const e of errors) console.log(`failed: ${e}`);
  if (DOC !== '-') {
    const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
    const doc = `# Latency by CPU placement: Warren and RabbitMQ

Written by \`npx tsx bench/latency-placement.ts\` (see bench/README.md) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC,
Warren ${commit} (\`node ${WARREN_NODE_FLAGS.join(' ')} dist/cli.js\`), Node ${process.version}, RabbitMQ private node, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}.
Load average ${loadAtStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.
Medians of ${ROUNDS} round(s) of ${SECONDS} s per broker and placement (the first 1 s is warm-up), the brokers
alternating which goes first.

amqpperf with latency-1k's flags, \`-x 1 -y 1 -r 1000 -s 100\`: one producer at 1,000 msg/s, one autoack-less consumer
acking each message, latency from the producer's timestamp to the consumer's receipt. The broker's threads and the
client are placed with \`taskset\`; "as the OS schedules" is the placement \`npm run bench\` measures.

At 1,000 msg/s every message wakes a sleeping client thread and a sleeping broker thread. When the OS wakes a thread
on a core that has gone idle, that core must first be woken, and on a virtual machine the host must schedule the
idle virtual core again. On one core the same work happens without those cross-core wake-ups: what a percentile
loses there is their cost, what it keeps is not. The last column lists every round's p99, to show how much the tail
moves between runs of the same build on this machine.

${table}
${errors.map((e) => `\nfailed: ${e}`).join('')}
`;
    fs.writeFileSync(DOC, doc);
    log(`wrote ${DOC}`);
  }
  return failed ? 1 : 0;
}

await exitAfter(main, stop, log);
