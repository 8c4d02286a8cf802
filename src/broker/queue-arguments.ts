import { preconditionFailed } from '../protocol/errors.js';
import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import type { PolicyDefinition } from './access/policies.js';
import { rabbitTypeName as typeName, stringValue } from './field-values.js';

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
  /** x-delivery-limit (quorum queues, kept for when they arrive). */
  deliveryLimit: number;
}

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
  const integer = (arg: string, zeroAllowed: boolean, max = Infinity): void => {
    const value = args[arg];
    if (value === undefined) return;
    const n = integerValue(value);
    if (n === undefined) throw invalid(arg, `"expected integer, got ${typeName(value)}"`);
    // RabbitMQ prints these with ~255p: no line break at the lengths a shortstr name allows.
    if (n < 0) throw invalid(arg, `{value_negative,${String(value)}}`);
    if (n === 0 && !zeroAllowed) throw invalid(arg, `{value_zero,${n}}`);
    if (n > max) throw invalid(arg, `{value_too_large,${String(value)}}`);
  };
  integer('x-message-ttl', true, MAX_EXPIRY_MS);
  integer('x-expires', false, MAX_EXPIRY_MS);
  integer('x-max-length', true);
  integer('x-max-length-bytes', true);
  integer('x-max-priority', true);
  const maxPriority = integerValue(args['x-max-priority'] ?? 0) ?? 0;
  if (maxPriority > MAX_SUPPORTED_PRIORITY) throw invalid('x-max-priority', `{max_value_exceeded,${maxPriority}}`);
  const singleActive = args['x-single-active-consumer'];
  if (singleActive !== undefined && typeof singleActive !== 'boolean') {
    throw invalid('x-single-active-consumer', `{unacceptable_type,${typeName(singleActive)}}`);
  }
  // Checked against the arguments alone: a policy's dead-letter exchange does not count (observed on 3.10.8).
  if (args['x-dead-letter-routing-key'] !== undefined && args['x-dead-letter-exchange'] === undefined) {
    throw invalid('x-dead-letter-routing-key', 'routing_key_but_no_dlx_defined');
  }
  const overflow = args['x-overflow'];
  if (overflow !== undefined) {
    const text = stringValue(overflow);
    if (text === undefined) throw invalid('x-overflow', `{unacceptable_type,${typeName(overflow)}}`);
    if (!OVERFLOWS.includes(text)) throw invalid('x-overflow', 'invalid_overflow');
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
  const overflow = argString('x-overflow') ?? policyString('overflow');
  return {
    messageTtl: lower('x-message-ttl', 'message-ttl', 0),
    maxLength: lower('x-max-length', 'max-length', 0),
    maxLengthBytes: lower('x-max-length-bytes', 'max-length-bytes', 0),
    overflow: overflow !== undefined && OVERFLOWS.includes(overflow) ? (overflow as Overflow) : 'drop-head',
    expires: lower('x-expires', 'expires', 1),
    maxPriority: Math.min(integer('x-max-priority', 0), MAX_SUPPORTED_PRIORITY),
    singleActiveConsumer: args['x-single-active-consumer'] === true,
    deadLetterExchange: argString('x-dead-letter-exchange') ?? policyString('dead-letter-exchange'),
    deadLetterRoutingKey: argString('x-dead-letter-routing-key') ?? policyString('dead-letter-routing-key'),
    deliveryLimit: lower('x-delivery-limit', 'delivery-limit', 0),
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
