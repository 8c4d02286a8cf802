/** What recovery hands back: each queue's unsettled messages, compactly. */
import type { LogPosition } from './record-codec.js';

const CHUNK_BITS = 12;
/** Messages per chunk. */
const CHUNK = 1 << CHUNK_BITS;
const U32 = 0xffffffff;

/**
 * A queue's unsettled messages after recovery, in publish order, kept as
 * columns of numbers in chunks of 4096, not an object each. Exchange, routing
 * key and properties stay in the log (readMessages); `at(i)` makes one
 * message's reference on demand.
 *
 * A chunk makes a column only once its messages stop following the pattern
 * of the first two (msgIds and record offsets as far apart as theirs, the
 * same segment, record length and body size, not redelivered, priority 0):
 * recovering 10,000,000 messages that one publisher sent to one queue, or
 * round-robin to several (msgIds n apart, the others' records in between),
 * takes a few MB here, not 300 (issue 13: restart of a backlog).
 */
export class RecoveredQueue {
  private readonly chunks: RecoveredChunk[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(msgId: number, segment: number, offset: number, length: number, bodySize: number, redelivered: boolean, priority: number): void {
    const k = this.count & (CHUNK - 1);
    if (k === 0) this.chunks.push(new RecoveredChunk());
    this.chunks[this.chunks.length - 1]!.push(k, msgId, segment, offset, length, bodySize, redelivered, priority);
    this.count++;
  }

  msgId(i: number): number {
    return this.chunk(i).msgId(i & (CHUNK - 1));
  }

  segment(i: number): number {
    return this.chunk(i).segment(i & (CHUNK - 1));
  }

  offset(i: number): number {
    return this.chunk(i).offset(i & (CHUNK - 1));
  }

  recordLength(i: number): number {
    return this.chunk(i).length(i & (CHUNK - 1));
  }

  bodySize(i: number): number {
    return this.chunk(i).bodySize(i & (CHUNK - 1));
  }

  redelivered(i: number): boolean {
    return this.chunk(i).redelivered(i & (CHUNK - 1));
  }

  /** The message's priority, as MessageLogOptions.priorityOf read it. */
  priority(i: number): number {
    return this.chunk(i).priority(i & (CHUNK - 1));
  }

  position(i: number): LogPosition {
    return { segment: this.segment(i), offset: this.offset(i), length: this.recordLength(i) };
  }

  at(i: number): RecoveredMessage {
    return { msgId: this.msgId(i), position: this.position(i), bodySize: this.bodySize(i), redelivered: this.redelivered(i) };
  }

  /** Every message as an object: for tests and small queues. */
  toArray(): RecoveredMessage[] {
    return Array.from({ length: this.count }, (_, i) => this.at(i));
  }

  private chunk(i: number): RecoveredChunk {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`no recovered message ${i}`);
    return this.chunks[i >>> CHUNK_BITS]!;
  }
}

/** Up to CHUNK messages; each column made only once a message breaks its pattern (see RecoveredQueue). */
class RecoveredChunk {
  private msgIdBase = 0;
  private segmentBase = 0;
  private offsetBase = 0;
  private lengthBase = 0;
  private bodySizeBase = 0;
  /** msgId and offset of message 1 minus those of message 0: what the pattern adds per message. */
  private msgIdStride = 1;
  private offsetStride = 0;
  /** msgId - msgIdBase, while that fits 32 bits; whole ids (msgIdBase 0) after. */
  private msgIds: Uint32Array | Float64Array | null = null;
  private segments: Uint32Array | null = null;
  private offsets: Float64Array | null = null;
  private lengths: Uint32Array | null = null;
  private bodySizes: Uint32Array | null = null;
  private redelivereds: Uint8Array | null = null;
  private priorities: Uint8Array | null = null;

