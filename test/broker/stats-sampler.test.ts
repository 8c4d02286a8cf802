import { afterEach, describe, expect, it, vi } from 'vitest';
import { startStatsSampler } from '../../src/broker/stats.js';

describe('startStatsSampler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports an error thrown while sampling and samples again at the next tick', () => {
    vi.useFakeTimers();
    const reported: string[] = [];
    let calls = 0;
    const stop = startStatsSampler(
      () => {
        calls++;
        if (calls === 2) throw new Error('boom');
      },
      (error, what) => reported.push(`${what}: ${(error as Error).message}`),
      1000,
    );
    expect(calls).toBe(1);
    // Before the guard, this throw escaped from the timer (an uncaught exception that ends an embedding process).
    vi.advanceTimersByTime(1000);
    expect(reported).toEqual(['sampling message statistics: boom']);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(3);
    stop();
    vi.advanceTimersByTime(5000);
    expect(calls).toBe(3);
  });
});
