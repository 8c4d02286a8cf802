import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured logs on stdout, one JSON line per event worth a human's attention. */
export function createLogger(level: string): Logger {
  return pino({ name: 'warren', level, base: { pid: process.pid } });
}
