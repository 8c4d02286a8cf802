/**
 * Warren against RabbitMQ on this machine: `npm run bench`.
 *
 * Builds Warren, starts it and a private RabbitMQ node (127.0.0.1, free
 * ports), measures idle RSS and RSS with 1,000 idle connections, runs
 * ../shared/perf/compare.sh over the scenarios, prints the tables and writes
 * docs/performance.md. Stops both brokers whatever happens; exits non-zero if
 * any part failed. See bench/README.md.
 *
 * Environment: SCENARIO_SECONDS (10), ROUNDS (1; use 3 for real figures),
 * SCENARIOS (subset, space-separated), PAUSE (compare.sh's, 1),
 * BENCH_CONNECTIONS (1000), BENCH_DOC (docs/performance.md; "-" = don't write).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRabbitMQ, type RabbitNode } from '../interop/support/rabbitmq.js';
import { ROOT, startWarren, WARREN_NODE_FLAGS, type WarrenProcess } from '../interop/support/warren.js';
import { measureIdleRss, settledRssKb, type IdleRssResult } from './idle-rss.js';
import { findRabbitBeamPid } from './support/rabbit-pid.js';
import { exitAfter, median, otpVersion, sh, stopOnSignals } from './support/run.js';

const PERF_DIR = path.resolve(ROOT, '..', 'shared', 'perf');
const SETTLE_MS = 3000;
// compare.sh's sides: A = RabbitMQ, B = Warren, so its B/A column reads Warren/RabbitMQ.
const LABEL_A = 'RabbitMQ';
const LABEL_B = 'Warren';

const t0 = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------- results of compare.sh (its JSON lines) ----------

interface PerfResult {
  scenario: string;
  consumers?: number;
  sent_rate?: number | null;
  recv_rate?: number | null;
  lat_us?: { p50?: number; p99?: number } | null;
  rss_peak_mb?: number | null;
  broker_cpu_pct?: number | null;
  client_cpu_pct?: number | null;
  failed?: boolean;
  errors?: string[];
}
interface ResultLine {
  side: 'A' | 'B';
  label: string;
  round: number;
  result: PerfResult;
}
interface SideStats {
  rate: number | null; // received msg/s (sent when no consumers); median over rounds that succeeded
  p50: number | null;
  p99: number | null;
  rssPeak: number | null;
  /** Broker CPU time per received message over the measured window, µs (broker CPU % / received msg/s). */
  cpuUsPerMessage: number | null;
  /** amqpperf's own CPU over the run, % of one core: near 100 × its busy threads, the client may be what limits msg/s. */
  clientCpuPct: number | null;
  failedRounds: number;
  errors: string[];
}


function cpuPerMessage(r: PerfResult): number | null {
  const rate = r.consumers === 0 ? r.sent_rate : r.recv_rate;
  if (typeof r.broker_cpu_pct !== 'number' || !rate) return null;
  return (r.broker_cpu_pct / 100) * 1e6 / rate;
}

function readResults(file: string): Map<string, { A: SideStats; B: SideStats }> {
  const lines: ResultLine[] = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ResultLine)
    : [];
  const names = [...new Set(lines.map((l) => l.result.scenario))];
  const out = new Map<string, { A: SideStats; B: SideStats }>();
  for (const name of names) {
    const stats = (side: 'A' | 'B'): SideStats => {
      const mine = lines.filter((l) => l.result.scenario === name && l.side === side);
      const ok = mine.filter((l) => !l.result.failed).map((l) => l.result);
      return {
        rate: median(ok.map((r) => (r.consumers === 0 ? r.sent_rate : r.recv_rate))),
        p50: median(ok.map((r) => r.lat_us?.p50)),
        p99: median(ok.map((r) => r.lat_us?.p99)),
        rssPeak: median(ok.map((r) => r.rss_peak_mb)),
        cpuUsPerMessage: median(ok.map((r) => cpuPerMessage(r))),
        clientCpuPct: median(ok.map((r) => r.client_cpu_pct)),
        failedRounds: mine.length - ok.length,
        errors: mine.flatMap((l) => l.result.errors ?? []),
      };
    };
    out.set(name, { A: stats('A'), B: stats('B') });
  }
  return out;
}

// ---------- formatting ----------

