/** What recovery hands back: each queue's unsettled messages, compactly. */
import type { LogPosition } from './record-codec.js';

/**
 * A queue's unsettled messages after recovery, in publish order, kept as
 * parallel arrays of numbers: a million recovered messages cost tens of MB,
 * not an object each. Exchange, routing key and properties stay in the log
 * (readMessages); `at(i)` makes one message's reference on demand.
 */
export class RecoveredQueue {
  private count = 0;
  msgIds = new Float64Array(16);
  segments = new Uint32Array(16);
  offsets = new Float64Array(16);
  lengths = new Uint32Array(16);
  bodySizes = new Uint32Array(16);
  redelivered = new Uint8Array(16);
  /** The message's priority, as MessageLogOptions.priorityOf read it. */
  priorities = new Uint8Array(16);

  get length(): number {
    return this.count;
  }

  push(msgId: number, segment: number, offset: number, length: number, bodySize: number, redelivered: boolean, priority: number): void {
    const i = this.count;
    if (i === this.msgIds.length) this.grow();
    this.msgIds[i] = msgId;
    this.segments[i] = segment;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.bodySizes[i] = bodySize;
    this.redelivered[i] = redelivered ? 1 : 0;
    this.priorities[i] = priority;
    this.count = i + 1;
  }

  position(i: number): LogPosition {
    return { segment: this.segments[i]!, offset: this.offsets[i]!, length: this.lengths[i]! };
  }

  at(i: number): RecoveredMessage {
    return { msgId: this.msgIds[i]!, position: this.position(i), bodySize: this.bodySizes[i]!, redelivered: this.redelivered[i] === 1 };
  }

  /** Every message as an object: for tests and small queues. */
  toArray(): RecoveredMessage[] {
    return Array.from({ length: this.count }, (_, i) => this.at(i));
  }

  private grow(): void {
    const size = this.msgIds.length * 2;
    this.msgIds = grown(this.msgIds, new Float64Array(size));
    this.segments = grown(this.segments, new Uint32Array(size));
    this.offsets = grown(this.offsets, new Float64Array(size));
    this.lengths = grown(this.lengths, new Uint32Array(size));
    this.bodySizes = grown(this.bodySizes, new Uint32Array(size));
    this.redelivered = grown(this.redelivered, new Uint8Array(size));
    this.priorities = grown(this.priorities, new Uint8Array(size));
  }
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
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
