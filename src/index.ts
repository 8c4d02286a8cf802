import { applySettings, checkCombination, checkSettings, type Config, DEFAULT_CONFIG } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { startServer } from './server.js';

export type { Config } from './config.js';
export { ConfigError, DEFAULT_CONFIG } from './config.js';

export interface BrokerOptions extends Partial<Config> {
  /** A pino logger to use instead of one made from logLevel. */
  logger?: Logger;
}

export interface RunningBroker {
  /** The port it listens on (the one picked when port 0 was asked for); -1 when it listens for TLS only. */
  readonly port: number;
  /** The amqps port, when a TLS certificate was given. */
  readonly tlsPort: number | undefined;
  readonly host: string;
  /** Closes every client connection with 320 CONNECTION_FORCED and stops listening. */
  close(): Promise<void>;
  /** Re-reads the TLS certificate files for new connections; false (and the old ones kept) when they cannot be used. */
  reloadTls(): Promise<boolean>;
}

/**
 * Starts a broker in this process: `const broker = await startBroker({ port: 0 })`.
 * Logs are silent unless logLevel or logger is given. A setting with a bad value throws ConfigError naming it.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const { logger: given, ...settings } = options;
  checkSettings(settings);
  const config: Config = applySettings({ ...DEFAULT_CONFIG, logLevel: 'silent' }, settings);
  checkCombination(config);
  const logger = given ?? createLogger(config.logLevel);
  const server = await startServer(config, logger);
  return { port: server.port, tlsPort: server.tlsPort, host: server.host, close: server.close, reloadTls: server.reloadTls };
}
