import { QueueEntry } from './message.js';

/** Entries per chunk: at most 4096 × 20 bytes of columns, about 80 KB. */
const CHUNK = 4096;
const U16 = 0xffff;
const U32 = 0xffffffff;

/**
 * The paged-out end of a stored queue (one band of it in a priority queue),
 * in seq order, kept as columns of numbers in fixed-size chunks rather than
 * an object per message: 20 bytes a message at most (issue 13: a backlog of
 * 10,000,000 messages in one queue). A QueueEntry is made only when the
 * queue takes an entry off the front (to read a batch back, or to drop a head).
 *
 * Per message at most: seq and msgId as 32-bit offsets from the chunk's
 * first, the segment as a 16-bit offset, the record's offset and length, and
 * the bytes of the record that are not body (so bodySize = length - that);
 * a chunk makes each column only when its entries stop following a pattern
 * (see TailChunk). expiresAt, redelivered and deliveryCount get a column
 * only in chunks where some entry has one. An entry that does not fit the columns (an offset past 4 GB, a
 * seq far from the chunk's first…) or that is resident (a transient message
 * enqueued behind paged-out ones, a quorum queue's returned message) is kept
 * whole, as its object.
 */
export class PagedTail {
  private readonly chunks: TailChunk[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** Appends a paged-out stored message; seq must be above every seq in the tail. */
  pushPaged(
    seq: number,
    msgId: number,
    segment: number,
    offset: number,
    length: number,
    bodySize: number,
    expiresAt: number,
    redelivered: boolean,
    deliveryCount: number,
  ): void {
    const chunk = this.writableChunk();
    if (!chunk.tryPush(seq, msgId, segment, offset, length, bodySize, expiresAt, redelivered, deliveryCount)) {
      const entry = new QueueEntry(null, seq, msgId, segment, offset, length, bodySize);
      entry.expiresAt = expiresAt;
      entry.redelivered = redelivered;
      entry.deliveryCount = deliveryCount;
      chunk.pushEntry(entry);
    }
    this.count++;
  }

  /** Appends an entry kept whole (behind the paged-out ones, so it keeps its place). */
  pushEntry(entry: QueueEntry): void {
    this.writableChunk().pushEntry(entry);
    this.count++;
  }

  /** Takes the front entry off as a QueueEntry (priority set to `priority`); undefined when empty. */
  shift(priority: number): QueueEntry | undefined {
    if (this.count === 0) return undefined;
    const chunk = this.chunks[0]!;
    const entry = chunk.shift();
    if (entry.message === null) entry.priority = priority;
    this.count--;
    if (chunk.head === chunk.end) {
      if (this.chunks.length > 1) this.chunks.shift();
      else chunk.reset();
    }
    return entry;
  }

  /** Empties the tail; `each` gets the msgId of every entry (0 for one not stored). Returns how many there were. */
  clear(each: (msgId: number) => void): number {
    const n = this.count;
    for (const chunk of this.chunks) chunk.forEachMsgId(each);
    this.chunks.length = 0;
    this.count = 0;
    return n;
  }

  private writableChunk(): TailChunk {
    const last = this.chunks[this.chunks.length - 1];
    if (last !== undefined && last.end < CHUNK) return last;
    const chunk = new TailChunk();
    this.chunks.push(chunk);
    return chunk;
  }
}

/**
 * Up to CHUNK entries. A column is made only once an entry breaks its
 * pattern (seq one more than the previous entry's, msgId and the gap before
 * the record as from entry 0 to entry 1, segment, length and non-body bytes
 * the same): a queue fed by one publisher needs none of them, in a log
 * nobody else writes (msgIds one apart, no gap) or shared round-robin with
 * other queues (msgIds n apart, the others' records in each gap).
 */
class TailChunk {
  head = 0;
  end = 0;
  // Entry 0's values: the columns hold seq, msgId and segment as offsets from them.
  private seqBase = 0;
  private msgIdBase = 0;
  private segmentBase = 0;
  private offsetBase = 0;
  private lengthBase = 0;
  private overheadBase = 0;
  /** msgId of entry 1 - msgId of entry 0: what the pattern adds per entry. */
  private msgIdStride = 1;
  /** Bytes between entry 0's record and entry 1's: the pattern's gap before each record. */
  private offsetGap = 0;
  // The last entry's values, which the next one is compared with.
  private lastSeq = 0;
  private lastMsgId = 0;
  private lastSegment = 0;
  private lastOffset = 0;
  private lastLength = 0;
  private lastOverhead = 0;
  /** The offset of entry `head` while there is no offsets column. */
  private readOffset = 0;
  private seqs: Uint32Array | null = null;
  private msgIds: Uint32Array | null = null;
  private segments: Uint16Array | null = null;
  private offsets: Uint32Array | null = null;
  private lengths: Uint32Array | null = null;
  /** Record bytes that are not body: length - bodySize. */
  private overheads: Uint16Array | null = null;
  private expiresAt: Float64Array | null = null;
  private redelivered: Uint8Array | null = null;
  private deliveryCounts: Uint32Array | null = null;
  /** Entries kept whole, by index; null while there are none. */
  private entries: (QueueEntry | undefined)[] | null = null;

