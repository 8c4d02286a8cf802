import { Deque } from '../broker/deque.js';

/** Where a channel's publisher confirms go (the channel encodes them as frames). */
export interface ConfirmSink {
  sendAck(deliveryTag: number, multiple: boolean): void;
  sendNack(deliveryTag: number): void;
}

/**
 * The publisher-confirm sequence of one channel in confirm mode: each publish
 * gets the next tag; it is confirmed at once, nacked (a queue turned it away),
 * or held until the log has it on disk (a persistent message on a durable queue).
 */
export class PublisherConfirms {
  private publishSeq = 0;
  /** The newest publish answered with basic.nack. */
  private lastNacked = 0;
  private confirmedUpTo = 0;
  /** Confirms held back until the log has the message on disk: publish seq and log ticket, in order. */
  private readonly awaitingDisk = new Deque<{ seq: number; ticket: number }>();

  constructor(private readonly sink: ConfirmSink) {}

  /** A publish that needs nothing more: confirmed at the next flush. Returns its tag. */
  published(): number {
    return ++this.publishSeq;
  }

  /** A publish confirmed once the log's durable ticket reaches `ticket`. Returns whether it is the first such wait. */
  publishedAwaitingDisk(ticket: number): boolean {
    const first = this.awaitingDisk.length === 0;
    this.awaitingDisk.push({ seq: ++this.publishSeq, ticket });
    return first;
  }

  /**
   * A queue turned the publish away (x-overflow reject-publish): basic.nack
   * at once. A later multiple ack may span it, as RabbitMQ's do; a single
   * ack never names it.
   */
  refused(): void {
    const seq = ++this.publishSeq;
    this.sink.sendNack(seq);
    this.lastNacked = seq;
  }

  /** The log synced up to `upTo`. Returns whether some publish still waits for the disk. */
  onDurable(upTo: number): boolean {
    let head = this.awaitingDisk.peek();
    while (head !== undefined && head.ticket <= upTo) {
      this.awaitingDisk.shift();
      head = this.awaitingDisk.peek();
    }
    return head !== undefined;
  }

  /** Whether a flush would send something. */
  get due(): boolean {
    return this.confirmable() > this.confirmedUpTo;
  }

  /** Sends one basic.ack covering every publish confirmable since the last flush. */
  flush(): void {
    const upTo = this.confirmable();
    if (upTo <= this.confirmedUpTo) return;
    if (upTo === this.confirmedUpTo + 1 && upTo === this.lastNacked) {
      this.confirmedUpTo = upTo;
      return;
    }
    const multiple = upTo - this.confirmedUpTo > 1;
    this.sink.sendAck(upTo, multiple);
    this.confirmedUpTo = upTo;
  }

  /** Publishes up to this one can be confirmed: all before the first still waiting for the disk. */
  private confirmable(): number {
    const waiting = this.awaitingDisk.peek();
    return waiting === undefined ? this.publishSeq : waiting.seq - 1;
  }
}
