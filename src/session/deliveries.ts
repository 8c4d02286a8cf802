import { Deque } from '../broker/deque.js';
import type { Queue } from '../broker/queue.js';
import type { QueueEntry } from '../broker/message.js';
import { AmqpError } from '../protocol/errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { ChannelConsumer } from './channel.js';

/** An unacked delivery: what an ack, nack or reject settles. */
export class Delivery {
  /** Acked, nacked or rejected out of order: it waits in the list until the deliveries before it go. */
  settled = false;

  // Not readonly: UnackedDeliveries reuses a delivery settled in order for a later one (see recycle).
  constructor(
    public tag: number,
    public queue: Queue,
    public entry: QueueEntry,
    /** null for basic.get. */
    public consumer: ChannelConsumer | null,
  ) {}
}

/** Settled deliveries may wait in the list at most this far beyond the unsettled ones before it is compacted. */
const SETTLED_SLACK = 64;
/** Deliveries kept for reuse at most (a window acked at once need not be kept whole). */
const SPARE_MAX = 64;

/**
 * A channel's unacked deliveries in tag order, with the counts the prefetch
 * windows read: per consumer (on the consumer) and for the channel.
 *
 * Tags only grow, so the deliveries are a ring buffer in tag order: a client
 * that acks in order (almost all do) settles the head, in O(1) and without
 * hashing. An ack out of order finds its tag by binary search and marks the
 * delivery settled where it lies; settled ones leave as the head reaches
 * them, or all at once when they outnumber the unsettled (so a delivery held
 * for good while others are acked around it keeps the list bounded).
 */
export class UnackedDeliveries {
  /** Deliveries in tag order, settled ones included. */
  private readonly ordered = new Deque<Delivery>();
  /** Unsettled deliveries in `ordered`. */
  private live = 0;
  /** Unacked deliveries to consumers (not basic.get): what basic.qos global=true limits. */
  byConsumers = 0;
  /**
   * Deliveries settled in order and handed back (recycle), for add() to reuse:
   * a consumer that acks each message in turn allocates no Delivery per message.
   */
  private readonly spare: Delivery[] = [];

  get size(): number {
    return this.live;
  }

  add(tag: number, queue: Queue, entry: QueueEntry, consumer: ChannelConsumer | null): void {
    const delivery = this.spare.pop();
    if (delivery === undefined) this.ordered.push(new Delivery(tag, queue, entry, consumer));
    else {
      delivery.tag = tag;
      delivery.queue = queue;
      delivery.entry = entry;
      delivery.consumer = consumer;
      this.ordered.push(delivery);
    }
    this.live++;
    if (consumer !== null) {
      consumer.unacked++;
      this.byConsumers++;
    }
  }

  /** An ack, nack or reject of a tag that is not unacked closes the channel; tag 0 with multiple means all. */
  check(tag: number, multiple: boolean): void {
    if (tag === 0 && multiple) return;
    if (this.find(tag) === undefined) throw unknownTag(tag);
  }

  /** The queue of the first delivery of queue type `type` that a (checked) settle of `tag` covers; undefined if none. */
  firstOfType(tag: number, multiple: boolean, type: string): Queue | undefined {
    if (!multiple) {
      const queue = this.find(tag)?.queue;
      return queue?.type === type ? queue : undefined;
    }
    const ordered = this.ordered;
    for (let i = 0; i < ordered.length; i++) {
      const delivery = ordered.at(i);
      if (tag !== 0 && delivery.tag > tag) break;
      if (!delivery.settled && delivery.queue.type === type) return delivery.queue;
    }
    return undefined;
  }

  /** Settles one tag (an unknown one closes the channel, as check): the common case, no lookup, allocating nothing. */
  take(tag: number): Delivery {
    const ordered = this.ordered;
    const head = ordered.peek();
    if (head !== undefined && head.tag === tag) {
      ordered.shift();
      this.forget(head);
      this.dropSettledHead();
      return head;
    }
    const delivery = this.find(tag);
    if (delivery === undefined) throw unknownTag(tag);
    delivery.settled = true;
    this.forget(delivery);
    if (ordered.length - this.live > this.live + SETTLED_SLACK) this.compact();
    return delivery;
  }

  /**
   * The caller of take() is done with `delivery` (it keeps no reference): a
   * later add() may reuse it. One settled out of order is still in the list and is not taken.
   */
  recycle(delivery: Delivery): void {
    if (!delivery.settled && this.spare.length < SPARE_MAX) this.spare.push(delivery);
  }

  /** Settles every delivery up to a checked tag (0: all), in tag order. */
  takeUpTo(tag: number): Delivery[] {
    const ordered = this.ordered;
    const settled: Delivery[] = [];
    while (ordered.length > 0) {
      const delivery = ordered.peek() as Delivery;
      if (tag !== 0 && delivery.tag > tag) break;
      ordered.shift();
      if (delivery.settled) continue;
      this.forget(delivery);
      settled.push(delivery);
    }
    return settled;
  }

  /** basic.recover and the channel's close: every unacked delivery, in tag order. */
  takeAll(): Delivery[] {
    return this.takeUpTo(0);
  }

  /** The unsettled delivery with this tag, by binary search; undefined if there is none. */
  private find(tag: number): Delivery | undefined {
    const ordered = this.ordered;
    let low = 0;
    let high = ordered.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (ordered.at(mid).tag < tag) low = mid + 1;
      else high = mid;
    }
    if (low === ordered.length) return undefined;
    const delivery = ordered.at(low);
    return delivery.tag === tag && !delivery.settled ? delivery : undefined;
  }

  private dropSettledHead(): void {
    const ordered = this.ordered;
    while (ordered.length > 0 && (ordered.peek() as Delivery).settled) ordered.shift();
  }

  /** Drops every settled delivery from the list, keeping the others in order. */
  private compact(): void {
    const ordered = this.ordered;
    for (let i = ordered.length; i > 0; i--) {
      const delivery = ordered.shift() as Delivery;
      if (!delivery.settled) ordered.push(delivery);
    }
  }

  private forget(delivery: Delivery): void {
    this.live--;
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
