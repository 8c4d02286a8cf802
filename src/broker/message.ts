import { decodeProperties, type BasicProperties } from '../protocol/methods.generated.js';
import type { LogPosition } from '../storage/message-log.js';

/**
 * A published message, read once and delivered many times: the content
 * header's property bytes and the body stay as received, and the properties
 * are decoded only when something needs them (headers exchange, persistence).
 * Fan-out to several queues shares one Message.
 */
export class Message {
  private decoded: BasicProperties | undefined;
  /** Id in the message log; 0 while the message is not stored (transient, or no durable queue). */
  msgId = 0;
  /** Where the log holds it. */
  position: LogPosition | undefined;
  /** The log's ticket for the publish record: confirms wait until it is on disk. */
  ticket = 0;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    /** Content header payload from the property flags on. */
    readonly rawProperties: Buffer,
    /** One Buffer, or the body frames' payloads in order when it came in several. */
    readonly body: Buffer | readonly Buffer[],
    readonly bodySize: number,
  ) {}

  get properties(): BasicProperties {
    if (this.decoded === undefined) this.decoded = decodeProperties(this.rawProperties);
    return this.decoded;
  }

  /** Delivery mode 2. Reads the flag bits first so transient messages skip decoding. */
  get persistent(): boolean {
    // delivery-mode is the 4th property: flag bit 0x1000 of the first flag word.
    if (this.rawProperties.length < 2 || (this.rawProperties.readUInt16BE(0) & 0x1000) === 0) return false;
    return this.properties.deliveryMode === 2;
  }
}

/**
 * One message's place in one queue. A stored message may be paged out: its
 * entry keeps only the log id and where the record is (as plain numbers, so
 * a million paged-out entries stay small), and `message` is null until the
 * queue reads it back.
 */
export class QueueEntry {
  redelivered = false;

  constructor(
    public message: Message | null,
    /** Position in the queue, increasing; requeued entries go back in this order. */
    readonly seq: number,
    /** Id in the message log; 0 when not stored. */
    readonly msgId: number,
    /** Where the log holds the message: segment, byte offset and record length (0 when not stored). */
    readonly segment: number,
    readonly offset: number,
    readonly length: number,
    readonly bodySize: number,
  ) {}

  get position(): LogPosition {
    return { segment: this.segment, offset: this.offset, length: this.length };
  }
}
