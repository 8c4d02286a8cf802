import { Deque } from '../broker/deque.js';

/** A stream's own log, as a confirm waits on it: whether an offset is on disk yet. */
export interface DurableStream {
  isDurable(offset: number): boolean;
}

/**
 * What a publish that reached a stream also waits for: the stream's log to
 * have its offset on disk. A publish that reached several streams lists the
 * others in `moreStreams` (rare, so it may allocate). One small object per
 * such publish and no closure: onDurable re-reads the logs' state.
 */
interface StreamWait {
  stream: DurableStream;
  offset: number;
  moreStreams: { stream: DurableStream; offset: number }[] | null;
}

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
   * Confirms held back until the logs have the message on disk, in publish
   * order: publish seq, message-log ticket (0: not in that log) and what it
   * waits for in streams (null for most), as three deques (no object per publish).
   */
  private readonly awaitingSeq = new Deque<number>();
  private readonly awaitingTicket = new Deque<number>();
  private readonly awaitingStreams = new Deque<StreamWait | null>();

  constructor(private readonly sink: ConfirmSink) {}

  /** A publish that needs nothing more: confirmed at the next flush. Returns its tag. */
  published(): number {
    return ++this.publishSeq;
  }

  /**
   * A publish confirmed once the message log's durable ticket reaches
   * `ticket` (0: it is not in that log) and `stream` (if any) has `offset`
   * on disk, and each of `moreStreams` its own. Returns whether it is the first such wait.
   */
  publishedAwaitingDisk(
    ticket: number,
    stream: DurableStream | null = null,
    offset = -1,
    moreStreams: { stream: DurableStream; offset: number }[] | null = null,
  ): boolean {
    const first = this.awaitingSeq.length === 0;
    this.awaitingSeq.push(++this.publishSeq);
    this.awaitingTicket.push(ticket);
    this.awaitingStreams.push(stream === null ? null : { stream, offset, moreStreams });
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

  /**
   * The message log synced up to `upTo`, or a stream synced: confirms go in
   * publish order, up to the first publish some log does not have on disk yet.
   * Returns whether some publish still waits for the disk.
   */
  onDurable(upTo: number): boolean {
    const tickets = this.awaitingTicket;
    const streams = this.awaitingStreams;
    let head = tickets.peek();
    while (head !== undefined && head <= upTo && streamsHave(streams.peek() ?? null)) {
      tickets.shift();
      streams.shift();
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

function streamsHave(wait: StreamWait | null): boolean {
  if (wait === null) return true;
  if (!wait.stream.isDurable(wait.offset)) return false;
  const more = wait.moreStreams;
  if (more !== null) for (let i = 0; i < more.length; i++) if (!more[i].stream.isDurable(more[i].offset)) return false;
  return true;
}