  push(k: number, msgId: number, segment: number, offset: number, length: number, bodySize: number, redelivered: boolean, priority: number): void {
    if (k === 0) {
      this.msgIdBase = msgId;
      this.segmentBase = segment;
      this.offsetBase = offset;
      this.lengthBase = length;
      this.bodySizeBase = bodySize;
    } else {
      if (k === 1) {
        // A stride whose multiples might not fit the 32-bit column is no pattern.
        const stride = msgId - this.msgIdBase;
        this.msgIdStride = stride > 0 && stride * CHUNK <= U32 ? stride : 0;
        this.offsetStride = offset - this.offsetBase;
      }
      if (this.msgIds === null && msgId !== this.msgIdBase + k * this.msgIdStride) {
        const ids = (this.msgIds = new Uint32Array(CHUNK));
        for (let j = 0; j < k; j++) ids[j] = j * this.msgIdStride;
      }
      if (this.msgIds instanceof Uint32Array && !(msgId - this.msgIdBase >= 0 && msgId - this.msgIdBase <= U32)) {
        const whole = new Float64Array(CHUNK);
        for (let j = 0; j < k; j++) whole[j] = this.msgIdBase + this.msgIds[j]!;
        this.msgIds = whole;
        this.msgIdBase = 0;
      }
      if (this.segments === null && segment !== this.segmentBase) this.segments = new Uint32Array(CHUNK).fill(this.segmentBase, 0, k);
      if (this.offsets === null && offset !== this.offsetBase + k * this.offsetStride) {
        const offsets = (this.offsets = new Float64Array(CHUNK));
        for (let j = 0; j < k; j++) offsets[j] = this.offsetBase + j * this.offsetStride;
      }
      if (this.lengths === null && length !== this.lengthBase) this.lengths = new Uint32Array(CHUNK).fill(this.lengthBase, 0, k);
      if (this.bodySizes === null && bodySize !== this.bodySizeBase) this.bodySizes = new Uint32Array(CHUNK).fill(this.bodySizeBase, 0, k);
      if (this.msgIds !== null) this.msgIds[k] = msgId - this.msgIdBase;
      if (this.segments !== null) this.segments[k] = segment;
      if (this.offsets !== null) this.offsets[k] = offset;
      if (this.lengths !== null) this.lengths[k] = length;
      if (this.bodySizes !== null) this.bodySizes[k] = bodySize;
    }
    if (redelivered && this.redelivereds === null) this.redelivereds = new Uint8Array(CHUNK);
    if (this.redelivereds !== null) this.redelivereds[k] = redelivered ? 1 : 0;
    if (priority !== 0 && this.priorities === null) this.priorities = new Uint8Array(CHUNK);
    if (this.priorities !== null) this.priorities[k] = priority;
  }

  msgId(k: number): number {
    return this.msgIdBase + (this.msgIds === null ? k * this.msgIdStride : this.msgIds[k]!);
  }

  segment(k: number): number {
    return this.segments === null ? this.segmentBase : this.segments[k]!;
  }

  offset(k: number): number {
    return this.offsets === null ? this.offsetBase + k * this.offsetStride : this.offsets[k]!;
  }

  length(k: number): number {
    return this.lengths === null ? this.lengthBase : this.lengths[k]!;
  }

  bodySize(k: number): number {
    return this.bodySizes === null ? this.bodySizeBase : this.bodySizes[k]!;
  }

  redelivered(k: number): boolean {
    return this.redelivereds !== null && this.redelivereds[k] === 1;
  }

  priority(k: number): number {
    return this.priorities === null ? 0 : this.priorities[k]!;
  }
}

export interface RecoveredMessage {
  msgId: number;
  bodySize: number;
  position: LogPosition;
  redelivered: boolean;
}

export interface RecoveredState {
  /** Queue name → its unsettled messages, in publish order. */
  queues: Map<string, RecoveredQueue>;
  nextMsgId: number;
  stats: { segments: number; records: number; corrupt: number; truncatedBytes: number; missingSegments: number; ms: number };
}
