import { preconditionFailed } from '../protocol/errors.js';
import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import type { PolicyDefinition } from './access/policies.js';
import { rabbitTypeName as typeName, stringValue } from './field-values.js';
import { parseMaxAge } from './queues/stream-arguments.js';

/** What a full queue does with one more message (x-overflow). */
export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** The queue arguments (and policy settings) that change how a queue behaves; -1 where not set. */
export interface QueueLimits {
  /** x-message-ttl, ms. */
  messageTtl: number;
  /** x-max-length, ready messages. */
  maxLength: number;
  /** x-max-length-bytes, ready body bytes. */
  maxLengthBytes: number;
  overflow: Overflow;
  /** x-expires, ms unused before the queue is deleted. */
  expires: number;
  /** x-max-priority: a priority queue with priorities 0 to this. */
  maxPriority: number;
  /** x-single-active-consumer: only the longest-subscribed consumer gets messages. */
  singleActiveConsumer: boolean;
  /** x-dead-letter-exchange: where dead letters go; undefined for none. */
  deadLetterExchange: string | undefined;
  /** x-dead-letter-routing-key: the key dead letters are published with; undefined keeps theirs. */
  deadLetterRoutingKey: string | undefined;
  /** x-delivery-limit (quorum queues only): returns a message may have before it is dropped or dead-lettered. */
  deliveryLimit: number;
}

/** The queue types RabbitMQ 3.10 knows (x-queue-type). */
export const QUEUE_TYPES: readonly string[] = ['classic', 'quorum', 'stream'];

/**
 * The queue arguments RabbitMQ 3.10 knows (rabbit_amqqueue:declare_args):
 * one of them that the declared type does not support is refused; any other
 * argument is ignored.
 */
const KNOWN_ARGUMENTS: readonly string[] = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length', 'x-max-length-bytes',
  'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-queue-version',
  'x-single-active-consumer', 'x-queue-master-locator', 'x-quorum-initial-group-size', 'x-delivery-limit', 'x-dead-letter-strategy',
  'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator', 'x-queue-type',
];

/**
 * The arguments each type supports (its capabilities in RabbitMQ 3.10), in
 * the order a redeclare compares them (observed: the first that differs is
 * the one named): only these are validated at declare and compared on a
 * redeclare.
 */
const TYPE_ARGUMENTS: Readonly<Record<string, readonly string[] | undefined>> = {
  classic: [
    'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length', 'x-max-length-bytes',
    'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-queue-version', 'x-single-active-consumer', 'x-queue-master-locator', 'x-queue-type',
  ],
  quorum: [
    'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-dead-letter-strategy', 'x-expires', 'x-max-length', 'x-max-length-bytes',
    'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-overflow', 'x-single-active-consumer', 'x-queue-type',
    'x-quorum-initial-group-size', 'x-delivery-limit', 'x-message-ttl', 'x-queue-leader-locator',
  ],
  stream: ['x-max-length-bytes', 'x-queue-type', 'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator'],
};

/** The arguments of `type` that a redeclare compares; undefined: every x- argument. */
export function typeArguments(type: string): readonly string[] | undefined {
  return TYPE_ARGUMENTS[type];
}

/** x-queue-type as declared, 'classic' when absent (or not a string). */
export function queueTypeOf(args: FieldTable): string {
  const type = args['x-queue-type'];
  return type === undefined ? 'classic' : (stringValue(type) ?? 'classic');
}

const LEADER_LOCATORS: readonly string[] = ['client-local', 'balanced', 'random', 'least-leaders'];
const DEAD_LETTER_STRATEGIES: readonly string[] = ['at-most-once', 'at-least-once'];

/** The longest TTL or expiry RabbitMQ accepts (x-message-ttl, x-expires, expiration): ten years, in ms. */
export const MAX_EXPIRY_MS = 315_360_000_000;

/** The highest x-max-priority RabbitMQ accepts. */
const MAX_SUPPORTED_PRIORITY = 255;

const OVERFLOWS: readonly string[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];

/**
 * Checks the arguments of a queue.declare as RabbitMQ does, with its reply
 * texts: 406 "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}".
 */
