import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Broker } from './broker/broker.js';
import type { Logger } from './logger.js';

const DISK_CHECK_MS = 5_000;
const MEMORY_CHECK_MS = 1_000;
/**
 * The memory alarm clears once use is back below this share of the limit:
 * the measure moves with every garbage collection, and without a margin a
 * broker hovering at the limit would block and unblock its publishers every
 * second.
 */
const MEMORY_CLEAR_BELOW = 0.9;

/**
 * Dead messages count until V8 collects them, and an idle V8 may leave a
 * drained queue's messages uncollected for 15 s or more: before the monitor
 * sets the memory alarm or keeps it on, it collects garbage and measures
 * again. A collection is not repeated before this many times its own duration
 * has passed, so a large live heap costs at most ~5 % of a core.
 */
const COLLECTION_SPACING = 20;

/** V8's full collection, made callable without starting Node with --expose-gc. */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * The memory the broker holds: the V8 heap in use plus memory outside it that
 * JS objects own (`external`, which already includes `arrayBuffers`, i.e. every
 * Buffer holding a message body). Unlike RSS, this falls as soon as a drained
 * queue's messages are collected: the allocator keeps freed pages mapped, so
 * RSS stays at its peak and an alarm based on it would never clear.
 */
export function memoryInUse(): number {
  // The same two figures as process.memoryUsage()'s heapUsed and external, without the RSS it also reads from
  // /proc (a file open, read and close): ~1 µs instead of ~11, and this runs every second next to the traffic.
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
}

export interface ResourceLimits {
  dataDir: string;
  /** Free bytes below which the disk alarm is set (RabbitMQ: disk_free_limit, 50 MB). */
  diskFreeLimit: number;
  /**
   * Fraction of the machine's memory above which the memory alarm is set
   * (RabbitMQ: vm_memory_high_watermark, 0.4 of total memory); it clears below
   * MEMORY_CLEAR_BELOW of that.
   */
  memoryHighWatermark: number;
}

export interface ResourceMonitor {
  /** The last measures, for metrics: memory the alarm counts and its limit, free disk and its limit (bytes). */
  readonly readings: ResourceReadings;
  /** The message log cannot write: the disk alarm stays on. */
  storageFailed(): void;
  /** The message log waits for space to start writing: the disk alarm is on until it has started. */
  storageWaitingForSpace(waiting: boolean): void;
  stop(): void;
}

export interface ResourceReadings {
  memoryUsed: number;
  memoryLimit: number;
  diskFree: number;
  diskFreeLimit: number;
}

/** Sets and clears the broker's disk and memory alarms, as RabbitMQ's alarms do. */
export async function startResourceMonitor(
  broker: Broker,
  limits: ResourceLimits,
  logger: Logger,
  measureMemory: () => number = memoryInUse,
): Promise<ResourceMonitor> {
  const memoryLimit = limits.memoryHighWatermark * totalmem();
  const collectGarbage = fullCollection();
  let nextCollection = 0;
  let failed = false;
  let waitingForSpace = false;
  let checking = false;
  const readings: ResourceReadings = { memoryUsed: 0, memoryLimit: Math.round(memoryLimit), diskFree: 0, diskFreeLimit: limits.diskFreeLimit };

  const report = (resource: 'disk' | 'memory', on: boolean, details: object): void => {
    if (broker.alarms.isSet(resource) === on) return;
    broker.alarms.set(resource, on);
    if (on) logger.warn({ event: 'alarm.set', resource, ...details }, `${resource} alarm set: publishers are blocked`);
    else logger.info({ event: 'alarm.cleared', resource, ...details }, `${resource} alarm cleared`);
  };

  const checkDisk = async (): Promise<void> => {
    if (checking) return;
    checking = true;
    try {
      const stats = await statfs(limits.dataDir);
      const free = stats.bavail * stats.bsize;
      readings.diskFree = free;
      report('disk', failed || waitingForSpace || free < limits.diskFreeLimit, { freeBytes: free, limitBytes: limits.diskFreeLimit });
    } catch (error) {
      logger.error({ event: 'alarm.disk-check-failed', err: error }, `cannot check free disk space: ${(error as Error).message}`);
    } finally {
      checking = false;
    }
  };
  const checkMemory = (): void => {
    const threshold = broker.alarms.isSet('memory') ? memoryLimit * MEMORY_CLEAR_BELOW : memoryLimit;
    let used = measureMemory();
    if (used > threshold && performance.now() >= nextCollection) {
      const started = performance.now();
      collectGarbage();
      nextCollection = performance.now() + COLLECTION_SPACING * (performance.now() - started);
      used = measureMemory();
    }
    readings.memoryUsed = used;
    report('memory', used > threshold, { usedBytes: used, limitBytes: Math.round(memoryLimit) });
  };

  await checkDisk();
  checkMemory();
  const diskTimer = setInterval(() => void checkDisk(), DISK_CHECK_MS).unref();
  const memoryTimer = setInterval(checkMemory, MEMORY_CHECK_MS).unref();
  return {
    readings,
    storageFailed() {
      failed = true;
      report('disk', true, { reason: 'message log write failed' });
    },
    storageWaitingForSpace(waiting) {
      waitingForSpace = waiting;
      if (waiting) report('disk', true, { reason: 'no space to write the message log' });
      else void checkDisk();
    },
    stop() {
      clearInterval(diskTimer);
      clearInterval(memoryTimer);
    },
  };
}
