// The message log on a file system with no free byte: a real one, a small
// tmpfs mounted for the test (root only; skipped with the reason otherwise).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { body, openLog, props, tempDir, untilDurable, waitFor, type Opened } from './helpers.js';

function cannotMount(): string | null {
  const probe = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'warren-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'warren-probe', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a small tmpfs (needs root): ${(err as Error).message.split('\n')[0]}`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const reason = cannotMount();
const opened: Opened[] = [];
let root = '';
let mountPoint = '';

afterEach(async () => {
  for (const o of opened.splice(0)) await o.log.close().catch(() => {});
  if (mountPoint !== '') execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  mountPoint = '';
  if (root !== '') await fsp.rm(root, { recursive: true, force: true });
  root = '';
});

/** A 1 MiB file system holding `dir` and a filler that takes every free byte; returns the filler. */
async function fullFileSystem(): Promise<{ dir: string; filler: string }> {
  root = await tempDir();
  mountPoint = path.join(root, 'fs');
  await fsp.mkdir(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'warren-log-test', mountPoint], { stdio: 'pipe' });
  const dir = path.join(mountPoint, 'messages');
  await fsp.mkdir(dir);
  const filler = path.join(mountPoint, 'filler');
  const fd = fs.openSync(filler, 'w');
  for (const size of [65536, 4096, 1]) {
    const chunk = Buffer.alloc(size);
    for (;;) {
      try {
        fs.writeSync(fd, chunk);
      } catch {
        break;
      }
    }
  }
  fs.closeSync(fd);
  return { dir, filler };
}

describe.skipIf(reason !== null)(`MessageLog with no space${reason === null ? '' : ` [SKIPPED: ${reason}]`}`, () => {
  it('opens, holds appends in memory (readable, never durable), and writes them once space returns', async () => {
    const { dir, filler } = await fullFileSystem();
    const noSpace: Error[] = [];
    let writable = 0;
    const o = await openLog(dir, { onNoSpace: (e) => noSpace.push(e), onWritable: () => writable++ });
    opened.push(o);
    expect(noSpace.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOSPC']);
    expect(o.log.failed).toBeUndefined();
    const { ticket, position } = o.log.appendPublish(1, ['q'], '', 'q', props, body(1));
    o.log.appendPublish(2, ['q'], '', 'q', props, body(2));
    const settled = o.log.appendSettle(2, 'q');
    expect((await o.log.readMessages([position]))[0]!.body).toEqual(body(1));
    await new Promise((r) => setTimeout(r, 1_500)); // a retry passes: still no space, still nothing durable
    expect(o.log.durableTicket).toBeLessThan(ticket);
    expect(writable).toBe(0);

    await fsp.rm(filler);
    await waitFor(() => writable === 1, 5_000);
    await untilDurable(o, settled);
    expect(o.errors).toEqual([]);
    await o.log.close();

    const again = await openLog(dir);
    opened.push(again);
    expect(again.recovered.queues.get('q')?.toArray().map((m) => m.msgId)).toEqual([1]);
  });

  it('closes while it still waits for space', async () => {
    const { dir } = await fullFileSystem();
    const o = await openLog(dir, { onNoSpace: () => {} });
    opened.push(o);
    o.log.appendPublish(1, ['q'], '', 'q', props, body(1));
    await o.log.close();
    expect(o.durable).toEqual([]);
  });
});
