import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockCache, StreamLog, type StreamLogOptions, type StreamReader, type StreamRecord } from '../../src/storage/stream-log.js';
import { captureLog, tempDir, waitFor } from './helpers.js';

interface Opened {
  log: StreamLog;
  durable: number[];
  errors: Error[];
  warns: { obj: object; msg: string }[];
  cache: BlockCache;
}

const dirs: string[] = [];
const open: StreamLog[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) await l.close().catch(() => {});
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function fresh(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return path.join(d, 'stream');
}

/** Small blocks and a small cache so a few KB of records exercise every path. */
async function start(dir: string, extra: Partial<StreamLogOptions> = {}, cache = new BlockCache(64 * 1024, 4096)): Promise<Opened> {
  const durable: number[] = [];
  const errors: Error[] = [];
  const w = captureLog();
  const log = await StreamLog.open({
    dir,
    maxSegmentBytes: 16 * 1024,
    onDurable: (o) => durable.push(o),
    onError: (e) => errors.push(e),
    log: w.log,
    cache,
    ...extra,
  });
  open.push(log);
  return { log, durable, errors, warns: w.warns, cache };
}

async function stop(o: Opened): Promise<void> {
  await o.log.close();
  open.splice(open.indexOf(o.log), 1);
}

const props = Buffer.from([0x10, 0x00, 0x02]);

function body(i: number, size = 200): Buffer {
  const b = Buffer.alloc(size, i & 0xff);
  if (size >= 4) b.writeUInt32BE(i >>> 0, 0);
  return b;
}

function appendMany(log: StreamLog, n: number, size = 200, ts = (i: number) => 1_000_000 + i): number {
  let last = -1;
  for (let i = 0; i < n; i++) {
    const next = log.nextOffset;
    last = log.append(ts(next), 'ex', `rk.${next}`, props, body(next, size));
  }
  return last;
}

async function untilDurable(log: StreamLog, offset: number): Promise<void> {
  await waitFor(() => log.durableOffset >= offset);
}

function fill(r: StreamReader): Promise<void> {
  return new Promise((resolve, reject) => r.fill((e) => (e === undefined ? resolve() : reject(e))));
}

/** Reads until nothing is readable (or max records), filling as needed. */
async function drain(r: StreamReader, max = Infinity): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  for (let stalls = 0; out.length < max; ) {
    const rec = r.next();
    if (rec !== undefined) {
      out.push({ ...rec, properties: Buffer.from(rec.properties), body: Buffer.from(rec.body) });
      stalls = 0;
      continue;
    }
    if (r.atEnd) break;
    if (++stalls > 100) throw new Error(`reader stuck at ${r.offset}`);
    await fill(r);
  }
  return out;
}

function expectRecord(rec: StreamRecord, offset: number, size = 200): void {
  expect(rec.offset).toBe(offset);
  expect(rec.exchange).toBe('ex');
  expect(rec.routingKey).toBe(`rk.${offset}`);
  expect(rec.properties.equals(props)).toBe(true);
  expect(rec.body.equals(body(offset, size))).toBe(true);
  expect(rec.timestampMs).toBe(1_000_000 + offset);
}

