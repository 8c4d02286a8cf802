import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUSY_UTILIZATION, fullCollection, INCREMENTAL_MARKING_ABOVE_BYTES, INCREMENTAL_MARKING_BELOW_BYTES, startGcPacing } from '../src/gc-pacing.js';

describe('GC pacing', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('while busy: incremental marking off on a small heap, on above the upper bound, off again only below the lower one', () => {
    let used = 10 * 1024 * 1024;
    const flags: string[] = [];
    const pacing = startGcPacing({ usedHeap: () => used, setFlags: (f) => flags.push(f), utilization: () => 0.9, collect: () => undefined });
    try {
      // Nothing before the first look.
      expect(flags).toEqual([]);
      vi.advanceTimersByTime(1_000);
      expect(flags).toEqual(['--no-incremental-marking']);
      expect(pacing.incrementalMarking).toBe(false);
      used = INCREMENTAL_MARKING_ABOVE_BYTES - 1;
      vi.advanceTimersByTime(1_000);
      expect(pacing.incrementalMarking).toBe(false);
      used = INCREMENTAL_MARKING_ABOVE_BYTES + 1;
      vi.advanceTimersByTime(1_000);
      expect(flags).toEqual(['--no-incremental-marking', '--incremental-marking']);
      // Between the bounds it stays as it is.
      used = INCREMENTAL_MARKING_BELOW_BYTES + 1;
      vi.advanceTimersByTime(1_000);
      expect(pacing.incrementalMarking).toBe(true);
      used = INCREMENTAL_MARKING_BELOW_BYTES - 1;
      vi.advanceTimersByTime(1_000);
      expect(flags).toEqual(['--no-incremental-marking', '--incremental-marking', '--no-incremental-marking']);
    } finally {
      pacing.stop();
    }
    // Stopping leaves V8's default behind, and the timer is gone.
    expect(flags.at(-1)).toBe('--incremental-marking');
    used = 0;
    vi.advanceTimersByTime(1_000);
    expect(flags.at(-1)).toBe('--incremental-marking');
  });

  it('a nearly idle broker gets incremental marking back and one full collection (at most every 10 s); a busy one loses it again', () => {
    let utilization = 0.9;
    const flags: string[] = [];
    let collections = 0;
    const pacing = startGcPacing({
      usedHeap: () => 10 * 1024 * 1024,
      setFlags: (f) => flags.push(f),
      utilization: () => utilization,
      collect: () => collections++,
    });
    try {
      vi.advanceTimersByTime(1_000);
      expect(pacing.incrementalMarking).toBe(false);
      expect(collections).toBe(0);
      utilization = BUSY_UTILIZATION - 0.01;
      vi.advanceTimersByTime(1_000);
      expect(pacing.incrementalMarking).toBe(true);
      expect(collections).toBe(1);
      utilization = BUSY_UTILIZATION;
      vi.advanceTimersByTime(1_000);
      expect(flags).toEqual(['--no-incremental-marking', '--incremental-marking', '--no-incremental-marking']);
      // Idle again soon after: incremental marking, and the collection once 10 s have passed since the last one.
      utilization = 0;
      vi.advanceTimersByTime(1_000);
      expect(pacing.incrementalMarking).toBe(true);
      expect(collections).toBe(1);
      vi.advanceTimersByTime(7_000);
      expect(collections).toBe(1);
      vi.advanceTimersByTime(1_000);
      expect(collections).toBe(2);
      // Idle on: nothing more to collect.
      vi.advanceTimersByTime(30_000);
      expect(collections).toBe(2);
    } finally {
      pacing.stop();
    }
  });

  it('the bounds are the ones the README gives (24 MB and 48 MB)', () => {
    expect(INCREMENTAL_MARKING_BELOW_BYTES).toBe(24 * 1024 * 1024);
    expect(INCREMENTAL_MARKING_ABOVE_BYTES).toBe(48 * 1024 * 1024);
  });

  it("leaves a busy broker's large heap with V8's default", () => {
    const flags: string[] = [];
    const pacing = startGcPacing({ usedHeap: () => INCREMENTAL_MARKING_BELOW_BYTES * 4, setFlags: (f) => flags.push(f), utilization: () => 1 });
    vi.advanceTimersByTime(1_000);
    pacing.stop();
    expect(flags).toEqual([]);
  });

  it('the full collection is a real one (gc exposed at run time): an unreachable object goes', async () => {
    const collect = fullCollection();
    const ref = ((): WeakRef<object> => new WeakRef({ big: new Array(1000).fill(0) }))();
    // A WeakRef's target lives at least until the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(ref.deref()).toBeUndefined();
  });
  it('an error in a check stops pacing, leaves V8\'s default and is reported, not thrown into the timer', () => {
    const flags: string[] = [];
    const errors: unknown[] = [];
    let failing = false;
    const pacing = startGcPacing({
      usedHeap: () => {
        if (failing) throw new Error('heap statistics unavailable');
        return 1024;
      },
      setFlags: (f) => flags.push(f),
      utilization: () => 0.9,
      collect: () => undefined,
      onError: (error) => errors.push(error),
    });
    vi.advanceTimersByTime(1_000);
    expect(pacing.incrementalMarking).toBe(false);
    failing = true;
    expect(() => vi.advanceTimersByTime(1_000)).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(flags).toEqual(['--no-incremental-marking', '--incremental-marking']);
    expect(pacing.incrementalMarking).toBe(true);
    // The timer is gone: no further checks, no further reports.
    vi.advanceTimersByTime(10_000);
    expect(errors).toHaveLength(1);
    pacing.stop();
  });
});
