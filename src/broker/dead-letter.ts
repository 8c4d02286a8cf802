import type { FieldTable, FieldValue } from '../protocol/field-table.js';
import { TypedValue } from '../protocol/field-table.js';
import { type BasicProperties, encodeProperties } from '../protocol/methods.generated.js';
import { Message } from './message.js';
import type { Queue } from './queue.js';

/**
 * Why a message was dead-lettered: nack/reject without requeue, TTL, x-max-length drop-head / reject-publish-dlx,
 * or returned more times than a quorum queue's x-delivery-limit.
 */
export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** Where a queue's dead letters go (x-dead-letter-exchange or its policy's), or undefined. */
export function deadLetterExchange(queue: Queue): string | undefined {
  return queue.limits.deadLetterExchange;
}

/**
 * The message a dead letter becomes, as RabbitMQ makes it: published to the
 * queue's dead-letter exchange with its dead-letter routing key (or the
 * original key), an x-death entry per queue and reason (count, reason, queue,
 * time, exchange, routing-keys, original-expiration; newest first), the
 * x-first-death-* headers, and no per-message expiration.
 */
export function deadLetter(queue: Queue, message: Message, exchange: string, reason: DeadLetterReason): Message {
  const routingKey = queue.limits.deadLetterRoutingKey ?? message.routingKey;
  const original = message.properties;
  const headers: FieldTable = { ...(original.headers ?? {}) };
  const deaths = Array.isArray(headers['x-death']) ? [...(headers['x-death'] as FieldValue[])] : [];
  const index = deaths.findIndex((death) => isDeath(death) && death.queue === queue.name && death.reason === reason);
  const previous = index >= 0 ? (deaths.splice(index, 1)[0] as FieldTable) : undefined;
  const death: FieldTable = {
    count: new TypedValue('l', countOf(previous) + 1),
    reason,
    queue: queue.name,
    time: new Date(Math.floor(Date.now() / 1000) * 1000),
    exchange: message.exchange,
    'routing-keys': [message.routingKey],
  };
  // The expiration is removed from the message and kept here, as RabbitMQ does.
  if (original.expiration !== undefined) death['original-expiration'] = original.expiration;
  deaths.unshift(death);
  headers['x-death'] = deaths;
  if (headers['x-first-death-reason'] === undefined) {
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-queue'] = queue.name;
    headers['x-first-death-exchange'] = message.exchange;
  }
  const properties: BasicProperties = { ...original, headers };
  delete properties.expiration;
  return new Message(exchange, routingKey, encodeProperties(properties), message.body, message.bodySize);
}

function isDeath(value: FieldValue): value is FieldTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}

function countOf(death: FieldTable | undefined): number {
  const count = death?.count;
  if (typeof count === 'number') return count;
  if (typeof count === 'bigint') return Number(count);
  if (count instanceof TypedValue && typeof count.value === 'number') return count.value;
  return 0;
}

/**
 * RabbitMQ's cycle rule: a dead letter bound for `queueName` that has died
 * there before, with no rejection among the deaths since (and including)
 * that one, would go round for ever; it is dropped for that queue.
 */
export function isDeadLetterCycle(message: Message, queueName: string): boolean {
  const deaths = message.properties.headers?.['x-death'];
  if (!Array.isArray(deaths)) return false;
  for (const death of deaths) {
    if (!isDeath(death)) return false;
    if (death.reason === 'rejected') return false;
    if (death.queue === queueName) return true;
  }
  return false;
}
