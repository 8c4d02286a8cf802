// startBroker() as a Node test suite uses it: no settings needed, any number at once, definitions preloaded,
// and the README's vitest (globalSetup) and Jest (globalSetup/globalTeardown) examples.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, type Definitions, type RunningBroker, startBroker } from '../src/index.js';
import { ROOT } from './support/warren.js';
import { roundTrip } from './embedding/support.js';

const started: RunningBroker[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((broker) => broker.close()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startBroker>[0] = {}): Promise<RunningBroker> {
  const broker = await startBroker(options);
  started.push(broker);
  return broker;
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-embed-test-'));
  dirs.push(dir);
  return dir;
}

/** Whether this machine has an IPv6 loopback address to listen on. */
const hasIPv6Loopback = await new Promise<boolean>((resolve) => {
  const server = net.createServer();
  server.once('error', () => resolve(false));
  server.listen(0, '::1', () => server.close(() => resolve(true)));
});

/** The reply code a failed connect gives (403 for a refused login), or 'connected'. */
async function loginOutcome(url: string): Promise<number | string> {
  try {
    const connection = await amqp.connect(url);
    await connection.close();
    return 'connected';
  } catch (error) {
    const message = (error as Error).message;
    return /ACCESS_REFUSED|403/.test(message) ? 403 : message;
  }
}

describe('startBroker() with no settings', () => {
  it('listens on a free port of 127.0.0.1, gives a guest url, and keeps its data in a temporary directory removed at close', async () => {
    const broker = await start();
    expect(broker.url).toBe(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    expect(broker.ports).toEqual({ amqp: broker.port, amqps: null, management: null, managementTls: null, metrics: null });
    expect(broker.managementUrl).toBeNull();
    expect(broker.metricsUrl).toBeNull();
    expect(broker.host).toBe('127.0.0.1');
    expect(path.dirname(broker.dataDir)).toBe(os.tmpdir());
    expect(fs.existsSync(broker.dataDir)).toBe(true);
    expect(await roundTrip(broker.url, 'hello')).toBe('hello');
    await broker.close();
    expect(fs.existsSync(broker.dataDir)).toBe(false);
    await broker.close(); // a second close is harmless
  });

  it('removes its temporary directory when the process exits without close()', async () => {
    const code = `const { startBroker } = await import(${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))});
      const broker = await startBroker(); console.log(broker.dataDir); process.exit(0);`;
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}${stderr}`)) : resolve(stdout),
      ),
    );
    const dataDir = output.trim();
    expect(path.dirname(dataDir)).toBe(os.tmpdir());
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('four started at once in one process each get their own port and directory, and all serve clients', async () => {
    const brokers = await Promise.all([start(), start(), start(), start()]);
    expect(new Set(brokers.map((b) => b.port)).size).toBe(4);
    expect(new Set(brokers.map((b) => b.dataDir)).size).toBe(4);
    const bodies = await Promise.all(brokers.map((b, i) => roundTrip(b.url, `broker ${i}`)));
    expect(bodies).toEqual(['broker 0', 'broker 1', 'broker 2', 'broker 3']);
  });

  it('leaves a dataDir it was given in place, so the next broker on it finds its durable queues', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const first = await start({ dataDir });
    expect(first.dataDir).toBe(dataDir);
    const connection = await amqp.connect(first.url);
    await (await connection.createChannel()).assertQueue('kept', { durable: true });
    await connection.close();
    await first.close();
    expect(fs.existsSync(dataDir)).toBe(true);
    const second = await start({ dataDir });
    const again = await amqp.connect(second.url);
    const channel = await again.createChannel();
    expect((await channel.checkQueue('kept')).queue).toBe('kept');
    await again.close();
  });

  it.skipIf(!hasIPv6Loopback)('puts an IPv6 address in brackets', async () => {
    const broker = await start({ host: '::1' });
    expect(broker.url).toBe(`amqp://guest:guest@[::1]:${broker.port}`);
    expect(await roundTrip(broker.url, 'v6')).toBe('v6');
  });

  it('gives 127.0.0.1 in the url when it listens on every address', async () => {
    const broker = await start({ host: '::' });
    expect(broker.url).toBe(`amqp://guest:guest@127.0.0.1:${broker.port}`);
  });

  it('carries another default user, password and vhost, percent-encoded', async () => {
    const broker = await start({ defaultUser: 'app user', defaultPass: 'p@ss/word', defaultVhost: 'tests/1' });
    expect(broker.url).toBe(`amqp://app%20user:p%40ss%2Fword@127.0.0.1:${broker.port}/tests%2F1`);
    expect(await roundTrip(broker.url, 'encoded')).toBe('encoded');
  });
});

describe('startBroker({ definitions })', () => {
  const definitions: Definitions = {
    users: [{ name: 'app', password: 's3cret', tags: [] }],
    vhosts: [{ name: 'apps' }],
    permissions: [{ user: 'app', vhost: 'apps', configure: '.*', write: '.*', read: '.*' }],
    exchanges: [{ name: 'orders', vhost: 'apps', type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} }],
    queues: [{ name: 'orders.created', vhost: 'apps', durable: true, auto_delete: false, arguments: {} }],
    bindings: [
      { source: 'orders', vhost: 'apps', destination: 'orders.created', destination_type: 'queue', routing_key: 'order.created', arguments: {} },
    ],
    policies: [{ vhost: 'apps', name: 'short', pattern: '^orders\\.', 'apply-to': 'queues', definition: { 'max-length': 1 }, priority: 0 }],
  };

  it('preloads users, vhosts, permissions, exchanges, queues, bindings and policies', async () => {
    const broker = await start({ definitions });
    const connection = await amqp.connect(`amqp://app:s3cret@127.0.0.1:${broker.port}/apps`);
    const channel = await connection.createConfirmChannel();
    for (const body of ['first', 'second']) channel.publish('orders', 'order.created', Buffer.from(body));
    await channel.waitForConfirms();
    // The binding routed both; the max-length policy kept only the newest.
    expect((await channel.checkQueue('orders.created')).messageCount).toBe(1);
    const message = await channel.get('orders.created', { noAck: true });
    expect(message === false ? undefined : message.content.toString()).toBe('second');
    await connection.close();
  });

  it('creates no guest and no / when the definitions have none, and its url is only the address', async () => {
    const broker = await start({ definitions });
    expect(broker.url).toBe(`amqp://127.0.0.1:${broker.port}`);
    expect(await loginOutcome(`amqp://guest:guest@127.0.0.1:${broker.port}`)).toBe(403);
  });

  it('gives guest in the url when the definitions have guest with the default password', async () => {
    const broker = await start({
      definitions: {
        users: [{ name: 'guest', password: 'guest', tags: ['administrator'] }],
        vhosts: [{ name: '/' }],
        permissions: [{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }],
      },
    });
    expect(broker.url).toBe(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    expect(await roundTrip(broker.url, 'guest')).toBe('guest');
  });

  it('refuses definitions with something it cannot import, saying what, and leaves no temporary directory', async () => {
    // startBroker's temporary directories are warren-XXXXXX (other suites' have longer prefixes).
    const temporaryDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => /^warren-[A-Za-z0-9]{6}$/.test(name));
    const before = new Set(temporaryDirs());
    await expect(
      startBroker({
        definitions: {
          vhosts: [{ name: 'apps' }],
          queues: [{ name: 'jobs', vhost: 'app', durable: true, auto_delete: false, arguments: {} }],
        },
      }),
    ).rejects.toThrow(new ConfigError('definitions: queue {"name":"jobs","vhost":"app","durable":true,"auto_delete":false,"arguments":{}}: unknown vhost \'app\''));
    expect(temporaryDirs().filter((name) => !before.has(name))).toEqual([]);
  });

  it('refuses settings that do not go together with ConfigError and leaves no temporary directory', async () => {
    const temporaryDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => /^warren-[A-Za-z0-9]{6}$/.test(name));
    const before = new Set(temporaryDirs());
    await expect(startBroker({ port: -1 })).rejects.toThrow(ConfigError);
    expect(temporaryDirs().filter((name) => !before.has(name))).toEqual([]);
  });

  it('refuses definitions that are not an object, before creating anything', async () => {
    await expect(startBroker({ definitions: [] as unknown as Definitions })).rejects.toThrow(
      new ConfigError("definitions: must be an object in RabbitMQ's definitions format"),
    );
  });
});

