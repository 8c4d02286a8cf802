#!/usr/bin/env -S node --initial-heap-size=64
import { hideBin } from 'yargs/helpers';
import { commandLine, ConfigError, type ResolvedConfig, resolveConfig } from './config.js';
import { startGcPacing } from './gc-pacing.js';
import { createLogger } from './logger.js';
import { type RunningServer, startServer } from './server.js';

const argv = hideBin(process.argv);
if (argv[0] === 'ctl') {
  // `warren ctl …` is a client of the management API; nothing of the broker is loaded.
  const { runCtl } = await import('./ctl/ctl.js');
  const readStdin = async (): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const stdout = (text: string): void => void process.stdout.write(text);
  const stderr = (text: string): void => void process.stderr.write(text);
  // Writes to pipes and files are synchronous on Linux, so exiting here loses no output.
  process.exit(await runCtl(argv.slice(1), process.env, { stdout, stderr, readStdin }));
}
// --help, --version and unknown flags are answered the yargs way (usage text, exit 0 or 1).
await commandLine(argv).help().parseAsync();
let resolved: ResolvedConfig;
try {
  resolved = resolveConfig(argv, process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`warren: ${error.message}\n`);
  process.exit(1);
}
const { config, warnings } = resolved;
const logger = createLogger(config.logLevel, config.logFormat);
for (const warning of warnings) logger.warn(warning);
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
// Re-reads the TLS certificates (RabbitMQ ignores SIGHUP; rotating short-lived certificates needs this).
process.on('SIGHUP', () => {
  logger.info({ signal: 'SIGHUP' }, 'reloading TLS certificates');
  void server?.reloadTls();
});

// Large message bodies otherwise keep V8 marking a small heap over and over (see gc-pacing.ts).
startGcPacing({ onError: (error) => logger.error({ err: error, event: 'gc-pacing.stopped' }, 'GC pacing stopped after an error; V8 paces its own collections') });
try {
  server = await startServer(config, logger);
} catch (error) {
  logger.fatal({ err: error }, `cannot start: ${(error as Error).message}`);
  process.exit(1);
}
