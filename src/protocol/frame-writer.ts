// The module's binding, not the global: Node's global Buffer is a getter, called on every use in optimized code.
import { Buffer } from 'node:buffer';
import { ByteSink, putUInt16, putUInt32, writeUInt64At } from './byte-sink.js';
import { DEFAULT_FRAME_MAX, FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_OVERHEAD } from './constants.js';
import { BASIC_DELIVER } from './methods.generated.js';

/** Body slices at least this long are referenced in the output, not copied. */
export const BODY_COPY_THRESHOLD = 4096;

const MIN_SCRATCH = 64 * 1024;

/** A turn that wrote at most this much starts the next on a scratch of the initial size. */
const SMALL_TURN = 1024;

/**
 * The fixed part of a content header frame, up to its body size: frame type,
 * channel, payload size, class id and weight 0 (bytes p to p + 10). Callers
 * have ensured the room and write the body size at p + 11 their own way.
 */
function writeHeaderFramePrefix(b: Buffer, p: number, channel: number, classId: number, propLen: number): void {
  b[p] = FRAME_HEADER;
  putUInt16(b, channel, p + 1);
  putUInt32(b, 12 + propLen, p + 3);
  putUInt16(b, classId, p + 7);
  putUInt16(b, 0, p + 9);
}

/** How many deliver frames (exchange and routing key pairs) a consumer keeps. */
const DELIVER_FRAMES = 4;

/**
 * One consumer's recent basic.deliver frames, for FrameWriter.writeBasicDeliver:
 * a delivery with the exchange and routing key of a kept frame (the
 * consumer's channel and tag never change) copies its bytes and patches the
 * delivery tag and redelivered octet, rather than encoding three shortstrs
 * again. A frame is kept for a pair seen among the last DELIVER_FRAMES
 * deliveries that had none (a steady key, or a publisher going round a few
 * keys, as amqpperf --queues 4); keys that do not come back cost no copy.
 */
export class DeliverFrameTemplate {
  readonly frames: Buffer[] = [];
  readonly exchanges: string[] = [];
  readonly routingKeys: string[] = [];
  /** Where the delivery tag sits in each frame. */
  readonly tagAts: number[] = [];
  /** The frame replaced next once all are in use. */
  private nextFrame = 0;
  /** The pairs of the last deliveries without a kept frame (a ring). */
  private readonly seenExchanges: string[] = [];
  private readonly seenRoutingKeys: string[] = [];
  private nextSeen = 0;

  /** The kept frame for this pair, or -1. */
  find(exchange: string, routingKey: string): number {
    const keys = this.routingKeys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === routingKey && this.exchanges[i] === exchange) return i;
    return -1;
  }

  /**
   * A delivery without a kept frame, written at buf[start, end) with its tag at tagAt: kept if its pair was seen
   * lately, else remembered as seen.
   */
  written(buf: Buffer, start: number, end: number, tagAt: number, exchange: string, routingKey: string): void {
    const seenKeys = this.seenRoutingKeys;
    let seen = false;
    for (let i = 0; i < seenKeys.length; i++) {
      if (seenKeys[i] === routingKey && this.seenExchanges[i] === exchange) {
        seen = true;
        break;
      }
    }
    if (!seen) {
      seenKeys[this.nextSeen] = routingKey;
      this.seenExchanges[this.nextSeen] = exchange;
      this.nextSeen = (this.nextSeen + 1) % DELIVER_FRAMES;
      return;
    }
    let slot = this.frames.length;
    if (slot === DELIVER_FRAMES) {
      slot = this.nextFrame;
      this.nextFrame = (slot + 1) % DELIVER_FRAMES;
    }
    const length = end - start;
    let frame = this.frames[slot];
    if (frame === undefined || frame.length !== length) this.frames[slot] = frame = Buffer.allocUnsafe(length);
    // A loop, not Buffer#copy (whose argument checks cost more than these hundred bytes).
    for (let i = 0; i < length; i++) frame[i] = buf[start + i]!;
    this.tagAts[slot] = tagAt - start;
    this.exchanges[slot] = exchange;
    this.routingKeys[slot] = routingKey;
  }
}

