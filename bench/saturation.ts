/**
 * Broker-bound figures, Warren against RabbitMQ: `npx tsx bench/saturation.ts`.
 *
 * amqpperf (../shared/perf) costs about as much CPU per message as the broker it measures, so on this 2-core
 * machine its scenarios are client-bound. This bench drives the same scenarios with bench/rawload (a raw-frame
 * AMQP 0-9-1 load generator in Go that writes pre-encoded publishes in large batches and acks in one write per
 * read), so the broker is what saturates. It builds Warren and rawload (into a temp dir), starts Warren and a
 * private RabbitMQ node, checks with rawload's -count mode that every scenario loses nothing on either broker,
 * then runs each scenario on both brokers, alternating which goes first (A B / B A) over ROUNDS, and reports
 * medians; prints the table and writes docs/performance-saturation.md. Stops both brokers whatever happens.
 *
 * Environment: SCENARIO_SECONDS (8; the first 1 s is warm-up), ROUNDS (3), SCENARIOS (subset, space-separated),
 * BACKLOG (50000: publishers wait while more messages per queue are sent than received, so an overloaded broker's
 * queue stays bounded; 0 = no limit), BENCH_DOC (docs/performance-saturation.md; "-" = don't write).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, startWarren, WARREN_NODE_FLAGS, type WarrenProcess } from '../interop/support/warren.js';
import { findRabbitBeamPid } from './support/rabbit-pid.js';
import { exitAfter, median, otpVersion, sh, stopOnSignals } from './support/run.js';

const SECONDS = Number(process.env.SCENARIO_SECONDS ?? '8');
const ROUNDS = Number(process.env.ROUNDS ?? '3');
const BACKLOG = Number(process.env.BACKLOG ?? '50000');
const DOC = process.env.BENCH_DOC ?? path.join(ROOT, 'docs', 'performance-saturation.md');

interface Scenario {
  name: string;
  /** rawload's flags (amqpperf's scenario in rawload's words). */
  args: string[];
  /** Messages per publisher for the no-loss check. */
  count: number;
  what: string;
}

// The flags of ../shared/perf/scenarios.sh, translated.
const ALL: Scenario[] = [
  { name: 'transient-1p1c', args: ['-x', '1', '-y', '1', '-s', '12', '-a'], count: 200_000, what: '12 B, autoack, 1 publisher, 1 consumer' },
  { name: 'transient-ack-q100', args: ['-x', '1', '-y', '1', '-s', '1000', '-q', '100'], count: 100_000, what: '1 KB, one basic.ack per message, prefetch 100' },
  { name: 'fanout-1p4c', args: ['-x', '1', '-y', '4', '-fanout', '4', '-s', '100', '-a'], count: 100_000, what: '100 B, amq.fanout to 4 queues, 4 autoack consumers' },
  { name: 'large-256k', args: ['-x', '1', '-y', '1', '-s', '262144', '-q', '10', '-c', '10'], count: 1_000, what: '256 KiB, confirms (≤ 10 unconfirmed), prefetch 10, ack each' },
];
const wanted = process.env.SCENARIOS?.trim().split(/\s+/) ?? [];
const SCENARIOS = wanted.length > 0 ? ALL.filter((s) => wanted.includes(s.name)) : ALL;

interface Rawload {
  sent_rate: number;
  recv_rate: number;
  broker_cpu_pct: number | null;
  /** The broker's main thread: Warren's JavaScript thread (GC helpers and libuv's pool are other threads). */
  broker_main_thread_cpu_pct: number | null;
  /** How long that thread was runnable but waiting for a core (schedstat), % of the window. */
  broker_main_thread_wait_pct: number | null;
  client_cpu_pct: number;
  /** All cores' busy time over the window, % of one core (200 = both full), and what neither broker nor rawload used of it. */
  machine_cpu_pct: number;
  other_cpu_pct: number | null;
  broker_cpu_us_per_msg: number | null;
  sent: number;
  recv: number;
  expected?: number;
  lost?: number;
  blocked: number;
  errors: string[];
}

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[saturation ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let warren: WarrenProcess | undefined;
let rabbit: RabbitNode | undefined;
let child: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
let interrupted: string | undefined;
const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-rawload-'));

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    const c = child;
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGINT'); // rawload deletes its queues and closes its connections on SIGINT
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(5000)]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    await Promise.allSettled([warren?.stop(), rabbit?.stop()]);
    fs.rmSync(buildDir, { recursive: true, force: true });
    log('brokers stopped');
  })();
  return cleaning;
}

