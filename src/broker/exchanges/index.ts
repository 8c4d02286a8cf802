import type { FieldTable } from '../../protocol/field-table.js';
import { ConsistentHashRouter } from './consistent-hash.js';
import { DirectRouter } from './direct.js';
import { FanoutRouter } from './fanout.js';
import { HeadersRouter } from './headers.js';
import type { ExchangeType, Router } from './router.js';
import { TopicRouter } from './topic.js';

export type { ExchangeType, RoutedMessage, Router } from './router.js';
export { ConsistentHashRouter, bindingWeight, validateConsistentHashArgs } from './consistent-hash.js';
export { DirectRouter } from './direct.js';
export { FanoutRouter } from './fanout.js';
export { TopicRouter, splitTopicKey, TOPIC_CACHE_SIZE } from './topic.js';
export {
  HeadersRouter,
  validateHeadersBindingArgs,
  fieldValuesEqual,
  headersMatch,
  type XMatch,
} from './headers.js';

/** Creates the router for an exchange type (some read the exchange's arguments). Throws on an unknown type (check with isExchangeType first). */
export function createRouter<T>(type: ExchangeType, args: FieldTable = {}): Router<T> {
  switch (type) {
    case 'direct':
      return new DirectRouter<T>();
    case 'fanout':
      return new FanoutRouter<T>();
    case 'topic':
      return new TopicRouter<T>();
    case 'headers':
      return new HeadersRouter<T>();
    case 'x-consistent-hash':
      return new ConsistentHashRouter<T>(args);
    default:
      throw new Error(`unknown exchange type: ${String(type as unknown)}`);
  }
}

/**
 * Whether `s` names an exchange type Warren has (case-sensitive, as in
 * RabbitMQ): the four built-in ones and x-consistent-hash, RabbitMQ's plugin built in.
 */
export function isExchangeType(s: string): s is ExchangeType {
  return s === 'direct' || s === 'fanout' || s === 'topic' || s === 'headers' || s === 'x-consistent-hash';
}