/** A scratch larger than the initial size is given up after this many small turns in a row written from its start. */
const SMALL_TURNS_TO_SHRINK = 64;

/**
 * The output of one connection. Frames are appended into a growing scratch
 * buffer; large body slices are referenced rather than copied. The session
 * calls flush() once per event-loop turn and writes the returned buffers to
 * the socket in one corked write.
 *
 * Layout: [segStart, pos) of `buf` is the current, not yet handed out,
 * segment. Completed output pieces wait in `out`. Bytes before segStart are
 * never written again (they may be referenced by `out` or by a flushed
 * list that the socket still holds).
 */
export class FrameWriter extends ByteSink {
  /** Negotiated frame-max (whole frame, overhead included); 0 = no limit. */
  frameMax = DEFAULT_FRAME_MAX;

  private segStart = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  /** Bytes the last take() returned. */
  private lastTaken = 0;
  /** Small turns in a row written from the start of a large scratch (see written). */
  private smallTurns = 0;

  constructor(private readonly initialSize = MIN_SCRATCH) {
    super(initialSize);
  }

  /** Moves the unflushed segment into a new, larger buffer (never touches flushed bytes). */
  protected override grow(n: number): void {
    const segLen = this.pos - this.segStart;
    let size = MIN_SCRATCH;
    while (size < segLen + n) size *= 2;
    // A segment that fills the whole buffer is genuine growth: at least double.
    if (this.segStart === 0 && size < this.buf.length * 2) size = this.buf.length * 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.segStart, this.pos);
    this.buf = next;
    this.segStart = 0;
    this.pos = segLen;
  }

  /**
   * Starts a frame: writes type, channel and a size placeholder. Returns a
   * mark for endFrame/abortFrame that survives buffer growth.
   */
  beginFrame(type: number, channel: number): number {
    this.ensure(7);
    const b = this.buf;
    const p = this.pos;
    b[p] = type;
    putUInt16(b, channel, p + 1);
    this.pos = p + 7;
    return p - this.segStart;
  }

  /** Patches the size of the frame started at `mark` and writes the end octet. */
  endFrame(mark: number): void {
    this.ensure(1);
    const at = this.segStart + mark;
    putUInt32(this.buf, this.pos - at - 7, at + 3);
    this.buf[this.pos++] = FRAME_END;
  }

  /** Drops a partly written frame (e.g. after an encoding error). */
  abortFrame(mark: number): void {
    this.pos = this.segStart + mark;
  }

  /** Appends one whole frame with the given payload (copied). */
  writeFrame(type: number, channel: number, payload: Buffer): void {
    const mark = this.beginFrame(type, channel);
    this.writeBytes(payload);
    this.endFrame(mark);
  }

  writeHeartbeat(): void {
    this.ensure(8);
    const b = this.buf;
    const p = this.pos;
    b[p] = FRAME_HEARTBEAT;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b.writeUInt32BE(0, p + 3);
    b[p + 7] = FRAME_END;
    this.pos = p + 8;
  }

  /**
   * A basic.deliver method frame, field by field: every delivery to a
   * consumer writes one, so it skips encodeMethod's arguments object. With
   * the consumer's `template` (always the same channel and consumer tag), a
   * delivery like one of the consumer's recent ones is a copy of it with the
   * delivery tag and redelivered octet patched.
   */
  writeBasicDeliver(
    channel: number,
    consumerTag: string,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    template?: DeliverFrameTemplate,
  ): void {
    if (template !== undefined) {
      const kept = template.find(exchange, routingKey);
      if (kept !== -1) {
        const frame = template.frames[kept]!;
        this.ensure(frame.length);
        const b = this.buf;
        const p = this.pos;
        b.set(frame, p);
        const at = p + template.tagAts[kept]!;
        writeUInt64At(b, deliveryTag, at);
        b[at + 8] = redelivered ? 1 : 0;
        this.pos = p + frame.length;
        return;
      }
    }
    const mark = this.beginFrame(FRAME_METHOD, channel);
    let tagAt: number;
    try {
      this.ensure(4);
      putUInt32(this.buf, BASIC_DELIVER, this.pos);
      this.pos += 4;
      this.writeShortstr(consumerTag);
      this.ensure(9);
      const b = this.buf;
      const p = this.pos;
      tagAt = p;
      writeUInt64At(b, deliveryTag, p);
      b[p + 8] = redelivered ? 1 : 0;
      this.pos = p + 9;
      this.writeShortstr(exchange);
      this.writeShortstr(routingKey);
    } catch (error) {
      this.abortFrame(mark);
      throw error;
    }
    this.endFrame(mark);
    if (template !== undefined) template.written(this.buf, this.segStart + mark, this.pos, tagAt, exchange, routingKey);
  }

  /**
   * Appends a content header frame (class, weight 0, body size, raw
   * properties starting at the property flags) and the body frames, each
   * carrying at most frameMax - 8 bytes. A zero-length body gives the header only.
   */
  writeContent(
    channel: number,
    classId: number,
    bodySize: number,
    rawProperties: Buffer,
    body: Buffer | readonly Buffer[],
  ): void {
    if (Buffer.isBuffer(body) && bodySize < BODY_COPY_THRESHOLD && body.length === bodySize && (this.frameMax === 0 || (this.frameMax > FRAME_OVERHEAD && bodySize <= this.frameMax - FRAME_OVERHEAD))) {
      this.writeSmallContent(channel, classId, rawProperties, body);
      return;
    }
    const pieces: readonly Buffer[] = Buffer.isBuffer(body) ? [body] : body;
    let total = 0;
    for (let i = 0; i < pieces.length; i++) total += pieces[i]!.length;
    if (total !== bodySize) throw new RangeError(`content body is ${total} bytes, header says ${bodySize}`);
    if (this.frameMax !== 0 && this.frameMax <= FRAME_OVERHEAD) throw new RangeError(`frameMax ${this.frameMax} too small`);

    // Header frame.
    const propLen = rawProperties.length;
    this.ensure(7 + 12 + propLen + 1);
    let b = this.buf;
    let p = this.pos;
    writeHeaderFramePrefix(b, p, channel, classId, propLen);
    writeUInt64At(b, bodySize, p + 11);
    rawProperties.copy(b, p + 19);
    b[p + 19 + propLen] = FRAME_END;
    this.pos = p + 20 + propLen;

    // Body frames.
    const maxBody = this.frameMax === 0 ? Number.MAX_SAFE_INTEGER : this.frameMax - FRAME_OVERHEAD;
    let remaining = total;
    let idx = 0;
    let off = 0;
    while (remaining > 0) {
      const frameLen = remaining < maxBody ? remaining : maxBody;
      this.ensure(7);
      b = this.buf;
      p = this.pos;
      b[p] = FRAME_BODY;
      b.writeUInt16BE(channel, p + 1);
      b.writeUInt32BE(frameLen, p + 3);
      this.pos = p + 7;
      let need = frameLen;
      while (need > 0) {
        const piece = pieces[idx]!;
        const avail = piece.length - off;
        if (avail === 0) {
          idx++;
          off = 0;
          continue;
        }
        const take = avail < need ? avail : need;
        if (take >= BODY_COPY_THRESHOLD) {
          this.reference(piece.subarray(off, off + take));
        } else {
          this.ensure(take);
          piece.copy(this.buf, this.pos, off, off + take);
          this.pos += take;
        }
        off += take;
        need -= take;
      }
      this.ensure(1);
      this.buf[this.pos++] = FRAME_END;
      remaining -= frameLen;
    }
  }

  /**
   * writeContent for a body that is one buffer, copied, in one body frame (a
   * small message, the common case): one bounds check, no pieces array.
   */
  private writeSmallContent(channel: number, classId: number, rawProperties: Buffer, body: Buffer): void {
    const propLen = rawProperties.length;
    const bodySize = body.length;
    this.ensure(20 + propLen + (bodySize === 0 ? 0 : 8 + bodySize));
    const b = this.buf;
    let p = this.pos;
    writeHeaderFramePrefix(b, p, channel, classId, propLen);
    putUInt32(b, 0, p + 11);
    putUInt32(b, bodySize, p + 15);
    // TypedArray set: for a few bytes, cheaper than Buffer.copy's argument checks.
    b.set(rawProperties, p + 19);
    p += 19 + propLen;
    b[p++] = FRAME_END;
    if (bodySize > 0) {
      b[p] = FRAME_BODY;
      putUInt16(b, channel, p + 1);
      putUInt32(b, bodySize, p + 3);
      b.set(body, p + 7);
      p += 7 + bodySize;
      b[p++] = FRAME_END;
    }
    this.pos = p;
  }

  /** Ends the current scratch segment and puts `slice` in the output as is. */
  private reference(slice: Buffer): void {
    this.cutSegment();
    this.out.push(slice);
    this.outBytes += slice.length;
  }

  private cutSegment(): void {
    if (this.pos > this.segStart) {
      this.out.push(this.buf.subarray(this.segStart, this.pos));
      this.outBytes += this.pos - this.segStart;
      this.segStart = this.pos;
    }
  }

  /** Bytes appended since the last flush. */
  get pendingBytes(): number {
    return this.outBytes + (this.pos - this.segStart);
  }

  /** Everything appended since the last flush, in order; null if nothing. Never overwritten by later writes. */
  flush(): Buffer[] | null {
    const out = this.take();
    if (out !== null) this.written(false);
    return out;
  }

  /**
   * Everything appended since the last flush, in order; null if nothing. The
   * scratch is left where it is: the caller says with written() whether the
   * socket still holds these buffers once it has written them.
   */
  take(): Buffer[] | null {
    this.cutSegment();
    if (this.out.length === 0) return null;
    const out = this.out;
    this.lastTaken = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    return out;
  }

  /**
   * What take() returned is written. `released`: nothing holds those buffers
   * any more (the socket took them whole, at once), so the scratch is written
   * again from its start: a busy connection's output stays in one buffer, in
   * cache, and allocates none. Otherwise they must stay as they are.
   */
  written(released: boolean): void {
    const taken = this.lastTaken;
    if (released && this.pos === this.segStart && this.out.length === 0) {
      // A large scratch goes back to the small initial size after a run of small turns (an idle connection's heartbeats).
      if (taken <= this.initialSize >>> 1 && this.buf.length > this.initialSize) {
        if (++this.smallTurns < SMALL_TURNS_TO_SHRINK) {
          this.pos = this.segStart = 0;
          return;
        }
      } else {
        this.smallTurns = 0;
        this.pos = this.segStart = 0;
        return;
      }
    }
    // Start on a fresh buffer when the room left would not hold another
    // turn's output like this one: growing in the middle of the next turn
    // would copy what it wrote so far (a consumer streaming deliveries hit
    // that every few turns). A connection that writes
    // little (an idle one's heartbeats) goes back to the small initial
    // size rather than holding a large scratch buffer for good.
    // (Relative to a small initial size, so that a writer that starts below 2 KiB still keeps its scratch across
    // small turns rather than taking a fresh one every turn.)
    if (this.buf.length - this.pos < Math.max(Math.min(SMALL_TURN, this.initialSize >>> 1), taken) || this.smallTurns >= SMALL_TURNS_TO_SHRINK) {
      const size = taken <= Math.max(SMALL_TURN, this.initialSize >>> 1) ? this.initialSize : Math.max(MIN_SCRATCH, Math.min(this.buf.length, 1024 * 1024));
      this.buf = Buffer.allocUnsafe(size);
      this.pos = 0;
      this.segStart = 0;
      this.smallTurns = 0;
    }
  }

}