stopOnSignals(cleanup, log, (signal) => {
  interrupted = signal;
});

/** Builds bench/rawload with the standard library only (no module downloads) into the temp dir. */
function buildRawload(): string {
  const bin = path.join(buildDir, 'rawload');
  execFileSync('go', ['build', '-o', bin, '.'], {
    cwd: path.join(ROOT, 'bench', 'rawload'),
    stdio: ['ignore', 2, 2],
    env: { ...process.env, GOCACHE: path.join(buildDir, 'gocache'), GOFLAGS: '', GO111MODULE: 'on', GOPROXY: 'off' },
  });
  return bin;
}

/** One rawload run; its JSON line, or the reason it failed. */
function rawload(bin: string, args: string[]): Promise<Rawload | string> {
  return new Promise((resolve) => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('error', (e) => resolve(`rawload: ${e.message}`));
    c.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      let r: Rawload | undefined;
      try {
        r = JSON.parse(line) as Rawload;
      } catch {
        // no JSON line
      }
      if (r === undefined) resolve(`rawload exited ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}`);
      else if (r.errors.length > 0 || code !== 0) resolve(`rawload exited ${code}: ${r.errors.join('; ') || err.trim()}`);
      else resolve(r);
    });
  });
}

interface Broker {
  name: 'Warren' | 'RabbitMQ';
  uri: string;
  pid: number;
}

