// Log lines: JSON for programs, readable lines for people, and which one a logger writes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, formatLogRecord, formatTime, resolveLogFormat } from '../src/logger.js';

/** A logger writing into an array, as if to a terminal (isTTY) or a pipe. */
function captured(format: Parameters<typeof createLogger>[1], isTTY: boolean) {
  const lines: string[] = [];
  const logger = createLogger('info', format, { isTTY, write: (text: string) => lines.push(text) });
  return { logger, lines };
}

describe('log format choice', () => {
  it('auto is pretty on a terminal and JSON otherwise; json and pretty are what they say anywhere', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('auto on a pipe writes JSON lines with pino fields', () => {
    const { logger, lines } = captured('auto', false);
    logger.info({ protocol: 'amqp', host: '127.0.0.1', port: 5672 }, 'listening');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 30, msg: 'listening', protocol: 'amqp', host: '127.0.0.1', port: 5672, name: 'warren' });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('auto on a terminal writes readable lines, coloured by level as RabbitMQ colours them', () => {
    vi.stubEnv('NO_COLOR', undefined);
    const { logger, lines } = captured('auto', true);
    logger.info({ protocol: 'amqp', host: '127.0.0.1', port: 5672 }, 'listening');
    logger.warn('memory alarm set');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[info\] listening protocol=amqp host=127\.0\.0\.1 port=5672\n$/);
    expect(lines[1]).toMatch(/^\x1b\[38;5;214m.* \[warn\] memory alarm set\x1b\[0m\n$/);
  });

  it('no colour on a terminal when NO_COLOR is set', () => {
    vi.stubEnv('NO_COLOR', '1');
    const { logger, lines } = captured('auto', true);
    logger.warn('memory alarm set');
    expect(lines[0]).toMatch(/ \[warn\] memory alarm set\n$/);
    expect(lines[0]).not.toContain('\x1b');
  });

  it('pretty on a pipe has no colour codes', () => {
    const { logger, lines } = captured('pretty', false);
    logger.error('disk alarm set');
    expect(lines[0]).toMatch(/ \[error\] disk alarm set\n$/);
    expect(lines[0]).not.toContain('\x1b');
  });

  it('keeps the level filter', () => {
    const { logger, lines } = captured('pretty', false);
    logger.debug('not shown');
    expect(lines).toEqual([]);
  });
});

describe('pretty lines', () => {
  const time = Date.UTC(2026, 11, 1, 6, 48, 21, 7);

  it('time, level and message, then the other fields as key=value: one word bare, anything else as JSON', () => {
    const line = formatLogRecord(
      {
        level: 30,
        time,
        pid: 42,
        hostname: 'h',
        name: 'warren',
        msg: 'connection closed',
        connection: '127.0.0.1:5000 -> 127.0.0.1:5672',
        user: 'guest',
        code: 320,
        ok: true,
        empty: '',
        quoted: 'a "b"',
        client: { product: 'amqplib' },
      },
      false,
    );
    expect(line).toBe(
      `${formatTime(time)} [info] connection closed connection="127.0.0.1:5000 -> 127.0.0.1:5672" user=guest code=320 ok=true empty="" ` +
        `quoted="a \\"b\\"" client={"product":"amqplib"}`,
    );
  });

  it("an error's message goes on the line and its stack on indented lines after it", () => {
    const err = { type: 'Error', message: 'listen EADDRINUSE: address already in use', stack: 'Error: listen EADDRINUSE\n    at Server.listen' };
    const line = formatLogRecord({ level: 60, time, msg: 'cannot start', err }, false);
    expect(line).toBe(
      `${formatTime(time)} [fatal] cannot start err="listen EADDRINUSE: address already in use"\n    Error: listen EADDRINUSE\n        at Server.listen`,
    );
  });

  it("a time is local with its offset, to the millisecond, and means the same instant (RabbitMQ's rfc3339_space)", () => {
    const text = formatTime(time);
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.007[+-]\d\d:\d\d$/);
    expect(new Date(text.replace(' ', 'T')).getTime()).toBe(time);
  });
});
