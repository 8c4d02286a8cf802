#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { type Config, DEFAULT_CONFIG } from './config.js';
import { createLogger } from './logger.js';
import { type RunningServer, startServer } from './server.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('warren')
  .usage('$0 [options]\n\nAn AMQP 0-9-1 message broker. Every option can also be set as WARREN_<OPTION>, e.g. WARREN_PORT=5673.')
  .env('WARREN')
  .option('port', { type: 'number', default: DEFAULT_CONFIG.port, describe: 'AMQP port (0 picks a free one and logs it)' })
  .option('host', { type: 'string', default: DEFAULT_CONFIG.host, describe: 'address to listen on' })
  .option('data-dir', { type: 'string', default: DEFAULT_CONFIG.dataDir, describe: 'where durable data lives' })
  .option('log-level', {
    type: 'string',
    default: DEFAULT_CONFIG.logLevel,
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    describe: 'log level',
  })
  .option('heartbeat', { type: 'number', default: DEFAULT_CONFIG.heartbeat, describe: 'heartbeat interval proposed to clients, seconds' })
  .option('frame-max', { type: 'number', default: DEFAULT_CONFIG.frameMax, describe: 'largest frame, bytes' })
  .option('channel-max', { type: 'number', default: DEFAULT_CONFIG.channelMax, describe: 'highest channel number' })
  .option('max-message-size', { type: 'number', default: DEFAULT_CONFIG.maxMessageSize, describe: 'largest message body, bytes' })
  .option('disk-free-limit', {
    type: 'number',
    default: DEFAULT_CONFIG.diskFreeLimit,
    describe: 'free disk bytes below which publishers are blocked',
  })
  .option('memory-high-watermark', {
    type: 'number',
    default: DEFAULT_CONFIG.memoryHighWatermark,
    describe: "share of the machine's memory above which publishers are blocked",
  })
  .strict()
  .help()
  .parseAsync();

const config: Config = {
  port: argv.port,
  host: argv.host,
  dataDir: argv.dataDir,
  logLevel: argv.logLevel,
  heartbeat: argv.heartbeat,
  frameMax: argv.frameMax,
  channelMax: argv.channelMax,
  maxMessageSize: argv.maxMessageSize,
  diskFreeLimit: argv.diskFreeLimit,
  memoryHighWatermark: argv.memoryHighWatermark,
  loadDefinitions: DEFAULT_CONFIG.loadDefinitions,
  defaultUser: DEFAULT_CONFIG.defaultUser,
  defaultPass: DEFAULT_CONFIG.defaultPass,
  defaultUserTags: DEFAULT_CONFIG.defaultUserTags,
  defaultVhost: DEFAULT_CONFIG.defaultVhost,
  loopbackUsers: DEFAULT_CONFIG.loopbackUsers,
  authMechanisms: DEFAULT_CONFIG.authMechanisms,
};
const logger = createLogger(config.logLevel);
// A safety net only: errors are caught where they arise and fail the one connection, channel or queue
// operation involved. One that still escapes is logged with its stack, and the broker keeps serving.
process.on('uncaughtException', (error) => logger.error({ event: 'uncaught-exception', err: error }, `uncaught exception: ${error.message}`));
process.on('unhandledRejection', (reason) => logger.error({ event: 'unhandled-rejection', err: reason }, `unhandled promise rejection: ${String(reason)}`));
// Handlers go in before the listener opens, so a signal that follows the
// "listening" line at once still shuts down cleanly.
let server: RunningServer | undefined;
let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  (server?.close() ?? Promise.resolve()).then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'error while shutting down');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

try {
  server = await startServer(config, logger);
} catch (error) {
  logger.fatal({ err: error }, `cannot start: ${(error as Error).message}`);
  process.exit(1);
}