const int = (x: number | null) => (x === null ? '–' : Math.round(x).toLocaleString('en-US'));
const us = (x: number | null) => (x === null ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

/**
 * What limited msg/s, from the medians: the broker near a whole core (Warren's JavaScript runs on one thread), the
 * machine's cores full (with other processes' share), the client near a core, or none of them (a window of
 * unacked / unconfirmed messages waiting for round trips).
 */
function limitedBy(broker: string, cpu: number | null, main: number | null, wait: number | null, client: number | null, machine: number | null, other: number | null): string {
  if (cpu === null || client === null || machine === null) return '–';
  if (broker === 'Warren' && main !== null && main >= 90) return 'Warren (its JavaScript thread ≈ 100 %)';
  if (broker === 'Warren' && main !== null && wait !== null && main + wait >= 90)
    return `Warren: its JavaScript thread always had work (running ${int(main)} %, waiting for a core ${int(wait)} % while other processes took ${int(other)} %)`;
  if (broker === 'RabbitMQ' && cpu >= 90) return 'RabbitMQ (CPU ≥ 90 %)';
  if (machine >= 180) return `the machine: both cores busy, ${int(other)} % of them other processes'`;
  if (client >= 90) return 'the client';
  return 'none at a full core, cores idle: the round trips of its prefetch / confirm window';
}

async function main(): Promise<number> {
  const loadStart = os.loadavg();
  log('building Warren (npm run build) and rawload (go build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  const bin = buildRawload();
  log('starting a private RabbitMQ node and Warren on 127.0.0.1');
  [rabbit, warren] = await Promise.all([startRabbitMQ(), startWarren()]);
  const brokers: Broker[] = [
    { name: 'Warren', uri: `${warren.url}/%2f`, pid: warren.pid },
    { name: 'RabbitMQ', uri: `${rabbit.url}/%2f`, pid: findRabbitBeamPid(rabbit.nodeName) },
  ];
  const backlog = BACKLOG > 0 ? ['-backlog', String(BACKLOG)] : [];
  let failed = false;
  const failures: string[] = [];

  // No loss: count-limited runs, received must equal sent × queues.
  const lossRows: string[] = [];
  for (const s of SCENARIOS) {
    for (const b of brokers) {
      const r = await rawload(bin, ['-uri', b.uri, '-id', s.name, '-count', String(s.count), ...backlog, ...s.args]);
      if (interrupted) throw new Error(`interrupted by ${interrupted}`);
      if (typeof r === 'string') {
        failed = true;
        failures.push(`${s.name} ${b.name} -count: ${r}`);
        lossRows.push(`| ${s.name} | ${b.name} | – | – | FAILED |`);
        log(`count check ${s.name} ${b.name}: FAILED ${r}`);
      } else {
        lossRows.push(`| ${s.name} | ${b.name} | ${int(r.sent)} | ${int(r.recv)} | ${r.lost === 0 ? 'none' : `${int(r.lost ?? null)} lost`} |`);
        log(`count check ${s.name} ${b.name}: sent ${r.sent}, received ${r.recv} (expected ${r.expected})`);
      }
      await sleep(500);
    }
  }

  const results = new Map<string, Rawload[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of SCENARIOS) {
      const order = round % 2 === 0 ? brokers : [...brokers].reverse();
      for (const b of order) {
        const r = await rawload(bin, ['-uri', b.uri, '-pid', String(b.pid), '-id', s.name, '-z', String(SECONDS), '-w', '1', ...backlog, ...s.args]);
        if (interrupted) throw new Error(`interrupted by ${interrupted}`);
        const key = `${s.name} ${b.name}`;
        if (typeof r === 'string') {
          failed = true;
          failures.push(`round ${round + 1} ${key}: ${r}`);
          log(`round ${round + 1} ${key}: FAILED ${r}`);
        } else {
          results.set(key, [...(results.get(key) ?? []), r]);
          log(`round ${round + 1} ${key}: ${int(r.recv_rate)} msg/s received, broker ${int(r.broker_cpu_pct)} % CPU, ${us(r.broker_cpu_us_per_msg)} µs/msg, client ${int(r.client_cpu_pct)} %, others ${int(r.other_cpu_pct)} %`);
        }
        await sleep(1000); // the queue is deleted; let the broker settle before the other one runs
      }
    }
  }
  const loadEnd = os.loadavg();

  const table = [
    '| scenario | broker | msg/s received | msg/s sent | broker CPU % | Warren JS thread: running / waiting for a core % | broker CPU µs/msg | client CPU % | other processes CPU % | Warren/RabbitMQ msg/s | limited by |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const verdicts: string[] = [];
  for (const s of SCENARIOS) {
    const rate = (name: string) => median((results.get(`${s.name} ${name}`) ?? []).map((r) => r.recv_rate));
    for (const b of brokers) {
      const mine = results.get(`${s.name} ${b.name}`) ?? [];
      const m = (f: (r: Rawload) => number | null) => median(mine.map(f));
      const cpu = m((r) => r.broker_cpu_pct);
      const main = b.name === 'Warren' ? m((r) => r.broker_main_thread_cpu_pct) : null;
      const wait = b.name === 'Warren' ? m((r) => r.broker_main_thread_wait_pct) : null;
      const client = m((r) => r.client_cpu_pct);
      const machine = m((r) => r.machine_cpu_pct);
      const other = m((r) => r.other_cpu_pct);
      const w = rate('Warren');
      const q = rate('RabbitMQ');
      const ratio = b.name === 'Warren' && w !== null && q !== null && q > 0 ? `${(w / q).toFixed(2)}×` : '';
      const limit = limitedBy(b.name, cpu, main, wait, client, machine, other);
      if (b.name === 'Warren') verdicts.push(`- **${s.name}** (${s.what}): Warren at ${int(cpu)} % CPU (its JavaScript thread ${int(main)} %, waiting for a core ${int(wait)} %), rawload ${int(client)} %, other processes ${int(other)} % — limited by ${limit}.`);
      table.push(
        `| ${s.name} | ${b.name} | ${int(m((r) => r.recv_rate))} | ${int(m((r) => r.sent_rate))} | ${int(cpu)} | ${b.name === 'Warren' ? `${int(main)} / ${int(wait)}` : ''} | ${us(m((r) => r.broker_cpu_us_per_msg))} | ${int(client)} | ${int(other)} | ${ratio} | ${limit} |`,
      );
    }
  }
  const tableText = table.join('\n');
  const lossText = ['| scenario | broker | sent | received (× queues) | loss |', '|---|---|---:|---:|---|', ...lossRows].join('\n');
  process.stdout.write(`\n${tableText}\n\n${verdicts.join('\n')}\n\nNo-loss check (-count):\n${lossText}\n`);
  for (const f of failures) process.stdout.write(`failed: ${f}\n`);

  if (DOC !== '-') {
    const cpus = os.cpus();
    const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) || 'unknown';
    const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) !== '';
    const env = [
      process.env.SCENARIO_SECONDS !== undefined ? `SCENARIO_SECONDS=${SECONDS}` : '',
      process.env.ROUNDS !== undefined ? `ROUNDS=${ROUNDS}` : '',
      process.env.SCENARIOS ? `SCENARIOS="${process.env.SCENARIOS.trim()}"` : '',
      process.env.BACKLOG !== undefined ? `BACKLOG=${BACKLOG}` : '',
    ].filter(Boolean);
    const doc = `# Saturation: broker-bound figures, Warren and RabbitMQ

Written by \`${[...env, 'npx tsx bench/saturation.ts'].join(' ')}\` (see bench/README.md); each run overwrites this file.

**These are the broker-bound figures.** amqpperf (../shared/perf, amqp091-go) needs about as much CPU per message as
the broker, so on this 2-core machine the amqpperf scenarios in [performance.md](performance.md) are client-bound:
there Warren's CPU µs/msg is mostly the cost of an event-loop turn spread over the few messages each read brings.
Here the load comes from bench/rawload, a raw-frame AMQP 0-9-1 client in Go that writes pre-encoded publishes in
128 KiB batches and sends a read's acks in one write, with the same scenario flags, so the broker is what saturates.
The last column says, per scenario, whether the broker (CPU ≈ 100 % of a core) or something else limited msg/s.

## Conditions

| | |
|---|---|
| date | ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} |
| machine | ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, shared with other work |
| load average | ${loadStart.map((x) => x.toFixed(2)).join(', ')} at the start, ${loadEnd.map((x) => x.toFixed(2)).join(', ')} at the end (1, 5, 15 min) |
| Node | ${process.version} |
| Warren | commit ${commit}${dirty ? ' (with uncommitted changes in src/)' : ''}, \`node ${WARREN_NODE_FLAGS.join(' ')} dist/cli.js --port 0 --host 127.0.0.1\` (the bin's Node flags), default configuration |
| RabbitMQ | ${sh('dpkg-query', ['-W', '-f', '${Version}', 'rabbitmq-server']) || 'unknown'} (Debian package), Erlang/OTP ${otpVersion()}, private node, default configuration |
| load generator | bench/rawload (${sh('go', ['version'])}), on the same machine as both brokers |
| runs | ${SECONDS} s per run, the first 1 s excluded; ${ROUNDS} round(s), brokers alternating which goes first; medians |
| backlog cap | ${BACKLOG > 0 ? `publishers wait while more than ${BACKLOG.toLocaleString('en-US')} messages per queue are sent but not received` : 'none'} |

msg/s received counts whole messages received by all consumers (fanout: 4 per publish). Broker CPU is the broker
process's user + system time (Warren's node process, RabbitMQ's beam.smp, all threads) over the measured window,
% of one core, and for Warren also its main (JavaScript) thread's alone, from /proc/<pid>/task/<pid>/stat: the
figure that says whether Warren is saturated, beside the time that thread was runnable but waiting for a core
(/proc/<pid>/task/<pid>/schedstat): running + waiting ≈ 100 % means Warren always had work and only the machine's
other load kept it below a full core, so the run is still broker-bound and its CPU µs/msg holds (its msg/s does
not: it is what the machine left the broker). CPU µs/msg is the process's time per received message. Client CPU is
rawload's own; "other processes" is the machine's busy time (/proc/stat, both cores: at most 200 %) minus the
broker's and rawload's: what anything else running took from the two cores during the run. Each run declares its
queues (non-durable, auto-delete) and deletes them at its end.

## Figures

${tableText}

${verdicts.join('\n')}

## No loss

rawload's \`-count\` mode on each broker before the timed runs: the publisher sends a fixed number of messages and
the run ends when all have arrived (or none for 2 s); received must equal sent × queues.

${lossText}
${failures.map((f) => `\nfailed: ${f}`).join('')}
`;
    fs.mkdirSync(path.dirname(DOC), { recursive: true });
    fs.writeFileSync(DOC, doc);
    log(`wrote ${DOC}`);
  }
  return failed ? 1 : 0;
}

await exitAfter(main, cleanup, log);
