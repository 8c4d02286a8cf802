import type { QueueEntry } from './message.js';
import type { Queue } from './queue.js';

/**
 * What a queue sees of a subscriber. session/channel implements it; the
 * broker never sees frames or sockets.
 */
export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** The connection that owns the consumer (for no-local and exclusive queues). */
  readonly owner: object;
  /** Whether one more delivery fits: prefetch windows and socket back-pressure. */
  canAccept(): boolean;
  /** Takes a message; the consumer assigns the delivery tag and writes basic.deliver. */
  deliver(queue: Queue, entry: QueueEntry): void;
  /** The queue went away (deleted): the consumer tells its client with basic.cancel. */
  cancelledByBroker(queue: Queue): void;
}
