import { mkdir, readFile } from 'node:fs/promises';
import { hostname, totalmem } from 'node:os';
import { createServer, isIPv6, type AddressInfo, type Server } from 'node:net';
import { Broker } from './broker/broker.js';
import type { DefinitionsDocument } from './broker/definitions.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { openPersistence, type Persistence } from './persistence.js';
import { startResourceMonitor } from './resource-monitor.js';
import type { FieldTable } from './protocol/field-table.js';
import { ReplyCode } from './protocol/reply-codes.js';
import { Connection, type SessionSettings } from './session/connection.js';
import { type ManagementServer, startManagementServer } from './http/server.js';
import type { Listener } from './http/router.js';

/** How long clients get to answer connection.close at shutdown. */
const SHUTDOWN_GRACE_MS = 3000;

/** An address the broker accepts clients on. */
/** The host a client on this machine connects to for a listener's address: loopback for all addresses, IPv6 in brackets. */
export function connectHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return isIPv6(address) ? `[${address}]` : address;
}

export interface BootOptions {
  /** A definitions document imported at boot after the loadDefinitions file, as if it were one (no guest unless it has one). */
  definitions?: DefinitionsDocument;
}

export interface RunningServer {
  /** The AMQP listener's port (the one picked when port 0 was asked for). */
  readonly port: number;
  readonly host: string;
  /** Every listener, the AMQP one first. */
  readonly listeners: readonly Listener[];
  /** What of the loadDefinitions file and the definitions option could not be imported, with the reason. */
  readonly definitionsSkipped: readonly string[];
  readonly broker: Broker;
  /** The management HTTP API's port, or null when it is off. */
  readonly managementPort: number | null;
  /** Stops listening, closes every client with 320 CONNECTION_FORCED, and resolves when all are gone. */
  close(): Promise<void>;
}

/** Turns sockets into sessions on one broker. */
export async function startServer(config: Config, logger: Logger, options: BootOptions = {}): Promise<RunningServer> {
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true });
  const broker = new Broker();
  broker.reportError = (error, what, context) =>
    logger.error({ event: 'internal-error', ...context, err: error }, `${what} failed: ${error instanceof Error ? error.message : String(error)}; the broker goes on`);
  const properties = await serverProperties();
  const monitor = await startResourceMonitor(broker, config, logger);
  let persistence: Persistence;
  try {
    const load: DefinitionsDocument[] = [];
    if (config.loadDefinitions !== '') load.push(await readDefinitionsFile(config.loadDefinitions));
    if (options.definitions !== undefined) load.push(options.definitions);
    const boot = {
      load,
      defaults: { user: config.defaultUser, pass: config.defaultPass, tags: config.defaultUserTags, vhost: config.defaultVhost },
    };
    persistence = await openPersistence(
      broker,
      config.dataDir,
      logger,
      String(properties.version),
      { failed: () => monitor.storageFailed(), waitingForSpace: (waiting) => monitor.storageWaitingForSpace(waiting) },
      boot,
    );
  } catch (error) {
    monitor.stop();
    throw error;
  }
  const settings: SessionSettings = {
    heartbeat: config.heartbeat,
    frameMax: config.frameMax,
    channelMax: config.channelMax,
    maxMessageSize: config.maxMessageSize,
    serverProperties: properties,
    login: { mechanisms: config.authMechanisms, loopbackUsers: config.loopbackUsers },
  };
  const connections = new Set<Connection>();
  let allClosed: (() => void) | undefined;
  const onClosed = (connection: Connection): void => {
    connections.delete(connection);
    if (connections.size === 0) allClosed?.();
  };
  const server: Server = createServer((socket) => {
    connections.add(new Connection(socket, broker, settings, logger, onClosed));
  });
  server.on('error', (error) => logger.error({ err: error }, 'listener error'));
  const listen = (host: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    try {
      await listen(config.host);
    } catch (error) {
      // '::' takes IPv4 clients too; on a machine without IPv6 it cannot be bound at all.
      if (config.host !== '::' || (error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw error;
      logger.info({ host: '0.0.0.0' }, 'no IPv6 on this machine: listening on IPv4 only');
      await listen('0.0.0.0');
    }
  } catch (error) {
    monitor.stop();
    await persistence.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const listeners: Listener[] = [{ protocol: 'amqp', host: address.address, port: address.port }];
  logger.info({ protocol: 'amqp', host: address.address, port: address.port }, 'listening');
  let management: ManagementServer | undefined;
  if (config.managementPort >= 0) {
    const nodeName = String(properties.cluster_name);
    const context = {
      broker,
      connections,
      listeners,
      nodeName,
      clusterName: nodeName,
      productVersion: String(properties.version),
      startedAt,
      memoryLimit: config.memoryHighWatermark * totalmem(),
      loopbackUsers: config.loopbackUsers,
      diskFreeLimit: config.diskFreeLimit,
    };
    try {
      management = await startManagementServer(context, config.managementPort, config.host, logger);
    } catch (error) {
      server.close();
      monitor.stop();
      await persistence.close();
      throw error;
    }
    listeners.push({ protocol: 'http', host: management.host, port: management.port });
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await management?.close();
      if (connections.size > 0) {
        const gone = new Promise<void>((resolve) => (allClosed = resolve));
        for (const connection of connections) {
          connection.forceClose(ReplyCode.CONNECTION_FORCED, "broker forced connection closure with reason 'shutdown'");
        }
        const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
        await Promise.race([gone, grace]);
        for (const connection of connections) connection.socket.destroy();
      }
      await stopped;
      broker.stop();
      monitor.stop();
      await persistence.close();
      logger.info('stopped');
    })();
    return closing;
  };
  return { port: address.port, host: address.address, listeners, managementPort: management?.port ?? null, definitionsSkipped: persistence.skipped, broker, close };
}

/** The file named by loadDefinitions; one that cannot be read or parsed stops the start (as RabbitMQ). */
async function readDefinitionsFile(file: string): Promise<DefinitionsDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the definitions file ${file}: ${(error as Error).message}`);
  }
  try {
    const document = JSON.parse(text) as unknown;
    if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new Error('not a JSON object');
    return document as DefinitionsDocument;
  } catch (error) {
    throw new Error(`the definitions file ${file} is not valid: ${(error as Error).message}`);
  }
}

async function serverProperties(): Promise<FieldTable> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    product: 'Warren',
    version: pkg.version,
    platform: `Node.js ${process.version}`,
    copyright: 'Warren contributors',
    information: 'Licensed under the MIT licence',
    cluster_name: `warren@${hostname()}`,
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      consumer_priorities: true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: true,
    },
  };
}
