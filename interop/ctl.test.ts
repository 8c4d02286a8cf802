// `warren ctl` against a Warren with the management API, and the same command line of rabbitmqctl against a
// private RabbitMQ node: exit codes, the informational lines, the header row and the values of the columns
// that do not name a node or a process (Warren has no Erlang pids). Then the verbs only Warren can be asked
// here (export/import through files, close_connection by name, status, await_startup, an unreachable broker).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { channel, connect } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { freePort } from './support/ports.js';
import { removeDir, trackDir } from './support/procs.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';
import { type CtlResult, rabbitmqctl } from './support/rabbitmqctl.js';
import { ensureWarrenBuilt, ROOT } from './support/warren.js';

const CLI = path.join(ROOT, 'dist', 'cli.js');

/** Runs `warren ctl …args` (15 s at most) with `input` on stdin; never rejects on a non-zero exit. */
function warrenCtl(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<CtlResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, 'ctl', ...args], { env: { ...process.env, ...opts.env }, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-ctl-'));
  trackDir(dir);
  return dir;
}

const sortedLines = (text: string): string[] => text.split('\n').filter((l) => l !== '').sort();

const rabbitDep = rabbitmqDependency();
const rabbitMissing = gate(rabbitDep);

describe.skipIf(rabbitMissing)(label('warren ctl and rabbitmqctl side by side', rabbitDep), () => {
  let rabbit: RabbitNode | undefined;
  let warren: RunningServer | undefined;
  let dataDir = '';
  let url = '';
  const closers: (() => Promise<void>)[] = [];

  /** The same command line on both: [rabbitmqctl's result, warren ctl's]. */
  const both = (args: string[]): Promise<[CtlResult, CtlResult]> => Promise.all([rabbitmqctl(rabbit!, args), warrenCtl(['--url', url, ...args])]);

  beforeAll(async () => {
    ensureWarrenBuilt();
    dataDir = tempDir();
    [rabbit, warren] = await Promise.all([
      startRabbitMQ(),
      startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: 0, metricsPort: -1 }, pino({ level: 'silent' })),
    ]);
    url = `http://127.0.0.1:${warren.managementPort}`;
    // The same objects on both: a queue with two messages and an argument, a queue with a consumer holding one
    // unacknowledged message, a binding.
    for (const amqpUrl of [rabbit.url, `amqp://guest:guest@127.0.0.1:${warren.port}`]) {
      const conn = await connect(amqpUrl);
      const ch = await channel(conn);
      await ch.assertQueue('ctl.full', { durable: true, arguments: { 'x-max-length': 10 } });
      await ch.assertQueue('ctl.consumed', { durable: false });
      await ch.bindQueue('ctl.full', 'amq.direct', 'ctl.rk');
      ch.sendToQueue('ctl.full', Buffer.from('a'));
      ch.sendToQueue('ctl.full', Buffer.from('b'));
      ch.sendToQueue('ctl.consumed', Buffer.from('c'));
      await ch.prefetch(5);
      const delivered = new Promise<void>((resolve) => void ch.consume('ctl.consumed', () => resolve(), { consumerTag: 'ctl.tag' }));
      await delivered;
      closers.push(() => conn.close());
    }
  }, 120_000);
  afterAll(async () => {
    for (const close of closers) await close().catch(() => {});
    await Promise.all([rabbit?.stop(), warren?.close()]);
    removeDir(dataDir);
  }, 40_000);

  it('list verbs: the same header lines, columns and values; -q; --formatter json', async () => {
    const ours = (r: CtlResult): string[] => r.stdout.split('\n').filter((l) => l.startsWith('ctl.') || l.startsWith('Listing') || l.startsWith('Timeout') || l.startsWith('name'));
    const [queues, quiet, json, exchanges, bindings, consumers, connections, channels, users, vhosts, noVhost] = await Promise.all([
      both(['list_queues', 'name', 'messages', 'messages_ready', 'messages_unacknowledged', 'consumers', 'durable', 'auto_delete', 'exclusive', 'arguments']),
      both(['list_queues', '-q']),
      both(['list_queues', '--formatter', 'json', 'name', 'messages', 'consumers']),
      both(['list_exchanges', 'name', 'type', 'durable', 'auto_delete', 'internal']),
      both(['list_bindings']),
      both(['list_consumers', 'queue_name', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'arguments']),
      both(['list_connections', 'user', 'peer_host', 'state', 'vhost', 'channels', 'protocol']),
      both(['list_channels', 'user', 'consumer_count', 'messages_unacknowledged', 'prefetch_count', 'vhost']),
      both(['list_users']),
      both(['list_vhosts', 'name', 'tracing', 'description', 'tags', 'default_queue_type']),
      both(['list_queues', '-p', 'ctl-novhost']),
    ]);
    for (const [r, w] of [queues, quiet, json, exchanges, bindings, consumers, connections, channels, users, vhosts, noVhost]) {
      expect(w.code).toBe(0);
      expect(w.code).toBe(r.code);
      expect(w.stderr).toBe(r.stderr);
    }
    expect(sortedLines(ours(queues[1]).join('\n'))).toEqual(sortedLines([
      'Timeout: 60.0 seconds ...',
      'Listing queues for vhost / ...',
      'name\tmessages\tmessages_ready\tmessages_unacknowledged\tconsumers\tdurable\tauto_delete\texclusive\targuments',
      'ctl.full\t2\t2\t0\t0\ttrue\tfalse\tfalse\t[{"x-max-length",10}]',
      'ctl.consumed\t1\t0\t1\t1\tfalse\tfalse\tfalse\t[]',
    ].join('\n')));
    expect(sortedLines(ours(queues[1]).join('\n'))).toEqual(sortedLines(ours(queues[0]).join('\n')));
    expect(sortedLines(quiet[1].stdout).filter((l) => l.startsWith('ctl.') || l.startsWith('name'))).toEqual(['ctl.consumed\t1', 'ctl.full\t2', 'name\tmessages']);
    expect(sortedLines(quiet[1].stdout).filter((l) => l.startsWith('ctl.') || l.startsWith('name'))).toEqual(sortedLines(quiet[0].stdout).filter((l) => l.startsWith('ctl.') || l.startsWith('name')));
    const jsonRows = (r: CtlResult): unknown[] => (JSON.parse(r.stdout) as { name: string }[]).filter((q) => q.name.startsWith('ctl.')).sort((a, b) => a.name.localeCompare(b.name));
    expect(jsonRows(json[1])).toEqual([
      { name: 'ctl.consumed', messages: 1, consumers: 1 },
      { name: 'ctl.full', messages: 2, consumers: 0 },
    ]);
    expect(jsonRows(json[1])).toEqual(jsonRows(json[0]));
    expect(json[1].stdout.split('\n')[0]).toBe('[');
    expect(sortedLines(exchanges[1].stdout)).toEqual(sortedLines(exchanges[0].stdout));
    expect(sortedLines(bindings[1].stdout)).toEqual(sortedLines(bindings[0].stdout));
    expect(sortedLines(bindings[1].stdout)).toContain('amq.direct\texchange\tctl.full\tqueue\tctl.rk\t[]');
    expect(consumers[1].stdout).toBe(consumers[0].stdout);
    expect(consumers[1].stdout).toContain('ctl.consumed\tctl.tag\ttrue\t5\ttrue\t[]');
    expect(connections[1].stdout).toBe(connections[0].stdout);
    expect(channels[1].stdout).toBe(channels[0].stdout);
    expect(users[1].stdout).toBe(users[0].stdout);
    expect(vhosts[1].stdout).toBe(vhosts[0].stdout);
    // An unknown vhost lists nothing and is no error.
    expect(noVhost[1].stdout).toBe('Timeout: 60.0 seconds ...\nListing queues for vhost ctl-novhost ...\n');
    expect(noVhost[1].stdout).toBe(noVhost[0].stdout);
  }, 60_000);

  it('user, vhost, permission and policy verbs: the same lines, exit codes and listings', async () => {
    const same = (r: CtlResult, w: CtlResult): void => {
      expect({ code: w.code, stdout: w.stdout.replaceAll('warren ctl', 'rabbitmqctl'), stderr: w.stderr }).toEqual(r);
    };
    const userChain = async (): Promise<void> => {
      for (const args of [
        ['add_user', 'ctl-user', 'secret'],
        ['change_password', 'ctl-user', 'other'],
        ['set_user_tags', 'ctl-user', 'monitoring', 'policymaker'],
        ['set_permissions', 'ctl-user', '^ctl', '.*', ''],
      ]) {
        const [r, w] = await both(args);
        expect(w.code, args.join(' ')).toBe(0);
        same(r, w);
      }
    };
    const vhostChain = async (): Promise<void> => {
      for (const args of [['add_vhost', 'ctl-vhost'], ['list_vhosts'], ['list_permissions', '-p', 'ctl-vhost'], ['delete_vhost', 'ctl-vhost']]) {
        const [r, w] = await both(args);
        expect(w.code, args.join(' ')).toBe(0);
        // A vhost lists in any order; the lines are the same.
        expect(sortedLines(w.stdout)).toEqual(sortedLines(r.stdout));
      }
    };
    const policyChain = async (): Promise<void> => {
      for (const args of [['set_policy', 'ctl-policy', '^ctl\\.', '{"max-length":10}', '--priority', '3', '--apply-to', 'queues'], ['list_policies'], ['clear_policy', 'ctl-policy']]) {
        const [r, w] = await both(args);
        expect(w.code, args.join(' ')).toBe(0);
        same(r, w);
      }
    };
    await Promise.all([userChain(), vhostChain(), policyChain()]);
    const [users, permissions] = await Promise.all([both(['list_users']), both(['list_permissions'])]);
    expect(sortedLines(users[1].stdout)).toContain('ctl-user\t[monitoring, policymaker]');
    expect(sortedLines(users[1].stdout)).toEqual(sortedLines(users[0].stdout));
    expect(sortedLines(permissions[1].stdout)).toContain('ctl-user\t^ctl\t.*\t');
    expect(sortedLines(permissions[1].stdout)).toEqual(sortedLines(permissions[0].stdout));
    for (const args of [['clear_permissions', 'ctl-user'], ['delete_user', 'ctl-user']]) {
      const [r, w] = await both(args);
      expect(w.code, args.join(' ')).toBe(0);
      same(r, w);
    }
  }, 90_000);

  it('errors: the same exit code and error text for a missing user, vhost, queue or policy, bad JSON, usage', async () => {
    const cases = [
      ['delete_user', 'ctl-nobody'],
      ['change_password', 'ctl-nobody', 'x'],
      ['set_user_tags', 'ctl-nobody', 'x'],
      ['add_user', 'guest', 'guest'],
      ['delete_vhost', 'ctl-novhost'],
      ['set_permissions', '-p', 'ctl-novhost', 'guest', '.*', '.*', '.*'],
      ['set_permissions', 'ctl-nobody', '.*', '.*', '.*'],
      ['clear_permissions', 'ctl-nobody'],
      ['set_policy', 'ctl-bad', '^x', '{bad'],
      ['set_policy', 'ctl-bad', '^x', '{"nosuchkey":1}'],
      ['clear_policy', 'ctl-nopolicy'],
      ['purge_queue', 'ctl-noqueue'],
      ['delete_queue', 'ctl-noqueue'],
      ['delete_queue', 'ctl.full', '--if-empty'],
      ['delete_queue', 'ctl.consumed', '--if-unused'],
      ['list_permissions', '-p', 'ctl-novhost'],
      ['list_policies', '-p', 'ctl-novhost'],
    ];
    const results = await Promise.all(cases.map((args) => both(args)));
    results.forEach(([r, w], i) => {
      expect(w.code, cases[i]!.join(' ')).not.toBe(0);
      expect({ code: w.code, stdout: w.stdout, stderr: w.stderr }, cases[i]!.join(' ')).toEqual(r);
    });
    expect(results.map(([, w]) => w.code)).toEqual([67, 67, 67, 70, 65, 69, 67, 67, 69, 69, 69, 69, 64, 64, 64, 65, 65]);
    // Usage errors: the code and the first line (the rest names the program and its arguments).
    const usage = [['ctl-nosuchverb'], ['list_queues', 'nosuchcol'], ['add_user'], ['add_user', 'a', 'b', 'c']];
    const usageResults = await Promise.all(usage.map((args) => both(args)));
    for (const [r, w] of usageResults) {
      expect(w.code).toBe(64);
      expect(w.code).toBe(r.code);
      expect(w.stderr.split('\n').slice(0, 2)).toEqual(r.stderr.split('\n').slice(0, 2));
    }
  }, 90_000);
});

