// The module's binding, not the global: Node's global Buffer is a getter, called on every use in optimized code.
import { Buffer } from 'node:buffer';
import { truncate } from '../broker/arrays.js';
import { getUInt16, getUInt32 } from '../protocol/byte-sink.js';
import { AmqpError } from '../protocol/errors.js';
import * as M from '../protocol/methods.generated.js';
import { decodeProperties } from '../protocol/methods.generated.js';
import { basicPropertiesDecode } from '../protocol/property-check.js';
import { ReplyCode } from '../protocol/reply-codes.js';

const EMPTY = Buffer.alloc(0);

/** A body frame's payload: one buffer, or the pieces of the reads it arrived in (see FrameSink.onBodyFrame). */
export type BodyFramePayload = Buffer | readonly Buffer[];

/** Properties up to this long are remembered for the next publish on the channel (see header()). */
const MAX_REPEATED_PROPERTIES = 256;

/**
 * The content of a basic.publish being assembled on one channel: the method,
 * then its content header, then body frames up to the declared size. One per
 * channel, reused for every publish.
 */
export class PublishContent {
  /** Between a basic.publish and its last body frame. */
  active = false;
  exchange = '';
  routingKey = '';
  mandatory = false;
  /** Set by the content header. */
  rawProperties: Buffer | undefined;
  bodySize = 0;
  private received = 0;
  private parts: Buffer[] = [];
  /**
   * The last content header's properties, validated, in a buffer of their
   * own: a publisher that sends the same properties again (the common case)
   * gets this buffer, already checked, shared by its messages.
   */
  private lastProperties: Buffer | undefined;

  /** basic.publish: its content follows. */
  start(exchange: string, routingKey: string, mandatory: boolean): void {
    this.active = true;
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.mandatory = mandatory;
    this.rawProperties = undefined;
    this.bodySize = 0;
    this.received = 0;
  }

  /**
   * The content header, `buf[start, end)`: returns whether the content is complete (an empty
   * body). A body above `maxMessageSize` is a channel error; a frame out of
   * order or a header that does not decode, a connection error.
   */
  header(buf: Buffer, start: number, end: number, maxMessageSize: number): boolean {
    if (!this.active || this.rawProperties !== undefined) {
      throw AmqpError.connection(ReplyCode.UNEXPECTED_FRAME, 'expected method frame, got non method frame instead');
    }
    if (end - start < 14) throw AmqpError.connection(ReplyCode.FRAME_ERROR, 'content header frame too short');
    const classId = getUInt16(buf, start);
    if (classId !== M.CLASS_BASIC) {
      throw AmqpError.connection(ReplyCode.UNEXPECTED_FRAME, `expected content header for class 60, got one for class ${classId} instead`, 60, 40);
    }
    const propertiesAt = start + 12;
    let rawProperties = this.lastProperties;
    if (rawProperties === undefined || !sameBytes(rawProperties, buf, propertiesAt, end)) {
      const length = end - propertiesAt;
      if (length <= MAX_REPEATED_PROPERTIES) {
        // A copy rather than a subarray: as the next publishes' properties it must not hold the chunk it came in.
        rawProperties = Buffer.allocUnsafe(length);
        buf.copy(rawProperties, 0, propertiesAt, end);
      } else rawProperties = buf.subarray(propertiesAt, end);
      this.lastProperties = undefined;
      if (!basicPropertiesDecode(rawProperties)) throw undecodableProperties(rawProperties);
      if (length <= MAX_REPEATED_PROPERTIES) this.lastProperties = rawProperties;
    }
    // Exact below 2^53, which is far above any limit; the text below prints the exact value.
    const bodySize = getUInt32(buf, start + 4) * 0x1_0000_0000 + getUInt32(buf, start + 8);
    this.rawProperties = rawProperties;
    this.bodySize = bodySize;
    if (bodySize > maxMessageSize) {
      this.clear();
      const exactSize = buf.readBigUInt64BE(start + 4).toString();
      throw AmqpError.channel(
        ReplyCode.PRECONDITION_FAILED,
        `message size ${exactSize} is larger than configured max size ${maxMessageSize}`,
        60,
        40,
      );
    }
    return bodySize === 0;
  }

  /**
   * A content body frame: returns whether the content is complete. Its
   * buffers become the body's parts as they are: the body is never copied.
   */
  body(payload: BodyFramePayload): boolean {
    if (!this.active || this.rawProperties === undefined) {
      throw AmqpError.connection(ReplyCode.UNEXPECTED_FRAME, 'expected method frame, got non method frame instead');
    }
    let size: number;
    if (Buffer.isBuffer(payload)) size = payload.length;
    else {
      size = 0;
      for (let i = 0; i < payload.length; i++) size += payload[i]!.length;
    }
    this.received += size;
    if (this.received > this.bodySize) {
      throw AmqpError.connection(
        ReplyCode.FRAME_ERROR,
        `content body exceeds the declared size ${this.bodySize}`,
      );
    }
    if (Buffer.isBuffer(payload)) this.parts.push(payload);
    else for (let i = 0; i < payload.length; i++) this.parts.push(payload[i]!);
    return this.received === this.bodySize;
  }

  /**
   * The complete body, ending the assembly (read the other fields first).
   * A single frame's body is that frame's buffer, so the parts array is kept
   * for the next publish; only a body of several frames takes it along.
   */
  takeBody(): Buffer | Buffer[] {
    this.active = false;
    const parts = this.parts;
    if (parts.length === 0) return EMPTY;
    if (parts.length === 1) {
      const body = parts[0];
      truncate(parts, 0);
      return body;
    }
    this.parts = [];
    return parts;
  }

  /** Drops a publish in progress (a channel error, or the channel's release). */
  clear(): void {
    this.active = false;
    truncate(this.parts, 0);
  }
}

/** Whether `buf[start, end)` holds the bytes of `bytes`. */
function sameBytes(bytes: Buffer, buf: Buffer, start: number, end: number): boolean {
  const n = bytes.length;
  if (end - start !== n) return false;
  for (let i = 0; i < n; i++) if (bytes[i] !== buf[start + i]) return false;
  return true;
}

/**
 * RabbitMQ's answer to a content header whose properties do not decode:
 * connection.close 541 with the bare text INTERNAL_ERROR. The log gets why.
 */
function undecodableProperties(raw: Buffer): AmqpError {
  let why = 'basic properties do not decode';
  try {
    decodeProperties(raw);
  } catch (error) {
    if (error instanceof Error) why = error.message;
  }
  const error = AmqpError.connection(ReplyCode.INTERNAL_ERROR, `content header refused: ${why}`);
  error.nameOnly = true;
  return error;
}
