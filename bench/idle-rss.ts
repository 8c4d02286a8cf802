/**
 * Idle memory of a broker: RSS shortly after start, then with N idle AMQP
 * connections (one channel each), then after they are closed.
 *
 * Used by bench/compare.ts; runnable alone against a running broker:
 *   npx tsx bench/idle-rss.ts <amqp-uri> <broker-pid> [connections]
 * Only 127.0.0.1 is ever a target.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';

export interface IdleRssResult {
  /** Idle RSS the per-connection figure is taken against, MiB (opts.idleKb, else beforeMb). */
  idleMb: number;
  /** RSS sampled just before opening the connections, MiB. */
  beforeMb: number;
  /** RSS with `connections` idle connections open, MiB. */
  withMb: number | null;
  /** RSS a few seconds after they were closed, MiB. */
  afterCloseMb: number | null;
  connections: number;
  /** (withMb - idleMb) / connections, in KiB. */
  kbPerConnection: number | null;
  openSeconds: number | null;
  error: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** VmRSS of a process in KiB, from /proc. Throws if the process is gone. */
export function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** A process's RSS in MiB now, NaN if /proc has no figure for it. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]) / 1024;
}

/** Median of `samples` RSS readings taken `intervalMs` apart, in KiB. */
export async function sampleRssKb(pid: number, samples = 5, intervalMs = 200): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(intervalMs);
    values.push(rssKb(pid));
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] as number;
}

/**
 * How long the connections stay idle before RSS is read: V8 gives back the young generation that opening them grew
 * (8 -> 16 MB) 10-15 s after the burst, at Warren's idle-time collection (src/gc-pacing.ts); readings 3 s after it
 * varied by 6 KB per connection between runs of one build. Both brokers get the same wait.
 */
const IDLE_MS = 20_000;

/** Two readings this close (KiB) count as settled: 0.5 MB, well under what 1,000 connections hold (12+ MB). */
const SETTLED_KB = 512;

/**
 * RSS once it has settled, in KiB: a median reading (sampleRssKb) every second until two in a row are each within
 * SETTLED_KB of the one before, or `maxMs` has passed (then the last reading). A burst of work (start-up, opening
 * connections) grows a broker's heap for some seconds before the runtime gives the unused part back — V8's young
 * generation doubles under allocation and shrinks ~10 s after it stops; Erlang frees boot-time garbage — and
 * memory that is about to be given back is not what idle connections hold.
 */
export async function settledRssKb(pid: number, maxMs = 30_000): Promise<{ kb: number; waitedMs: number }> {
  const started = Date.now();
  let last = await sampleRssKb(pid);
  let steady = 0;
  while (steady < 2 && Date.now() - started < maxMs) {
    await sleep(1000);
    const now = await sampleRssKb(pid);
    steady = Math.abs(now - last) <= SETTLED_KB ? steady + 1 : 0;
    last = now;
  }
  return { kb: last, waitedMs: Date.now() - started };
}

function assertLoopback(uri: string): void {
  const host = new URL(uri).hostname;
  if (host !== '127.0.0.1') throw new Error(`refusing to connect to ${host}: only 127.0.0.1 is a bench target`);
}

/**
 * Measure RSS, open `connections` connections (one channel each) in
 * batches of `batch`, leave them idle IDLE_MS (or `idleMs`, at least `settleMs`) and then until RSS has settled
 * (settledRssKb), measure, close them all, wait
 * `settleMs`, measure again. KB per connection is taken against opts.idleKb (the settled idle RSS after start) if
 * given, else against the RSS just before opening.
 * The caller has already let the broker settle after start.
 */
export async function measureIdleRss(
  uri: string,
  pid: number,
  opts: { connections?: number; batch?: number; settleMs?: number; idleMs?: number; idleKb?: number; log?: (msg: string) => void } = {},
): Promise<IdleRssResult> {
  assertLoopback(uri);
  const n = opts.connections ?? 1000;
  const batch = opts.batch ?? 50;
  const settleMs = opts.settleMs ?? 3000;
  const log = opts.log ?? (() => {});
  const beforeKb = (await settledRssKb(pid)).kb;
  const idleKb = opts.idleKb ?? beforeKb;
  const result: IdleRssResult = {
    idleMb: idleKb / 1024,
    beforeMb: beforeKb / 1024,
    withMb: null,
    afterCloseMb: null,
    connections: n,
    kbPerConnection: null,
    openSeconds: null,
    error: null,
  };
  const conns: amqp.ChannelModel[] = [];
  try {
    const t0 = Date.now();
    for (let i = 0; i < n; i += batch) {
      const k = Math.min(batch, n - i);
      const opened = await Promise.allSettled(
        Array.from({ length: k }, async () => {
          const c = await amqp.connect(uri, { timeout: 15_000 });
          c.on('error', () => {});
          conns.push(c);
          const ch = await c.createChannel();
          ch.on('error', () => {});
        }),
      );
      const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw new Error(`opening connection ${i + 1}..${i + k} of ${n}: ${(failed.reason as Error).message}`);
    }
    result.openSeconds = (Date.now() - t0) / 1000;
    const idleMs = Math.max(settleMs, opts.idleMs ?? IDLE_MS);
    log(`${n} connections open in ${result.openSeconds.toFixed(1)} s; idle ${idleMs / 1000} s, then until RSS holds still`);
    await sleep(idleMs);
    const settled = await settledRssKb(pid);
    log(`RSS settled after ${Math.round(settled.waitedMs / 1000)} s more`);
    const withKb = settled.kb;
    result.withMb = withKb / 1024;
    if (n > 0) result.kbPerConnection = (withKb - idleKb) / n;
    else result.error = 'not measured: 0 connections asked for';
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    for (let i = 0; i < conns.length; i += batch) {
      await Promise.allSettled(conns.slice(i, i + batch).map((c) => c.close()));
    }
  }
  if (result.error === null) {
    await sleep(settleMs);
    result.afterCloseMb = (await sampleRssKb(pid)) / 1024;
  }
  return result;
}

// Standalone: npx tsx bench/idle-rss.ts <uri> <pid> [connections]
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [uri, pidArg, nArg] = process.argv.slice(2);
  if (!uri || !pidArg) {
    console.error('usage: npx tsx bench/idle-rss.ts <amqp-uri on 127.0.0.1> <broker-pid> [connections=1000]');
    process.exit(2);
  }
  const r = await measureIdleRss(uri, Number(pidArg), { connections: nArg ? Number(nArg) : 1000, log: (m) => console.error(m) });
  console.log(JSON.stringify(r));
  process.exit(r.error === null ? 0 : 1);
}
