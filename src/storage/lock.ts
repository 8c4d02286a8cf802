/**
 * One Warren per data directory.
 *
 *   acquireLock(dir) → Promise<{ release(): Promise<void> }>
 *
 * Creates dir/LOCK holding this process's pid. The file is written under a
 * temporary name, synced, then hard-linked to LOCK, which fails if LOCK exists:
 * the lock file is never seen empty. If LOCK exists and its pid is a live
 * process (this one included), acquireLock throws an Error naming that pid. A
 * lock whose pid is not alive (or that holds no pid) is stale: it is renamed
 * aside, checked to be the one we judged stale, removed, and the link retried.
 * release() removes LOCK if it still holds our pid.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export class LockHeldError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`data directory is in use: ${lockFile} is held by running process ${pid}`);
    this.name = 'LockHeldError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await fsp.readFile(file, 'utf8');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

let serial = 0;

export async function acquireLock(dir: string): Promise<{ release(): Promise<void> }> {
  await fsp.mkdir(dir, { recursive: true });
  const lockFile = path.join(dir, 'LOCK');
  const tmp = path.join(dir, `LOCK.${process.pid}.${++serial}.tmp`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(`${process.pid}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.link(tmp, lockFile);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
      }
      let pid: number | undefined;
      try {
        pid = await readPid(lockFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (pid !== undefined && isAlive(pid)) throw new LockHeldError(lockFile, pid);
      // stale: move it aside, make sure we moved the lock we judged, then retry
      const aside = path.join(dir, `LOCK.stale.${process.pid}.${serial}`);
      try {
        await fsp.rename(lockFile, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readPid(aside).catch(() => undefined);
      if (moved !== pid && moved !== undefined && isAlive(moved)) {
        // someone took the lock between our read and the rename: put theirs back
        await fsp.link(aside, lockFile).catch(() => {});
        await fsp.unlink(aside).catch(() => {});
        throw new LockHeldError(lockFile, moved);
      }
      await fsp.unlink(aside).catch(() => {});
    }
    const dfh = await fsp.open(dir, 'r');
    try {
      await dfh.sync();
    } finally {
      await dfh.close();
    }
  } finally {
    await fsp.unlink(tmp).catch(() => {});
  }
  let released = false;
  return {
    async release(): Promise<void> {
      if (released) return;
      released = true;
      const pid = await readPid(lockFile).catch(() => undefined);
      if (pid === process.pid) await fsp.unlink(lockFile).catch(() => {});
    },
  };
}
