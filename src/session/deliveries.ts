import type { Queue } from '../broker/queue.js';
import type { QueueEntry } from '../broker/message.js';
import { AmqpError } from '../protocol/errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { ChannelConsumer } from './channel.js';

/** An unacked delivery: what an ack, nack or reject settles. */
export class Delivery {
  constructor(
    readonly tag: number,
    readonly queue: Queue,
    readonly entry: QueueEntry,
    /** null for basic.get. */
    readonly consumer: ChannelConsumer | null,
  ) {}
}

/**
 * A channel's unacked deliveries by delivery tag, with the counts the
 * prefetch windows read: per consumer (on the consumer) and for the channel.
 */
export class UnackedDeliveries {
  /** Map iteration order is tag order. */
  private readonly byTag = new Map<number, Delivery>();
  /** Unacked deliveries to consumers (not basic.get): what basic.qos global=true limits. */
  byConsumers = 0;

  get size(): number {
    return this.byTag.size;
  }

  add(tag: number, queue: Queue, entry: QueueEntry, consumer: ChannelConsumer | null): void {
    this.byTag.set(tag, new Delivery(tag, queue, entry, consumer));
    if (consumer !== null) {
      consumer.unacked++;
      this.byConsumers++;
    }
  }

  /** An ack, nack or reject of a tag that is not unacked closes the channel; tag 0 with multiple means all. */
  check(tag: number, multiple: boolean): void {
    if (tag === 0 && multiple) return;
    if (!this.byTag.has(tag)) throw unknownTag(tag);
  }

  /** The queue of the first delivery of queue type `type` that a (checked) settle of `tag` covers; undefined if none. */
  firstOfType(tag: number, multiple: boolean, type: string): Queue | undefined {
    if (!multiple) {
      const queue = this.byTag.get(tag)?.queue;
      return queue?.type === type ? queue : undefined;
    }
    for (const delivery of this.byTag.values()) {
      if (tag !== 0 && delivery.tag > tag) break;
      if (delivery.queue.type === type) return delivery.queue;
    }
    return undefined;
  }

  /** Settles one tag (an unknown one closes the channel, as check): the common case, one lookup, allocating nothing. */
  take(tag: number): Delivery {
    const delivery = this.byTag.get(tag);
    if (delivery === undefined) throw unknownTag(tag);
    this.forget(delivery);
    return delivery;
  }

  /** Settles every delivery up to a checked tag (0: all), in tag order. */
  takeUpTo(tag: number): Delivery[] {
    const settled: Delivery[] = [];
    for (const delivery of this.byTag.values()) {
      if (tag !== 0 && delivery.tag > tag) break;
      settled.push(delivery);
    }
    for (const delivery of settled) this.forget(delivery);
    return settled;
  }

  /** basic.recover and the channel's close: every unacked delivery, in tag order. */
  takeAll(): Delivery[] {
    const all = [...this.byTag.values()];
    for (const delivery of all) this.forget(delivery);
    return all;
  }

  private forget(delivery: Delivery): void {
    this.byTag.delete(delivery.tag);
    const consumer = delivery.consumer;
    if (consumer !== null) {
      consumer.unacked--;
      this.byConsumers--;
    }
  }
}

function unknownTag(tag: number): AmqpError {
  return AmqpError.channel(ReplyCode.PRECONDITION_FAILED, `unknown delivery tag ${tag}`);
}

/** Back to their queues, one requeue per queue, in their original order. */
export function requeueByQueue(deliveries: readonly Delivery[]): void {
  if (deliveries.length === 0) return;
  const byQueue = new Map<Queue, QueueEntry[]>();
  for (const delivery of deliveries) {
    let entries = byQueue.get(delivery.queue);
    if (entries === undefined) byQueue.set(delivery.queue, (entries = []));
    entries.push(delivery.entry);
  }
  for (const [queue, entries] of byQueue) queue.requeue(entries);
}
