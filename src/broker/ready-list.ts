import { Deque } from './deque.js';
import type { QueueEntry } from './message.js';
import { PagedTail } from './paged-tail.js';

/**
 * A queue's ready entries in delivery order. A plain queue keeps one Deque
 * in seq order; a priority queue (x-max-priority) one per priority, highest
 * delivered first, each in seq order.
 */
export interface ReadyList {
  readonly length: number;
  push(entry: QueueEntry): void;
  /**
   * Appends a paged-out stored message without making its QueueEntry (see
   * PagedTail); the entry is made when it reaches the front. `priority` picks
   * the band of a priority queue (already capped at its maximum).
   */
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
    priority: number,
  ): void;
  /**
   * Up to `max` entries whose message is still in the log, in delivery order,
   * made into QueueEntry objects (for the queue to read them back).
   */
  pagedBatch(max: number): QueueEntry[];
  /** The next entry to deliver. */
  peek(): QueueEntry | undefined;
  shift(): QueueEntry | undefined;
  /** The index-th entry in delivery order (entries up to it are made into objects: for tests). */
  at(index: number): QueueEntry;
  /** Whether an entry taken off the front (not one still in the paged-out tail) is there. */
  includes(entry: QueueEntry): boolean;
  /** Returns whether it was there (as includes). */
  remove(entry: QueueEntry): boolean;
  /** A requeued entry goes back to its original place (by seq). */
  reinsert(entry: QueueEntry): void;
  /** Empties the list; `each` gets every entry's msgId (0 when not stored). Returns how many there were. */
  clear(each: (msgId: number) => void): number;
}

/**
 * One band of entries in seq order: a Deque of QueueEntry objects at the
 * front (resident messages, and paged-out ones already taken off the tail),
 * then the PagedTail. Once the tail holds anything, every new entry goes
 * behind it, so the order stays the seq order.
 */
export class FifoReady implements ReadyList {
  /** Entries as objects, in seq order. */
  private readonly front = new Deque<QueueEntry>();
  private readonly tail = new PagedTail();

  constructor(
    /** The priority of the entries in this band (0 outside priority queues). */
    private readonly priority = 0,
  ) {}

  get length(): number {
    return this.front.length + this.tail.length;
  }

  push(entry: QueueEntry): void {
    if (this.tail.length === 0) this.front.push(entry);
    else this.tail.pushEntry(entry);
  }

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
    this.tail.pushPaged(seq, msgId, segment, offset, length, bodySize, expiresAt, redelivered, deliveryCount);
  }

  peek(): QueueEntry | undefined {
    if (this.front.length === 0 && !this.takeFromTail()) return undefined;
    return this.front.peek();
  }

  shift(): QueueEntry | undefined {
    if (this.front.length === 0 && !this.takeFromTail()) return undefined;
    return this.front.shift();
  }

  at(index: number): QueueEntry {
    while (index >= this.front.length && this.takeFromTail());
    if (index >= this.front.length) throw new RangeError(`no ready entry at ${index}`);
    return this.front.at(index);
  }

  pagedBatch(max: number): QueueEntry[] {
    const front = this.front;
    const batch: QueueEntry[] = [];
    for (let i = 0, n = front.length; i < n && batch.length < max; i++) {
      const entry = front.at(i);
      if (entry.message === null) batch.push(entry);
    }
    while (batch.length < max && this.takeFromTail()) {
      const entry = front.at(front.length - 1);
      if (entry.message === null) batch.push(entry);
    }
    return batch;
  }

  includes(entry: QueueEntry): boolean {
    return this.front.includesSeq(entry.seq);
  }

  /** Returns whether it was there. */
  remove(entry: QueueEntry): boolean {
    return this.front.removeSeq(entry.seq);
  }

  reinsert(entry: QueueEntry): void {
    // A requeued entry was delivered from the front: its seq is below the tail's.
    const front = this.front;
    const head = front.peek();
    if (head === undefined || entry.seq < head.seq) front.unshift(entry);
    else front.insertAt(front.seqIndex(entry.seq), entry);
  }

  clear(each: (msgId: number) => void): number {
    const entries = this.front.clear();
    for (let i = 0; i < entries.length; i++) each(entries[i].msgId);
    return entries.length + this.tail.clear(each);
  }

  /** Moves the tail's first entry to the end of the front; false when the tail is empty. */
  private takeFromTail(): boolean {
    const entry = this.tail.shift(this.priority);
    if (entry === undefined) return false;
    this.front.push(entry);
    return true;
  }
}

export class PriorityReady implements ReadyList {
  /** bands[p] holds the entries of priority p. */
  private readonly bands: FifoReady[] = [];
  private count = 0;

  constructor(maxPriority: number) {
    for (let p = 0; p <= maxPriority; p++) this.bands.push(new FifoReady(p));
  }

  get length(): number {
    return this.count;
  }

  push(entry: QueueEntry): void {
    this.bands[entry.priority]!.push(entry);
    this.count++;
  }

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
    priority: number,
  ): void {
    this.bands[priority]!.pushPaged(seq, msgId, segment, offset, length, bodySize, expiresAt, redelivered, deliveryCount);
    this.count++;
  }

  pagedBatch(max: number): QueueEntry[] {
    const batch: QueueEntry[] = [];
    for (let p = this.bands.length - 1; p >= 0 && batch.length < max; p--) {
      for (const entry of this.bands[p]!.pagedBatch(max - batch.length)) batch.push(entry);
    }
    return batch;
  }

  peek(): QueueEntry | undefined {
    return this.topBand()?.peek();
  }

  shift(): QueueEntry | undefined {
    const band = this.topBand();
    if (band === undefined) return undefined;
    this.count--;
    return band.shift();
  }

  at(index: number): QueueEntry {
    let rest = index;
    for (let p = this.bands.length - 1; p >= 0; p--) {
      const band = this.bands[p]!;
      if (rest < band.length) return band.at(rest);
      rest -= band.length;
    }
    throw new RangeError(`no ready entry at ${index}`);
  }

  includes(entry: QueueEntry): boolean {
    return this.bands[entry.priority]!.includes(entry);
  }

  remove(entry: QueueEntry): boolean {
    if (!this.bands[entry.priority]!.remove(entry)) return false;
    this.count--;
    return true;
  }

  reinsert(entry: QueueEntry): void {
    this.bands[entry.priority]!.reinsert(entry);
    this.count++;
  }

  clear(each: (msgId: number) => void): number {
    let n = 0;
    for (let p = this.bands.length - 1; p >= 0; p--) n += this.bands[p]!.clear(each);
    this.count = 0;
    return n;
  }

  private topBand(): FifoReady | undefined {
    if (this.count === 0) return undefined;
    for (let p = this.bands.length - 1; p >= 0; p--) if (this.bands[p]!.length > 0) return this.bands[p];
    return undefined;
  }
}