describe('the README examples', () => {
  it('vitest: a globalSetup providing the url, used by test files in parallel workers, next to workers with their own broker', async () => {
    // Run from an empty directory: a broker writing ./data there, or two brokers sharing a port or a
    // directory, would show.
    const cwd = tempDir();
    const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const config = path.join(ROOT, 'interop', 'embedding', 'vitest.config.ts');
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [vitest, 'run', '--config', config], { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}${stderr}`)) : resolve(stdout + stderr),
      ),
    );
    expect(output.replace(/\x1b\[[\d;]*m/g, '')).toMatch(/Tests\s+3 passed \(3\)/);
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as { pid: number; url: string; dataDir?: string };
    const [shared, own1, own2] = [read('shared'), read('own-1'), read('own-2')];
    expect(new Set([shared.pid, own1.pid, own2.pid]).size).toBe(3);
    expect(new Set([shared.url, own1.url, own2.url]).size).toBe(3);
    for (const own of [own1, own2]) expect(fs.existsSync(own.dataDir as string)).toBe(false);
    expect(fs.readdirSync(cwd).sort()).toEqual(['own-1.json', 'own-2.json', 'shared.json']);
  }, 90_000);

  it('Jest: globalSetup starts the broker and sets AMQP_URL for the workers, globalTeardown closes it', async () => {
    const scope = globalThis as { __WARREN__?: RunningBroker };
    const saved = process.env.AMQP_URL;
    try {
      // jest.global-setup.mjs
      scope.__WARREN__ = await startBroker();
      process.env.AMQP_URL = scope.__WARREN__.url;
      // a test file
      expect(await roundTrip(process.env.AMQP_URL, 'jest')).toBe('jest');
      // jest.global-teardown.mjs
      await scope.__WARREN__.close();
      expect(await loginOutcome(process.env.AMQP_URL)).toMatch(/ECONNREFUSED/);
      expect(fs.existsSync(scope.__WARREN__.dataDir)).toBe(false);
    } finally {
      await scope.__WARREN__?.close();
      delete scope.__WARREN__;
      if (saved === undefined) delete process.env.AMQP_URL;
      else process.env.AMQP_URL = saved;
    }
  });
});
