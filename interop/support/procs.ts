// Child processes and temp dirs owned by the interop harness: every one is
// registered here so it is killed / removed even when a suite dies before its
// afterAll (process 'exit' hook, synchronous).
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();

export function trackGroup(pid: number): void {
  liveGroups.add(pid);
}
export function untrackGroup(pid: number): void {
  liveGroups.delete(pid);
}
export function trackDir(dir: string): void {
  liveDirs.add(dir);
}
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** Signal a whole process group (children spawned with detached: true lead their own group). */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Wait for the child to exit, up to ms; true if it exited. */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(t);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** SIGTERM the group, SIGKILL it after graceMs, wait for exit. */
export async function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!exited(child)) {
    killGroup(pid, 'SIGTERM');
    if (!(await waitExit(child, graceMs))) {
      killGroup(pid, 'SIGKILL');
      await waitExit(child, 5_000);
    }
  }
  // Anything the leader left behind in its group.
  killGroup(pid, 'SIGKILL');
  untrackGroup(pid);
}

/** Removes every temp dir still tracked (best effort). */
function removeTrackedDirs(): void {
  for (const dir of liveDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  liveDirs.clear();
}

// vitest ends its worker processes without running their 'exit' hooks: under it, each test file also removes its
// tracked dirs when the file ends (its root afterAll runs after every suite's own cleanup). Benchmarks import this
// module outside vitest, where the 'exit' hook below does the work.
if (process.env.VITEST) {
  const { afterAll } = await import('vitest');
  afterAll(removeTrackedDirs);
}

process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  removeTrackedDirs();
});

/** Keep the last n characters of a stream, for error messages. */
export class Tail {
  private buf = '';
  constructor(private readonly max = 8_000) {}
  push(chunk: Buffer | string): void {
    this.buf += chunk.toString();
    if (this.buf.length > this.max) this.buf = this.buf.slice(-this.max);
  }
  toString(): string {
    return this.buf;
  }
}
