import { Deque } from './deque.js';
import type { QueueEntry } from './message.js';

/**
 * A queue's ready entries in delivery order. A plain queue keeps one Deque
 * in seq order; a priority queue (x-max-priority) one per priority, highest
 * delivered first, each in seq order.
 */
export interface ReadyList {
  readonly length: number;
  push(entry: QueueEntry): void;
  /** The next entry to deliver. */
  peek(): QueueEntry | undefined;
  shift(): QueueEntry | undefined;
  /** The index-th entry in delivery order. */
  at(index: number): QueueEntry;
  includes(entry: QueueEntry): boolean;
  /** Returns whether it was there. */
  remove(entry: QueueEntry): boolean;
  /** A requeued entry goes back to its original place (by seq). */
  reinsert(entry: QueueEntry): void;
  clear(): QueueEntry[];
}

export class FifoReady extends Deque<QueueEntry> implements ReadyList {
  includes(entry: QueueEntry): boolean {
    return this.includesSeq(entry.seq);
  }

  /** Returns whether it was there. */
  remove(entry: QueueEntry): boolean {
    return this.removeSeq(entry.seq);
  }

  reinsert(entry: QueueEntry): void {
    const head = this.peek();
    if (head === undefined || entry.seq < head.seq) this.unshift(entry);
    else this.insertAt(this.seqIndex(entry.seq), entry);
  }
}

export class PriorityReady implements ReadyList {
  /** bands[p] holds the entries of priority p. */
  private readonly bands: FifoReady[] = [];
  private count = 0;

  constructor(maxPriority: number) {
    for (let p = 0; p <= maxPriority; p++) this.bands.push(new FifoReady());
  }

  get length(): number {
    return this.count;
  }

  push(entry: QueueEntry): void {
    this.bands[entry.priority]!.push(entry);
    this.count++;
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

  clear(): QueueEntry[] {
    const all: QueueEntry[] = [];
    for (let p = this.bands.length - 1; p >= 0; p--) for (const entry of this.bands[p]!.clear()) all.push(entry);
    this.count = 0;
    return all;
  }

  private topBand(): FifoReady | undefined {
    if (this.count === 0) return undefined;
    for (let p = this.bands.length - 1; p >= 0; p--) if (this.bands[p]!.length > 0) return this.bands[p];
    return undefined;
  }
}