  tryPush(
    seq: number,
    msgId: number,
    segment: number,
    offset: number,
    length: number,
    bodySize: number,
    expiresAt: number,
    redelivered: boolean,
    deliveryCount: number,
  ): boolean {
    const i = this.end;
    const overhead = length - bodySize;
    const seqDelta = i === 0 ? 0 : seq - this.seqBase;
    const msgIdDelta = i === 0 ? 0 : msgId - this.msgIdBase;
    const segmentDelta = i === 0 ? 0 : segment - this.segmentBase;
    if (
      !(seqDelta >= 0 && seqDelta <= U32) ||
      !(msgIdDelta >= 0 && msgIdDelta <= U32) ||
      !(segmentDelta >= 0 && segmentDelta <= U16) ||
      !(offset >= 0 && offset <= U32) ||
      !(length >= 0 && length <= U32) ||
      !(overhead >= 0 && overhead <= U16) ||
      !(deliveryCount >= 0 && deliveryCount <= U32)
    ) {
      return false;
    }
    if (i === 0) {
      this.seqBase = seq;
      this.msgIdBase = msgId;
      this.segmentBase = segment;
      this.offsetBase = this.readOffset = offset;
      this.lengthBase = length;
      this.overheadBase = overhead;
      this.msgIdStride = 1;
      this.offsetGap = 0;
    } else {
      if (i === 1) {
        this.msgIdStride = msgId - this.lastMsgId;
        this.offsetGap = offset - (this.lastOffset + this.lastLength);
      }
      if (this.seqs === null && seq !== this.lastSeq + 1) this.makeSeqs(i);
      if (this.msgIds === null && msgId !== this.lastMsgId + this.msgIdStride) this.makeMsgIds(i);
      if (this.segments === null && segment !== this.lastSegment) this.segments = new Uint16Array(CHUNK);
      // Offsets first: they are worked out from the lengths as they were.
      if (this.offsets === null && offset !== this.lastOffset + this.lastLength + this.offsetGap) this.makeOffsets(i);
      if (this.lengths === null && length !== this.lastLength) (this.lengths = new Uint32Array(CHUNK)).fill(this.lengthBase, 0, i);
      if (this.overheads === null && overhead !== this.lastOverhead) (this.overheads = new Uint16Array(CHUNK)).fill(this.overheadBase, 0, i);
      if (this.seqs !== null) this.seqs[i] = seqDelta;
      if (this.msgIds !== null) this.msgIds[i] = msgIdDelta;
      if (this.segments !== null) this.segments[i] = segmentDelta;
      if (this.offsets !== null) this.offsets[i] = offset;
      if (this.lengths !== null) this.lengths[i] = length;
      if (this.overheads !== null) this.overheads[i] = overhead;
    }
    this.lastSeq = seq;
    this.lastMsgId = msgId;
    this.lastSegment = segment;
    this.lastOffset = offset;
    this.lastLength = length;
    this.lastOverhead = overhead;
    // Columns made for an earlier entry must be written for this one too (a reused chunk keeps old values).
    if (expiresAt !== 0 || this.expiresAt !== null) (this.expiresAt ??= new Float64Array(CHUNK))[i] = expiresAt;
    if (redelivered || this.redelivered !== null) (this.redelivered ??= new Uint8Array(CHUNK))[i] = redelivered ? 1 : 0;
    if (deliveryCount !== 0 || this.deliveryCounts !== null) (this.deliveryCounts ??= new Uint32Array(CHUNK))[i] = deliveryCount;
    if (this.entries !== null) this.entries[i] = undefined;
    this.end = i + 1;
    return true;
  }

