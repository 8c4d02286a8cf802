// What a stream (x-queue-type: stream) accepts at declare and consume, as
// RabbitMQ 3.10 reads it: x-max-age, x-stream-offset, the properties a stream
// must have, and the methods it refuses with a connection close (540).
import { AmqpError, preconditionFailed } from '../../protocol/errors.js';
import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import type { PolicyDefinition } from '../access/policies.js';
import { stringValue } from '../field-values.js';
import type { QueueOptions } from '../queue.js';

/** x-stream-max-segment-size-bytes when not given (RabbitMQ's default). */
export const DEFAULT_MAX_SEGMENT_BYTES = 500_000_000;
/** The largest x-stream-max-segment-size-bytes RabbitMQ accepts. */
export const MAX_SEGMENT_BYTES = 3_000_000_000;

const SECOND = 1000;
const DAY = 86_400 * SECOND;
/** RabbitMQ's units for x-max-age and interval offsets (case-sensitive): a year is 365 days, a month 30. */
const AGE_UNITS: Readonly<Record<string, number>> = { Y: 365 * DAY, M: 30 * DAY, D: DAY, h: 3_600 * SECOND, m: 60 * SECOND, s: SECOND };

/** `<positive integer><Y|M|D|h|m|s>` in ms (x-max-age, the max-age policy key, interval offsets); undefined if it is not one. */
export function parseMaxAge(text: string): number | undefined {
  const match = /^([0-9]+)([YMDhms])$/.exec(text);
  if (match === null) return undefined;
  const n = Number(match[1]);
  if (!(n > 0)) return undefined;
  return n * AGE_UNITS[match[2]];
}

/** Where a stream consumer starts (x-stream-offset). */
export type StreamOffsetSpec =
  | { kind: 'first' | 'last' | 'next' }
  | { kind: 'offset'; offset: number }
  /** The first message stored at or after this time (ms since the epoch). */
  | { kind: 'timestamp'; ms: number };

/**
 * x-stream-offset as RabbitMQ 3.10 reads it: absent is `next`; `first`,
 * `last`, `next`; an integer (a negative one is `first`); an AMQP timestamp
 * (seconds); or an interval string (`1h`, as x-max-age) meaning that long
 * ago. Anything else is a 406 (RabbitMQ closes the connection with 541).
 */
export function parseStreamOffset(value: FieldValue | undefined, now = Date.now()): StreamOffsetSpec {
  if (value === undefined) return { kind: 'next' };
  if (value instanceof Date) return { kind: 'timestamp', ms: value.getTime() };
  if (typeof value === 'number' && Number.isInteger(value)) return value < 0 ? { kind: 'first' } : { kind: 'offset', offset: value };
  if (typeof value === 'bigint') return value < 0n ? { kind: 'first' } : { kind: 'offset', offset: Number(value) };
  const text = stringValue(value);
  if (text === 'first' || text === 'last' || text === 'next') return { kind: text };
  if (text !== undefined) {
    const age = parseMaxAge(text);
    if (age !== undefined) return { kind: 'timestamp', ms: now - age };
  }
  throw preconditionFailed(
    `invalid x-stream-offset '${text ?? String(value)}': expected 'first', 'last', 'next', an offset, a timestamp or an interval such as '1h'`,
  );
}

/**
 * A stream is durable, never exclusive nor auto-delete, and its segments are
 * at most 3,000,000,000 bytes: RabbitMQ's checks in its order, with its
 * texts (rabbit_stream_queue:declare/2).
 */
export function checkStreamProperties(queue: string, vhost: string, options: QueueOptions): void {
  const refuse = (property: string) => preconditionFailed(`invalid property '${property}' for queue '${queue}' in vhost '${vhost}'`);
  if (options.autoDelete) throw refuse('auto-delete');
  if (options.exclusive) throw refuse('exclusive-owner');
  if (!options.durable) throw refuse('non-durable');
  const segment = integerArgument(options.arguments, 'x-stream-max-segment-size-bytes');
  if (segment !== undefined && segment > MAX_SEGMENT_BYTES) throw preconditionFailed('Exceeded max value for x-stream-max-segment-size-bytes');
}

/** What a stream keeps: its arguments combined with its policies (the lower value wins, as RabbitMQ). */
export interface StreamRetention {
  /** Segment files roll over at this size. */
  maxSegmentBytes: number;
  /** x-max-length-bytes / max-length-bytes: total bytes kept; undefined: no limit. */
  maxBytes: number | undefined;
  /** x-max-age / max-age in ms; undefined: no limit. */
  maxAgeMs: number | undefined;
}

export function streamRetention(args: FieldTable, policy?: PolicyDefinition): StreamRetention {
  const lower = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined ? b : b === undefined ? a : Math.min(a, b);
  const policyInteger = (key: string): number | undefined => {
    const value = policy?.[key];
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  const argAge = stringValue(args['x-max-age']);
  const policyAge = policy?.['max-age'];
  return {
    maxSegmentBytes:
      lower(integerArgument(args, 'x-stream-max-segment-size-bytes'), policyInteger('stream-max-segment-size-bytes')) ?? DEFAULT_MAX_SEGMENT_BYTES,
    maxBytes: lower(integerArgument(args, 'x-max-length-bytes'), policyInteger('max-length-bytes')),
    maxAgeMs: lower(argAge === undefined ? undefined : parseMaxAge(argAge), typeof policyAge === 'string' ? parseMaxAge(policyAge) : undefined),
  };
}

function integerArgument(args: FieldTable, arg: string): number | undefined {
  const value = args[arg];
  const n = typeof value === 'bigint' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** basic.consume on a stream without a consumer prefetch (basic.qos global=false): 406 on the channel. */
export function prefetchNotSet(queue: string, vhost: string): AmqpError {
  return preconditionFailed(`consumer prefetch count is not set for 'queue '${queue}' in vhost '${vhost}''`);
}

/** What RabbitMQ 3.10 does not do on a stream, each a 540 connection close. */
export function streamRefusal(queue: string, vhost: string, what: 'no-ack' | 'get' | 'nack' | 'purge'): AmqpError {
  const q = `queue '${queue}' in vhost '${vhost}'`;
  const text = {
    'no-ack': `automatic acknowledgement not supported by stream queues ${q}`,
    get: `basic.get not supported by stream queues ${q}`,
    nack: `basic.nack and basic.reject not supported by stream queues ${q}`,
    purge: `queue.purge not supported by stream queues ${q}`,
  }[what];
  return AmqpError.connection(ReplyCode.NOT_IMPLEMENTED, text);
}
