/**
 * Pending delayed messages of one exchange ordered by due time: a binary
 * min-heap of numbers in one growable Float64Array, six per entry (due time,
 * publish sequence, and four numbers saying where the message is: its log
 * msgId, segment, offset and length, or a key into an in-memory table). No
 * object per message, so a million pending messages cost 48 MB of numbers.
 * Equal due times come out in publish order (the sequence breaks ties).
 */
const STRIDE = 6;

export class DelayIndex {
  private data = new Float64Array(STRIDE * 64);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The earliest due time, or Infinity when empty. */
  peekDue(): number {
    return this.count === 0 ? Infinity : this.data[0];
  }

  /** The earliest entry's publish sequence (meaningless when empty). */
  peekSeq(): number {
    return this.data[1];
  }

  push(due: number, seq: number, a: number, b: number, c: number, d: number): void {
    if ((this.count + 1) * STRIDE > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    let i = this.count++;
    const data = this.data;
    // Sift up, moving parents down until the new entry's place is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = parent * STRIDE;
      if (data[p] < due || (data[p] === due && data[p + 1] < seq)) break;
      data.copyWithin(i * STRIDE, p, p + STRIDE);
      i = parent;
    }
    const o = i * STRIDE;
    data[o] = due;
    data[o + 1] = seq;
    data[o + 2] = a;
    data[o + 3] = b;
    data[o + 4] = c;
    data[o + 5] = d;
  }

  /** Removes the earliest entry and copies its six numbers into `out` (due, seq, a, b, c, d). Returns false when empty. */
  pop(out: Float64Array): boolean {
    if (this.count === 0) return false;
    const data = this.data;
    for (let k = 0; k < STRIDE; k++) out[k] = data[k];
    const last = --this.count;
    if (last === 0) return true;
    const l = last * STRIDE;
    const due = data[l];
    const seq = data[l + 1];
    let i = 0;
    // Sift the last entry down from the root.
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      const right = child + 1;
      if (right < last && before(data, right * STRIDE, child * STRIDE)) child = right;
      const c = child * STRIDE;
      if (due < data[c] || (due === data[c] && seq < data[c + 1])) break;
      data.copyWithin(i * STRIDE, c, c + STRIDE);
      i = child;
    }
    data.copyWithin(i * STRIDE, l, l + STRIDE);
    return true;
  }

  /** Forgets every entry (the exchange is deleted) and gives the memory back. */
  clear(): void {
    this.count = 0;
    this.data = new Float64Array(STRIDE * 64);
  }
}

function before(data: Float64Array, x: number, y: number): boolean {
  return data[x] < data[y] || (data[x] === data[y] && data[x + 1] < data[y + 1]);
}
