import { preconditionFailed } from '../protocol/errors.js';
import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import { rabbitTypeName as typeName, stringValue } from './field-values.js';

/** What a full queue does with one more message (x-overflow). */
export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** The queue arguments that change how a queue behaves; -1 where not set. */
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
  const overflow = args['x-overflow'];
  if (overflow !== undefined) {
    const text = stringValue(overflow);
    if (text === undefined) throw invalid('x-overflow', `{unacceptable_type,${typeName(overflow)}}`);
    if (!OVERFLOWS.includes(text)) throw invalid('x-overflow', 'invalid_overflow');
  }
}

/** The limits a queue's arguments set (values that would not validate count as unset). */
export function queueLimits(args: FieldTable): QueueLimits {
  const integer = (arg: string, min: number): number => {
    const value = args[arg];
    const n = value === undefined ? undefined : integerValue(value);
    return n === undefined || n < min ? -1 : n;
  };
  const overflow = args['x-overflow'] === undefined ? undefined : stringValue(args['x-overflow']);
  return {
    messageTtl: integer('x-message-ttl', 0),
    maxLength: integer('x-max-length', 0),
    maxLengthBytes: integer('x-max-length-bytes', 0),
    overflow: overflow !== undefined && OVERFLOWS.includes(overflow) ? (overflow as Overflow) : 'drop-head',
    expires: integer('x-expires', 1),
    maxPriority: Math.min(integer('x-max-priority', 0), MAX_SUPPORTED_PRIORITY),
    singleActiveConsumer: args['x-single-active-consumer'] === true,
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
