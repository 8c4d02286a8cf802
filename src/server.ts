import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Broker } from './broker/broker.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { openPersistence, type Persistence } from './persistence.js';
import { startResourceMonitor } from './resource-monitor.js';
import type { FieldTable } from './protocol/field-table.js';
import { ReplyCode } from './protocol/reply-codes.js';
import { Connection, type SessionSettings } from './session/connection.js';

/** How long clients get to answer connection.close at shutdown. */
const SHUTDOWN_GRACE_MS = 3000;

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  readonly broker: Broker;
  /** Stops listening, closes every client with 320 CONNECTION_FORCED, and resolves when all are gone. */
  close(): Promise<void>;
}

/** Turns sockets into sessions on one broker. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  const broker = new Broker();
  broker.reportError = (error, what, context) =>
    logger.error({ event: 'internal-error', ...context, err: error }, `${what} failed: ${error instanceof Error ? error.message : String(error)}; the broker goes on`);
  const properties = await serverProperties();
  const monitor = await startResourceMonitor(broker, config, logger);
  let persistence: Persistence;
  try {
    persistence = await openPersistence(broker, config.dataDir, logger, String(properties.version), () => monitor.storageFailed());
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
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    monitor.stop();
    await persistence.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  logger.info({ port: address.port, host: address.address, dataDir: config.dataDir }, 'listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
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
  return { port: address.port, host: address.address, broker, close };
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
