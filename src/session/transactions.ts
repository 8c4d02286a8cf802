import type { Message } from '../broker/message.js';

/** An ack, nack or reject held by a transaction (a reject is a nack of one tag). */
export interface TxAck {
  kind: 'ack' | 'nack';
  tag: number;
  multiple: boolean;
  requeue: boolean;
}

/** A publish held by a transaction; `extraKeys` are its CC and BCC routing keys. */
export interface TxPublish {
  message: Message;
  mandatory: boolean;
  extraKeys: readonly string[] | null;
}

/**
 * A channel in tx mode (tx.select): its publishes and acks wait here until
 * tx.commit routes and settles them in order, or tx.rollback drops them.
 */
export class Transaction {
  private publishes: TxPublish[] = [];
  private acks: TxAck[] = [];

  get uncommittedMessages(): number {
    return this.publishes.length;
  }

  get uncommittedAcks(): number {
    return this.acks.length;
  }

  publish(message: Message, mandatory: boolean, extraKeys: readonly string[] | null): void {
    this.publishes.push({ message, mandatory, extraKeys });
  }

  ack(kind: TxAck['kind'], tag: number, multiple: boolean, requeue: boolean): void {
    this.acks.push({ kind, tag, multiple, requeue });
  }

  /** tx.commit: the publishes held so far, in order; the transaction starts over without them. */
  takePublishes(): readonly TxPublish[] {
    const publishes = this.publishes;
    this.publishes = [];
    return publishes;
  }

  /** tx.commit: the acks held so far, in order; the transaction starts over without them. */
  takeAcks(): readonly TxAck[] {
    const acks = this.acks;
    this.acks = [];
    return acks;
  }

  rollback(): void {
    this.publishes = [];
    this.acks = [];
  }
}
