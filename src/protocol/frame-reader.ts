import { getUInt16, getUInt32 } from './byte-sink.js';
import { AmqpError } from './errors.js';
import { BAD_FRAME_REPLY_CODE, DEFAULT_FRAME_MAX, FRAME_BODY, FRAME_END, FRAME_OVERHEAD } from './constants.js';

/**
 * Gets each frame's payload as `buf[start, end)`: the bytes are valid during
 * the call only unless the sink keeps a subarray (which shares the chunk's
 * memory). Passing bounds rather than a subarray saves a Buffer object per
 * frame; the sink cuts one only for what it keeps (a body, the properties).
 */
export interface FrameSink {
  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void;
  /**
   * A body frame that arrived across several reads, as subarrays of those
   * reads in order (at least two, none copied). A sink without it gets such a
   * frame through onFrame, assembled into one new buffer.
   */
  onBodyFrame?(channel: number, pieces: Buffer[]): void;
}

const enum State {
  /** Between frames, or collecting a header split across chunks (hlen bytes so far). */
  Header,
  /** Collecting a payload split across chunks. */
  Payload,
  /** Payload complete, waiting for the end octet. */
  End,
}

/**
 * Splits a byte stream (after the protocol header) into frames. A frame that
 * lies whole within one chunk is delivered in place, as bounds within that chunk. A
 * body frame split across chunks goes to a sink's onBodyFrame as subarrays of
 * those chunks: a large message's body (frames of up to frame_max, reads of
 * 64 KiB) is never copied nor given a second allocation here. Other frames
 * split across chunks are assembled into a new buffer. Frame types are not
 * otherwise interpreted. After it throws, the reader is not usable.
 */
export class FrameReader {
  /** The negotiated frame_max: the largest payload taken (see checkSize); 0 = no limit. */
  frameMax: number;

  /** Set when the framing is lost (a bad end octet, a frame over frameMax): nothing after it can be read. */
  broken = false;

  private state = State.Header;
  private readonly header = Buffer.alloc(7);
  private hlen = 0;
  private type = 0;
  private channel = 0;
  private payload: Buffer = Buffer.alloc(0);
  private plen = 0;
  /** The frame's size while collecting a payload. */
  private size = 0;
  /** A split body frame's pieces so far (in place of `payload`), when the sink takes pieces. */
  private pieces: Buffer[] | null = null;
  /** Payload bytes taken as pieces of split body frames, ever (a large body's bytes, nearly all of them). */
  splitBodyBytes = 0;

  constructor(frameMax = DEFAULT_FRAME_MAX) {
    this.frameMax = frameMax;
  }

  /**
   * As RabbitMQ 3.10: a payload of up to frameMax octets is taken (the
   * overhead not counted), a longer one refused with RabbitMQ's text, which
   * names frameMax - 8 as the limit.
   */
  private checkSize(type: number, size: number): void {
    if (this.frameMax !== 0 && size > this.frameMax) {
      this.broken = true;
      throw AmqpError.connection(
        BAD_FRAME_REPLY_CODE,
        `type ${type}, all octets = <<>>: {frame_too_large,${size},${this.frameMax - FRAME_OVERHEAD}}`,
      );
    }
  }

  private badEnd(octet: number): AmqpError {
    this.broken = true;
    return AmqpError.connection(
      BAD_FRAME_REPLY_CODE,
      `frame end octet 0x${octet.toString(16).padStart(2, '0')}, expected 0xce`,
    );
  }

  push(chunk: Buffer, sink: FrameSink): void {
    const len = chunk.length;
    let off = 0;

    // Finish a frame left over from earlier chunks.
    if (this.state !== State.Header || this.hlen > 0) {
      off = this.resume(chunk, sink);
      if (off < 0) return;
    }

    while (off < len) {
      const rem = len - off;
      if (rem < 7) {
        chunk.copy(this.header, 0, off, len);
        this.hlen = rem;
        return;
      }
      const type = chunk[off]!;
      const channel = getUInt16(chunk, off + 1);
      const size = getUInt32(chunk, off + 3);
      this.checkSize(type, size);
      const endAt = off + 7 + size;
      if (endAt < len) {
        const end = chunk[endAt]!;
        if (end !== FRAME_END) throw this.badEnd(end);
        sink.onFrame(type, channel, chunk, off + 7, endAt);
        off = endAt + 1;
        continue;
      }
      // The frame continues in a later chunk.
      this.type = type;
      this.channel = channel;
      this.startPayload(type, size, sink);
      this.take(chunk, off + 7, len);
      this.state = this.plen === size ? State.End : State.Payload;
      return;
    }
  }

  /** Continues a split frame; returns the offset after it in `chunk`, or -1 if the chunk ran out. */
  private resume(chunk: Buffer, sink: FrameSink): number {
    const len = chunk.length;
    let off = 0;
    if (this.state === State.Header) {
      const take = Math.min(7 - this.hlen, len);
      chunk.copy(this.header, this.hlen, 0, take);
      this.hlen += take;
      off = take;
      if (this.hlen < 7) return -1;
      this.hlen = 0;
      const h = this.header;
      this.type = h[0]!;
      this.channel = h.readUInt16BE(1);
      const size = h.readUInt32BE(3);
      this.checkSize(this.type, size);
      this.startPayload(this.type, size, sink);
      this.state = size === 0 ? State.End : State.Payload;
    }
    if (this.state === State.Payload) {
      const until = Math.min(off + this.size - this.plen, len);
      this.take(chunk, off, until);
      off = until;
      if (this.plen < this.size) return -1;
      this.state = State.End;
    }
    if (off >= len) return -1;
    const end = chunk[off]!;
    if (end !== FRAME_END) throw this.badEnd(end);
    this.state = State.Header;
    const pieces = this.pieces;
    if (pieces !== null) {
      this.pieces = null;
      // A frame whose payload came whole in one chunk (only its header or end octet was split) is one buffer.
      if (pieces.length === 1) sink.onFrame(this.type, this.channel, pieces[0]!, 0, pieces[0]!.length);
      else sink.onBodyFrame!(this.channel, pieces);
    } else {
      const payload = this.payload;
      this.payload = EMPTY;
      sink.onFrame(this.type, this.channel, payload, 0, payload.length);
    }
    return off + 1;
  }

  /** Prepares to collect a split frame's payload: pieces for a body frame if the sink takes them, else one buffer. */
  private startPayload(type: number, size: number, sink: FrameSink): void {
    this.size = size;
    this.plen = 0;
    if (type === FRAME_BODY && sink.onBodyFrame !== undefined && size > 0) this.pieces = [];
    else this.payload = Buffer.allocUnsafe(size);
  }

  /** Takes chunk[from, to) as the next part of the payload. */
  private take(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.pieces !== null) {
      this.pieces.push(chunk.subarray(from, to));
      this.splitBodyBytes += to - from;
    } else chunk.copy(this.payload, this.plen, from, to);
    this.plen += to - from;
  }
}

const EMPTY = Buffer.alloc(0);
