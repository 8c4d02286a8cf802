/**
 * A growable ring buffer: O(1) push/shift/unshift, no per-element allocation.
 * Queues keep their ready messages here. The capacity is a power of two, so an
 * index wraps with a mask rather than a division (several per message: a
 * queue's ready list, a channel's unacked deliveries).
 */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity *= 2;
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  unshift(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) & (this.items.length - 1);
    this.items[this.head] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  at(index: number): T {
    return this.items[(this.head + index) & (this.items.length - 1)] as T;
  }

  /** In a deque kept in seq order: the index of the first item whose seq is not below `seq` (binary search). */
  seqIndex(this: Deque<T & { seq: number }>, seq: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid).seq < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Whether an item with this seq is in a deque kept in seq order. */
  includesSeq(this: Deque<T & { seq: number }>, seq: number): boolean {
    const index = this.seqIndex(seq);
    return index < this.count && this.at(index).seq === seq;
  }

  /** Removes the item with this seq from a deque kept in seq order; O(n), for rare removals. */
  removeSeq(this: Deque<T & { seq: number }>, seq: number): boolean {
    if (!this.includesSeq(seq)) return false;
    for (let i = this.seqIndex(seq); i < this.count - 1; i++) {
      this.items[(this.head + i) & (this.items.length - 1)] = this.items[(this.head + i + 1) & (this.items.length - 1)];
    }
    this.items[(this.head + this.count - 1) & (this.items.length - 1)] = undefined;
    this.count--;
    return true;
  }

  /** Inserts at position `index` (0 = front); O(n), used only for out-of-order requeues. */
  insertAt(index: number, item: T): void {
    this.push(item);
    for (let i = this.count - 1; i > index; i--) {
      this.items[(this.head + i) & (this.items.length - 1)] = this.items[(this.head + i - 1) & (this.items.length - 1)];
    }
    this.items[(this.head + index) & (this.items.length - 1)] = item;
  }

  clear(): T[] {
    const all: T[] = [];
    while (this.count > 0) all.push(this.shift() as T);
    return all;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
