import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type { Broker } from './broker/broker.js';
import type { Logger } from './logger.js';

const DISK_CHECK_MS = 5_000;
const MEMORY_CHECK_MS = 1_000;

export interface ResourceLimits {
  dataDir: string;
  /** Free bytes below which the disk alarm is set (RabbitMQ: disk_free_limit, 50 MB). */
  diskFreeLimit: number;
  /** Fraction of the machine's memory above which the memory alarm is set (RabbitMQ: 0.4). */
  memoryHighWatermark: number;
}

export interface ResourceMonitor {
  /** The message log cannot write: the disk alarm stays on. */
  storageFailed(): void;
  stop(): void;
}

/** Sets and clears the broker's disk and memory alarms, as RabbitMQ's alarms do. */
export async function startResourceMonitor(broker: Broker, limits: ResourceLimits, logger: Logger): Promise<ResourceMonitor> {
  const memoryLimit = limits.memoryHighWatermark * totalmem();
  let failed = false;
  let checking = false;

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
      report('disk', failed || free < limits.diskFreeLimit, { freeBytes: free, limitBytes: limits.diskFreeLimit });
    } catch (error) {
      logger.error({ event: 'alarm.disk-check-failed', err: error }, `cannot check free disk space: ${(error as Error).message}`);
    } finally {
      checking = false;
    }
  };
  const checkMemory = (): void => {
    const rss = process.memoryUsage.rss();
    report('memory', rss > memoryLimit, { rssBytes: rss, limitBytes: Math.round(memoryLimit) });
  };

  await checkDisk();
  checkMemory();
  const diskTimer = setInterval(() => void checkDisk(), DISK_CHECK_MS).unref();
  const memoryTimer = setInterval(checkMemory, MEMORY_CHECK_MS).unref();
  return {
    storageFailed() {
      failed = true;
      report('disk', true, { reason: 'message log write failed' });
    },
    stop() {
      clearInterval(diskTimer);
      clearInterval(memoryTimer);
    },
  };
}