  pushEntry(entry: QueueEntry): void {
    const i = this.end;
    if (i === 0) {
      this.seqBase = entry.seq;
      this.msgIdBase = entry.msgId;
      this.segmentBase = entry.segment;
    }
    // The entries after this one follow no pattern from it: every column is kept from here on.
    if (this.seqs === null) this.makeSeqs(i);
    if (this.msgIds === null) this.makeMsgIds(i);
    this.segments ??= new Uint16Array(CHUNK);
    if (this.offsets === null) this.makeOffsets(i);
    (this.lengths ??= new Uint32Array(CHUNK).fill(this.lengthBase, 0, i));
    (this.overheads ??= new Uint16Array(CHUNK).fill(this.overheadBase, 0, i));
    (this.entries ??= [])[i] = entry;
    this.end = i + 1;
  }

  shift(): QueueEntry {
    const i = this.head++;
    const kept = this.entries === null ? undefined : this.entries[i];
    if (kept !== undefined) {
      (this.entries as (QueueEntry | undefined)[])[i] = undefined;
      return kept;
    }
    const length = this.lengths === null ? this.lengthBase : this.lengths[i]!;
    const offset = this.offsets === null ? this.readOffset : this.offsets[i]!;
    this.readOffset = offset + length + this.offsetGap;
    const entry = new QueueEntry(
      null,
      this.seqBase + (this.seqs === null ? i : this.seqs[i]!),
      this.msgIdBase + (this.msgIds === null ? i * this.msgIdStride : this.msgIds[i]!),
      this.segmentBase + (this.segments === null ? 0 : this.segments[i]!),
      offset,
      length,
      length - (this.overheads === null ? this.overheadBase : this.overheads[i]!),
    );
    if (this.expiresAt !== null) entry.expiresAt = this.expiresAt[i]!;
    if (this.redelivered !== null) entry.redelivered = this.redelivered[i] === 1;
    if (this.deliveryCounts !== null) entry.deliveryCount = this.deliveryCounts[i]!;
    return entry;
  }

  forEachMsgId(each: (msgId: number) => void): void {
    for (let i = this.head; i < this.end; i++) {
      const kept = this.entries === null ? undefined : this.entries[i];
      each(kept !== undefined ? kept.msgId : this.msgIdBase + (this.msgIds === null ? i * this.msgIdStride : this.msgIds[i]!));
    }
  }

  /** The last chunk, emptied: written again from index 0, without columns. */
  reset(): void {
    this.head = 0;
    this.end = 0;
    this.seqs = this.msgIds = this.offsets = this.lengths = this.deliveryCounts = null;
    this.segments = this.overheads = null;
    this.expiresAt = null;
    this.redelivered = null;
    this.entries = null;
  }

  // Columns made at entry i: entries 0 .. i-1 followed the pattern.
  private makeSeqs(i: number): void {
    const seqs = (this.seqs = new Uint32Array(CHUNK));
    for (let k = 0; k < i; k++) seqs[k] = k;
  }

  private makeMsgIds(i: number): void {
    const msgIds = (this.msgIds = new Uint32Array(CHUNK));
    for (let k = 0; k < i; k++) msgIds[k] = k * this.msgIdStride;
  }

  private makeOffsets(i: number): void {
    const offsets = (this.offsets = new Uint32Array(CHUNK));
    let offset = this.offsetBase;
    for (let k = 0; k < i; k++) {
      offsets[k] = offset;
      offset += (this.lengths === null ? this.lengthBase : this.lengths[k]!) + this.offsetGap;
    }
  }
}
