// The warren executable and the embedding API as a user meets them.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../src/index.js';
import { ensureWarrenBuilt, ROOT } from './support/warren.js';

const CLI = path.join(ROOT, 'dist', 'cli.js');
// Run newest first and await each: a broker must have exited before its data
// dir is removed, or it can still be writing into it.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-cli-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the CLI; resolves with the port from its "listening" line. */
function spawnWarren(args: string[], env: Record<string, string> = {}) {
  ensureWarrenBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exit;
  });
  const listening = new Promise<{ port: number; host: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('"listening"')) continue;
        const record = JSON.parse(line) as { port: number; host: string };
        clearTimeout(timer);
        resolve(record);
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  });
  return { child, listening, exit, output: () => output };
}

describe('warren CLI', () => {
  it('prints its options with --help', async () => {
    ensureWarrenBuilt();
    const help = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI, '--help'], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    for (const flag of ['--port', '--host', '--data-dir', '--log-level']) expect(help).toContain(flag);
    expect(help).toContain('WARREN_');
  });

  it('takes its settings from WARREN_* variables, picks a free port for 0, and creates the data dir', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const warren = spawnWarren([], { WARREN_PORT: '0', WARREN_HOST: '127.0.0.1', WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'info' });
    const { port, host } = await warren.listening;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(5672);
    expect(host).toBe('127.0.0.1');
    expect(fs.existsSync(dataDir)).toBe(true);
    warren.child.kill('SIGTERM');
    expect(await warren.exit).toBe(0);
  });

  it('closes clients with 320 CONNECTION_FORCED on SIGTERM and exits 0', async () => {
    const warren = spawnWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir()]);
    const { port } = await warren.listening;
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const closed = new Promise<Error & { code?: number }>((resolve) => connection.on('close', resolve));
    connection.on('error', () => {});
    warren.child.kill('SIGTERM');
    const reason = await closed;
    expect(reason.code).toBe(320);
    expect(reason.message).toContain("CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
    expect(await warren.exit).toBe(0);
    expect(warren.output()).toMatch(/"signal":"SIGTERM"/);
  });

  it('exits non-zero with a clear message when the port is taken', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as net.AddressInfo).port;
    const warren = spawnWarren(['--port', String(port), '--host', '127.0.0.1', '--data-dir', tempDir()]);
    expect(await warren.exit).toBe(1);
    expect(warren.output()).toContain('EADDRINUSE');
  });

  it('answers a wrong protocol header with its own and closes the socket', async () => {
    const warren = spawnWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir()]);
    const { port } = await warren.listening;
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (d) => chunks.push(d));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => reject(new Error('socket not closed')));
    });
    expect(reply).toEqual(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
  });
});

describe('embedding API', () => {
  it('starts in-process on a free port, serves a client, and closes', async () => {
    const started = performance.now();
    const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: tempDir() });
    const startMs = performance.now() - started;
    console.log(`[embedded] startBroker took ${startMs.toFixed(1)} ms`);
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('embedded'));
    let message: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && message === false; i++) message = await channel.get(queue, { noAck: true });
    expect(message === false ? null : message.content.toString()).toBe('embedded');
    await connection.close();
    await broker.close();
    await expect(amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`)).rejects.toThrow();
  });
});

describe('warren CLI safety net', () => {
  it('logs an error that escaped to the event loop (exception or rejection) at error level and keeps serving', async () => {
    const dir = tempDir();
    // Loaded before the CLI: on SIGUSR2 (sent once it listens), errors that no guard in the broker catches.
    const inject = path.join(dir, 'inject.mjs');
    fs.writeFileSync(
      inject,
      "process.on('SIGUSR2', () => {\n  setTimeout(() => { throw new Error('injected uncaught'); });\n  void Promise.reject(new Error('injected rejection'));\n});\n",
    );
    const warren = spawnWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', path.join(dir, 'data')], { NODE_OPTIONS: `--import=${inject}` });
    const { port } = await warren.listening;
    warren.child.kill('SIGUSR2');
    const errors = (): { level: number; event: string; err: { stack: string } }[] =>
      warren
        .output()
        .split('\n')
        .filter((line) => line.includes('"level":50'))
        .map((line) => JSON.parse(line) as { level: number; event: string; err: { stack: string } });
    const deadline = Date.now() + 5_000;
    while (errors().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors().map((e) => e.event).sort()).toEqual(['uncaught-exception', 'unhandled-rejection']);
    expect(errors().map((e) => e.err.stack).join('\n')).toContain('injected uncaught');
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('still serving'));
    const got = await new Promise<string>((resolve) => void ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }));
    expect(got).toBe('still serving');
    await conn.close();
    expect(warren.child.exitCode).toBeNull();
  }, 20_000);
});
