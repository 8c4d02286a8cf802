// A PRIVATE RabbitMQ node for one test file: its own node name, ports
// (AMQP, distribution, epmd), data/log/config dirs and erlang cookie, all in
// a temp dir; never the system node on 5672/4369.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { freePorts, waitForTcp } from './ports.js';
import { RABBITMQ_SERVER_BIN } from './deps.js';
import { Tail, exited, killGroup, removeDir, stopGroup, trackDir, trackGroup, waitExit } from './procs.js';

export interface RabbitNode {
  port: number;
  url: string;
  nodeName: string;
  /** The node's private temp dir (data, logs, config, cookie); removed by stop(). */
  dir: string;
  epmdPort: number;
  distPort: number;
  /** The management plugin's HTTP port on 127.0.0.1, when asked for with `management: true`. */
  managementPort?: number;
  /** Milliseconds from spawn to first completed AMQP handshake (and, with management, its HTTP listener). */
  startMs: number;
  stop(): Promise<void>;
  /**
   * Stop the node gracefully (SIGTERM to rabbitmq-server's process group,
   * SIGKILL after 30 s) and start it again with the same node name, ports,
   * config and mnesia dir (durable state kept; epmd keeps running).
   * Resolves when an AMQP handshake succeeds again.
   */
  restart(opts?: { timeoutMs?: number }): Promise<{ stopMs: number; startMs: number; killed: boolean }>;
}

function rabbitUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null; // not root: run as ourselves
  try {
    const uid = Number(execFileSync('id', ['-u', 'rabbitmq']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'rabbitmq']).toString().trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.chownSync(p, uid, gid);
  }
}

export interface StartRabbitMQOptions {
  timeoutMs?: number;
  diskFreeLimit?: string;
  /** rabbitmq.conf lines after the harness's own (a key given again takes the later value). */
  extraConfig?: string[];
  /** A definitions document the node imports at boot (load_definitions); it must keep guest/guest for the readiness probe. */
  definitions?: object;
  /** Enable rabbitmq_management on a free port. */
  management?: boolean;
  /** Plugins the node enables at boot (its enabled_plugins file), e.g. rabbitmq_auth_mechanism_ssl or rabbitmq_consistent_hash_exchange. */
  plugins?: string[];
}

