import type { FieldTable } from '../protocol/field-table.js';
import type { Consumer } from './consumer.js';
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
  private cursor = 0;
  private dispatching = false;

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly options: QueueOptions,
    /** The connection of an exclusive queue; null otherwise. */
    readonly exclusiveOwner: object | null,
  ) {}

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
        if (!chosen.noAck) this.unackedCount++;
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
    if (entry !== undefined && !noAck) this.unackedCount++;
    return entry;
  }

  /** An unacked entry was acked, or rejected without requeue. */
  settle(_entry: QueueEntry): void {
    this.unackedCount--;
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
    const count = this.ready.length;
    this.ready.clear();
    return count;
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