describe('StreamLog: append and read back', () => {
  it('reads every record back in order across segment rolls, from memory and from disk', async () => {
    const dir = await fresh();
    const o = await start(dir);
    const last = appendMany(o.log, 500);
    expect(last).toBe(499);
    await untilDurable(o.log, last);
    expect(o.log.segmentFirstOffsets.length).toBeGreaterThan(5);
    expect(o.log.messageCount).toBe(500);
    const files = (await fsp.readdir(dir)).filter((n) => n.endsWith('.stream'));
    expect(files.length).toBe(o.log.segmentFirstOffsets.length);
    for (const f of files) expect((await fsp.stat(path.join(dir, f))).size).toBeLessThanOrEqual(16 * 1024);
    const recs = await drain(o.log.reader(0));
    expect(recs.length).toBe(500);
    recs.forEach((r, i) => expectRecord(r, i));
    expect(o.cache.loads).toBeGreaterThan(0); // the 64 KiB cache cannot hold ~120 KB: older blocks came from disk
  });

  it('positions readers at first, middle, end and beyond the end', async () => {
    const o = await start(await fresh());
    await untilDurable(o.log, appendMany(o.log, 300));
    const fromFirst = await drain(o.log.reader(-5), 1);
    expect(fromFirst[0]!.offset).toBe(0);
    const mid = await drain(o.log.reader(137));
    expect(mid.map((r) => r.offset)).toEqual(Array.from({ length: 163 }, (_, i) => 137 + i));
    const atEnd = o.log.reader(300);
    expect(atEnd.atEnd).toBe(true);
    expect(atEnd.next()).toBeUndefined();
    const beyond = o.log.reader(305);
    expect(beyond.atEnd).toBe(true);
    await untilDurable(o.log, appendMany(o.log, 10));
    expect((await drain(atEnd)).map((r) => r.offset)).toEqual([300, 301, 302, 303, 304, 305, 306, 307, 308, 309]);
    expect((await drain(beyond)).map((r) => r.offset)).toEqual([305, 306, 307, 308, 309]);
  });

  it('serves only durable records: nothing before the sync, then everything the sync covered, from memory', async () => {
    const o = await start(await fresh());
    const r = o.log.reader(0);
    const last = appendMany(o.log, 50);
    expect(o.log.durableOffset).toBe(-1);
    expect(o.durable).toEqual([]);
    expect(r.atEnd).toBe(true);
    expect(r.next()).toBeUndefined();
    await untilDurable(o.log, last);
    expect(o.durable).toEqual([49]);
    const loads = o.cache.loads;
    const recs: StreamRecord[] = [];
    for (let rec = r.next(); rec !== undefined; rec = r.next()) recs.push(rec);
    expect(recs.map((x) => x.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(o.cache.loads).toBe(loads); // the live tail came from memory
  });

  it('one write + sync per event-loop turn; onDurable values increase', async () => {
    const o = await start(await fresh(), { maxSegmentBytes: 1_000_000 });
    for (let turn = 0; turn < 10; turn++) {
      appendMany(o.log, 20);
      await new Promise((r) => setImmediate(r));
    }
    await untilDurable(o.log, 199);
    expect(o.durable.length).toBeGreaterThan(1);
    expect(o.durable.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < o.durable.length; i++) expect(o.durable[i]).toBeGreaterThan(o.durable[i - 1]!);
    expect(o.durable[o.durable.length - 1]).toBe(199);
  });

  it('a record larger than a block and than a segment gets a segment of its own and reads back', async () => {
    const dir = await fresh();
    const o = await start(dir);
    appendMany(o.log, 3);
    const big = o.log.append(1_000_003, 'ex', 'rk.3', props, body(3, 40_000));
    appendMany(o.log, 2);
    await untilDurable(o.log, 5);
    expect(o.log.segmentFirstOffsets).toEqual([0, 3, 4]);
    expect(big).toBe(3);
    await stop(o);
    // reopened: nothing cached, the big record is read on its own
    const p = await start(dir);
    const recs = await drain(p.log.reader(0));
    expect(recs.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expectRecord(recs[3]!, 3, 40_000);
    expectRecord(recs[4]!, 4);
  });
});

describe('StreamLog: offsetAtTimestamp', () => {
  it('finds the first chunk holding a message at or after the time; a reader with notBeforeMs starts at that message', async () => {
    const o = await start(await fresh());
    // 10 ms apart: message i stamped 1_000_000 + 10 i
    await untilDurable(o.log, appendMany(o.log, 400, 200, (i) => 1_000_000 + 10 * i));
    expect(o.log.offsetAtTimestamp(0)).toBe(0);
    expect(o.log.offsetAtTimestamp(9_999_999)).toBe(400);
    const at = o.log.offsetAtTimestamp(1_000_000 + 10 * 250);
    expect(at).toBeLessThanOrEqual(250);
    expect(at).toBeGreaterThan(150); // within a 64 KiB index chunk (~290 records) and the segment
    const exact = await drain(o.log.reader(at, 1_000_000 + 10 * 250 - 5), 1);
    expect(exact[0]!.offset).toBe(250);
  });
});

describe('StreamLog: retention', () => {
  it('by bytes: removes whole segments oldest first, never the active one; readers below jump to the new first offset', async () => {
    const dir = await fresh();
    const o = await start(dir);
    const early = o.log.reader(0);
    await untilDurable(o.log, appendMany(o.log, 400));
    expect((await drain(early, 5)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    const before = o.log.segmentFirstOffsets;
    o.log.setRetention(40 * 1024);
    await o.log.applyRetention();
    const after = o.log.segmentFirstOffsets;
    expect(after.length).toBeLessThan(before.length);
    expect(after).toEqual(before.slice(before.length - after.length)); // a suffix: oldest went first
    expect(o.log.diskBytes).toBeLessThanOrEqual(40 * 1024);
    expect(o.log.firstOffset).toBe(after[0]);
    const files = (await fsp.readdir(dir)).filter((n) => n.endsWith('.stream'));
    expect(files.length).toBe(after.length);
    const next = await drain(early, 1);
    expect(next[0]!.offset).toBe(after[0]);
    expect(o.log.reader(0).offset).toBe(0);
    expect((await drain(o.log.reader(0), 1))[0]!.offset).toBe(after[0]);
    // a tiny limit still keeps the active segment
    o.log.setRetention(1);
    await o.log.applyRetention();
    expect(o.log.segmentFirstOffsets).toEqual([after[after.length - 1]]);
    expect(o.log.messageCount).toBe(400 - after[after.length - 1]!);
  });

  it('a fill under way when retention removes its segment completes without error; the reader continues at the first offset', async () => {
    const dir = await fresh();
    const o = await start(dir);
    await untilDurable(o.log, appendMany(o.log, 400));
    await stop(o);
    const p = await start(dir); // a cold cache: the fill has to read the file
    const r = p.log.reader(0);
    const filled = fill(r);
    p.log.setRetention(60 * 1024);
    await filled;
    await p.log.applyRetention();
    expect(p.log.firstOffset).toBeGreaterThan(0);
    expect(p.log.messageCount).toBeGreaterThan(0);
    expect((await drain(r, 1))[0]!.offset).toBe(p.log.firstOffset);
  });

  it('by bytes: evaluated when a segment rolls', async () => {
    const o = await start(await fresh(), { maxBytes: 48 * 1024 });
    for (let i = 0; i < 20; i++) await untilDurable(o.log, appendMany(o.log, 50));
    await o.log.applyRetention();
    expect(o.log.diskBytes).toBeLessThanOrEqual(48 * 1024 + 16 * 1024);
    expect(o.log.firstOffset).toBeGreaterThan(500);
  });

  it('by age: a timer removes segments whose newest message is older than the age, never the active one', async () => {
    const o = await start(await fresh(), { maxAgeMs: 300 });
    await untilDurable(o.log, appendMany(o.log, 300, 200, () => Date.now()));
    expect(o.log.segmentFirstOffsets.length).toBeGreaterThan(3);
    const early = o.log.reader(0);
    expect((await drain(early, 1))[0]!.offset).toBe(0);
    await waitFor(() => o.log.segmentFirstOffsets.length === 1, 3000);
    expect(o.log.firstOffset).toBe(o.log.segmentFirstOffsets[0]);
    expect(o.log.firstOffset).toBeGreaterThan(200);
    const recs = await drain(early);
    expect(recs[0]!.offset).toBe(o.log.firstOffset); // jumped from 1
    expect(recs[recs.length - 1]!.offset).toBe(299);
  });
});

describe('StreamLog: recovery', () => {
  it('after close: every record back, offsets continue, a new segment takes the appends', async () => {
    const dir = await fresh();
    const o = await start(dir);
    appendMany(o.log, 300);
    await stop(o);
    const p = await start(dir);
    expect(p.log.nextOffset).toBe(300);
    expect(p.log.durableOffset).toBe(299);
    expect(p.log.messageCount).toBe(300);
    expect(p.log.firstOffset).toBe(0);
    expect(p.log.append(1_000_300, 'ex', 'rk.300', props, body(300))).toBe(300);
    await untilDurable(p.log, 300);
    const recs = await drain(p.log.reader(0));
    expect(recs.length).toBe(301);
    recs.forEach((r, i) => expectRecord(r, i));
  });

  it('after a crash: a torn tail is truncated, a flipped byte skips that record (logged); durable offsets survive and are not reused', async () => {
    const dir = await fresh();
    const o = await start(dir, { maxSegmentBytes: 1_000_000 });
    await untilDurable(o.log, appendMany(o.log, 100));
    // "kill -9": no close; the file is as the last sync left it
    const [file] = (await fsp.readdir(dir)).filter((n) => n.endsWith('.stream'));
    const f = path.join(dir, file!);
    const size = (await fsp.stat(f)).size;
    // header 12 + fixed 25 + "ex" 2 + routing key + props 3 + body 200; "rk.N" is 4 bytes below 10, 5 from 10
    const small = 12 + 25 + 2 + 4 + 3 + 200;
    const large = small + 1;
    expect(size).toBe(10 * small + 90 * large);
    await fsp.truncate(f, size - 100); // tear the last record
    const bytes = await fsp.readFile(f);
    bytes[10 * small + 150]! ^= 0xff; // inside record 10's body
    await fsp.writeFile(f, bytes);
    open.splice(open.indexOf(o.log), 1);
    const p = await start(dir);
    expect(p.warns.some((w) => w.msg.includes('torn tail truncated'))).toBe(true);
    expect(p.warns.some((w) => w.msg.includes('checksum mismatch'))).toBe(true);
    expect((await fsp.stat(f)).size).toBe(size - large);
    expect(p.log.nextOffset).toBe(99);
    const recs = await drain(p.log.reader(0));
    expect(recs.map((r) => r.offset)).toEqual(Array.from({ length: 99 }, (_, i) => i).filter((i) => i !== 10));
    expect(p.log.append(1, 'ex', 'rk', props, body(1))).toBe(99);
    await o.log.close().catch(() => {});
  });

  it('a damaged header ends that segment\'s readable part (logged); the segments after it still read', async () => {
    const dir = await fresh();
    const o = await start(dir);
    await untilDurable(o.log, appendMany(o.log, 200));
    await stop(o);
    const files = (await fsp.readdir(dir)).filter((n) => n.endsWith('.stream')).sort();
    const second = path.join(dir, files[1]!);
    const firstOfSecond = Number(files[1]!.slice(0, 20));
    const bytes = await fsp.readFile(second);
    const recordBytes = 12 + 25 + 2 + 5 + 3 + 200; // offsets >= 10: "rk.NN"
    bytes[3 * recordBytes]! ^= 0x40; // the length of the segment's fourth record
    await fsp.writeFile(second, bytes);
    const p = await start(dir);
    expect(p.warns.some((w) => w.msg.includes('damaged record header'))).toBe(true);
    expect(p.log.nextOffset).toBe(200);
    const offsets = (await drain(p.log.reader(0))).map((r) => r.offset);
    const lost = Array.from({ length: Number(files[2]!.slice(0, 20)) - firstOfSecond - 3 }, (_, i) => firstOfSecond + 3 + i);
    expect(offsets).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => !lost.includes(i)));
    expect(lost.length).toBeGreaterThan(10);
  });

  it('kill -9 of a writing process: every offset reported durable comes back, offsets continue after them', async () => {
    const dir = await fresh();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'stream-writer.ts'), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let reported = -1;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.startsWith('durable ')) reported = Math.max(reported, Number(l.slice(8)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => reported >= 5_000 || child.exitCode !== null, 20_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(stderr).toBe('');
    expect(reported).toBeGreaterThanOrEqual(5_000);
    const p = await start(dir, { maxSegmentBytes: 256 * 1024 }, new BlockCache(4 * 1024 * 1024, 256 * 1024));
    expect(p.log.nextOffset).toBeGreaterThan(reported);
    expect(p.log.firstOffset).toBe(0);
    const r = p.log.reader(0);
    let expected = 0;
    for (let tries = 0; expected <= reported; ) {
      const rec = r.next();
      if (rec === undefined) {
        if (++tries > 1000) throw new Error(`stuck at ${r.offset}`);
        await fill(r);
        continue;
      }
      expect(rec.offset).toBe(expected);
      expect(rec.body.readUInt32BE(0)).toBe(expected);
      expected++;
      tries = 0;
    }
    expect(p.log.append(1, 'ex', 'rk', props, body(1))).toBe(p.log.nextOffset - 1);
  });

  it('offsets stay taken by an empty newest segment after a crash', async () => {
    const dir = await fresh();
    const o = await start(dir);
    appendMany(o.log, 20);
    await stop(o);
    // a crash right after a roll created the next segment's file, before any record of it
    await fsp.writeFile(path.join(dir, `${String(25).padStart(20, '0')}.stream`), '');
    const p = await start(dir);
    expect(p.log.nextOffset).toBe(25);
    expect(p.log.append(1, 'ex', 'rk', props, body(1))).toBe(25);
  });
});

describe('StreamLog: durability and failure', () => {
  it('a sync error is reported once; later appends get offsets but are never durable nor readable', async () => {
    const o = await start(await fresh(), { maxSegmentBytes: 1_000_000 });
    await untilDurable(o.log, appendMany(o.log, 5));
    const active = (o.log as unknown as { active: { fh: { datasync(): Promise<void> } } }).active;
    active.fh.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    appendMany(o.log, 5);
    await waitFor(() => o.errors.length > 0);
    expect(o.log.failed?.message).toContain('EIO');
    expect(appendMany(o.log, 3)).toBe(12);
    await new Promise((r) => setTimeout(r, 20));
    expect(o.errors.length).toBe(1);
    expect(o.log.durableOffset).toBe(4);
    expect(o.durable).toEqual([4]);
    expect((await drain(o.log.reader(0))).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('StreamLog: shared block cache', () => {
  it('100 readers at different offsets stay within the cache bound; readers at one place read the disk once', async () => {
    const dir = await fresh();
    const o = await start(dir, { maxSegmentBytes: 64 * 1024 });
    await untilDurable(o.log, appendMany(o.log, 2000)); // ~470 KB
    await stop(o);
    // 64 KiB blocks (one per sparse index entry) in a 256 KiB cache: the ~470 KB stream does not fit
    const bound = 256 * 1024;
    const cache = new BlockCache(bound, 64 * 1024);
    const p = await start(dir, {}, cache);
    const readers = Array.from({ length: 100 }, (_, i) => p.log.reader(i * 19));
    let maxBytes = 0;
    const counts = new Array<number>(100).fill(0);
    await Promise.all(
      readers.map(async (r, i) => {
        for (let n = 0; n < 30; n++) {
          let rec = r.next();
          for (let tries = 0; rec === undefined; tries++) {
            if (tries > 20) throw new Error(`reader ${i} stuck at ${r.offset}`);
            await fill(r);
            maxBytes = Math.max(maxBytes, cache.bytes);
            rec = r.next();
          }
          expect(rec.offset).toBe(i * 19 + n);
          expect(rec.body.readUInt32BE(0)).toBe(i * 19 + n);
          counts[i]++;
        }
      }),
    );
    expect(counts.every((c) => c === 30)).toBe(true);
    expect(maxBytes).toBeLessThanOrEqual(bound);
    expect(cache.bytes).toBeLessThanOrEqual(bound);
    // ten readers at one place, reading together: the disk is read once per block between them
    await stop(p);
    const q = await start(dir, {}, new BlockCache(bound, 64 * 1024));
    const loads = q.cache.loads;
    const same = Array.from({ length: 10 }, () => q.log.reader(1700));
    const got = await Promise.all(same.map((r) => drain(r, 20)));
    for (const recs of got) expect(recs.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => 1700 + i));
    expect(q.cache.loads - loads).toBeGreaterThan(0);
    expect(q.cache.loads - loads).toBeLessThanOrEqual(2);
  });
});

describe('StreamLog: guarded retention timer', () => {
  it('an error in the max-age check is logged, not thrown', async () => {
    const o = await start(await fresh(), { maxAgeMs: 200 });
    (o.log as unknown as { expiredSegments(): never }).expiredSegments = () => {
      throw new Error('boom');
    };
    await waitFor(() => o.warns.some((w) => w.msg.includes('retention check failed')), 3000);
    expect(o.log.append(1, 'ex', 'rk', props, body(0))).toBe(0);
  });
});

describe('StreamLog: repositioning', () => {
  it('setting a reader\'s offset moves it, backwards or forwards', async () => {
    const o = await start(await fresh());
    await untilDurable(o.log, appendMany(o.log, 100));
    const r = o.log.reader(90);
    expect((await drain(r, 2)).map((x) => x.offset)).toEqual([90, 91]);
    r.offset = 5;
    expect((await drain(r, 2)).map((x) => x.offset)).toEqual([5, 6]);
    r.offset = 99;
    expect((await drain(r)).map((x) => x.offset)).toEqual([99]);
    expect(r.atEnd).toBe(true);
  });
});

describe('StreamLog: idle streams', () => {
  it('an idle stream holds no block once others need the cache; appends after its tail was evicted read back whole', async () => {
    const cache = new BlockCache(8 * 4096, 4096);
    const logs: Opened[] = [];
    for (let i = 0; i < 20; i++) logs.push(await start(await fresh(), {}, cache));
    // each stream appends a few records into the middle of a block, then goes idle
    for (const o of logs) await untilDurable(o.log, appendMany(o.log, 7));
    expect(cache.bytes).toBeLessThanOrEqual(8 * 4096); // 20 tails would be 80 KiB
    // the first stream's tail is long evicted: appending re-creates it mid-block
    const o = logs[0]!;
    await untilDurable(o.log, appendMany(o.log, 30));
    const recs = await drain(o.log.reader(0));
    expect(recs.length).toBe(37);
    recs.forEach((r, i) => expectRecord(r, i));
    for (const l of logs.slice(1)) expect((await drain(l.log.reader(0))).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('StreamLog: destroy', () => {
  it('closes and removes the directory', async () => {
    const dir = await fresh();
    const o = await start(dir);
    appendMany(o.log, 10);
    await o.log.destroy();
    open.splice(open.indexOf(o.log), 1);
    await expect(fsp.stat(dir)).rejects.toThrow(/ENOENT/);
    expect(o.log.durableOffset).toBe(9); // close flushed first
  });
});
