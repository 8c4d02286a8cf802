import { applySettings, checkSettings, type Config, DEFAULT_CONFIG } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { startServer } from './server.js';

export type { Config } from './config.js';
export { ConfigError, DEFAULT_CONFIG } from './config.js';

export interface BrokerOptions extends Partial<Config> {
  /** A pino logger to use instead of one made from logLevel. */
  logger?: Logger;
}

export interface RunningBroker {
  /** The port it listens on (the one picked when port 0 was asked for). */
  readonly port: number;
  readonly host: string;
  /** The management HTTP API's port, or null when it is off (the default here: pass managementPort to turn it on). */
  readonly managementPort: number | null;
  /** Closes every client connection with 320 CONNECTION_FORCED and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a broker in this process: `const broker = await startBroker({ port: 0 })`.
 * Logs are silent unless logLevel or logger is given; the management API is off unless managementPort is given
 * (0: a free port). A setting with a bad value throws ConfigError naming it.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const { logger: given, ...settings } = options;
  checkSettings(settings);
  const config: Config = applySettings({ ...DEFAULT_CONFIG, logLevel: 'silent', managementPort: -1 }, settings);
  const logger = given ?? createLogger(config.logLevel);
  const server = await startServer(config, logger);
  return { port: server.port, host: server.host, managementPort: server.managementPort, close: server.close };
}
