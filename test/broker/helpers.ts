import { AmqpError } from '../../src/protocol/errors.js';

/** The AmqpError `fn` throws, as data; fails if it throws something else or nothing. */
export function amqpError(fn: () => unknown): { scope: string; code: number; text: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof AmqpError) return { scope: error.scope, code: error.replyCode, text: error.replyText };
    throw error;
  }
  throw new Error('expected an AmqpError');
}
