import { getUInt16 } from '../protocol/byte-sink.js';
import { decodeProperties, type BasicProperties } from '../protocol/methods.generated.js';
import type { LogPosition } from '../storage/message-log.js';
import { parseExpiration } from './queue-arguments.js';

// Flags of the basic properties in the first property-flags word.
const CONTENT_TYPE_FLAG = 0x8000;
const CONTENT_ENCODING_FLAG = 0x4000;
export const HEADERS_FLAG = 0x2000;
const DELIVERY_MODE_FLAG = 0x1000;
const PRIORITY_FLAG = 0x0800;
const EXPIRATION_FLAG = 0x0100;
export const USER_ID_FLAG = 0x0010;

/** Whether encoded basic properties carry the property with this flag. */
export function hasProperty(raw: Buffer, flag: number, start = 0, end = raw.length): boolean {
  return end - start >= 2 && (getUInt16(raw, start) & flag) !== 0;
}

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
  /** Per-message TTL in ms from the expiration property: -1 none, -2 not read yet. */
  private ttlMs = -2;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    /** Content header payload from the property flags on. */
    readonly rawProperties: Buffer,
    /** One Buffer, or the body frames' payloads in order when it came in several. */
    readonly body: Buffer | readonly Buffer[],
    readonly bodySize: number,
  ) {}

  /**
   * The expiration property as a TTL in ms, or -1. Throws RabbitMQ's 406
   * for a value that is not one: the channel reads it on receipt.
   */
  get ttl(): number {
    if (this.ttlMs === -2) {
      const expiration = hasProperty(this.rawProperties, EXPIRATION_FLAG) ? this.properties.expiration : undefined;
      this.ttlMs = expiration === undefined ? -1 : parseExpiration(expiration);
    }
    return this.ttlMs;
  }

  /** The priority property, 0 when absent (read from the bytes; only priority queues ask). */
  get priority(): number {
    return rawPriority(this.rawProperties) ?? 0;
  }

  get properties(): BasicProperties {
    if (this.decoded === undefined) this.decoded = decodeProperties(this.rawProperties);
    return this.decoded;
  }

  /**
   * Delivery mode 2, read straight from the property bytes: the persistent
   * path need not decode the properties (a headers table included) for one octet.
   */
  get persistent(): boolean {
    if (this.decoded !== undefined) return this.decoded.deliveryMode === 2;
    return rawDeliveryMode(this.rawProperties) === 2;
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
  /** When the message expires in this queue (ms since the epoch); 0 for never. */
  expiresAt = 0;
  /** Its band in a priority queue (x-max-priority): the priority property, capped at the queue's maximum. */
  priority = 0;
  /** Times a quorum queue got it back (nack/reject with requeue, recover, its channel closed): x-delivery-count. */
  deliveryCount = 0;

  constructor(
    public message: Message | null,
    /**
     * Position in the queue, increasing; requeued entries go back in this order.
     * A quorum queue gives a returned entry a new one (at the back, or at the front).
     */
    public seq: number,
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

/**
 * The delivery-mode octet of encoded basic properties, or undefined. It is
 * the 4th property: after content-type and content-encoding (shortstr) and
 * headers (a table with a 32-bit length), each there only if its flag is set.
 */
export function rawDeliveryMode(raw: Buffer): number | undefined {
  return rawOctetProperty(raw, DELIVERY_MODE_FLAG, 0, raw.length);
}

/**
 * The priority octet of encoded basic properties (the 5th property, after
 * delivery-mode), or undefined; `start` and `end` bound the properties
 * within `raw` (the message log reads them in place).
 */
export function rawPriority(raw: Buffer, start = 0, end = raw.length): number | undefined {
  return rawOctetProperty(raw, PRIORITY_FLAG, start, end);
}

function rawOctetProperty(raw: Buffer, flag: typeof DELIVERY_MODE_FLAG | typeof PRIORITY_FLAG, start: number, end: number): number | undefined {
  if (!hasProperty(raw, flag, start, end)) return undefined;
  const flags = raw.readUInt16BE(start);
  let offset = start + 2;
  for (let word = flags; (word & 1) !== 0 && offset + 2 <= end; offset += 2) word = raw.readUInt16BE(offset);
  if ((flags & CONTENT_TYPE_FLAG) !== 0) offset += 1 + (raw[offset] ?? 0);
  if ((flags & CONTENT_ENCODING_FLAG) !== 0) offset += 1 + (raw[offset] ?? 0);
  if ((flags & HEADERS_FLAG) !== 0) {
    if (offset + 4 > end) return undefined;
    offset += 4 + raw.readUInt32BE(offset);
  }
  if (flag === PRIORITY_FLAG && (flags & DELIVERY_MODE_FLAG) !== 0) offset += 1;
  return offset < end ? raw[offset] : undefined;
}
