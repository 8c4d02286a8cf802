import type { FieldTable } from '../protocol/field-table.js';
import type { Consumer } from './consumer.js';
import type { Durability } from './durability.js';
import { Deque } from './deque.js';
import type { Binding } from './exchange.js';
import { type Message, QueueEntry } from './message.js';

export interface QueueOptions {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

/**
 * A queue is a data structure, not a stream: a ring buffer of ready entries,
 * a round-robin cursor over consumers, and a dispatch loop that runs until
 * every consumer's window is full. No timers, promises or closures per message.
 */
export class Queue {
  readonly ready = new Deque<QueueEntry>();
  readonly consumers: Consumer[] = [];
  readonly bindings = new Set<Binding>();
  /** Messages delivered to consumers (or got) and not yet acked. */
  unackedCount = 0;
  /** Set when a consumer has ever subscribed: auto-delete applies only after that. */
  hadConsumer = false;
  deleted = false;
  /** Last publish this queue was routed by; dedups fan-in from several bindings. */
  routeMark = 0;
  /** Consumers have different priorities: dispatch prefers the highest with room. */
  private prioritized = false;
  private nextSeq = 1;
  /** Set for a durable queue when the broker has a message log: stored messages are settled there. */
  private durability: Durability | null = null;
  /** The queue's name in the log (vhost and name). */
  storeKey = '';
  /** Highest stored message id delivered; the log brings those back redelivered after a restart. */
  private deliveredUpTo = 0;
  private watermarkPending = false;
  private cursor = 0;
  private dispatching = false;

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly options: QueueOptions,
    /** The connection of an exclusive queue; null otherwise. */
    readonly exclusiveOwner: object | null,
  ) {}

  /** Makes the queue settle its stored messages in the log. */
  attachStorage(durability: Durability, key: string): void {
    this.durability = durability;
    this.storeKey = key;
  }

  get isStored(): boolean {
    return this.durability !== null;
  }

  /** A message recovered from the log, in its original order. */
  restore(message: Message, redelivered: boolean): void {
    const entry = new QueueEntry(message, this.nextSeq++);
    entry.redelivered = redelivered;
    if (redelivered && message.msgId > this.deliveredUpTo) this.deliveredUpTo = message.msgId;
    this.ready.push(entry);
  }

  get messageCount(): number {
    return this.ready.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  enqueue(message: Message): void {
    this.ready.push(new QueueEntry(message, this.nextSeq++));
    if (this.consumers.length > 0) this.dispatch();
  }

  /** Hands ready entries to consumers, round-robin, while any has room. */
  dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      while (this.ready.length > 0 && consumers.length > 0) {
        const chosen = this.prioritized ? this.nextByPriority() : this.nextRoundRobin();
        if (chosen === undefined) break;
        const entry = this.ready.shift() as QueueEntry;
        this.taken(entry, chosen.noAck);
        chosen.deliver(this, entry);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private nextRoundRobin(): Consumer | undefined {
    const consumers = this.consumers;
    const n = consumers.length;
    for (let i = 0; i < n; i++) {
      const index = (this.cursor + i) % n;
      const candidate = consumers[index];
      if (candidate.canAccept()) {
        this.cursor = (index + 1) % n;
        return candidate;
      }
    }
    return undefined;
  }

  /**
   * The first consumer with room in the highest priority band that has one;
   * within a band, round-robin: the chosen consumer moves to the back of its band.
   */
  private nextByPriority(): Consumer | undefined {
    const consumers = this.consumers;
    for (let index = 0; index < consumers.length; index++) {
      const candidate = consumers[index];
      if (!candidate.canAccept()) continue;
      let end = index + 1;
      while (end < consumers.length && consumers[end].priority === candidate.priority) end++;
      consumers.splice(index, 1);
      consumers.splice(end - 1, 0, candidate);
      return candidate;
    }
    return undefined;
  }

  /** basic.get: the head entry, counted as unacked unless no-ack. */
  get(noAck: boolean): QueueEntry | undefined {
    const entry = this.ready.shift();
    if (entry !== undefined) this.taken(entry, noAck);
    return entry;
  }

  /** An entry leaves the ready list for a consumer or basic.get. */
  private taken(entry: QueueEntry, noAck: boolean): void {
    if (noAck) this.forget(entry);
    else this.unackedCount++;
    const msgId = entry.message.msgId;
    if (msgId > this.deliveredUpTo && this.durability !== null) {
      this.deliveredUpTo = msgId;
      if (!this.watermarkPending) {
        this.watermarkPending = true;
        this.durability.watermarkMoved(this);
      }
    }
  }

  writeWatermark(): void {
    this.watermarkPending = false;
    if (this.durability !== null && !this.deleted) this.durability.log.appendDelivered(this.storeKey, this.deliveredUpTo);
  }

  /** An unacked entry was acked, or rejected without requeue. */
  settle(entry: QueueEntry): void {
    this.unackedCount--;
    this.forget(entry);
  }

  /** The entry is gone for good: its stored message is settled for this queue. */
  private forget(entry: QueueEntry): void {
    const msgId = entry.message.msgId;
    if (msgId !== 0 && this.durability !== null && !this.deleted) this.durability.log.appendSettle(msgId, this.storeKey);
  }

  /**
   * Puts unacked entries back at their original place (by seq), marked
   * redelivered, as RabbitMQ does, then dispatches.
   */
  requeue(entries: readonly QueueEntry[]): void {
    if (this.deleted) return;
    const sorted = entries.length > 1 ? [...entries].sort((a, b) => b.seq - a.seq) : entries;
    for (const entry of sorted) {
      this.unackedCount--;
      entry.redelivered = true;
      const head = this.ready.peek();
      if (head === undefined || entry.seq < head.seq) {
        this.ready.unshift(entry);
      } else {
        this.ready.insertAt(this.positionOf(entry.seq), entry);
      }
    }
    if (this.consumers.length > 0) this.dispatch();
  }

  purge(): number {
    const entries = this.ready.clear();
    if (this.durability !== null) for (const entry of entries) this.forget(entry);
    return entries.length;
  }

  /** The queue is deleted: its stored messages go from the log in one record. */
  dropStorage(): void {
    if (this.durability !== null) this.durability.log.appendQueueDeleted(this.storeKey);
    this.durability = null;
  }

  addConsumer(consumer: Consumer): void {
    // Kept in priority order, highest first; equal priorities keep arrival order.
    let index = this.consumers.length;
    while (index > 0 && this.consumers[index - 1].priority < consumer.priority) index--;
    this.consumers.splice(index, 0, consumer);
    if (index < this.cursor) this.cursor++;
    if (consumer.priority !== this.consumers[0].priority || consumer.priority !== this.consumers[this.consumers.length - 1].priority) {
      this.prioritized = true;
    }
    this.hadConsumer = true;
    this.dispatch();
  }

  /** Returns whether the consumer was subscribed here. */
  removeConsumer(consumer: Consumer): boolean {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return false;
    this.consumers.splice(index, 1);
    if (this.cursor > index) this.cursor--;
    if (this.cursor >= this.consumers.length) this.cursor = 0;
    if (this.consumers.length <= 1) this.prioritized = false;
    return true;
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.length > 0 && this.consumers[0].exclusive;
  }

  private positionOf(seq: number): number {
    let low = 0;
    let high = this.ready.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ready.at(mid).seq < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