const int = (x: number | null) => (x === null ? '–' : Math.round(x).toLocaleString('en-US'));
const mb = (x: number | null) => (x === null ? '–' : x.toFixed(1));
const us = (x: number | null) => (x === null ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const pct = (x: number) => `${Math.round(x * 100)} %`;

interface Target {
  goal: string;
  measured: string;
  status: string; // "met ..." / "missed ..." / "n/a ..."
}

function ratioTarget(name: string, s: { A: SideStats; B: SideStats }): Target {
  const need = name === 'confirm-persistent' ? 1.5 : 2;
  const goal = `${name}: Warren msg/s ≥ ${need.toFixed(1)}× RabbitMQ`;
  if (s.A.rate === null || s.B.rate === null || s.A.rate === 0)
    return { goal, measured: 'no result', status: `**not measured** (run failed)` };
  const r = s.B.rate / s.A.rate;
  const measured = `${r.toFixed(2)}× (${int(s.B.rate)} vs ${int(s.A.rate)} msg/s)`;
  if (name === 'latency-1k')
    return { goal, measured, status: 'n/a: the scenario is rate-limited to 1,000 msg/s, so the ratio is ~1.0 by construction' };
  if (r >= need) return { goal, measured, status: `met (+${pct(r / need - 1)} over target)` };
  return { goal, measured, status: `**missed** by ${pct(1 - r / need)} (Warren needs ${(need / r).toFixed(2)}× its rate)` };
}

/** Issue 13's broker CPU budgets, µs per received message (fanout-1p4c: per delivered message, which is the same here). */
const CPU_TARGETS_US: Record<string, number> = {
  'transient-1p1c': 2.5,
  'fanout-1p4c': 1.0,
  'transient-ack-q100': 7,
  'confirm-persistent': 20,
  'large-256k': 100,
};

function cpuTarget(name: string, s: { A: SideStats; B: SideStats }): Target | undefined {
  const budget = CPU_TARGETS_US[name];
  if (budget === undefined) return undefined;
  const goal = `${name}: Warren broker CPU ≤ ${budget} µs per received message`;
  const w = s.B.cpuUsPerMessage;
  if (w === null) return { goal, measured: 'no result', status: '**not measured** (run failed or no broker PID)' };
  const measured = `${w.toFixed(1)} µs (RabbitMQ ${s.A.cpuUsPerMessage === null ? '–' : s.A.cpuUsPerMessage.toFixed(1)} µs)`;
  return { goal, measured, status: w <= budget ? `met (${pct(1 - w / budget)} under)` : `**missed** by ${pct(w / budget - 1)}` };
}

function targets(results: Map<string, { A: SideStats; B: SideStats }>, warren: IdleRssResult | null, rabbit: IdleRssResult | null): Target[] {
  const out: Target[] = [];
  for (const [name, s] of results) out.push(ratioTarget(name, s));
  for (const [name, s] of results) {
    const cpu = cpuTarget(name, s);
    if (cpu) out.push(cpu);
  }
  const lat = results.get('latency-1k');
  if (lat) {
    const goal = 'latency-1k: Warren p99 ≤ RabbitMQ p50';
    const w = lat.B.p99;
    const r = lat.A.p50;
    if (w === null || r === null) out.push({ goal, measured: 'no result', status: '**not measured** (run failed)' });
    else {
      const measured = `Warren p99 ${int(w)} µs, RabbitMQ p50 ${int(r)} µs (RabbitMQ p99 ${int(lat.A.p99)} µs, Warren p50 ${int(lat.B.p50)} µs)`;
      out.push({
        goal,
        measured,
        status: w <= r ? `met (${int(r - w)} µs to spare)` : `**missed** by ${int(w - r)} µs (${(w / r).toFixed(2)}× the target)`,
      });
    }
  }
  if (warren && rabbit) {
    const goal = 'idle RSS: Warren ≤ 1/3 of RabbitMQ';
    const limit = rabbit.idleMb / 3;
    const measured = `${mb(warren.idleMb)} MB vs ${mb(rabbit.idleMb)} MB (${(warren.idleMb / rabbit.idleMb).toFixed(2)}×; limit ${mb(limit)} MB)`;
    out.push({
      goal,
      measured,
      status: warren.idleMb <= limit ? `met (${mb(limit - warren.idleMb)} MB under)` : `**missed** by ${mb(warren.idleMb - limit)} MB (${pct(warren.idleMb / limit - 1)} over)`,
    });
    const goal2 = 'idle connections: Warren ≤ 20 KB per connection';
    if (warren.kbPerConnection === null) out.push({ goal: goal2, measured: 'no result', status: `**not measured** (${warren.error ?? 'failed'})` });
    else {
      const k = warren.kbPerConnection;
      const measured = `${k.toFixed(1)} KB (RabbitMQ ${rabbit.kbPerConnection === null ? '–' : rabbit.kbPerConnection.toFixed(1)} KB)`;
      out.push({ goal: goal2, measured, status: k <= 20 ? `met (${(20 - k).toFixed(1)} KB under)` : `**missed** by ${(k - 20).toFixed(1)} KB (${pct(k / 20 - 1)} over)` });
    }
  }
  return out;
}

function compareTable(results: Map<string, { A: SideStats; B: SideStats }>): string {
  const rows = [
    '| scenario | Warren msg/s | RabbitMQ msg/s | Warren/RabbitMQ | Warren CPU µs/msg | RabbitMQ CPU µs/msg | Warren p50 µs | RabbitMQ p50 µs | Warren p99 µs | RabbitMQ p99 µs | Warren peak RSS MB | RabbitMQ peak RSS MB | amqpperf CPU % (Warren run) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, { A, B }] of results) {
    const ratio = A.rate && B.rate !== null ? `${(B.rate / A.rate).toFixed(2)}×` : '–';
    const fail = (s: SideStats) => (s.failedRounds ? ` (${s.failedRounds} failed)` : '');
    rows.push(
      `| ${name} | ${int(B.rate)}${fail(B)} | ${int(A.rate)}${fail(A)} | ${ratio} | ${us(B.cpuUsPerMessage)} | ${us(A.cpuUsPerMessage)} | ${int(B.p50)} | ${int(A.p50)} | ${int(B.p99)} | ${int(A.p99)} | ${mb(B.rssPeak)} | ${mb(A.rssPeak)} | ${int(B.clientCpuPct)} |`,
    );
  }
  return rows.join('\n');
}

function rssTable(n: number, warren: IdleRssResult | null, rabbit: IdleRssResult | null): string {
  const row = (label: string, r: IdleRssResult | null) =>
    r === null
      ? `| ${label} | – | – | – | – | – | – | not measured |`
      : `| ${label} | ${mb(r.idleMb)} | ${mb(r.beforeMb)} | ${mb(r.withMb)} | ${r.kbPerConnection === null ? '–' : r.kbPerConnection.toFixed(1)} | ${mb(r.afterCloseMb)} | ${r.openSeconds === null ? '–' : r.openSeconds.toFixed(1)} | ${r.error ?? 'ok'} |`;
  return [
    `| broker | idle RSS MB (settled after start) | RSS just before opening MB | RSS with ${n.toLocaleString('en-US')} connections MB | KB per connection | RSS after closing them MB | open time s | status |`,
    '|---|---:|---:|---:|---:|---:|---:|---|',
    row('Warren', warren),
    row('RabbitMQ', rabbit),
  ].join('\n');
}

// ---------- the run ----------

let warren: WarrenProcess | undefined;
let rabbit: RabbitNode | undefined;
let compareChild: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
let interrupted: string | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (compareChild?.pid !== undefined && compareChild.exitCode === null && compareChild.signalCode === null) {
      const pid = compareChild.pid;
      try {
        process.kill(-pid, 'SIGINT'); // amqpperf closes its connections on SIGINT
      } catch {
        // gone
      }
      await Promise.race([new Promise((r) => compareChild?.once('exit', r)), sleep(5000)]);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await Promise.allSettled([warren?.stop(), rabbit?.stop()]);
    log('brokers stopped');
  })();
  return cleaning;
}

