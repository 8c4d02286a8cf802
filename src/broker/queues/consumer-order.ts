import type { Consumer } from '../consumer.js';

/**
 * Which of a queue's consumers gets the next message, as RabbitMQ 3.10
 * chooses: round-robin in subscription order; with consumer priorities
 * (x-priority), the highest band that has room, round-robin within it; with a
 * single active consumer, the first subscribed alone (priorities ignored).
 * The same for every queue type.
 */
export class ConsumerOrder {
  /** Subscribed consumers: by priority, highest first, then arrival (arrival alone with a single active consumer). */
  readonly list: Consumer[] = [];
  private cursor = 0;
  /** Consumers have different priorities: the choice prefers the highest with room. */
  private prioritized = false;

  constructor(private readonly singleActive: boolean) {}

  get length(): number {
    return this.list.length;
  }

  add(consumer: Consumer): void {
    const consumers = this.list;
    let index = consumers.length;
    while (!this.singleActive && index > 0 && consumers[index - 1].priority < consumer.priority) index--;
    consumers.splice(index, 0, consumer);
    if (index < this.cursor) this.cursor++;
    if (consumer.priority !== consumers[0].priority || consumer.priority !== consumers[consumers.length - 1].priority) {
      this.prioritized = true;
    }
  }

  /** Returns whether the consumer was there. */
  remove(consumer: Consumer): boolean {
    const consumers = this.list;
    const index = consumers.indexOf(consumer);
    if (index < 0) return false;
    consumers.splice(index, 1);
    if (this.cursor > index) this.cursor--;
    if (this.cursor >= consumers.length) this.cursor = 0;
    if (consumers.length <= 1) this.prioritized = false;
    return true;
  }

  /** The consumer that takes the next message; undefined when none has room. */
  next(): Consumer | undefined {
    if (this.singleActive) return this.active();
    return this.prioritized ? this.nextByPriority() : this.nextRoundRobin();
  }

  /** Single active consumer: the first subscribed, while it has room. */
  private active(): Consumer | undefined {
    const active = this.list[0];
    return active !== undefined && active.canAccept() ? active : undefined;
  }

  private nextRoundRobin(): Consumer | undefined {
    const consumers = this.list;
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
    const consumers = this.list;
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
}
