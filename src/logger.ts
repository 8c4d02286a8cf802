import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** json: one JSON object per line; pretty: one readable line per event; auto: pretty on a terminal, else json. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where log lines go: stdout unless a test gives something else. */
export interface LogOutput {
  write(text: string): unknown;
  /** A terminal: `auto` is pretty and the pretty lines are coloured. */
  isTTY?: boolean;
}

/** What `auto` means for an output: people read terminals, programs read pipes and files. */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

/**
 * Structured logs, one event per line: JSON lines (pino's) on a pipe or a file, readable lines on a terminal,
 * unless `format` says which.
 */
export function createLogger(level: string, format: LogFormat = 'auto', output?: LogOutput): Logger {
  const options = { name: 'warren', level, base: { pid: process.pid } };
  const isTTY = output === undefined ? process.stdout.isTTY === true : output.isTTY === true;
  const resolved = resolveLogFormat(format, isTTY);
  if (resolved === 'json') return output === undefined ? pino(options) : pino(options, output as DestinationStream);
  // stdout through pino's own synchronous destination, so a line logged just before process.exit is written.
  const sink = output ?? pino.destination({ dest: 1, sync: true });
  return pino(options, prettyStream(sink, isTTY && process.env.NO_COLOR === undefined));
}

/** A pino destination that writes each JSON line it is given as a readable line. */
export function prettyStream(output: LogOutput, colors: boolean): DestinationStream {
  return {
    write(line: string) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        output.write(line);
        return;
      }
      output.write(`${formatLogRecord(record as Record<string, unknown>, colors)}\n`);
    },
  };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
// RabbitMQ's console colours (log.console.color_esc_seqs): grey for debug, none for info, orange, red, white on red.
const LEVEL_COLOURS: Record<string, string> = {
  trace: '\x1b[38;5;246m',
  debug: '\x1b[38;5;246m',
  warn: '\x1b[38;5;214m',
  error: '\x1b[38;5;160m',
  fatal: '\x1b[1;37m\x1b[48;5;196m',
};
const RESET = '\x1b[0m';
/** Fields every line has or that say nothing to a reader. */
const HIDDEN = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'name', 'err', 'v']);

/**
 * One pino record as a line in RabbitMQ's console layout (`$time [$level] $msg`), followed by the record's other
 * fields as key=value; an error's stack follows on indented lines.
 */
export function formatLogRecord(record: Record<string, unknown>, colors: boolean): string {
  const level = typeof record.level === 'number' ? (LEVEL_NAMES[record.level] ?? String(record.level)) : String(record.level);
  let line = `${formatTime(typeof record.time === 'number' ? record.time : Date.now())} [${level}] ${String(record.msg ?? '')}`;
  for (const [key, value] of Object.entries(record)) {
    if (!HIDDEN.has(key) && value !== undefined) line += ` ${key}=${formatValue(value)}`;
  }
  const err = record.err as { message?: unknown; stack?: unknown } | undefined;
  if (err !== undefined && err !== null) {
    line += ` err=${formatValue(err.message ?? err)}`;
    if (typeof err.stack === 'string') line += `\n${err.stack.replace(/^/gm, '    ')}`;
  }
  const colour = colors ? LEVEL_COLOURS[level] : undefined;
  return colour === undefined ? line : `${colour}${line}${RESET}`;
}

/** Local time with its offset, to the millisecond: 2026-12-01 06:48:21.123+00:00 (RabbitMQ's rfc3339_space). */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}` +
    `${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`
  );
}

/** A value as it reads after `key=`: bare when it is one word, JSON otherwise (quoted text, objects). */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