stopOnSignals(cleanup, log, (signal) => {
  interrupted = signal;
});

async function main(): Promise<number> {
  const seconds = Number(process.env.SCENARIO_SECONDS ?? '10');
  const rounds = Number(process.env.ROUNDS ?? '1');
  const nConns = Number(process.env.BENCH_CONNECTIONS ?? '1000');
  const docPath = process.env.BENCH_DOC ?? path.join(ROOT, 'docs', 'performance.md');
  const scenarios = process.env.SCENARIOS?.trim() || '';
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const resultsFile = path.join(PERF_DIR, 'build', 'results', `warren-bench-${stamp}.jsonl`);
  let failed = false;
  const loadBefore = os.loadavg();

  log('building Warren (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  log('building amqpperf (../shared/perf/build.sh)');
  const amqpperf = execFileSync(path.join(PERF_DIR, 'build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 2] }).trim();

  log('starting a private RabbitMQ node and Warren on 127.0.0.1');
  [rabbit, warren] = await Promise.all([startRabbitMQ(), startWarren()]);
  const beamPid = findRabbitBeamPid(rabbit.nodeName);
  const rabbitUri = `${rabbit.url}/%2f`;
  const warrenUri = `${warren.url}/%2f`;
  log(`RabbitMQ ${rabbit.nodeName} on port ${rabbit.port} (beam.smp pid ${beamPid}); Warren on port ${warren.port} (pid ${warren.pid})`);

  log(`settling ${SETTLE_MS / 1000} s, then idle RSS and ${nConns} idle connections per broker`);
  await sleep(SETTLE_MS);
  // Both idle figures first (both brokers idle at the same time after start).
  const [warrenIdle, rabbitIdle] = await Promise.all([settledRssKb(warren.pid), settledRssKb(beamPid)]);
  const warrenIdleKb = warrenIdle.kb;
  const rabbitIdleKb = rabbitIdle.kb;
  log(`idle RSS settled: Warren ${(warrenIdleKb / 1024).toFixed(1)} MB after ${Math.round(SETTLE_MS / 1000 + warrenIdle.waitedMs / 1000)} s, RabbitMQ ${(rabbitIdleKb / 1024).toFixed(1)} MB after ${Math.round(SETTLE_MS / 1000 + rabbitIdle.waitedMs / 1000)} s`);
  const rssOpts = { connections: nConns, log: (m: string) => log(m) };
  log('Warren: opening connections');
  const warrenRss = await measureIdleRss(warrenUri, warren.pid, { ...rssOpts, idleKb: warrenIdleKb });
  log('RabbitMQ: opening connections');
  const rabbitRss = await measureIdleRss(rabbitUri, beamPid, { ...rssOpts, idleKb: rabbitIdleKb });
  for (const [label, r] of [['Warren', warrenRss], ['RabbitMQ', rabbitRss]] as const) {
    if (r.error) {
      failed = true;
      log(`${label}: idle-connection measurement failed: ${r.error}`);
    }
  }
  const rss = rssTable(nConns, warrenRss, rabbitRss);

  log(`compare.sh: A = ${LABEL_A}, B = ${LABEL_B}; ${seconds} s per run, ${rounds} round(s), scenarios: ${scenarios || 'all'}`);
  const compareOut = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn(
      path.join(PERF_DIR, 'compare.sh'),
      [rabbitUri, warrenUri, String(beamPid), String(warren?.pid)],
      {
        detached: true, // its own group, so cleanup() can stop it and its amqpperf
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, AMQPPERF: amqpperf, LABEL_A, LABEL_B, RESULTS: resultsFile, SCENARIO_SECONDS: String(seconds), ROUNDS: String(rounds) },
      },
    );
    compareChild = child;
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout }));
  });
  // An interrupted run writes nothing (the handler exits once the brokers are stopped).
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
  if (compareOut.code !== 0) {
    failed = true;
    log(`compare.sh exited ${compareOut.code}`);
  }
  const results = readResults(resultsFile);
  const runSeconds = (Date.now() - t0) / 1000;

  const table = compareTable(results);
  const tgt = targets(results, warrenRss, rabbitRss);
  const tgtTable = ['| target | measured | status |', '|---|---|---|', ...tgt.map((t) => `| ${t.goal} | ${t.measured} | ${t.status} |`)].join('\n');

  process.stdout.write(`\ncompare.sh (A = ${LABEL_A}, B = ${LABEL_B}: B/A = Warren/RabbitMQ, above 1 means Warren is faster)\n`);
  process.stdout.write(compareOut.stdout);
  process.stdout.write(`\nThroughput and latency (Warren/RabbitMQ; p50 from ${path.relative(ROOT, resultsFile)})\n${table}\n`);
  process.stdout.write(`\nIdle memory (broker RSS; RabbitMQ = its beam.smp process)\n${rss}\n`);
  process.stdout.write(`\nTargets\n${tgtTable}\n`);
  process.stdout.write(`\nrun took ${runSeconds.toFixed(0)} s${failed ? '; SOMETHING FAILED (see above)' : ''}\n`);

  if (docPath !== '-') {
    const cpus = os.cpus();
    const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) || 'unknown';
    const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) !== '';
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const envParts = [
      process.env.SCENARIO_SECONDS !== undefined ? `SCENARIO_SECONDS=${seconds}` : '',
      process.env.ROUNDS !== undefined ? `ROUNDS=${rounds}` : '',
      scenarios ? `SCENARIOS="${scenarios}"` : '',
      process.env.BENCH_CONNECTIONS !== undefined ? `BENCH_CONNECTIONS=${nConns}` : '',
    ].filter(Boolean);
    const short = seconds < 10 || rounds < 3;
    const doc = `# Performance: Warren against RabbitMQ

Generated by \`npm run bench\` (bench/compare.ts; see bench/README.md). Each run overwrites this file.

${short ? `> **A short run: ${seconds} s per scenario (${seconds - 1} s measured), ${rounds} round${rounds === 1 ? '' : 's'}.** Single-machine figures vary by 10–30 % between identical runs (../shared/perf/README.md); use \`ROUNDS=3\` and the default 10 s before drawing conclusions.\n\n` : ''}${failed ? '> **Part of this run failed**; see the status columns.\n\n' : ''}## Conditions

