// The warren executable and the embedding API as a user meets them.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { startBroker } from '../src/index.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { freePort } from './support/ports.js';
import { RawAmqp, type Tune } from './support/raw-amqp.js';
import { startRabbitMQ } from './support/rabbitmq.js';
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
  // Management and metrics off unless a test asks: Warren processes run in parallel and would all want 15672 and 15692.
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, WARREN_MANAGEMENT_PORT: '-1', WARREN_METRICS_PORT: '-1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exit;
  });
  const listening = new Promise<{ port: number; host: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 15_000);
    // A Warren that exits instead (a test of a refused start) is not waited for: no rejection nobody handles.
    child.once('exit', () => clearTimeout(timer));
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
    // A test that expects no listener awaits the exit instead.
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
  listening.catch(() => {});
  return { child, listening, exit, output: () => output };
}

describe('warren CLI', () => {
  it('prints its options with --help', async () => {
    ensureWarrenBuilt();
    const help = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI, '--help'], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    const flags = ['--config', '--port', '--host', '--data-dir', '--log-level', '--log-format', '--load-definitions', '--default-user', '--default-pass'];
    for (const flag of [...flags, '--default-user-tags', '--default-vhost', '--loopback-users', '--auth-mechanisms']) expect(help).toContain(flag);
    for (const name of ['WARREN_CONFIG', 'WARREN_PORT', 'WARREN_LOG_FORMAT', 'WARREN_DEFAULT_USER', 'WARREN_AUTH_MECHANISMS']) expect(help).toContain(name);
  });

  it('takes its settings from WARREN_* variables, picks a free port for 0, and creates the data dir', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const warren = spawnWarren([], { WARREN_PORT: '0', WARREN_HOST: '127.0.0.1', WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'info' });
    const { port, host } = await warren.listening;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(5672);
    expect(host).toBe('127.0.0.1');
    expect(fs.existsSync(dataDir)).toBe(true);
    // On a pipe the logs are JSON lines, one per listener with its protocol.
    expect(warren.output()).toMatch(new RegExp(`^\\{.*"protocol":"amqp","host":"127.0.0.1","port":${port},"msg":"listening"\\}$`, 'm'));
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

/** A line `[info] listening protocol=amqp host=… port=N` of pretty logs, or undefined. */
const PRETTY_LISTENING = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[info\] listening protocol=amqp host=127\.0\.0\.1 port=(\d+)\r?$/m;

/** Runs the CLI with stdout on a pseudo-terminal (util-linux script), as when a person starts it in a shell. */
function spawnInTerminal(args: string[], env: Record<string, string> = {}) {
  ensureWarrenBuilt();
  const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
  const command = `exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  // script forwards SIGTERM to the broker and exits with its code (-e).
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...process.env, WARREN_MANAGEMENT_PORT: '-1', WARREN_METRICS_PORT: '-1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exit;
  });
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 15_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = PRETTY_LISTENING.exec(output) ?? /^(\{.*"msg":"listening".*\})\r?$/m.exec(output);
      if (match === null || !/\n/.test(output.slice(match.index))) return;
      clearTimeout(timer);
      resolve(match[1]?.startsWith('{') ? (JSON.parse(match[1]) as { port: number }).port : Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  return { child, port, exit, output: () => output };
}

const hasScript = fs.existsSync('/usr/bin/script');

describe('log format', () => {
  it('--log-format pretty writes readable lines even to a pipe, one per listener', async () => {
    ensureWarrenBuilt();
    const child = spawn(process.execPath, [CLI, '--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir(), '--log-format', 'pretty'], {
      env: { ...process.env, WARREN_MANAGEMENT_PORT: '-1', WARREN_METRICS_PORT: '-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exit;
    });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 15_000);
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const match = PRETTY_LISTENING.exec(output);
        if (match === null) return;
        clearTimeout(timer);
        resolve(Number(match[1]));
      });
    });
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    await connection.close();
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(output).toMatch(/ \[info\] shutting down signal=SIGTERM$/m);
    expect(output).not.toContain('{"level"');
    expect(output).not.toContain('\x1b'); // no colours on a pipe
  });

  it.skipIf(!hasScript)('on a terminal the lines are readable by default, and WARREN_LOG_FORMAT=json makes them JSON', async () => {
    const pretty = spawnInTerminal(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir()]);
    const port = await pretty.port;
    expect(port).toBeGreaterThan(0);
    expect(pretty.output()).toMatch(PRETTY_LISTENING);
    expect(pretty.output()).not.toContain('{"level"');
    pretty.child.kill('SIGTERM');
    expect(await pretty.exit).toBe(0);

    const json = spawnInTerminal(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir()], { WARREN_LOG_FORMAT: 'json' });
    await json.port;
    expect(json.output()).toMatch(/^\{"level":30,.*"protocol":"amqp","host":"127.0.0.1","port":\d+,"msg":"listening"\}\r?$/m);
    expect(json.output()).not.toMatch(PRETTY_LISTENING);
  });
});

/** Writes a rabbitmq.conf in a fresh temp dir; returns its path. */
function confFile(lines: string[]): string {
  const file = path.join(tempDir(), 'rabbitmq.conf');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The connection.tune a broker sends (heartbeat, frame_max, channel_max). */
async function tuneOf(port: number): Promise<Tune | undefined> {
  const raw = await RawAmqp.connect(port);
  try {
    return await raw.handshake({ until: 'tune-ok' });
  } finally {
    raw.destroy();
  }
}

describe('warren --config (rabbitmq.conf) and WARREN_ variables', () => {
  it('listens where listeners.tcp.default says and proposes the heartbeat, frame_max and channel_max it sets', async () => {
    const port = await freePort();
    const file = confFile([
      '# Warren reads RabbitMQ\'s format',
      `listeners.tcp.default = 127.0.0.1:${port}`,
      'heartbeat = 30',
      'frame_max = 64KB',
      'channel_max = 99',
    ]);
    const warren = spawnWarren(['--config', file, '--data-dir', tempDir()]);
    expect(await warren.listening).toMatchObject({ port, host: '127.0.0.1' });
    expect(await tuneOf(port)).toEqual({ heartbeat: 30, frameMax: 65536, channelMax: 99 });
  });

  it('exits 1 naming the file, line, key and what is wrong for a bad value', async () => {
    const file = confFile(['listeners.tcp.default = 127.0.0.1:0', 'heartbeat = often']);
    const warren = spawnWarren(['--config', file, '--data-dir', tempDir()]);
    expect(await warren.exit).toBe(1);
    expect(warren.output()).toContain(`warren: ${file} line 2: heartbeat = often: expected a whole number`);
    expect(warren.output()).not.toContain('"listening"');
  });

  it('exits 1 for a mechanism Warren does not have, saying which it has', async () => {
    const warren = spawnWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir(), '--auth-mechanisms', 'PLAIN,CRAM-MD5']);
    expect(await warren.exit).toBe(1);
    expect(warren.output()).toContain('--auth-mechanisms PLAIN,CRAM-MD5: CRAM-MD5 is not supported');
    expect(warren.output()).toContain('Warren supports PLAIN, AMQPLAIN, EXTERNAL');
  });

  it('warns about an unknown key, naming it and its line, and starts', async () => {
    const file = confFile(['listeners.tcp.default = 127.0.0.1:0', 'cluster_formation.peer_discovery_backend = classic_config']);
    const warren = spawnWarren(['--config', file, '--data-dir', tempDir()]);
    await warren.listening;
    expect(warren.output()).toContain(`${file} line 2: unknown key cluster_formation.peer_discovery_backend (not a Warren setting), ignored`);
  });

  it('warns about a WARREN_ variable that is no option (WARREN_DATA) and starts', async () => {
    const warren = spawnWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir()], { WARREN_DATA: 'x' });
    await warren.listening;
    expect(warren.output()).toContain('environment variable WARREN_DATA is not a Warren option, ignored');
  });

  it('still refuses an unknown flag', async () => {
    const warren = spawnWarren(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir(), '--data', 'x']);
    expect(await warren.exit).toBe(1);
    expect(warren.output()).toContain('Unknown argument: data');
  });
});

// RabbitMQ's own reading of the same file: its config parser (cuttlefish) and rabbit.schema, run in Erlang, and a
// private node started with it.
const rabbitmq = rabbitmqDependency();
const RABBITMQ_PLUGINS = (() => {
  const lib = '/usr/lib/rabbitmq/lib';
  const server = fs.existsSync(lib) ? fs.readdirSync(lib).find((name) => name.startsWith('rabbitmq_server-')) : undefined;
  return server === undefined ? '' : path.join(lib, server, 'plugins');
})();

/** rabbit's application environment as RabbitMQ 3.10 derives it from a rabbitmq.conf: key → Erlang term text. */
function rabbitmqReading(file: string): Promise<Record<string, string>> {
  const rabbitApp = fs.readdirSync(RABBITMQ_PLUGINS).find((name) => /^rabbit-\d/.test(name)) as string;
  const schema = path.join(RABBITMQ_PLUGINS, rabbitApp, 'priv', 'schema', 'rabbit.schema');
  const program = `
    [Schema, File] = init:get_plain_arguments(),
    case cuttlefish_generator:map(cuttlefish_schema:files([Schema]), cuttlefish_conf:files([File])) of
      {error, Phase, Errors} -> io:format("error ~p ~p~n", [Phase, Errors]), halt(1);
      Env ->
        Rabbit = proplists:get_value(rabbit, Env),
        Show = fun(K, V) -> io:format("~s ~ts~n", [K, io_lib:print(V, 1, 100000, -1)]) end,
        [Show(K, proplists:get_value(K, Rabbit, unset)) || K <- [tcp_listeners, default_user, default_pass, default_vhost,
          default_user_tags, loopback_users, vm_memory_high_watermark, heartbeat, frame_max, channel_max, max_message_size,
          load_definitions, auth_mechanisms, ssl_listeners, ssl_handshake_timeout, ssl_cert_login_from]],
        Ssl = proplists:get_value(ssl_options, Rabbit, []),
        [Show("ssl_options." ++ atom_to_list(K), proplists:get_value(K, Ssl, unset)) || K <- [cacertfile, certfile, keyfile,
          password, verify, fail_if_no_peer_cert, depth, versions, ciphers]],
        case proplists:get_value(disk_free_limit, Rabbit) of
          undefined -> ok;
          Limit -> {ok, Disk} = rabbit_resource_monitor_misc:parse_information_unit(Limit), Show(disk_free_limit, Disk)
        end,
        case proplists:get_value(console, proplists:get_value(log, Rabbit, []), []) of
          Console when is_list(Console) ->
            case proplists:get_value(formatter, Console) of
              {ConsoleFormatter, _} -> Show(log_console_formatter, ConsoleFormatter);
              _ -> ok
            end;
          _ -> ok
        end,
        halt(0)
    end.`;
  const ebins = fs
    .readdirSync(RABBITMQ_PLUGINS)
    .filter((name) => fs.existsSync(path.join(RABBITMQ_PLUGINS, name, 'ebin')))
    .map((name) => path.join(RABBITMQ_PLUGINS, name, 'ebin'));
  return new Promise((resolve, reject) =>
    execFile('erl', ['-noshell', '-pa', ...ebins, '-eval', program, '-extra', schema, file], { timeout: 20_000, cwd: tempDir() }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stdout}${stderr}`));
      const reading: Record<string, string> = {};
      for (const line of stdout.trim().split('\n')) {
        const space = line.indexOf(' ');
        reading[line.slice(0, space)] = line.slice(space + 1);
      }
      resolve(reading);
    }),
  );
}

