/**
 * Stream log figures: append MB/s with group commit (durable: until onDurable
 * covers the last offset), then read-back MB/s from disk (a cold cache) with 1 and
 * with 10 readers going through the stream together, and a live reader that follows
 * the appends (served from the tail blocks in memory). Also cache loads, RSS.
 *
 *   npx tsx bench/stream.bench.ts [messages=500000] [bodyBytes=1024] [perTurn=500]
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockCache, StreamLog, type StreamReader } from '../src/storage/stream-log.js';

const N = Number(process.argv[2] ?? 500_000);
const BODY = Number(process.argv[3] ?? 1024);
const PER_TURN = Number(process.argv[4] ?? 500);
const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'warren-stream-bench-'));
const props = Buffer.from([0x10, 0x00, 0x02]);
const body = Buffer.alloc(BODY, 0x61);
const MB = 1048576;
const turn = () => new Promise<void>((r) => setImmediate(r));

async function open(dir: string, cache: BlockCache): Promise<{ log: StreamLog; syncs: () => number }> {
  let syncs = 0;
  const log = await StreamLog.open({
    dir,
    maxSegmentBytes: 64 * MB,
    cache,
    onDurable: () => {
      syncs++;
    },
    onError: (e) => {
      throw e;
    },
  });
  return { log, syncs: () => syncs };
}

/** Highest cache.bytes seen after a fill, by readAll. */
let cachePeak = 0;

/** Drains readers round-robin until each has read `count` records; returns the bytes of bodies read. */
async function readAll(readers: StreamReader[], count: number, cache?: BlockCache): Promise<number> {
  let bytes = 0;
  const left = readers.map(() => count);
  const pending = new Set<number>();
  let active = readers.length;
  await new Promise<void>((resolve, reject) => {
    const step = (i: number): void => {
      const r = readers[i]!;
      for (;;) {
        if (left[i] === 0) {
          if (--active === 0) resolve();
          return;
        }
        const rec = r.next();
        if (rec === undefined) break;
        bytes += rec.body.length;
        left[i]!--;
      }
      pending.add(i);
      r.fill((err) => {
        pending.delete(i);
        if (cache !== undefined && cache.bytes > cachePeak) cachePeak = cache.bytes;
        if (err !== undefined) reject(err);
        else step(i);
      });
    };
    for (let i = 0; i < readers.length; i++) step(i);
  });
  return bytes;
}

try {
  const dir = path.join(root, 's');
  const cache = new BlockCache();
  const { log, syncs } = await open(dir, cache);

  // append, with a live reader following
  const live = log.reader(0);
  let liveRead = 0;
  const t0 = performance.now();
  let last = -1;
  while (log.nextOffset < N) {
    for (let i = 0; i < PER_TURN && log.nextOffset < N; i++) last = log.append(Date.now(), 'amq.direct', 'bench', props, body);
    for (let rec = live.next(); rec !== undefined; rec = live.next()) liveRead++;
    // a publisher stops when too much is unsynced, as flow control would
    while (log.pendingBytes > 64 * MB) await turn();
    await turn();
  }
  while (log.durableOffset < last) await turn();
  const appendSecs = (performance.now() - t0) / 1000;
  const loadsAfterAppend = cache.loads;
  const rest = N - liveRead;
  await readAll([live], rest);
  const mbs = (N * BODY) / MB;
  console.log(
    `append: ${N} x ${BODY} B in ${appendSecs.toFixed(2)} s = ${Math.round(N / appendSecs)} msg/s, ${(mbs / appendSecs).toFixed(0)} MB/s of bodies durable; ` +
      `${syncs()} syncs; disk ${(log.diskBytes / MB).toFixed(0)} MB; a live reader following read ${liveRead} during the appends with ${loadsAfterAppend} block reads, the last ${rest} after with ${cache.loads - loadsAfterAppend}`,
  );
  await log.close();

  for (const readers of [1, 10]) {
    // reopened with a fresh cache: cold, the pages may still be in the OS cache
    const c = new BlockCache();
    const { log: l } = await open(dir, c);
    const rs = Array.from({ length: readers }, () => l.reader(0));
    const t1 = performance.now();
    cachePeak = 0;
    const bytes = await readAll(rs, N, c);
    const secs = (performance.now() - t1) / 1000;
    console.log(
      `read back, ${readers} reader(s) together: ${(bytes / MB / secs).toFixed(0)} MB/s of bodies in total ` +
        `(${Math.round((N * readers) / secs)} msg/s), ${c.loads} block reads (${((c.loads * c.blockBytes) / MB).toFixed(0)} MB), cache peak ${(cachePeak / MB).toFixed(0)} MB (bound ${(c.maxBytes / MB).toFixed(0)} MB); ` +
        `rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB`,
    );
    for (const r of rs) r.close();
    await l.close();
  }
} finally {
  await fsp.rm(root, { recursive: true, force: true });
}
