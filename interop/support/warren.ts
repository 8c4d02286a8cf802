// Warren under test: as a child process (dist/cli.js, built on demand) or
// embedded in the test process (src/index.ts startBroker).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tail, exited, killGroup, removeDir, stopGroup, trackDir, trackGroup, untrackGroup, waitExit } from './procs.js';
import { afterAll, beforeAll } from 'vitest';
import { startBroker } from '../../src/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
/** The Node flags src/cli.ts's #! line runs Warren with. */
export const WARREN_NODE_FLAGS = ['--initial-heap-size=64'];

export interface WarrenProcess {
  port: number;
  url: string;
  pid: number;
  dataDir: string;
  /** Milliseconds from spawn to the "listening" log line. */
  startMs: number;
  /** What Warren printed so far (stdout + stderr), for diagnostics. */
  output(): string;
  /** SIGTERM (SIGKILL after 5 s); removes the data dir unless it was passed in as `dataDir`. */
  stop(): Promise<void>;
  /**
   * Send `signal` to Warren's process group and wait (up to waitMs) for it to
   * exit. Leaves the data dir in place (so a new Warren can start on it); a
   * later stop() still cleans up. exited=false if it did not exit in time.
   */
  kill(signal: NodeJS.Signals, waitMs?: number): Promise<{ exited: boolean; code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartWarrenOptions {
  args?: string[];
  timeoutMs?: number;
  logLevel?: string;
  /**
   * Use this data dir instead of a fresh temp dir. The caller owns it: stop()
   * does not remove it (so a second Warren can start on the same dir).
   */
  dataDir?: string;
}

function warrenArgs(dataDir: string, opts: StartWarrenOptions): string[] {
  // Loopback only (Warren's default host is '::'). Node's flags as the warren bin's #! line gives them (README: Running).
  return [...WARREN_NODE_FLAGS, CLI, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', opts.logLevel ?? 'info', ...(opts.args ?? [])];
}

function spawnWarren(args: string[]): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Management and metrics off unless a test asks (a flag wins over the environment): Warren processes run in
    // parallel and would all want 15672 and 15692.
    env: { ...process.env, NODE_ENV: 'test', WARREN_MANAGEMENT_PORT: '-1', WARREN_METRICS_PORT: '-1' },
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Build dist/ with `tsc -p tsconfig.build.json` if dist/cli.js is missing or older than src/. */
export function ensureWarrenBuilt(): void {
  const srcNewest = Math.max(newestMtime(path.join(ROOT, 'src')), fs.statSync(path.join(ROOT, 'tsconfig.build.json')).mtimeMs);
  if (fs.existsSync(CLI) && fs.statSync(CLI).mtimeMs >= srcNewest) return;
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  try {
    execFileSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`building Warren failed (tsc -p tsconfig.build.json): ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  if (!fs.existsSync(CLI)) throw new Error(`built Warren, but ${CLI} does not exist`);
  // tsc does not rewrite unchanged outputs; mark the build fresh.
  const now = new Date();
  fs.utimesSync(CLI, now, now);
}

export async function startWarren(opts: StartWarrenOptions = {}): Promise<WarrenProcess> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  ensureWarrenBuilt();
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'warren-data-'));
  if (ownDir) trackDir(dataDir);
  const t0 = Date.now();
  const child: ChildProcess = spawnWarren(warrenArgs(dataDir, opts));
  const pid = child.pid;
  if (pid === undefined) {
    if (ownDir) removeDir(dataDir);
    throw new Error('could not spawn Warren');
  }
  trackGroup(pid);
  const out = new Tail(20_000);
  child.stderr?.on('data', (d: Buffer) => out.push(d));

  const stop = async () => {
    await stopGroup(child, 5_000);
    if (ownDir) removeDir(dataDir);
  };
  const kill = async (signal: NodeJS.Signals, waitMs = 10_000) => {
    if (!exited(child)) killGroup(pid, signal);
    const done = await waitExit(child, waitMs);
    if (done) {
      killGroup(pid, 'SIGKILL'); // anything the leader left behind in its group
      untrackGroup(pid);
    }
    return { exited: done, code: child.exitCode, signal: child.signalCode };
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => reject(new Error(`no "listening" log line within ${timeoutMs} ms`)), timeoutMs);
      const onData = (d: Buffer) => {
        out.push(d);
        pending += d.toString();
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          try {
            const rec = JSON.parse(line) as { msg?: unknown; port?: unknown };
            if (rec.msg === 'listening' && typeof rec.port === 'number') {
              clearTimeout(timer);
              resolve(rec.port);
            }
          } catch {
            // not JSON: ignore
          }
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`Warren exited before listening (code ${code}, signal ${sig})`));
      });
    });
    return {
      port,
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      pid,
      dataDir,
      startMs: Date.now() - t0,
      output: () => out.toString(),
      stop,
      kill,
    };
  } catch (err) {
    const wasRunning = !exited(child);
    await stop();
    throw new Error(`starting Warren failed${wasRunning ? '' : ' (process exited)'}: ${(err as Error).message}\n--- output\n${out}`);
  }
}

/**
 * Run Warren on `dataDir` expecting it NOT to start (e.g. the dir is locked):
 * resolves with its exit code/signal and output once it exits. If it prints
 * "listening" instead, or does not exit within timeoutMs, it is stopped and
 * the promise rejects.
 */
export async function runWarrenToExit(opts: StartWarrenOptions & { dataDir: string }): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; ms: number }> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  ensureWarrenBuilt();
  const t0 = Date.now();
  const child = spawnWarren(warrenArgs(opts.dataDir, opts));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn Warren');
  trackGroup(pid);
  const out = new Tail(20_000);
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => out.push(d));
  let listening = false;
  const deadline = Date.now() + timeoutMs;
  while (!exited(child) && Date.now() < deadline) {
    if (out.toString().includes('"msg":"listening"')) {
      listening = true;
      break;
    }
    await waitExit(child, 50);
  }
  // The 'exit' event can precede the last output chunks; give them a moment.
  if (exited(child)) await new Promise((r) => setTimeout(r, 50));
  const result = { code: child.exitCode, signal: child.signalCode, output: out.toString(), ms: Date.now() - t0 };
  if (!exited(child) || listening) {
    await stopGroup(child, 5_000);
    throw new Error(`Warren on ${opts.dataDir} ${listening ? 'started listening' : `did not exit within ${timeoutMs} ms`}; expected it to refuse to start\n--- output\n${result.output}`);
  }
  killGroup(pid, 'SIGKILL');
  untrackGroup(pid);
  return result;
}


export interface WarrenEmbedded {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Warren in this process, from src/ (no build needed). */
export async function startWarrenEmbedded(): Promise<WarrenEmbedded> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-data-'));
  trackDir(dataDir);
  try {
    const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir });
    return {
      port: broker.port,
      url: `amqp://guest:guest@127.0.0.1:${broker.port}`,
      close: async () => {
        try {
          await broker.close();
        } finally {
          removeDir(dataDir);
        }
      },
    };
  } catch (err) {
    removeDir(dataDir);
    throw err;
  }
}

/**
 * For a describe block: one data dir for every Warren it starts (restarts on
 * the same data), made before its tests and removed after them, with the
 * last Warren started stopped first.
 */
export function warrenOnOneDataDir(prefix: string): { readonly dataDir: string; start(opts?: Omit<StartWarrenOptions, 'dataDir'>): Promise<WarrenProcess> } {
  let dataDir = '';
  let current: WarrenProcess | undefined;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    trackDir(dataDir);
  });
  afterAll(async () => {
    await current?.stop();
    if (dataDir) removeDir(dataDir);
  }, 30_000);
  return {
    get dataDir() {
      return dataDir;
    },
    async start(opts = {}) {
      current = await startWarren({ ...opts, dataDir });
      return current;
    },
  };
}