/** An Erlang list's items, sorted (RabbitMQ keeps indexed keys in reverse file order; the order has no effect). */
const erlangItems = (list: string | undefined) =>
  (list ?? '')
    .replace(/^\[|\]$/g, '')
    .split(',')
    .sort();

describe.skipIf(gate(rabbitmq))(label('the same rabbitmq.conf read by RabbitMQ 3.10.8', rabbitmq), () => {
  it('RabbitMQ\'s config parser reads every key Warren reads to the same values', async () => {
    const definitions = path.join(tempDir(), 'definitions.json');
    fs.writeFileSync(definitions, '{}');
    const file = confFile([
      'listeners.tcp.default = 127.0.0.1:5673 # a comment after a value',
      'default_user = app admin',
      'default_pass = s3cret',
      'default_vhost = apps',
      'default_user_tags.administrator = false',
      'default_user_tags.monitoring = true',
      'loopback_users.guest = false',
      'loopback_users.bob = true',
      'vm_memory_high_watermark.relative = 0.6',
      'disk_free_limit.absolute = 500MiB',
      'heartbeat = 30',
      'frame_max = 64KB',
      'channel_max = 99',
      'max_message_size = 1048576',
      `load_definitions = ${definitions}`,
      'auth_mechanisms.1 = PLAIN',
      'auth_mechanisms.2 = AMQPLAIN',
      'heartbeat = 45',
      'log.console.formatter = json',
    ]);
    const { config, warnings } = resolveConfig(['--config', file], {});
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 5673,
      defaultUser: 'app admin',
      defaultPass: 's3cret',
      defaultVhost: 'apps',
      defaultUserTags: ['monitoring'],
      loopbackUsers: ['bob'],
      memoryHighWatermark: 0.6,
      diskFreeLimit: 500 * 1024 * 1024,
      heartbeat: 45,
      frameMax: 65536,
      channelMax: 99,
      maxMessageSize: 1048576,
      loadDefinitions: definitions,
      authMechanisms: ['PLAIN', 'AMQPLAIN'],
      logFormat: 'json',
    });
    const rabbit = await rabbitmqReading(file);
    expect(rabbit).toMatchObject({
      tcp_listeners: `[{"${config.host}",${config.port}}]`,
      default_user: `<<"${config.defaultUser}">>`,
      default_pass: `<<"${config.defaultPass}">>`,
      default_vhost: `<<"${config.defaultVhost}">>`,
      default_user_tags: `[${config.defaultUserTags.join(',')}]`,
      loopback_users: `[${config.loopbackUsers.map((user) => `<<"${user}">>`).join(',')}]`,
      vm_memory_high_watermark: String(config.memoryHighWatermark),
      disk_free_limit: String(config.diskFreeLimit),
      heartbeat: String(config.heartbeat),
      frame_max: String(config.frameMax),
      channel_max: String(config.channelMax),
      max_message_size: String(config.maxMessageSize),
      load_definitions: JSON.stringify(config.loadDefinitions),
      log_console_formatter: 'rabbit_logger_json_fmt',
    });
    expect(erlangItems(rabbit.auth_mechanisms)).toEqual(config.authMechanisms.map((m) => `'${m}'`).sort());
  });

  it("RabbitMQ's config parser reads the TLS keys Warren reads to the same values", async () => {
    // RabbitMQ checks that the files can be read; their content does not matter here.
    const certs = tempDir();
    for (const name of ['ca_certificate.pem', 'server_certificate.pem', 'server_key.pem']) fs.writeFileSync(path.join(certs, name), '');
    const file = confFile([
      'listeners.tcp = none',
      'listeners.ssl.default = 127.0.0.1:5676',
      `ssl_options.cacertfile = ${certs}/ca_certificate.pem`,
      `ssl_options.certfile = ${certs}/server_certificate.pem`,
      `ssl_options.keyfile = ${certs}/server_key.pem`,
      'ssl_options.password = s3cret',
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      'ssl_options.depth = 2',
      'ssl_options.versions.1 = tlsv1.3',
      'ssl_options.versions.2 = tlsv1.2',
      'ssl_options.ciphers.1 = TLS_AES_256_GCM_SHA384',
      'ssl_options.ciphers.2 = ECDHE-ECDSA-AES256-GCM-SHA384',
      'ssl_handshake_timeout = 3000',
      'ssl_cert_login_from = common_name',
    ]);
    const { config, warnings } = resolveConfig(['--config', file], {});
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      port: -1,
      host: '127.0.0.1',
      tlsPort: 5676,
      tlsCa: `${certs}/ca_certificate.pem`,
      tlsCert: `${certs}/server_certificate.pem`,
      tlsKey: `${certs}/server_key.pem`,
      tlsKeyPassphrase: 's3cret',
      tlsVerify: 'peer',
      tlsFailIfNoPeerCert: true,
      tlsDepth: 2,
      tlsVersions: ['tlsv1.3', 'tlsv1.2'],
      tlsCiphers: ['TLS_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
      tlsHandshakeTimeout: 3000,
      sslCertLoginFrom: 'common_name',
    });
    const rabbit = await rabbitmqReading(file);
    expect(rabbit).toMatchObject({
      tcp_listeners: '[]',
      ssl_listeners: `[{"${config.host}",${config.tlsPort}}]`,
      'ssl_options.cacertfile': JSON.stringify(config.tlsCa),
      'ssl_options.certfile': JSON.stringify(config.tlsCert),
      'ssl_options.keyfile': JSON.stringify(config.tlsKey),
      'ssl_options.password': JSON.stringify(config.tlsKeyPassphrase),
      'ssl_options.verify': `verify_${config.tlsVerify}`,
      'ssl_options.fail_if_no_peer_cert': String(config.tlsFailIfNoPeerCert),
      'ssl_options.depth': String(config.tlsDepth),
      'ssl_options.ciphers': `[${config.tlsCiphers.map((c) => JSON.stringify(c)).join(',')}]`,
      ssl_handshake_timeout: String(config.tlsHandshakeTimeout),
      ssl_cert_login_from: config.sslCertLoginFrom,
    });
    expect(erlangItems(rabbit['ssl_options.versions'])).toEqual(config.tlsVersions.map((v) => `'${v}'`).sort());
  });

  it('a RabbitMQ node and Warren started with the same file propose the same connection.tune', async () => {
    // Every key both read, except those the harness needs as they are (its listener, guest on /).
    const shared = [
      'heartbeat = 30',
      'frame_max = 64KB',
      'channel_max = 99',
      'max_message_size = 1048576',
      'vm_memory_high_watermark.relative = 0.6',
      'disk_free_limit.absolute = 1MB',
      'default_user_tags.administrator = true',
      'loopback_users.guest = true',
      'auth_mechanisms.1 = PLAIN',
      'auth_mechanisms.2 = AMQPLAIN',
    ];
    const node = await startRabbitMQ({ extraConfig: shared });
    cleanups.push(() => node.stop());
    const warren = spawnWarren(['--config', confFile(['listeners.tcp.default = 127.0.0.1:0', ...shared]), '--data-dir', tempDir()]);
    const { port } = await warren.listening;
    const rabbitTune = await tuneOf(node.port);
    expect(rabbitTune).toEqual({ heartbeat: 30, frameMax: 65536, channelMax: 99 });
    expect(await tuneOf(port)).toEqual(rabbitTune);
  }, 90_000);
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