| | |
|---|---|
| date | ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} |
| machine | ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} |
| Node | ${process.version} |
| Warren | ${pkg.version}, commit ${commit}${dirty ? ' (with uncommitted changes in src/)' : ''}, \`node ${WARREN_NODE_FLAGS.join(" ")} dist/cli.js --port 0 --host 127.0.0.1\` (the bin's Node flags), default configuration |
| RabbitMQ | ${sh('dpkg-query', ['-W', '-f', '${Version}', 'rabbitmq-server']) || 'unknown'} (Debian package), Erlang/OTP ${otpVersion()}, private node, default configuration (no plugins; disk_free_limit 1MB) |
| load generator | amqpperf (../shared/perf), on the same machine as both brokers |
| command | \`${[...envParts, 'npm run bench'].join(' ')}\` (${seconds} s per scenario, first 1 s excluded; ${rounds} round(s)${rounds > 1 ? ', medians' : ''}) |
| run time | ${runSeconds.toFixed(0)} s |
| load average at start | ${loadBefore.map((x) => x.toFixed(2)).join(', ')} (1, 5, 15 min; anything else running on the machine shares its ${cpus.length} cores with both brokers and amqpperf) |

Both brokers run during the whole bench, on 127.0.0.1; compare.sh runs each scenario against RabbitMQ,
then Warren (the order flips every other round). msg/s is messages received per second by all consumers;
latency is end-to-end (publish to delivery); peak RSS is the broker's during the run. CPU µs/msg is the
broker process's CPU time (user + system, all its threads, from /proc) over the measured window divided by the
messages received in it. amqpperf runs on the same 2 cores: where its own CPU (last column, % of one core)
approaches what the machine has left, the client, not Warren, limits msg/s — CPU µs/msg is then the figure that
says how good Warren is. On these 2 cores amqpperf needs about as much CPU per message as the broker, so
transient-1p1c, transient-ack-q100 and fanout-1p4c are client-bound here; the broker-bound figures, with a raw-frame
client (bench/rawload), are in [performance-saturation.md](performance-saturation.md) (\`npx tsx bench/saturation.ts\`).

## Throughput and latency

Warren/RabbitMQ above 1 means Warren delivered more messages per second.

${table}

compare.sh's own output (A = RabbitMQ, B = Warren, so B/A = Warren/RabbitMQ):

\`\`\`
${compareOut.stdout.trimEnd()}
\`\`\`

## Idle memory

RSS (VmRSS, MiB) once settled after start (at least ${SETTLE_MS / 1000} s, then until two readings 1 s apart in a row move by at most
0.5 MB, 30 s at most), then with ${nConns.toLocaleString('en-US')} idle connections (one channel each, opened in batches of 50 with
amqplib, left idle 20 s and then read once settled the same way), then ${SETTLE_MS / 1000} s after closing them. Settled, because a burst of work grows a
broker's heap for some seconds before the runtime gives the unused part back (V8's young generation; Erlang's
boot-time garbage), and that is not memory the idle connections hold. KB per connection = (RSS with − idle RSS) /
${nConns.toLocaleString('en-US')} (the "just before" column shows how much the idle RSS drifted meanwhile). RabbitMQ's figure is its beam.smp
process (not epmd). Measured before the scenarios, Warren first, then RabbitMQ.

${rss}

## Targets

${tgtTable}
`;
    fs.mkdirSync(path.dirname(docPath), { recursive: true });
    fs.writeFileSync(docPath, doc);
    log(`wrote ${docPath}`);
  }
  return failed ? 1 : 0;
}

await exitAfter(main, cleanup, log);