export function validateQueueArguments(queue: string, vhost: string, args: FieldTable): void {
  const invalid = (arg: string, reason: string) =>
    preconditionFailed(`invalid arg '${arg}' for queue '${queue}' in vhost '${vhost}': ${reason}`);
  // RabbitMQ's order: the type, then the values of the arguments the type supports, then the arguments it does not.
  const declaredType = args['x-queue-type'];
  if (declaredType !== undefined) {
    const type = stringValue(declaredType);
    if (type === undefined) throw invalid('x-queue-type', `{unacceptable_type,${typeName(declaredType)}}`);
    if (!QUEUE_TYPES.includes(type)) throw invalid('x-queue-type', `"unsupported queue type '${type}'"`);
  }
  const type = queueTypeOf(args);
  const supported = typeArguments(type);
  const checked = (arg: string): boolean => args[arg] !== undefined && (supported === undefined || supported.includes(arg));
  const integer = (arg: string, zeroAllowed: boolean, max = Infinity): void => {
    if (!checked(arg)) return;
    const value = args[arg];
    const n = integerValue(value);
    if (n === undefined) throw invalid(arg, `"expected integer, got ${typeName(value)}"`);
    // RabbitMQ prints these with ~255p: no line break at the lengths a shortstr name allows.
    if (n < 0) throw invalid(arg, `{value_negative,${String(value)}}`);
    if (n === 0 && !zeroAllowed) throw invalid(arg, `{value_zero,${n}}`);
    if (n > max) throw invalid(arg, `{value_too_large,${String(value)}}`);
  };
  const oneOf = (arg: string, values: readonly string[], reason: string): void => {
    if (!checked(arg)) return;
    const text = stringValue(args[arg]);
    if (text === undefined) throw invalid(arg, `{unacceptable_type,${typeName(args[arg])}}`);
    if (!values.includes(text)) throw invalid(arg, reason);
  };
  integer('x-message-ttl', true, MAX_EXPIRY_MS);
  integer('x-expires', false, MAX_EXPIRY_MS);
  integer('x-max-length', true);
  integer('x-max-length-bytes', true);
  integer('x-max-priority', true);
  integer('x-max-in-memory-length', true);
  integer('x-max-in-memory-bytes', true);
  integer('x-quorum-initial-group-size', false);
  integer('x-initial-cluster-size', false);
  integer('x-stream-max-segment-size-bytes', true);
  if (checked('x-max-age')) {
    const maxAge = args['x-max-age'];
    const text = stringValue(maxAge);
    if (text === undefined) throw invalid('x-max-age', `{unacceptable_type,${typeName(maxAge)}}`);
    if (parseMaxAge(text) === undefined) throw invalid('x-max-age', 'invalid_max_age');
  }
  if (checked('x-max-priority')) {
    const maxPriority = integerValue(args['x-max-priority'] ?? 0) ?? 0;
    if (maxPriority > MAX_SUPPORTED_PRIORITY) throw invalid('x-max-priority', `{max_value_exceeded,${maxPriority}}`);
  }
  const singleActive = args['x-single-active-consumer'];
  if (checked('x-single-active-consumer') && typeof singleActive !== 'boolean') {
    throw invalid('x-single-active-consumer', `{unacceptable_type,${typeName(singleActive as FieldValue)}}`);
  }
  // Checked against the arguments alone: a policy's dead-letter exchange does not count (observed on 3.10.8).
  if (checked('x-dead-letter-routing-key') && args['x-dead-letter-exchange'] === undefined) {
    throw invalid('x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined');
  }
  oneOf('x-overflow', OVERFLOWS, 'invalid_overflow');
  oneOf('x-dead-letter-strategy', DEAD_LETTER_STRATEGIES, 'invalid_dlx_strategy');
  oneOf('x-queue-leader-locator', LEADER_LOCATORS, 'invalid_queue_locator_arg');
  if (supported === undefined) return;
  for (const arg of Object.keys(args)) {
    if (KNOWN_ARGUMENTS.includes(arg) && !supported.includes(arg)) {
      throw preconditionFailed(`invalid arg '${arg}' for queue '${queue}' in vhost '${vhost}' of queue type rabbit_${type}_queue`);
    }
  }
}

