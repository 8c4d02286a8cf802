import type { FieldTable } from '../../protocol/field-table.js';
import { stringValue } from '../field-values.js';
import { ConsistentHashRouter } from './consistent-hash.js';
import { DirectRouter } from './direct.js';
import { FanoutRouter } from './fanout.js';
import { HeadersRouter } from './headers.js';
import type { ExchangeType, Router, RoutingType } from './router.js';
import { TopicRouter } from './topic.js';

export type { ExchangeType, RoutedMessage, Router, RoutingType } from './router.js';
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
    case 'x-delayed-message':
      return createRouter<T>(delayedType(args) as RoutingType, args);
    default:
      throw new Error(`unknown exchange type: ${String(type as unknown)}`);
  }
}

/**
 * Whether `s` names an exchange type Warren has (case-sensitive, as in
 * RabbitMQ): the four built-in ones and x-consistent-hash, RabbitMQ's plugin built in.
 */
export function isExchangeType(s: string): s is ExchangeType {
  return isRoutingType(s) || s === 'x-delayed-message';
}

function isRoutingType(s: string): s is RoutingType {
  return s === 'direct' || s === 'fanout' || s === 'topic' || s === 'headers' || s === 'x-consistent-hash';
}

/** The x-delayed-type argument of an x-delayed-message exchange (unchecked). */
export function delayedType(args: FieldTable): string | undefined {
  return stringValue(args['x-delayed-type']);
}

/**
 * Checks an x-delayed-message exchange's x-delayed-type, with the plugin's
 * answers: null when it names a type to route as, else the error to raise.
 */
export function delayedTypeProblem(args: FieldTable): { connection: boolean; text: string } | null {
  const type = delayedType(args);
  if (type === undefined) return { connection: false, text: "Invalid argument, 'x-delayed-type' must be an existing exchange type" };
  if (type === 'x-delayed-message') return { connection: false, text: "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'" };
  if (!isRoutingType(type)) return { connection: true, text: `invalid exchange type '${type}'` };
  return null;
}