export async function startRabbitMQ(opts: StartRabbitMQOptions = {}): Promise<RabbitNode> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-rmq-'));
  trackDir(dir);
  const [amqpPort, distPort, epmdPort, managementPort] = (await freePorts(4)) as [number, number, number, number];
  const nodeName = `warren-test-${crypto.randomBytes(4).toString('hex')}@localhost`;
  const user = rabbitUser();

  for (const sub of ['mnesia', 'log', 'home']) fs.mkdirSync(path.join(dir, sub));
  const configFile = path.join(dir, 'rabbitmq.conf');
  const definitionsFile = path.join(dir, 'definitions.json');
  if (opts.definitions !== undefined) fs.writeFileSync(definitionsFile, JSON.stringify(opts.definitions));
  fs.writeFileSync(
    configFile,
    [
      `listeners.tcp.default = ${amqpPort}`,
      'loopback_users.guest = true',
      'log.console = false',
      'log.file.level = info',
      // Small test machine; don't let a disk/memory alarm block publishers.
      `disk_free_limit.absolute = ${opts.diskFreeLimit ?? '1MB'}`,
      ...(opts.management
        ? [
            `management.tcp.port = ${managementPort}`,
            'management.tcp.ip = 127.0.0.1',
            // New connections, channels and queue depths show up on the smallest sample interval (5 s by default).
            'collect_statistics_interval = 1000',
            'management.sample_retention_policies.global.minute = 1',
            'management.sample_retention_policies.basic.minute = 1',
            'management.sample_retention_policies.detailed.10 = 1',
          ]
        : []),
      ...(opts.definitions !== undefined ? [`load_definitions = ${definitionsFile}`] : []),
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const pluginsFile = path.join(dir, 'enabled_plugins');
  // The node reads its enabled plugins from this file at boot (what `rabbitmq-plugins --offline enable` writes).
  const plugins = [...(opts.plugins ?? []), ...(opts.management ? ['rabbitmq_management'] : [])];
  fs.writeFileSync(pluginsFile, `[${plugins.join(',')}].\n`);
  const envFile = path.join(dir, 'rabbitmq-env.conf');
  fs.writeFileSync(envFile, '# empty: ignore /etc/rabbitmq/rabbitmq-env.conf\n');
  const advancedFile = path.join(dir, 'advanced.config');
  fs.writeFileSync(advancedFile, '[].\n');
  if (user) chownTree(dir, user.uid, user.gid);

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HOME: path.join(dir, 'home'),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: advancedFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
    RABBITMQ_CONF_ENV_FILE: envFile,
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const spawnUser = user ? { uid: user.uid, gid: user.gid } : {};

  // Our own epmd on a free port, so the node neither uses nor starts the
  // default one on 4369 (and we can kill it by pid).
  const epmdOut = new Tail();
  const epmd: ChildProcess = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], {
    env,
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnUser,
  });
  if (epmd.pid !== undefined) trackGroup(epmd.pid);
  epmd.stdout?.on('data', (d: Buffer) => epmdOut.push(d));
  epmd.stderr?.on('data', (d: Buffer) => epmdOut.push(d));

  const out = new Tail();
  let server: ChildProcess | undefined;
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  // Start rabbitmq-server and wait for an AMQP handshake, until deadline.
  const spawnServer = async (deadline: number): Promise<void> => {
    const child = spawn(RABBITMQ_SERVER_BIN, [], {
      env,
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...spawnUser,
    });
    server = child;
    if (child.pid !== undefined) trackGroup(child.pid);
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => out.push(d));
    let lastErr = '';
    for (;;) {
      if (exited(child)) throw new Error(`rabbitmq-server exited (code ${child.exitCode}, signal ${child.signalCode})`);
      try {
        const conn = await amqp.connect(url, { timeout: 2_000 });
        await conn.close();
        break;
      } catch (e) {
        lastErr = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`no AMQP handshake by the deadline (start: ${timeoutMs} ms; last error: ${lastErr})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (opts.management) await waitForTcp(managementPort, Math.max(1_000, deadline - Date.now()));
  };
  const cleanup = async () => {
    if (server) await stopGroup(server, 15_000);
    await stopGroup(epmd, 2_000);
    removeDir(dir);
  };

  try {
    await waitForTcp(epmdPort, 10_000).catch((e: Error) => {
      throw new Error(`private epmd did not start: ${e.message}\n${epmdOut}`);
    });
    await spawnServer(t0 + timeoutMs);
    const startMs = Date.now() - t0;
    const restart = async (ropts: { timeoutMs?: number } = {}) => {
      const old = server;
      const s0 = Date.now();
      let killed = false;
      if (old && !exited(old)) {
        if (old.pid !== undefined) killGroup(old.pid, 'SIGTERM');
        if (!(await waitExit(old, 30_000))) {
          killed = true;
          await stopGroup(old, 0);
        }
      }
      if (old) await stopGroup(old, 0); // reap anything left in its group
      const stopMs = Date.now() - s0;
      const r0 = Date.now();
      try {
        await spawnServer(r0 + (ropts.timeoutMs ?? 60_000));
      } catch (err) {
        throw new Error(`private RabbitMQ node ${nodeName} failed to restart: ${(err as Error).message}\n--- output\n${out}${logTail(dir)}`);
      }
      return { stopMs, startMs: Date.now() - r0, killed };
    };
    return {
      port: amqpPort,
      url,
      nodeName,
      dir,
      epmdPort,
      distPort,
      ...(opts.management ? { managementPort } : {}),
      startMs,
      stop: cleanup,
      restart,
    };
  } catch (err) {
    const logs = logTail(dir);
    await cleanup();
    throw new Error(`private RabbitMQ node ${nodeName} failed to start: ${(err as Error).message}\n--- output\n${out}${logs}`);
  }
}

function logTail(dir: string): string {
  let text = '';
  try {
    const logDir = path.join(dir, 'log');
    for (const f of fs.readdirSync(logDir)) text += `\n--- ${f}\n` + fs.readFileSync(path.join(logDir, f), 'utf8').slice(-4_000);
  } catch {
    // no logs
  }
  return text;
}
