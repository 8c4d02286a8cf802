/**
 * One Warren per data directory.
 *
 *   acquireLock(dir) → Promise<{ release(): Promise<void> }>
 *
 * The lock is dir/LOCK, a symbolic link whose target is this process's pid.
 * symlink(2) creates the link atomically and fails if LOCK exists, so two
 * processes cannot both take it, and the pid is in place the moment the link
 * is: the lock is never seen empty. A short link target lives in the inode
 * (ext4's fast symlinks, tmpfs), so taking the lock needs no free data block:
 * Warren can start on a full disk, raise its disk alarm and let consumers drain
 * (a lock file written with the pid needed a block, and the start failed with
 * ENOSPC). If LOCK exists and its pid is a live process (this one included),
 * acquireLock throws a LockHeldError naming that pid. A lock whose pid is not
 * alive (or that holds no pid) is stale: it is renamed aside, checked to be the
 * one we judged stale, removed, and the link retried. A LOCK left as a regular
 * file holding a pid (earlier versions) is read the same way. release()
 * removes LOCK if it still holds our pid.
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

/** The pid a lock names: the link's target, or a regular lock file's content. */
async function readPid(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fsp.readlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    text = await fsp.readFile(file, 'utf8');
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

let serial = 0;

export async function acquireLock(dir: string): Promise<{ release(): Promise<void> }> {
  await fsp.mkdir(dir, { recursive: true });
  const lockFile = path.join(dir, 'LOCK');
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.symlink(String(process.pid), lockFile);
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
    const aside = path.join(dir, `LOCK.stale.${process.pid}.${++serial}`);
    try {
      await fsp.rename(lockFile, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = await readPid(aside).catch(() => undefined);
    if (moved !== pid && moved !== undefined && isAlive(moved)) {
      // someone took the lock between our read and the rename: put theirs back
      // (link(2) copies the symlink itself and, unlike rename, never replaces a newer LOCK)
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
