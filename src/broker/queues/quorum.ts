// What makes a quorum queue (x-queue-type: quorum) on a single node: RabbitMQ
// 3.10's declare rules and refusals, and the x-delivery-count header. The
// replication itself has no meaning on one node; the queue is a durable queue
// whose every message is stored, with delivery counting (see Queue).
import { AmqpError, preconditionFailed } from '../../protocol/errors.js';
import { TypedValue } from '../../protocol/field-table.js';
import { decodeProperties, encodeProperties } from '../../protocol/methods.generated.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import type { QueueOptions } from '../queue.js';

/**
 * A quorum queue is durable, never exclusive nor auto-delete: RabbitMQ's
 * checks, in its order, with its texts (rabbit_quorum_queue:declare/2).
 */
export function checkQuorumProperties(queue: string, vhost: string, options: QueueOptions): void {
  const refuse = (property: string) => preconditionFailed(`invalid property '${property}' for queue '${queue}' in vhost '${vhost}'`);
  if (options.autoDelete) throw refuse('auto-delete');
  if (options.exclusive) throw refuse('exclusive-owner');
  if (!options.durable) throw refuse('non-durable');
}

/** queue.delete with if-unused or if-empty: RabbitMQ 3.10 closes the connection (540) for a quorum queue. */
export function deleteFlagRefused(queue: string, vhost: string, flag: 'if-unused' | 'if-empty'): AmqpError {
  return AmqpError.connection(
    ReplyCode.NOT_IMPLEMENTED,
    `cannot delete queue '${queue}' in vhost '${vhost}'. queue.delete operations with ${flag} flag set are not supported by quorum queues`,
  );
}

/** basic.consume on a channel with a global prefetch: RabbitMQ 3.10 closes the connection (540). */
export function globalQosRefused(queue: string, vhost: string): AmqpError {
  return AmqpError.connection(ReplyCode.NOT_IMPLEMENTED, `queue '${queue}' in vhost '${vhost}' does not support global qos`);
}

/**
 * The message's properties with header x-delivery-count (a long) set to
 * `count`: what a quorum queue delivers on a redelivery and on every
 * basic.get. Only those deliveries pay for the re-encoding.
 */
export function withDeliveryCount(rawProperties: Buffer, count: number): Buffer {
  const properties = decodeProperties(rawProperties);
  return encodeProperties({ ...properties, headers: { ...(properties.headers ?? {}), 'x-delivery-count': new TypedValue('l', count) } });
}
