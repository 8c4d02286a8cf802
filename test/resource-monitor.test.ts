import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Broker } from '../src/broker/broker.js';
import { createLogger } from '../src/logger.js';
import { memoryInUse, startResourceMonitor } from '../src/resource-monitor.js';

const LIMIT = 100 * 1024 * 1024;

describe('resource monitor', () => {
  let dataDir = '';
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'warren-monitor-'));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sets the memory alarm above the watermark and clears it only below 90 % of it', async () => {
    const broker = new Broker();
    let used = LIMIT / 2;
    const limits = { dataDir, diskFreeLimit: 0, memoryHighWatermark: LIMIT / totalmem() };
    const monitor = await startResourceMonitor(broker, limits, createLogger('silent'), () => used);
    try {
      expect(broker.alarms.isSet('memory')).toBe(false);
      used = LIMIT * 1.01;
      vi.advanceTimersByTime(1_000);
      expect(broker.alarms.reason).toBe('low on memory');
      used = LIMIT * 0.95;
      vi.advanceTimersByTime(1_000);
      expect(broker.alarms.isSet('memory'), 'between 90 % and 100 %: still set').toBe(true);
      used = LIMIT * 0.89;
      vi.advanceTimersByTime(1_000);
      expect(broker.alarms.isSet('memory')).toBe(false);
      used = LIMIT * 0.95;
      vi.advanceTimersByTime(1_000);
      expect(broker.alarms.isSet('memory'), 'between 90 % and 100 %: stays clear').toBe(false);
    } finally {
      monitor.stop();
      broker.stop();
    }
  });

  it('holds the disk alarm while the message log waits for space, and re-checks the disk after', async () => {
    const broker = new Broker();
    const limits = { dataDir, diskFreeLimit: 0, memoryHighWatermark: 1 };
    const monitor = await startResourceMonitor(broker, limits, createLogger('silent'), () => 0);
    try {
      expect(broker.alarms.isSet('disk')).toBe(false);
      monitor.storageWaitingForSpace(true);
      expect(broker.alarms.reason).toBe('low on disk');
      monitor.storageWaitingForSpace(false);
      await vi.waitFor(() => expect(broker.alarms.isSet('disk')).toBe(false));
    } finally {
      monitor.stop();
      broker.stop();
    }
  });

  it('counts the V8 heap in use plus memory outside it that JS objects own (every Buffer)', () => {
    // Bracketed by two readings, and with slack: a GC or another allocation may come between the calls.
    const usageBefore = process.memoryUsage();
    const inUse = memoryInUse();
    const usageAfter = process.memoryUsage();
    const figures = [usageBefore.heapUsed + usageBefore.external, usageAfter.heapUsed + usageAfter.external];
    expect(inUse).toBeGreaterThan(Math.min(...figures) - 4 * 1024 * 1024);
    expect(inUse).toBeLessThan(Math.max(...figures) + 4 * 1024 * 1024);
    const before = memoryInUse();
    const body = Buffer.alloc(64 * 1024 * 1024, 1);
    // At least most of the 64 MB: a scavenge in between may free a few MB of other garbage.
    expect(memoryInUse() - before).toBeGreaterThan(body.length - 8 * 1024 * 1024);
    expect(body[body.length - 1]).toBe(1);
  });
});