describe('warren ctl against Warren alone', () => {
  let warren: RunningServer | undefined;
  let dataDir = '';
  let url = '';
  const ctl = (args: string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CtlResult> => warrenCtl(['--url', url, ...args], opts);

  beforeAll(async () => {
    ensureWarrenBuilt();
    dataDir = tempDir();
    warren = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: 0, metricsPort: -1 }, pino({ level: 'silent' }));
    url = `http://127.0.0.1:${warren.managementPort}`;
  }, 60_000);
  afterAll(async () => {
    await warren?.close();
    removeDir(dataDir);
  }, 20_000);

  it('export_definitions to a file and to stdout, import_definitions from a file and from stdin', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'definitions.json');
    expect(await ctl(['add_vhost', 'ctl-export'])).toMatchObject({ code: 0 });
    expect(await ctl(['export_definitions', file])).toEqual({ code: 0, stdout: `Exporting definitions in JSON to a file at "${file}" ...\n`, stderr: '' });
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as { vhosts: { name: string }[] };
    expect(exported.vhosts.map((v) => v.name)).toContain('ctl-export');
    const stdout = await ctl(['export_definitions', '-']);
    expect(stdout.code).toBe(0);
    expect(JSON.parse(stdout.stdout)).toEqual(exported);

    expect(await ctl(['delete_vhost', 'ctl-export'])).toMatchObject({ code: 0 });
    const imported = await ctl(['import_definitions', file]);
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(imported.stdout).toContain(`Importing definitions in JSON from a file at "${file}" ...`);
    expect((await ctl(['-q', 'list_vhosts'])).stdout).toContain('ctl-export\n');

    const fromStdin = await ctl(['-q', 'import_definitions', '-'], { input: JSON.stringify({ vhosts: [{ name: 'ctl-stdin' }] }) });
    expect(fromStdin).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await ctl(['-q', 'list_vhosts'])).stdout).toContain('ctl-stdin\n');

    const missing = await ctl(['import_definitions', path.join(dir, 'none.json')]);
    expect(missing.code).toBe(65);
    expect(missing.stderr).toContain(`Bad argument: File ${path.join(dir, 'none.json')} does not exist`);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{not json');
    const bad = await ctl(['import_definitions', path.join(dir, 'bad.json')]);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toMatch(/^Error:\nFailed to deserialise input \(format: JSON\)/);
  }, 30_000);

  it('close_connection by the name list_connections shows: the client gets 320 with the reason', async () => {
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${warren!.port}`);
    const closed = new Promise<string>((resolve) => conn.once('close', (error?: Error) => resolve(error?.message ?? 'closed without error')));
    const listed = await ctl(['-q', 'list_connections', 'name', 'user']);
    const name = listed.stdout.split('\n')[1]!.split('\t')[0]!;
    expect(listed.stdout.split('\n')[1]).toBe(`${name}\tguest`);
    expect(await ctl(['close_connection', name, 'maintenance window'])).toEqual({ code: 0, stdout: `Closing connection ${name}, reason: maintenance window...\n`, stderr: '' });
    expect(await closed).toContain('320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - maintenance window"');
    const gone = await ctl(['close_connection', name, 'again']);
    expect(gone.code).toBe(69);
  }, 20_000);

  it('purge_queue and delete_queue with its ready-message count and --if-empty', async () => {
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${warren!.port}`);
    try {
      const ch = await channel(conn);
      await ch.assertQueue('ctl.purge');
      ch.sendToQueue('ctl.purge', Buffer.from('x'));
      ch.sendToQueue('ctl.purge', Buffer.from('y'));
      await ch.checkQueue('ctl.purge');
      expect(await ctl(['delete_queue', 'ctl.purge', '--if-empty'])).toEqual({
        code: 64,
        stdout: "Deleting queue 'ctl.purge' on vhost '/' if queue is empty ...\n",
        stderr: 'Error:\nQueue is not empty\n',
      });
      expect(await ctl(['purge_queue', 'ctl.purge'])).toEqual({ code: 0, stdout: "Purging queue 'ctl.purge' in vhost '/' ...\n", stderr: '' });
      expect((await ch.checkQueue('ctl.purge')).messageCount).toBe(0);
      ch.sendToQueue('ctl.purge', Buffer.from('z'));
      await ch.checkQueue('ctl.purge');
      expect(await ctl(['delete_queue', 'ctl.purge'])).toEqual({
        code: 0,
        stdout: "Deleting queue 'ctl.purge' on vhost '/' ...\nQueue was successfully deleted with 1 ready messages\n",
        stderr: '',
      });
    } finally {
      await conn.close().catch(() => {});
    }
  }, 20_000);

  it('status, await_startup, --formatter json, the environment, and the exit codes for an unreachable broker and bad credentials', async () => {
    const status = await ctl(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Status of node .+ \.\.\.\nRuntime\n/);
    expect(status.stdout).toContain(`Interface: 127.0.0.1, port: ${warren!.port}, protocol: amqp`);
    expect(status.stdout).toContain('Alarms\n\n(none)\n');
    expect(await ctl(['await_startup', '--timeout', '5'])).toEqual({ code: 0, stdout: '', stderr: '' });

    const viaEnv = await warrenCtl(['list_users', '--formatter', 'json'], { env: { WARREN_CTL_URL: url, WARREN_CTL_USERNAME: 'guest', WARREN_CTL_PASSWORD: 'guest' } });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toContainEqual({ user: 'guest', tags: ['administrator'] });

    const closedPort = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await warrenCtl(['--url', closedPort, 'list_queues']);
    expect(unreachable.code).toBe(69);
    expect(unreachable.stderr).toContain(`Error: unable to perform an operation on the management API at ${closedPort}`);
    const started = Date.now();
    const waited = await warrenCtl(['--url', closedPort, 'await_startup', '--timeout', '1']);
    expect(waited.code).toBe(69);
    expect(Date.now() - started).toBeLessThan(10_000);

    const refused = await ctl(['--password', 'wrong', 'list_queues']);
    expect(refused.code).toBe(77);
    expect(refused.stderr).toContain("Access refused: user 'guest'");
  }, 30_000);
});
