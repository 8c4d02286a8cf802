import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPassword } from './broker/access/users.js';
import type { DefinitionsDocument } from './broker/definitions.js';
import { applySettings, checkCombination, checkSettings, type Config, ConfigError, DEFAULT_CONFIG } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { connectHost, type RunningServer, startServer } from './server.js';

export type { Config } from './config.js';
export { ConfigError, DEFAULT_CONFIG } from './config.js';
export type { LogFormat } from './logger.js';

/**
 * Definitions in RabbitMQ's format (what `rabbitmqctl export_definitions` or GET /api/definitions give): users,
 * vhosts, permissions, topic_permissions, policies, parameters, exchanges, queues, bindings; each section optional.
 */
export type Definitions = Partial<DefinitionsDocument>;

export interface BrokerOptions extends Partial<Config> {
  /** A pino logger to use instead of one made from logLevel and logFormat. */
  logger?: Logger;
  /**
   * Imported at start, after the loadDefinitions file if there is one. As with RabbitMQ's load_definitions, a
   * broker given definitions creates no default user (guest) and no default vhost unless the definitions have them.
   * Anything in them that cannot be imported (a queue in a vhost they do not create…) throws ConfigError saying what.
   */
  definitions?: Definitions;
}

/** The port of each listener, by what it speaks; more appear as Warren gets more listeners. */
export interface BrokerPorts {
  /** The plain AMQP port; -1 when it listens for TLS only. */
  amqp: number;
  /** The amqps port, or null when no TLS certificate was given. */
  amqps: number | null;
  /** The management HTTP API's port, or null when it is off (the default here). */
  management: number | null;
  /** The Prometheus endpoint's port, or null when it is off (the default here). */
  metrics: number | null;
  /** The management API's HTTPS port, or null when it is off (the default here: give managementTlsPort and a certificate). */
  managementTls: number | null;
}

export interface RunningBroker {
  /**
   * Where AMQP clients connect: `amqp://guest:guest@127.0.0.1:PORT`. It carries the default user and password
   * (and the default vhost when it is not `/`) when that user exists with that password, so with definitions
   * that lack it, it is only the address (`amqp://127.0.0.1:PORT`): put your own user in it.
   */
  readonly url: string;
  /** The AMQP port (the one picked, as port is 0 unless given); -1 when it listens for TLS only. */
  readonly port: number;
  /** The amqps port, when a TLS certificate was given. */
  readonly tlsPort: number | undefined;
  /** The address the AMQP listener is bound to. */
  readonly host: string;
  readonly ports: BrokerPorts;
  /** `http://127.0.0.1:PORT` of the management HTTP API, or null when it is off (pass managementPort to turn it on). */
  readonly managementUrl: string | null;
  /** `http://127.0.0.1:PORT/metrics` of the Prometheus endpoint, or null when it is off (pass metricsPort to turn it on). */
  readonly metricsUrl: string | null;
  /**
   * Where durable data lives: unless dataDir was given, a fresh temporary directory, removed by close() (or when
   * the process exits, if close() was never called).
   */
  readonly dataDir: string;
  /** Reads the TLS certificate, key and CA files again (what SIGHUP does to the CLI); resolves to whether they are in use. */
  reloadTls(): Promise<boolean>;
  /** Closes every client connection with 320 CONNECTION_FORCED, stops listening, and removes a temporary dataDir. */
  close(): Promise<void>;
}

/** Temporary data dirs of brokers not closed yet: removed when the process exits, if a test forgot close(). */
const temporaryDirs = new Set<string>();
let removeAtExit = false;

async function makeTemporaryDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-'));
  temporaryDirs.add(dir);
  if (!removeAtExit) {
    removeAtExit = true;
    process.once('exit', () => {
      for (const left of temporaryDirs) rmSync(left, { recursive: true, force: true });
    });
  }
  return dir;
}

async function removeTemporaryDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  temporaryDirs.delete(dir);
}

/**
 * Starts a broker in this process: `const broker = await startBroker()` listens on a free port of 127.0.0.1 with
 * its data in a fresh temporary directory, so any number can run at once (in one process or in parallel test
 * workers). Logs are silent unless logLevel or logger is given; the management API and the Prometheus endpoint are
 * off unless managementPort or metricsPort is given (0: a free port). A setting with a bad value throws ConfigError naming it.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const { logger: given, definitions, ...settings } = options;
  checkSettings(settings);
  if (definitions !== undefined && (definitions === null || typeof definitions !== 'object' || Array.isArray(definitions))) {
    throw new ConfigError("definitions: must be an object in RabbitMQ's definitions format");
  }
  const temporary = settings.dataDir === undefined ? await makeTemporaryDir() : undefined;
  const embedded: Config = { ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', logLevel: 'silent', managementPort: -1, managementTlsPort: -1, metricsPort: -1, dataDir: temporary ?? DEFAULT_CONFIG.dataDir };
  let config: Config;
  let server: RunningServer;
  try {
    config = applySettings(embedded, settings);
    checkCombination(config);
    const logger = given ?? createLogger(config.logLevel, config.logFormat);
    // Every section is optional to the import, as in a hand-written definitions file.
    server = await startServer(config, logger, { definitions: definitions as DefinitionsDocument | undefined });
  } catch (error) {
    // A bad setting (ConfigError) or a failed start: the temporary dir made for it goes too.
    if (temporary !== undefined) await removeTemporaryDir(temporary);
    throw error;
  }
  // A test suite wants a typo in its definitions now, not as a 404 later (the CLI logs them and starts).
  if (server.definitionsSkipped.length > 0) {
    await server.close();
    if (temporary !== undefined) await removeTemporaryDir(temporary);
    throw new ConfigError(`definitions: ${server.definitionsSkipped.join('; ')}`);
  }
  let closing: Promise<void> | undefined;
  return {
    url: amqpUrl(server, config),
    port: server.port,
    tlsPort: server.tlsPort,
    host: server.host,
    ports: { amqp: server.port, amqps: server.tlsPort ?? null, management: server.managementPort, managementTls: server.managementTlsPort, metrics: server.metricsPort },
    managementUrl: server.managementPort === null ? null : `http://${connectHost(server.host)}:${server.managementPort}`,
    metricsUrl: server.metricsPort === null ? null : `http://${connectHost(server.host)}:${server.metricsPort}/metrics`,
    dataDir: config.dataDir,
    reloadTls: server.reloadTls,
    close() {
      closing ??= server.close().then(async () => {
        if (temporary !== undefined) await removeTemporaryDir(temporary);
      });
      return closing;
    },
  };
}

/** The URL of the AMQP listener, with the default user if it can log in with the default password. */
function amqpUrl(server: RunningServer, config: Config): string {
  const user = server.broker.users.get(config.defaultUser);
  const credentials =
    user !== undefined && checkPassword(user, config.defaultPass)
      ? `${encodeURIComponent(config.defaultUser)}:${encodeURIComponent(config.defaultPass)}@`
      : '';
  // An AMQP URI without a path means vhost `/`.
  const vhost = config.defaultVhost !== '/' && server.broker.vhosts.has(config.defaultVhost) ? `/${encodeURIComponent(config.defaultVhost)}` : '';
  // TLS only: the amqps listener.
  const [scheme, port] = server.port === -1 ? ['amqps', server.tlsPort] : ['amqp', server.port];
  return `${scheme}://${credentials}${connectHost(server.host)}:${port}${vhost}`;
}
