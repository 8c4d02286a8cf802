import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogPosition } from '../../src/storage/message-log.js';
import { body, logFixture, props, segmentFiles, waitFor } from './helpers.js';

const { fresh, start, stop } = logFixture();

/** A closed log of n messages to queue 'q' in one segment; returns their positions. */
async function writeMessages(n: number, segmentBytes?: number): Promise<{ dir: string; positions: LogPosition[] }> {
  const dir = await fresh();
  const o = await start(dir, segmentBytes);
  const positions: LogPosition[] = [];
  for (let i = 1; i <= n; i++) positions.push(o.log.appendPublish(i, ['q'], '', 'q', props, body(i, 300)).position);
  await stop(o);
  return { dir, positions };
}

function file(dir: string, segment: number): string {
  return path.join(dir, `${String(segment).padStart(10, '0')}.wlog`);
}

async function patch(f: string, offset: number, xor: number): Promise<void> {
  const fh = await fsp.open(f, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, offset);
  b[0]! ^= xor;
  await fh.write(b, 0, 1, offset);
  await fh.close();
}

describe('MessageLog recovery from damage', () => {
  it('torn tail: the partial last record is truncated away and the rest recovered', async () => {
    const cuts = [1, 5, 11, 12, 13, 100, 311];
    for (const cut of cuts) {
      const { dir, positions } = await writeMessages(20);
      const last = positions[19]!;
      const f = file(dir, last.segment);
      expect((await fsp.stat(f)).size).toBe(last.offset + last.length);
      await fsp.truncate(f, last.offset + Math.min(cut, last.length - 1));
      const o = await start(dir);
      const ids = o.recovered.queues.get('q')!.toArray().map((m) => m.msgId);
      expect(ids, `cut at ${cut}`).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
      expect(o.recovered.stats.truncatedBytes).toBe(Math.min(cut, last.length - 1));
      expect((await fsp.stat(f)).size).toBe(last.offset);
      expect(o.warns.some((w) => /torn tail/.test(w.msg))).toBe(true);
      // the log goes on: new messages after the cut survive the next restart
      o.log.appendPublish(o.recovered.nextMsgId, ['q'], '', 'q', props, body(99));
      await stop(o);
      const o2 = await start(dir);
      expect(o2.recovered.queues.get('q')!.toArray().map((m) => m.msgId)).toEqual([...ids, 20]);
      expect(o2.recovered.stats.truncatedBytes).toBe(0);
      await stop(o2);
    }
  });

  it('a record with a bad checksum is skipped by its length; the others are recovered', async () => {
    const { dir, positions } = await writeMessages(20);
    const p = positions[9]!;
    await patch(file(dir, p.segment), p.offset + p.length - 20, 0x40); // a body byte of message 10
    const o = await start(dir);
    const ids = o.recovered.queues.get('q')!.toArray().map((m) => m.msgId);
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1).filter((i) => i !== 10));
    expect(o.recovered.stats.corrupt).toBe(1);
    expect(o.warns.some((w) => /checksum/.test(w.msg))).toBe(true);
    const bodies = await o.log.readBodies(o.recovered.queues.get('q')!.toArray().map((m) => m.position));
    expect(bodies[9]).toEqual(body(11, 300));
  });

  it('a damaged length stops that segment; the next segments are still recovered', async () => {
    // ~2 messages of 300 bytes per segment
    const { dir, positions } = await writeMessages(12, 800);
    const p = positions[4]!; // message 5
    const sameSegment = positions.filter((q) => q.segment === p.segment).length;
    expect(sameSegment).toBeGreaterThan(1);
    await patch(file(dir, p.segment), p.offset + 1, 0x01); // a bit of the length word
    const o = await start(dir, 800);
    const ids = o.recovered.queues.get('q')!.toArray().map((m) => m.msgId);
    const lost = positions
      .map((q, i) => ({ q, id: i + 1 }))
      .filter(({ q }) => q.segment === p.segment && q.offset >= p.offset)
      .map(({ id }) => id);
    expect(lost).toContain(5);
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => i + 1).filter((i) => !lost.includes(i)));
    expect(ids).toContain(12);
    expect(o.warns.some((w) => /damaged record header/.test(w.msg))).toBe(true);
  });

  it('a missing segment file is logged; the other segments are recovered', async () => {
    const { dir, positions } = await writeMessages(12, 800);
    const segs = [...new Set(positions.map((p) => p.segment))];
    expect(segs.length).toBeGreaterThanOrEqual(3);
    const victim = segs[1]!;
    await fsp.unlink(file(dir, victim));
    const o = await start(dir, 800);
    const expected = positions.map((p, i) => ({ p, id: i + 1 })).filter(({ p }) => p.segment !== victim).map(({ id }) => id);
    expect(o.recovered.queues.get('q')!.toArray().map((m) => m.msgId)).toEqual(expected);
    expect(o.recovered.stats.missingSegments).toBe(1);
    expect(o.warns.some((w) => /missing/.test(w.msg) && (w.obj as { segment: number }).segment === victim)).toBe(true);
    // and a clean restart after that does not complain again
    await stop(o);
    const o2 = await start(dir, 800);
    expect(o2.recovered.stats.missingSegments).toBe(0);
  });

  it('garbage appended to a segment (zeros after a crash) loses nothing before it', async () => {
    const { dir, positions } = await writeMessages(5);
    const f = file(dir, positions[0]!.segment);
    await fsp.appendFile(f, Buffer.alloc(4096));
    const o = await start(dir);
    expect(o.recovered.queues.get('q')!.toArray().map((m) => m.msgId)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('MessageLog segment deletion', () => {
  it('deletes a segment once all of its messages are settled', async () => {
    const dir = await fresh();
    const o = await start(dir, 1000);
    const pos: LogPosition[] = [];
    for (let i = 1; i <= 10; i++) pos.push(o.log.appendPublish(i, ['q'], '', 'q', props, body(i, 400)).position);
    await o.log.whenIdle();
    const first = pos[0]!.segment;
    const inFirst = pos.map((p, i) => ({ p, id: i + 1 })).filter(({ p }) => p.segment === first).map(({ id }) => id);
    expect(await segmentFiles(dir)).toContain(path.basename(file(dir, first)));
    const bytesBefore = o.log.diskBytes;
    for (const id of inFirst) o.log.appendSettle(id, 'q');
    await o.log.whenIdle();
    expect(await segmentFiles(dir)).not.toContain(path.basename(file(dir, first)));
    expect(o.log.segmentIds).not.toContain(first);
    expect(o.log.diskBytes).toBeLessThan(bytesBefore);
    await expect(o.log.readBodies([pos[0]!])).rejects.toThrow(/gone/);
    for (let i = inFirst.length + 1; i <= 10; i++) o.log.appendSettle(i, 'q');
    await o.log.whenIdle();
    // only the active segment is left
    expect(o.log.segmentIds).toHaveLength(1);
    expect(await segmentFiles(dir)).toHaveLength(1);
    await stop(o);
    const o2 = await start(dir, 1000);
    expect(o2.recovered.queues.size).toBe(0);
    expect(o2.recovered.stats.missingSegments).toBe(0);
    expect(o2.warns).toEqual([]);
  });

  it('keeps a settled segment whose settle records refer to a live earlier segment', async () => {
    const dir = await fresh();
    const o = await start(dir, 1000);
    // segment A: messages 1 and 2
    const p1 = o.log.appendPublish(1, ['q'], '', 'q', props, body(1, 400)).position;
    const p2 = o.log.appendPublish(2, ['q'], '', 'q', props, body(2, 400)).position;
    expect(p2.segment).toBe(p1.segment);
    // segment B: message 3, then settle 3 and 2 (the settle of 2 lives in B, refers to A)
    const p3 = o.log.appendPublish(3, ['q'], '', 'q', props, body(3, 400)).position;
    expect(p3.segment).toBe(p1.segment + 1);
    o.log.appendSettle(3, 'q');
    o.log.appendSettle(2, 'q');
    // segment C: message 4, so B is no longer the active segment
    const p4 = o.log.appendPublish(4, ['q'], '', 'q', props, body(4, 600)).position;
    expect(p4.segment).toBe(p3.segment + 1);
    await o.log.whenIdle();
    await new Promise((r) => setTimeout(r, 20));
    await o.log.whenIdle();
    // B has no live message, but deleting it would resurrect message 2
    expect(o.log.segmentIds).toContain(p3.segment);
    expect(o.log.segmentIds).toContain(p1.segment);
    await stop(o);

    const o2 = await start(dir, 1000);
    expect(o2.recovered.queues.get('q')!.toArray().map((m) => m.msgId)).toEqual([1, 4]);
    expect(o2.log.segmentIds).toContain(p3.segment);
    // settling 1 frees A, which then frees B
    o2.log.appendSettle(1, 'q');
    await o2.log.whenIdle();
    expect(o2.log.segmentIds).not.toContain(p1.segment);
    expect(o2.log.segmentIds).not.toContain(p3.segment);
    await stop(o2);
    const o3 = await start(dir, 1000);
    expect(o3.recovered.queues.get('q')!.toArray().map((m) => m.msgId)).toEqual([4]);
    expect(o3.recovered.stats.missingSegments).toBe(0);
  });

  it('carries a queue watermark forward before deleting the segment that held it', async () => {
    const dir = await fresh();
    const o = await start(dir, 1000);
    o.log.appendPublish(1, ['q'], '', 'q', props, body(1, 400));
    o.log.appendPublish(2, ['other'], '', 'q', props, body(2, 400));
    const p3 = o.log.appendPublish(3, ['other'], '', 'q', props, body(3, 400)).position; // new segment
    o.log.appendDelivered('q', 1); // watermark lives in p3's segment
    o.log.appendPublish(4, ['other'], '', 'q', props, body(4, 600)); // another segment
    await o.log.whenIdle();
    o.log.appendSettle(3, 'other');
    await waitFor(async () => {
      await o.log.whenIdle();
      return !o.log.segmentIds.includes(p3.segment);
    });
    expect(o.log.segmentIds).not.toContain(p3.segment);
    await stop(o);
    const o2 = await start(dir, 1000);
    expect(o2.recovered.queues.get('q')!.toArray().map((m) => [m.msgId, m.redelivered])).toEqual([[1, true]]);
  });
});
