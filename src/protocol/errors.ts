import { ReplyCode, replyCodeName } from './reply-codes.js';

export type ErrorScope = 'channel' | 'connection';

/**
 * An error with AMQP meaning. Whoever detects a fault throws one; the channel
 * turns a 'channel' error into channel.close, the connection turns a
 * 'connection' error into connection.close. No other place picks reply codes.
 */
export class AmqpError extends Error {
  constructor(
    readonly scope: ErrorScope,
    readonly replyCode: number,
    readonly detail: string,
    public classId = 0,
    public methodId = 0,
  ) {
    super(`${replyCodeName(replyCode)} - ${detail}`);
    this.name = 'AmqpError';
  }

  /**
   * Send only the reply-code name as the reply text ("INTERNAL_ERROR"), as
   * RabbitMQ does for some errors; the detail still goes to the log.
   */
  nameOnly = false;

  /**
   * The reply-text RabbitMQ would send: "NOT_FOUND - no queue 'q' in vhost '/'".
   * A shortstr holds 255 bytes, so longer texts are cut to 252 and end in "...", as RabbitMQ does.
   */
  get replyText(): string {
    return this.nameOnly ? replyCodeName(this.replyCode) : limitShortString(this.message);
  }

  static channel(replyCode: number, detail: string, classId = 0, methodId = 0): AmqpError {
    return new AmqpError('channel', replyCode, detail, classId, methodId);
  }

  static connection(replyCode: number, detail: string, classId = 0, methodId = 0): AmqpError {
    return new AmqpError('connection', replyCode, detail, classId, methodId);
  }
}

export function notFound(detail: string): AmqpError {
  return AmqpError.channel(ReplyCode.NOT_FOUND, detail);
}

export function preconditionFailed(detail: string): AmqpError {
  return AmqpError.channel(ReplyCode.PRECONDITION_FAILED, detail);
}

export function accessRefused(detail: string): AmqpError {
  return AmqpError.channel(ReplyCode.ACCESS_REFUSED, detail);
}

const SHORTSTR_MAX = 255;

export function limitShortString(text: string): string {
  if (Buffer.byteLength(text) <= SHORTSTR_MAX) return text;
  let cut = Buffer.from(text).subarray(0, SHORTSTR_MAX - 3).toString('utf8');
  // Drop a character split by the byte cut (decoded as U+FFFD).
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1);
  return `${cut}...`;
}
