import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockHeldError, acquireLock } from '../../src/storage/lock.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

async function fresh(): Promise<string> {
  const d = await tempDir();
  dirs.push(d);
  return d;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  return pid;
}

describe('acquireLock', () => {
  it('is a symbolic link to our pid, refuses a second holder naming the pid, and can be taken again after release', async () => {
    const dir = await fresh();
    const lock = await acquireLock(dir);
    expect(await fsp.readlink(path.join(dir, 'LOCK'))).toBe(String(process.pid));
    const second = acquireLock(dir);
    await expect(second).rejects.toBeInstanceOf(LockHeldError);
    await expect(acquireLock(dir)).rejects.toThrow(new RegExp(`held by running process ${process.pid}`));
    await lock.release();
    await expect(fsp.lstat(path.join(dir, 'LOCK'))).rejects.toThrow(/ENOENT/);
    const again = await acquireLock(dir);
    await again.release();
    expect((await fsp.readdir(dir)).filter((n) => n.startsWith('LOCK'))).toEqual([]);
  });

  it('refuses when another live process holds the lock (a link, or a lock file of an earlier version)', async () => {
    const dir = await fresh();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    try {
      await fsp.symlink(String(child.pid), path.join(dir, 'LOCK'));
      await expect(acquireLock(dir)).rejects.toThrow(new RegExp(`process ${child.pid}\\b`));
      await fsp.unlink(path.join(dir, 'LOCK'));
      await fsp.writeFile(path.join(dir, 'LOCK'), `${child.pid}\n`);
      await expect(acquireLock(dir)).rejects.toThrow(new RegExp(`process ${child.pid}\\b`));
    } finally {
      child.kill();
    }
  });

  it('takes over a stale lock whose pid is dead, or that holds no pid', async () => {
    const dir = await fresh();
    await fsp.writeFile(path.join(dir, 'LOCK'), `${await deadPid()}\n`);
    const lock = await acquireLock(dir);
    expect(await fsp.readlink(path.join(dir, 'LOCK'))).toBe(String(process.pid));
    await lock.release();
    await fsp.writeFile(path.join(dir, 'LOCK'), 'garbage');
    const lock2 = await acquireLock(dir);
    expect(await fsp.readlink(path.join(dir, 'LOCK'))).toBe(String(process.pid));
    await lock2.release();
    await fsp.symlink(String(await deadPid()), path.join(dir, 'LOCK'));
    const lock3 = await acquireLock(dir);
    expect(await fsp.readlink(path.join(dir, 'LOCK'))).toBe(String(process.pid));
    await lock3.release();
    expect(await fsp.readdir(dir)).toEqual([]);
  });
});
