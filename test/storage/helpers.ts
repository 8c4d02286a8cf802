import * as fsp from 'node:fs/promises';
import { afterEach } from 'vitest';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageLog, type MessageLogOptions, type RecoveredState } from '../../src/storage/message-log.js';

export async function tempDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'warren-storage-'));
}

export interface Warnings {
  warns: { obj: object; msg: string }[];
  log: NonNullable<MessageLogOptions['log']>;
}

export function captureLog(): Warnings {
  const warns: { obj: object; msg: string }[] = [];
  return { warns, log: { warn: (obj, msg) => warns.push({ obj, msg }), info: () => {} } };
}

export interface Opened {
  log: MessageLog;
  recovered: RecoveredState;
  durable: number[];
  errors: Error[];
  warns: { obj: object; msg: string }[];
}

export async function openLog(dir: string, extra: Partial<MessageLogOptions> = {}): Promise<Opened> {
  const durable: number[] = [];
  const errors: Error[] = [];
  const w = captureLog();
  const { log, recovered } = await MessageLog.open({
    dir,
    onDurable: (t) => durable.push(t),
    onError: (e) => errors.push(e),
    log: w.log,
    ...extra,
  });
  return { log, recovered, durable, errors, warns: w.warns };
}

/** Resolves once onDurable has reported `ticket`. */
export async function untilDurable(o: Opened, ticket: number, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (o.log.durableTicket < ticket) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`ticket ${ticket} not durable after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((n) => n.endsWith('.wlog')).sort();
}

export { waitFor } from '../wait-for.js';

export const props = Buffer.from([0x10, 0x00, 0x02]); // flags: delivery-mode, value 2

export function body(i: number, size = 100): Buffer {
  const b = Buffer.alloc(size, i & 0xff);
  if (size >= 4) b.writeUInt32BE(i >>> 0, 0);
  return b;
}

/**
 * Logs and temp dirs for one test file: fresh() makes a dir, start() opens a
 * log in it, stop() closes one; whatever is left is closed and removed after each test.
 */
export function logFixture(): {
  fresh(): Promise<string>;
  start(dir: string, segmentBytes?: number): Promise<Opened>;
  stop(o: Opened): Promise<void>;
} {
  const dirs: string[] = [];
  const open: Opened[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.log.close().catch(() => {});
    for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
  });
  return {
    async fresh() {
      const d = await tempDir();
      dirs.push(d);
      return d;
    },
    async start(dir, segmentBytes) {
      const o = await openLog(dir, segmentBytes === undefined ? {} : { segmentBytes });
      open.push(o);
      return o;
    },
    async stop(o) {
      await o.log.close();
      open.splice(open.indexOf(o), 1);
    },
  };
}
