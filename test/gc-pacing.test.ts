import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { INCREMENTAL_MARKING_ABOVE_BYTES, INCREMENTAL_MARKING_BELOW_BYTES, startGcPacing } from '../src/gc-pacing.js';

describe('GC pacing', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns incremental marking off on a small heap, on above the upper bound, and off again only below the lower one', () => {
    let used = 10 * 1024 * 1024;
    const flags: string[] = [];
    const pacing = startGcPacing(() => used, (f) => flags.push(f));
    try {
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

  it('the bounds are the ones the README gives (24 MB and 48 MB)', () => {
    expect(INCREMENTAL_MARKING_BELOW_BYTES).toBe(24 * 1024 * 1024);
    expect(INCREMENTAL_MARKING_ABOVE_BYTES).toBe(48 * 1024 * 1024);
  });

  it("leaves a heap that starts large with V8's default", () => {
    const flags: string[] = [];
    const pacing = startGcPacing(() => INCREMENTAL_MARKING_BELOW_BYTES * 4, (f) => flags.push(f));
    vi.advanceTimersByTime(1_000);
    pacing.stop();
    expect(flags).toEqual([]);
  });
});
