import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, totalmem } from 'node:os';
import { createServer, isIPv6, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Broker } from './broker/broker.js';
import type { DefinitionsDocument } from './broker/definitions.js';
import { startStatsSampler } from './broker/stats.js';
import { type Config, managementTlsSettings } from './config.js';
import { type MetricsEndpoint, startMetricsServer } from './http/metrics.js';
import type { Logger } from './logger.js';
import { openPersistence, type Persistence } from './persistence.js';
import { listen } from './listen.js';
import { startResourceMonitor } from './resource-monitor.js';
import type { FieldTable } from './protocol/field-table.js';
import { ReplyCode } from './protocol/reply-codes.js';
import { Connection, type SessionSettings } from './session/connection.js';
import { type ManagementServer, managementApp, type SecureManagementServer, startHttpManagementServer, startSecureManagementServer } from './http/server.js';
import type { Listener } from './http/router.js';
import { describeSession, listenerOptions, rabbitSslOptions, readCredentials, refusal } from './tls.js';

/** How long clients get to answer connection.close at shutdown. */
const SHUTDOWN_GRACE_MS = 3000;

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
  /** The plain AMQP port (the one picked when port 0 was asked for), or -1 when there is no plain listener (TLS only). */
  readonly port: number;
  /** The amqps port, or undefined when no TLS certificate is configured. */
  readonly tlsPort: number | undefined;
  readonly host: string;
  /** Every listener, the AMQP ones first. */
  readonly listeners: readonly Listener[];
  /** What of the loadDefinitions file and the definitions option could not be imported, with the reason. */
  readonly definitionsSkipped: readonly string[];
  readonly broker: Broker;
  /** Open client connections (their channels and counters are what the management API and metrics show). */
  readonly connections: ReadonlySet<Connection>;
  /** The management HTTP API's port, or null when it is off. */
  readonly managementPort: number | null;
  /** The Prometheus endpoint's port, or null when it is off. */
  readonly metricsPort: number | null;
  /** The management API's HTTPS port, or null when it is off. */
  readonly managementTlsPort: number | null;
  /**
   * Reads the TLS certificate, key and CA files again; new TLS connections use them, open ones keep theirs. Files
   * that cannot be used are logged and the old certificates kept. Resolves to whether the new ones are in use.
   */
  reloadTls(): Promise<boolean>;
  /** Stops listening, closes every client with 320 CONNECTION_FORCED, and resolves when all are gone. */
  close(): Promise<void>;
}

