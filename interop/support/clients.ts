// Run the external client programs in interop/clients against a broker URL;
// each prints one JSON document on stdout.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GOPATH_DEBIAN, PHP, PHP_AMQPLIB_AUTOLOAD, PYTHON, RUBY } from './deps.js';
import { ROOT } from './warren.js';

const CLIENTS = path.join(ROOT, 'interop', 'clients');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'warren-interop');

function run(cmd: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: env ?? process.env, cwd: ROOT },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as Error & { killed?: boolean };
          reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed${e.killed ? ` (killed after ${timeoutMs} ms)` : ''}: ${e.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

function parseJson(what: string, stdout: string, stderr: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    throw new Error(`${what} did not print JSON\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
  }
}

/** python3 interop/clients/<script> <args...> → parsed JSON stdout. */
export async function runPika(script: string, args: string[], timeoutMs = 20_000): Promise<unknown> {
  const { stdout, stderr } = await run(PYTHON, [path.join(CLIENTS, script), ...args], timeoutMs, {
    ...process.env,
    PYTHONDONTWRITEBYTECODE: '1',
  });
  return parseJson(script, stdout, stderr);
}

const goBuilds = new Map<string, Promise<string>>();

function goEnv(): NodeJS.ProcessEnv {
  fs.mkdirSync(path.join(CACHE, 'gocache'), { recursive: true });
  return {
    ...process.env,
    GOPATH: GOPATH_DEBIAN,
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOCACHE: path.join(CACHE, 'gocache'),
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
}

/** Build interop/clients/<file>.go once (keyed by its content) and return the binary's path. */
export function buildGo(file: string, timeoutMs = 180_000): Promise<string> {
  let p = goBuilds.get(file);
  if (!p) {
    p = (async () => {
      const src = path.join(CLIENTS, file);
      const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 16);
      const binDir = path.join(CACHE, 'go-bin');
      fs.mkdirSync(binDir, { recursive: true });
      const bin = path.join(binDir, `${path.basename(file, '.go')}-${hash}`);
      if (!fs.existsSync(bin)) {
        const tmp = `${bin}.tmp-${process.pid}`;
        await run('go', ['build', '-o', tmp, src], timeoutMs, goEnv());
        fs.renameSync(tmp, bin);
      }
      return bin;
    })();
    goBuilds.set(file, p);
  }
  return p;
}

/** Run a built Go client with args → parsed JSON stdout. */
export async function runGo(file: string, args: string[], timeoutMs = 20_000): Promise<unknown> {
  const bin = await buildGo(file);
  const { stdout, stderr } = await run(bin, args, timeoutMs);
  return parseJson(file, stdout, stderr);
}

/** python3 interop/clients/<script> (kombu) → parsed JSON stdout. */
export function runKombu(script: string, args: string[], timeoutMs = 20_000): Promise<unknown> {
  return runPika(script, args, timeoutMs);
}

/** ruby interop/clients/<script> <args...> → parsed JSON stdout. */
export async function runRuby(script: string, args: string[], timeoutMs = 20_000): Promise<unknown> {
  const { stdout, stderr } = await run(RUBY, [path.join(CLIENTS, script), ...args], timeoutMs);
  return parseJson(script, stdout, stderr);
}

/** php interop/clients/<script> <args...> → parsed JSON stdout (WARREN_PHP_AMQPLIB_AUTOLOAD names the autoloader). */
export async function runPhp(script: string, args: string[], timeoutMs = 20_000): Promise<unknown> {
  const { stdout, stderr } = await run(PHP, [path.join(CLIENTS, script), ...args], timeoutMs, {
    ...process.env,
    WARREN_PHP_AMQPLIB_AUTOLOAD: PHP_AMQPLIB_AUTOLOAD,
  });
  return parseJson(script, stdout, stderr);
}