/**
 * The limits a queue's arguments set, combined with the settings of the
 * policies that apply to it (`policy`: the effective definition of its policy
 * and operator policy), by RabbitMQ's rules: for TTL, expiry and lengths the
 * lower value wins; for overflow and dead-lettering the argument wins.
 * Values that would not validate count as unset.
 */
export function queueLimits(args: FieldTable, policy?: PolicyDefinition): QueueLimits {
  const integer = (arg: string, min: number): number => {
    const value = args[arg];
    const n = value === undefined ? undefined : integerValue(value);
    return n === undefined || n < min ? -1 : n;
  };
  const policyInteger = (key: string, min: number): number => {
    const value = policy?.[key];
    return typeof value === 'number' && Number.isInteger(value) && value >= min ? value : -1;
  };
  const lower = (arg: string, key: string, min: number): number => {
    const fromArg = integer(arg, min);
    const fromPolicy = policyInteger(key, min);
    if (fromArg < 0) return fromPolicy;
    return fromPolicy < 0 ? fromArg : Math.min(fromArg, fromPolicy);
  };
  const argString = (arg: string): string | undefined => (args[arg] === undefined ? undefined : stringValue(args[arg]));
  const policyString = (key: string): string | undefined => {
    const value = policy?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  const quorum = queueTypeOf(args) === 'quorum';
  let overflow = argString('x-overflow') ?? policyString('overflow');
  // RabbitMQ 3.10's quorum queues take reject-publish-dlx as drop-head (observed).
  if (quorum && overflow === 'reject-publish-dlx') overflow = 'drop-head';
  return {
    messageTtl: lower('x-message-ttl', 'message-ttl', 0),
    maxLength: lower('x-max-length', 'max-length', 0),
    maxLengthBytes: lower('x-max-length-bytes', 'max-length-bytes', 0),
    overflow: overflow !== undefined && OVERFLOWS.includes(overflow) ? (overflow as Overflow) : 'drop-head',
    expires: lower('x-expires', 'expires', 1),
    maxPriority: quorum ? -1 : Math.min(integer('x-max-priority', 0), MAX_SUPPORTED_PRIORITY),
    singleActiveConsumer: args['x-single-active-consumer'] === true,
    deadLetterExchange: argString('x-dead-letter-exchange') ?? policyString('dead-letter-exchange'),
    deadLetterRoutingKey: argString('x-dead-letter-routing-key') ?? policyString('dead-letter-routing-key'),
    deliveryLimit: quorum ? lower('x-delivery-limit', 'delivery-limit', 0) : -1,
  };
}

/**
 * The per-message TTL in the expiration property, as RabbitMQ reads it: an
 * integer in decimal (an optional sign, leading zeros allowed) from 0 to
 * MAX_EXPIRY_MS, in ms. Throws 406 with RabbitMQ's text otherwise.
 */
export function parseExpiration(expiration: string): number {
  const match = /^([-+]?)(\d+)(.*)$/s.exec(expiration);
  const prefix = `invalid expiration '${expiration}': `;
  const fail = (reason: string) => preconditionFailed(prefix + reason);
  if (match === null) throw fail('no_integer');
  if (match[3] !== '') throw fail(`{leftover_string,"${match[3]}"}`);
  const n = Number(match[2]);
  if (n === 0) return 0;
  // Digits past 2^53 do not survive a Number: the text prints them from a BigInt.
  if (match[1] === '-') throw fail(erlangPair(prefix, 'value_negative', `-${BigInt(match[2])}`));
  if (n > MAX_EXPIRY_MS) throw fail(erlangPair(prefix, 'value_too_large', String(BigInt(match[2]))));
  return n;
}

/**
 * `{tag,value}` as RabbitMQ's reply text prints it after `prefix` (Erlang's
 * ~p): on one line while it ends before column 79, else broken after the
 * comma with the value indented under the tag.
 */
function erlangPair(prefix: string, tag: string, value: string): string {
  const column = [...prefix].length;
  const flat = `{${tag},${value}}`;
  return column + flat.length < 79 ? flat : `{${tag},\n${' '.repeat(column + 1)}${value}}`;
}

function integerValue(value: FieldValue): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}
