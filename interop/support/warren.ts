// Warren under test: as a child process (dist/cli.js, built on demand) or
// embedded in the test process (src/index.ts startBroker).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tail, exited, removeDir, stopGroup, trackDir, trackGroup } from './procs.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface WarrenProcess {
  port: number;
  url: string;
  pid: number;
  dataDir: string;
  /** What Warren printed so far (stdout + stderr), for diagnostics. */
  output(): string;
  stop(): Promise<void>;
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

export async function startWarren(opts: { args?: string[]; timeoutMs?: number; logLevel?: string } = {}): Promise<WarrenProcess> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  ensureWarrenBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-data-'));
  trackDir(dataDir);
  // Loopback only (Warren's default host is '::').
  const args = [CLI, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', opts.logLevel ?? 'info', ...(opts.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  const pid = child.pid;
  if (pid === undefined) {
    removeDir(dataDir);
    throw new Error('could not spawn Warren');
  }
  trackGroup(pid);
  const out = new Tail(20_000);
  child.stderr?.on('data', (d: Buffer) => out.push(d));

  const stop = async () => {
    await stopGroup(child, 5_000);
    removeDir(dataDir);
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
      output: () => out.toString(),
      stop,
    };
  } catch (err) {
    const wasRunning = !exited(child);
    await stop();
    throw new Error(`starting Warren failed${wasRunning ? '' : ' (process exited)'}: ${(err as Error).message}\n--- output\n${out}`);
  }
}

interface EmbeddedApi {
  startBroker(opts: { port: number; host: string; dataDir: string }): Promise<{ port: number; close(): Promise<void> }>;
}

export interface WarrenEmbedded {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Warren in this process, from src/ (no build needed). */
export async function startWarrenEmbedded(): Promise<WarrenEmbedded> {
  // A non-literal specifier, so typechecking interop/ does not depend on the
  // broker's entry point existing yet.
  const entry = '../../src/index.js';
  const mod = (await import(/* @vite-ignore */ entry)) as EmbeddedApi;
  if (typeof mod.startBroker !== 'function') throw new Error('src/index.ts does not export startBroker');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-data-'));
  trackDir(dataDir);
  try {
    const broker = await mod.startBroker({ port: 0, host: '127.0.0.1', dataDir });
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