/** Turns sockets into sessions on one broker. */
export async function startServer(config: Config, logger: Logger, options: BootOptions = {}): Promise<RunningServer> {
  const startedAt = Date.now();
  // Before anything is opened: a TLS file that cannot be used stops the start.
  const credentials = config.tlsCert === '' ? undefined : await readCredentials(config);
  // The HTTPS management listener's: management.ssl.* over the amqps settings (by default the same certificate).
  const httpsSettings = managementTlsSettings(config);
  const httpsOn = config.managementPort >= 0 && config.managementTlsPort >= 0 && httpsSettings.tlsCert !== '';
  const httpsCredentials = httpsOn ? await readCredentials(httpsSettings) : undefined;
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
    login: { mechanisms: config.authMechanisms, loopbackUsers: config.loopbackUsers, certificateLoginFrom: config.sslCertLoginFrom },
  };
  const connections = new Set<Connection>();
  let allClosed: (() => void) | undefined;
  const onClosed = (connection: Connection): void => {
    connections.delete(connection);
    if (connections.size === 0) allClosed?.();
  };
  const server: Server | undefined =
    config.port === -1 ? undefined : createServer((socket) => connections.add(new Connection(socket, broker, settings, logger, onClosed)));
  const tlsServer: TlsServer | undefined =
    credentials === undefined
      ? undefined
      : createTlsServer(listenerOptions(config, credentials), (socket: TLSSocket) => {
          // Reading the session can throw (a socket reset as its handshake ends has no handle): only this client goes.
          try {
            const reason = refusal(socket, config);
            if (reason !== undefined) {
              logger.warn({ event: 'tls.refused', peer: `${socket.remoteAddress}:${socket.remotePort}` }, `refusing TLS client: ${reason}`);
              socket.destroy();
              return;
            }
            connections.add(new Connection(socket, broker, settings, logger, onClosed, describeSession(socket)));
          } catch (error) {
            logger.error({ event: 'tls.accept-failed', peer: `${socket.remoteAddress}:${socket.remotePort}`, err: error }, 'accepting a TLS client failed; its socket is closed');
            socket.destroy();
          }
        });
  server?.on('error', (error) => logger.error({ err: error }, 'listener error'));
  tlsServer?.on('error', (error) => logger.error({ err: error }, 'TLS listener error'));
  // A handshake that fails or outlasts tlsHandshakeTimeout. With a listener for this event node:tls leaves the
  // socket open (a stalled client would keep it): it is closed here.
  tlsServer?.on('tlsClientError', (error, socket) => {
    const peer = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
    logger.warn({ event: 'tls.handshake-failed', peer, code: (error as NodeJS.ErrnoException).code }, `TLS handshake failed: ${error.message}`);
    socket.destroy();
  });
  const listeners: Listener[] = [];
  try {
    if (server !== undefined) {
      const address = await listenOn(server, config.port, config.host, logger);
      listeners.push({ protocol: 'amqp', host: address.address, port: address.port });
      logger.info({ protocol: 'amqp', host: address.address, port: address.port }, 'listening');
    }
    if (tlsServer !== undefined) {
      const address = await listenOn(tlsServer, config.tlsPort, config.host, logger);
      listeners.push({ protocol: 'amqp/ssl', host: address.address, port: address.port, socketOpts: rabbitSslOptions(config) });
      logger.info({ protocol: 'amqp/ssl', host: address.address, port: address.port, tls: true }, 'listening');
    }
  } catch (error) {
    server?.close();
    tlsServer?.close();
    monitor.stop();
    await persistence.close();
    throw error;
  }
  const plain = listeners.find((listener) => listener.protocol === 'amqp');
  const secure = listeners.find((listener) => listener.protocol === 'amqp/ssl');
  let management: ManagementServer | undefined;
  let secureManagement: SecureManagementServer | undefined;
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
      amqpTlsFiles: config.tlsCert === '' ? undefined : { certfile: config.tlsCert, cacertfile: config.tlsCa },
    };
    try {
      const app = managementApp(context, logger);
      management = await startHttpManagementServer(app, config.managementPort, config.host, logger);
      listeners.push({ protocol: 'http', host: management.host, port: management.port });
      if (httpsCredentials !== undefined) {
        const tls = { options: listenerOptions(httpsSettings, httpsCredentials), refusal: (socket: TLSSocket) => refusal(socket, httpsSettings) };
        secureManagement = await startSecureManagementServer(app, tls, config.managementTlsPort, config.host, logger);
        listeners.push({
          protocol: 'https',
          host: secureManagement.host,
          port: secureManagement.port,
          socketOpts: { port: secureManagement.port, ssl: true, ssl_opts: rabbitSslOptions(httpsSettings) },
        });
      }
    } catch (error) {
      server?.close();
      tlsServer?.close();
      await management?.close();
      monitor.stop();
      await persistence.close();
      throw error;
    }
  }

  const stopSampler = startStatsSampler((now) => sampleStats(broker, connections, now), broker.report);
  let metrics: MetricsEndpoint | undefined;
  if (config.metricsPort >= 0) {
    try {
      metrics = await startMetricsServer(
        {
          broker,
          connections,
          resources: monitor.readings,
          node: String(properties.cluster_name),
          cluster: String(properties.cluster_name),
          clusterPermanentId: await clusterPermanentId(config.dataDir),
          version: String(properties.version),
        },
        config.metricsPort,
        config.host,
        logger,
      );
    } catch (error) {
      stopSampler();
      server?.close();
      tlsServer?.close();
      await Promise.all([management?.close(), secureManagement?.close()]);
      monitor.stop();
      await persistence.close();
      throw error;
    }
    listeners.push({ protocol: 'http/prometheus', host: metrics.host, port: metrics.port });
  }

  /** Reads one listener's certificate files again and puts them in use; false (logged) when they cannot be used. */
  const reload = async (protocol: string, settings: Config, use: (credentials: SecureContextOptions) => void): Promise<boolean> => {
    try {
      use(await readCredentials(settings));
    } catch (error) {
      logger.error({ event: 'tls.reload-failed', protocol }, `${protocol} TLS certificates not reloaded, the old ones stay in use: ${(error as Error).message}`);
      return false;
    }
    logger.info({ event: 'tls.reloaded', protocol, cert: settings.tlsCert }, `${protocol} TLS certificates reloaded; new connections use them`);
    return true;
  };
  const reloadTls = async (): Promise<boolean> => {
    if (tlsServer === undefined && secureManagement === undefined) {
      logger.info('no TLS listener: no certificates to reload');
      return false;
    }
    const amqps = tlsServer === undefined || (await reload('amqp/ssl', config, (credentials) => tlsServer.setSecureContext(credentials)));
    const https = secureManagement === undefined || (await reload('https', httpsSettings, (credentials) => secureManagement.setSecureContext(credentials)));
    return amqps && https;
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = Promise.all(
        [server, tlsServer].map((listener) => new Promise<void>((resolve) => (listener === undefined ? resolve() : listener.close(() => resolve())))),
      );
      await Promise.all([management?.close(), secureManagement?.close(), metrics?.close()]);
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
      stopSampler();
      broker.stop();
      monitor.stop();
      await persistence.close();
      logger.info('stopped');
    })();
    return closing;
  };
  return {
    port: plain?.port ?? -1,
    tlsPort: secure?.port,
    host: (plain ?? secure ?? listeners[0]).host,
    listeners,
    managementPort: management?.port ?? null,
    metricsPort: metrics?.port ?? null,
    managementTlsPort: secureManagement?.port ?? null,
    definitionsSkipped: persistence.skipped,
    broker,
    connections,
    close,
    reloadTls,
  };
}

