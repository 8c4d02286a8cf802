import { Deque } from '../broker/deque.js';

/** Where a channel's publisher confirms go (the channel encodes them as frames). */
export interface ConfirmSink {
  /** An ack of every tag above the previous answer up to deliveryTag: `confirmed` publishes (for message_stats). */
  sendAck(deliveryTag: number, multiple: boolean, confirmed: number): void;
  sendNack(deliveryTag: number): void;
}

/**
 * The publisher-confirm sequence of one channel in confirm mode: each publish
 * gets the next tag; it is confirmed at once, nacked (a queue turned it away),
 * or held until the log has it on disk (a persistent message on a durable queue).
 */
export class PublisherConfirms {
  private publishSeq = 0;
  /** Every tag up to this one has had its ack or nack. */
  private answeredUpTo = 0;
  /** Tags above answeredUpTo already nacked (while an earlier publish waits for the disk), ascending. */
  private readonly nackedAhead = new Deque<number>();
  /**
   * Confirms held back until the log has the message on disk: publish seq and
   * log ticket, in order, as two deques of numbers (no object per publish).
   */
  private readonly awaitingSeq = new Deque<number>();
  private readonly awaitingTicket = new Deque<number>();

  constructor(private readonly sink: ConfirmSink) {}

  /** A publish that needs nothing more: confirmed at the next flush. Returns its tag. */
  published(): number {
    return ++this.publishSeq;
  }

  /** A publish confirmed once the log's durable ticket reaches `ticket`. Returns whether it is the first such wait. */
  publishedAwaitingDisk(ticket: number): boolean {
    const first = this.awaitingSeq.length === 0;
    this.awaitingSeq.push(++this.publishSeq);
    this.awaitingTicket.push(ticket);
    return first;
  }

  /**
   * A queue turned the publish away (x-overflow reject-publish): basic.nack
   * at once, after the acks due below it (RabbitMQ's order), so that no
   * multiple ack ever spans a nacked tag.
   */
  refused(): void {
    const seq = ++this.publishSeq;
    this.ackUpTo(Math.min(this.confirmable(), seq - 1));
    this.sink.sendNack(seq);
    if (this.answeredUpTo === seq - 1) this.answeredUpTo = seq;
    else this.nackedAhead.push(seq);
  }

  /** The log synced up to `upTo`. Returns whether some publish still waits for the disk. */
  onDurable(upTo: number): boolean {
    const tickets = this.awaitingTicket;
    let head = tickets.peek();
    while (head !== undefined && head <= upTo) {
      tickets.shift();
      this.awaitingSeq.shift();
      head = tickets.peek();
    }
    return head !== undefined;
  }

  /** Publishes not answered yet (neither acked nor nacked). */
  get unconfirmed(): number {
    return this.publishSeq - this.answeredUpTo - this.nackedAhead.length;
  }

  /** Whether a flush would send something. */
  get due(): boolean {
    return this.confirmable() > this.answeredUpTo;
  }

  /** Acks every publish confirmable since the last flush: one basic.ack per run of tags between nacks. */
  flush(): void {
    this.ackUpTo(this.confirmable());
  }

  private ackUpTo(upTo: number): void {
    const nacked = this.nackedAhead;
    while (this.answeredUpTo < upTo) {
      const nack = nacked.peek();
      if (nack === this.answeredUpTo + 1) {
        nacked.shift();
        this.answeredUpTo = nack;
        continue;
      }
      const end = nack !== undefined && nack <= upTo ? nack - 1 : upTo;
      this.sink.sendAck(end, end - this.answeredUpTo > 1, end - this.answeredUpTo);
      this.answeredUpTo = end;
    }
  }

  /** Publishes up to this one can be confirmed: all before the first still waiting for the disk. */
  private confirmable(): number {
    const waiting = this.awaitingSeq.peek();
    return waiting === undefined ? this.publishSeq : waiting - 1;
  }
}
