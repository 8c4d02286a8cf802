import { describe, expect, it } from 'vitest';
import { AmqpError, limitShortString } from '../../src/protocol/errors.js';

describe('AmqpError', () => {
  it('prefixes the reply code name, as RabbitMQ does', () => {
    const error = AmqpError.channel(404, "no queue 'q' in vhost '/'", 50, 10);
    expect(error.replyText).toBe("NOT_FOUND - no queue 'q' in vhost '/'");
    expect([error.scope, error.replyCode, error.classId, error.methodId]).toEqual(['channel', 404, 50, 10]);
  });

  it('cuts reply texts longer than a shortstr to 252 bytes and "..."', () => {
    const long = AmqpError.channel(405, 'x'.repeat(300)).replyText;
    expect(Buffer.byteLength(long)).toBe(255);
    expect(long.endsWith('x...')).toBe(true);
    expect(limitShortString('short')).toBe('short');
  });

  it('never splits a multi-byte character', () => {
    const text = limitShortString('é'.repeat(200));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(255);
    expect(text).toBe(`${'é'.repeat(126)}...`);
  });
});
