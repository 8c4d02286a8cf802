import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageLog, type LogPosition } from '../../src/storage/message-log.js';
import { crc32 } from '../../src/storage/crc32.js';
import { crc32Fallback } from '../../src/storage/crc32.js';
import { body, logFixture, props, segmentFiles, untilDurable } from './helpers.js';

const { fresh, start, stop } = logFixture();

describe('crc32', () => {
  it('native and fallback agree on the check value and on random data', () => {
    const check = Buffer.from('123456789');
    expect(crc32(check, 0, check.length)).toBe(0xcbf43926);
    expect(crc32Fallback(check)).toBe(0xcbf43926);
    const data = Buffer.alloc(4096);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    expect(crc32Fallback(data, 10, 3000)).toBe(crc32(data, 10, 3000));
  });

  it('continues a running CRC over pieces: the CRC of a whole equals that of its parts in order', () => {
    const data = Buffer.from('123456789');
    expect(crc32(data, 4, 9, crc32(data, 0, 4))).toBe(0xcbf43926);
    expect(crc32Fallback(data, 4, 9, crc32Fallback(data, 0, 4))).toBe(0xcbf43926);
  });
});

describe('MessageLog: appends and group commit', () => {
  it('one fdatasync per turn covers every append of that turn; tickets increase', async () => {
    const o = await start(await fresh());
    const tickets: number[] = [];
    for (let i = 1; i <= 1000; i++) tickets.push(o.log.appendPublish(i, ['q'], 'ex', 'rk', props, body(i)).ticket);
    for (let i = 1; i < tickets.length; i++) expect(tickets[i]).toBeGreaterThan(tickets[i - 1]!);
    expect(o.durable).toEqual([]); // nothing is durable synchronously
    expect(o.log.pendingBytes).toBeGreaterThan(1000 * 100);
    await untilDurable(o, tickets[999]!);
    expect(o.durable).toEqual([tickets[999]]);
    expect(o.log.pendingBytes).toBe(0);
  });

  it('appends made while a sync is in flight go in the next batch; onDurable values increase', async () => {
    const o = await start(await fresh());
    let last = 0;
    let msgId = 0;
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 50; i++) last = o.log.appendPublish(++msgId, ['q'], '', 'q', props, body(msgId)).ticket;
      await new Promise((r) => setImmediate(r));
    }
    await untilDurable(o, last);
    expect(o.durable.length).toBeGreaterThan(1);
    expect(o.durable.length).toBeLessThanOrEqual(20);
    for (let i = 1; i < o.durable.length; i++) expect(o.durable[i]).toBeGreaterThan(o.durable[i - 1]!);
    expect(o.durable[o.durable.length - 1]).toBe(last);
  });

  it('rejects a msgId that does not increase', async () => {
    const o = await start(await fresh());
    o.log.appendPublish(5, ['q'], '', 'q', props, body(5));
    expect(() => o.log.appendPublish(5, ['q'], '', 'q', props, body(5))).toThrow(RangeError);
    expect(() => o.log.appendPublish(4, ['q'], '', 'q', props, body(4))).toThrow(RangeError);
  });

  it('a write error is reported once and nothing more is reported durable', async () => {
    const o = await start(await fresh());
    const t1 = o.log.appendPublish(1, ['q'], '', 'q', props, body(1)).ticket;
    await untilDurable(o, t1);
    // the active segment's file now fails every write as a full disk does
    const internals = o.log as unknown as { active: { fh: fsp.FileHandle } };
    const real = internals.active.fh;
    internals.active.fh = await fsp.open('/dev/full', 'w');
    const t2 = o.log.appendPublish(2, ['q'], '', 'q', props, body(2)).ticket;
    for (let i = 0; i < 50 && o.errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(o.errors).toHaveLength(1);
    expect((o.errors[0] as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(o.log.failed).toBe(o.errors[0]);
    o.log.appendPublish(3, ['q'], '', 'q', props, body(3));
    await new Promise((r) => setTimeout(r, 30));
    expect(o.log.durableTicket).toBe(t1);
    expect(Math.max(...o.durable)).toBeLessThan(t2);
    expect(o.errors).toHaveLength(1);
    await internals.active.fh.close();
    internals.active.fh = real;
    await stop(o);
  });
});

describe('MessageLog: reading bodies back', () => {
  it('reads single, batched and multi-part bodies, before and after they reach the file', async () => {
    const dir = await fresh();
    const o = await start(dir);
    const positions: LogPosition[] = [];
    for (let i = 1; i <= 100; i++) positions.push(o.log.appendPublish(i, ['q'], 'ex', 'k', props, body(i, 50 + i)).position);
    const parts = [Buffer.from('hello, '), Buffer.alloc(0), Buffer.from('multi-part '), Buffer.from('world')];
    const multi = o.log.appendPublish(101, ['q'], 'ex', 'k', props, parts);
    // still in the in-memory batch
    const early = await o.log.readBodies([positions[0]!, multi.position]);
    expect(early[0]).toEqual(body(1, 51));
    expect(early[1]!.toString()).toBe('hello, multi-part world');
    await untilDurable(o, multi.ticket);

    const fh = await fsp.open(path.join(dir, (await segmentFiles(dir))[0]!), 'r');
    const proto = Object.getPrototypeOf(fh) as { read: (...args: unknown[]) => unknown };
    await fh.close();
    const spy = vi.spyOn(proto, 'read');
    try {
      const all = await o.log.readBodies(positions);
      expect(spy).toHaveBeenCalledTimes(1); // 100 adjacent records, one read
      all.forEach((b, i) => expect(b).toEqual(body(i + 1, 51 + i)));
      spy.mockClear();
      const some = await o.log.readBodies([positions[3]!, positions[70]!, multi.position]);
      expect(some[0]).toEqual(body(4, 54));
      expect(some[1]).toEqual(body(71, 121));
      expect(some[2]!.toString()).toBe('hello, multi-part world');
    } finally {
      spy.mockRestore();
    }
  });

  it('messages read back from queues interleaved in the log keep only their own records in memory, after recovery too', async () => {
    // 4 queues published round-robin, as `amqpperf --queues 4` does: each queue's
    // records are a quarter of the bytes its merged reads cover. What a queue
    // holds in memory after reading its messages back (its resident head after a
    // restart, a page-in batch) must be about its own records, not the whole reads
    // (before: about 4 times, 301 MB of buffers after restarting 2,000,000 messages).
    const dir = await fresh();
    let o = await start(dir);
    const queues = ['q0', 'q1', 'q2', 'q3'];
    const n = 8_000;
    let ticket = 0;
    for (let i = 1; i <= n; i++) {
      ticket = o.log.appendPublish(i, [queues[i % 4]!], 'ex', queues[i % 4]!, props, body(i, 1_000)).ticket;
      if (i % 1_000 === 0) await new Promise((r) => setImmediate(r));
    }
    await untilDurable(o, ticket);
    await stop(o);
    o = await start(dir);
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // Buffers are freed by a sweeper behind the collection: give it time.
    const collect = async () => {
      gc();
      await new Promise((r) => setTimeout(r, 50));
      gc();
    };
    await collect();
    const before = process.memoryUsage().arrayBuffers;
    const held: Buffer[][] = [];
    let wanted = 0;
    for (const name of queues) {
      const positions = o.recovered.queues.get(name)!.toArray().map((m) => m.position);
      expect(positions).toHaveLength(n / 4);
      const messages = await o.log.readMessages(positions);
      expect(messages.filter((m) => m.msgId % 4 !== queues.indexOf(name) || !m.body.equals(body(m.msgId, 1_000)))).toEqual([]);
      for (const p of positions) wanted += p.length;
      held.push(messages.flatMap((m) => [m.properties, m.body]));
    }
    const distinct = new Set(held.flat().map((b) => b.buffer));
    let bytes = 0;
    for (const b of distinct) bytes += b.byteLength;
    expect(bytes).toBeLessThan(wanted * 1.2);
    // The same, as the process counts it (before: 4 times the records).
    await collect();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(wanted * 2);
    expect(held.flat()).toHaveLength(2 * n);

    // One queue alone: its records fill the reads, which are not copied.
    const own = await fresh();
    const one = await start(own);
    const positions: LogPosition[] = [];
    for (let i = 1; i <= 500; i++) positions.push(one.log.appendPublish(i, ['q'], 'ex', 'q', props, body(i, 1_000)).position);
    await one.log.whenIdle();
    const bodies = await one.log.readBodies(positions);
    expect(new Set(bodies.map((b) => b.buffer)).size).toBe(1);
  });

  it('rejects a damaged record instead of returning wrong bytes', async () => {
    const dir = await fresh();
    const o = await start(dir);
    const r = o.log.appendPublish(1, ['q'], '', 'q', props, body(1, 200));
    await untilDurable(o, r.ticket);
    const file = path.join(dir, (await segmentFiles(dir))[0]!);
    const fh = await fsp.open(file, 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, r.position.offset + r.position.length - 7);
    await fh.close();
    await expect(o.log.readBodies([r.position])).rejects.toThrow(/damaged/);
  });
});

describe('MessageLog: recovery', () => {
  it('recovers unsettled messages per queue in publish order with their metadata', async () => {
    const dir = await fresh();
    const o = await start(dir);
    for (let i = 1; i <= 30; i++) {
      const qs = i % 2 === 0 ? ['even', 'all'] : ['odd', 'all'];
      o.log.appendPublish(i * 10, qs, `ex${i % 3}`, `key.${i}`, Buffer.from([i]), body(i, i));
    }
    await stop(o);
    const o2 = await start(dir);
    const q = o2.recovered.queues;
    expect([...q.keys()].sort()).toEqual(['all', 'even', 'odd']);
    expect(q.get('all')!.toArray().map((m) => m.msgId)).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 10));
    expect(q.get('even')!.toArray().map((m) => m.msgId)).toEqual(Array.from({ length: 15 }, (_, i) => (i + 1) * 20));
    const m7 = q.get('odd')!.toArray().find((m) => m.msgId === 70)!;
    expect(m7).toMatchObject({ bodySize: 7, redelivered: false });
    const [stored7] = await o2.log.readMessages([m7.position]);
    expect(stored7).toMatchObject({ msgId: 70, exchange: 'ex1', routingKey: 'key.7', properties: Buffer.from([7]), body: body(7, 7) });
    expect(o2.recovered.nextMsgId).toBe(301);
    const bodies = await o2.log.readBodies(q.get('all')!.toArray().map((m) => m.position));
    bodies.forEach((b, i) => expect(b).toEqual(body(i + 1, i + 1)));
    // new messages continue after recovery and survive another restart
    o2.log.appendPublish(301, ['all'], '', 'all', props, body(301));
    await stop(o2);
    const o3 = await start(dir);
    expect(o3.recovered.queues.get('all')!.toArray().map((m) => m.msgId).slice(-2)).toEqual([300, 301]);
  });

  it('recovers records cut by the read window, small and larger than the part read ahead or than the window', async () => {
    const dir = await fresh();
    const o = await start(dir, 64 * 1024 * 1024);
    // Sizes that put record ends all around the 8 MB reads: many small ones, one of 3 MB, one of 12 MB.
    const sizes: number[] = [];
    for (let i = 0; i < 40; i++) sizes.push(i === 10 ? 3 * 1024 * 1024 : i === 20 ? 12 * 1024 * 1024 : 700_001 + i * 977);
    for (let i = 0; i < 5_000; i++) sizes.push(1_000 + (i % 50));
    sizes.forEach((size, i) => o.log.appendPublish(i + 1, ['q', i % 2 === 0 ? 'even' : 'odd'], '', 'q', props, body(i + 1, size)));
    await stop(o);
    const o2 = await start(dir, 64 * 1024 * 1024);
    expect(o2.recovered.stats.corrupt).toBe(0);
    const all = o2.recovered.queues.get('q')!;
    expect(all.length).toBe(sizes.length);
    expect(Array.from({ length: all.length }, (_, i) => all.bodySize(i))).toEqual(sizes);
    expect(o2.recovered.queues.get('odd')!.length).toBe(sizes.length / 2);
    const picks = [0, 10, 11, 20, 21, 39, 40, sizes.length - 1];
    const bodies = await o2.log.readBodies(picks.map((i) => all.position(i)));
    bodies.forEach((b, k) => expect(b.equals(body(picks[k]! + 1, sizes[picks[k]!]!))).toBe(true));
  });

  it('settled messages stay settled, per queue', async () => {
    const dir = await fresh();
    const o = await start(dir);
    for (let i = 1; i <= 10; i++) o.log.appendPublish(i, ['a', 'b'], '', '', props, body(i));
    await new Promise((r) => setImmediate(r));
    for (const i of [1, 2, 5]) o.log.appendSettle(i, 'a');
    o.log.appendSettle(10, 'b');
    o.log.appendSettle(10, 'b'); // twice: no effect
    o.log.appendSettle(99, 'a'); // unknown: no effect
    o.log.appendSettle(3, 'nope');
    await stop(o);
    const o2 = await start(dir);
    expect(o2.recovered.queues.get('a')!.toArray().map((m) => m.msgId)).toEqual([3, 4, 6, 7, 8, 9, 10]);
    expect(o2.recovered.queues.get('b')!.toArray().map((m) => m.msgId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('queue deletion settles all of its messages; a queue re-created with that name starts empty', async () => {
    const dir = await fresh();
    const o = await start(dir);
    for (let i = 1; i <= 5; i++) o.log.appendPublish(i, ['gone', 'kept'], '', '', props, body(i));
    o.log.appendDelivered('gone', 5);
    o.log.appendQueueDeleted('gone');
    o.log.appendPublish(6, ['gone'], '', '', props, body(6));
    await stop(o);
    const o2 = await start(dir);
    expect(o2.recovered.queues.get('kept')!.toArray().map((m) => m.msgId)).toEqual([1, 2, 3, 4, 5]);
    expect(o2.recovered.queues.get('gone')!.toArray().map((m) => [m.msgId, m.redelivered])).toEqual([[6, false]]);
  });

  it('delivered watermark: messages up to it come back redelivered; one record per queue per batch', async () => {
    const dir = await fresh();
    const o = await start(dir);
    for (let i = 1; i <= 10; i++) o.log.appendPublish(i, ['q', 'r'], '', '', props, body(i));
    const before = o.log.diskBytes;
    const t1 = o.log.appendDelivered('q', 2);
    const t2 = o.log.appendDelivered('q', 4);
    expect(t2).toBe(t1); // coalesced into the same record
    expect(o.log.diskBytes - before).toBe(12 + 1 + 6 + 2 + 1);
    o.log.appendDelivered('r', 1);
    await new Promise((r) => setImmediate(r));
    o.log.appendSettle(3, 'q');
    await stop(o);
    const o2 = await start(dir);
    expect(o2.recovered.queues.get('q')!.toArray().map((m) => `${m.msgId}${m.redelivered ? 'R' : ''}`)).toEqual([
      '1R', '2R', '4R', '5', '6', '7', '8', '9', '10',
    ]);
    expect(o2.recovered.queues.get('r')!.toArray().filter((m) => m.redelivered).map((m) => m.msgId)).toEqual([1]);
  });

  it('recovers 100,000 messages in bounded time', async () => {
    const dir = await fresh();
    const o = await start(dir, 8 * 1024 * 1024);
    const b = Buffer.alloc(100, 1);
    let t = 0;
    for (let i = 1; i <= 100_000; i++) {
      t = o.log.appendPublish(i, ['big'], 'amq.direct', 'big', props, b).ticket;
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    }
    for (let i = 1; i <= 50_000; i += 2) o.log.appendSettle(i, 'big');
    await untilDurable(o, t);
    await stop(o);
    const t0 = performance.now();
    const o2 = await start(dir, 8 * 1024 * 1024);
    const ms = performance.now() - t0;
    const msgs = o2.recovered.queues.get('big')!.toArray();
    expect(msgs.length).toBe(75_000);
    expect(msgs[0]!.msgId).toBe(2);
    expect(msgs[74_999]!.msgId).toBe(100_000);
    expect(o2.recovered.stats.corrupt).toBe(0);
    expect(ms).toBeLessThan(5000);
  }, 20_000);
});
