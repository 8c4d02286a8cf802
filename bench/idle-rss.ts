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

function assertLoopback(uri: string): void {
  const host = new URL(uri).hostname;
  if (host !== '127.0.0.1') throw new Error(`refusing to connect to ${host}: only 127.0.0.1 is a bench target`);
}

/**
 * Measure RSS, open `connections` connections (one channel each) in
 * batches of `batch`, wait `settleMs`, measure, close them all, measure again.
 * KB per connection is taken against opts.idleKb (e.g. RSS shortly after
 * start) if given, else against the RSS just before opening.
 * The caller has already let the broker settle after start.
 */
export async function measureIdleRss(
  uri: string,
  pid: number,
  opts: { connections?: number; batch?: number; settleMs?: number; idleKb?: number; log?: (msg: string) => void } = {},
): Promise<IdleRssResult> {
  assertLoopback(uri);
  const n = opts.connections ?? 1000;
  const batch = opts.batch ?? 50;
  const settleMs = opts.settleMs ?? 3000;
  const log = opts.log ?? (() => {});
  const beforeKb = await sampleRssKb(pid);
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
    log(`${n} connections open in ${result.openSeconds.toFixed(1)} s; settling ${settleMs / 1000} s`);
    await sleep(settleMs);
    const withKb = await sampleRssKb(pid);
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
