import type { Message, QueueEntry } from './message.js';
import type { Queue } from './queue.js';
import type { StreamOffsetSpec } from './queues/stream-arguments.js';

/**
 * What a queue sees of a subscriber. session/channel implements it; the
 * broker never sees frames or sockets.
 */
export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** x-priority: higher-priority consumers get messages while they have room (RabbitMQ's consumer priorities). */
  readonly priority: number;
  /** x-stream-offset: where it starts reading a stream (only streams read it; absent: `next`). */
  readonly streamOffset?: StreamOffsetSpec;
  /** Whether one more delivery fits: prefetch windows and socket back-pressure. */
  canAccept(): boolean;
  /** Takes a message; the consumer assigns the delivery tag and writes basic.deliver. */
  deliver(queue: Queue, entry: QueueEntry, message: Message): void;
  /** The queue went away (deleted): the consumer tells its client with basic.cancel. */
  cancelledByBroker(queue: Queue): void;
  /**
   * deliver() threw: the queue has unsubscribed it. The consumer's session
   * closes (and logs why); without this method the queue reports the error.
   */
  failed?(queue: Queue, error: unknown): void;
}

/** The pseudo-queue RabbitMQ's direct reply-to uses: consumed with no-ack, never declared. */
export const DIRECT_REPLY_QUEUE = 'amq.rabbitmq.reply-to';
/** Routing keys (and reply_to values) addressing one direct reply-to consumer. */
export const DIRECT_REPLY_PREFIX = 'amq.rabbitmq.reply-to.';

/** A direct reply-to consumer: replies go straight to it, no queue in between. */
export interface ReplyConsumer {
  deliverReply(message: Message): void;
}
