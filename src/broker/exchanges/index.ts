import { DirectRouter } from './direct.js';
import { FanoutRouter } from './fanout.js';
import { HeadersRouter } from './headers.js';
import type { ExchangeType, Router } from './router.js';
import { TopicRouter } from './topic.js';

export type { ExchangeType, Router } from './router.js';
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

/** Creates the router for an exchange type. Throws on an unknown type (check with isExchangeType first). */
export function createRouter<T>(type: ExchangeType): Router<T> {
  switch (type) {
    case 'direct':
      return new DirectRouter<T>();
    case 'fanout':
      return new FanoutRouter<T>();
    case 'topic':
      return new TopicRouter<T>();
    case 'headers':
      return new HeadersRouter<T>();
    default:
      throw new Error(`unknown exchange type: ${String(type as unknown)}`);
  }
}

/** Whether `s` names one of the four built-in exchange types (case-sensitive, as in RabbitMQ). */
export function isExchangeType(s: string): s is ExchangeType {
  return s === 'direct' || s === 'fanout' || s === 'topic' || s === 'headers';
}