/** Samples every counter set that lives now: the node's, each vhost's, queue's, exchange's, connection's and channel's. */
function sampleStats(broker: Broker, connections: ReadonlySet<Connection>, now: number): void {
  broker.stats.sample(now);
  for (const vhost of broker.vhosts.values()) {
    vhost.stats.sample(now);
    for (const queue of vhost.queues.values()) {
      queue.stats.sample(now);
      queue.depthRates.sample(queue.messageCount, queue.unackedCount, now);
    }
    for (const exchange of vhost.exchanges.values()) exchange.stats.sample(now);
  }
  for (const connection of connections) {
    connection.sampleTraffic(now);
    for (const channel of connection.channels.values()) channel.stats.sample(now);
  }
}

/**
 * RabbitMQ's cluster_permanent_id (rabbitmq_identity_info): made once, kept in the data dir, so that dashboards
 * see the same node across restarts.
 */
async function clusterPermanentId(dataDir: string): Promise<string> {
  const file = `${dataDir}/cluster-id`;
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored !== '') return stored;
  } catch {
    // None yet: made below.
  }
  const id = `warren-cluster-id-${randomBytes(16).toString('base64url')}`;
  await writeFile(file, `${id}\n`);
  return id;
}

/** Listens on host; the default '::' falls back to IPv4 on a machine without IPv6 (where it cannot be bound at all). */
async function listenOn(server: Server, port: number, host: string, logger: Logger): Promise<AddressInfo> {
  try {
    return await listen(server, port, host);
  } catch (error) {
    if (host !== '::' || (error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw error;
    logger.info({ host: '0.0.0.0' }, 'no IPv6 on this machine: listening on IPv4 only');
    return listen(server, port, '0.0.0.0');
  }
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
