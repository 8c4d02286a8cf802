/** How many strings one cache holds: a publisher going round a few routing keys (amqpperf --queues 4) keeps hitting. */
const SLOTS = 4;

/**
 * The strings last read from one field of a stream of frames (a channel's
 * publish exchange, its routing key): when the same bytes come again, the
 * same string is returned, so a publisher that repeats them (the common case)
 * costs a byte comparison rather than a UTF-8 decode and a new string. Only
 * ASCII strings are held: their char codes are their bytes, so no copy of the
 * bytes is kept.
 */
export class ShortstrCache {
  private readonly values: string[] = [];
  /** The slot replaced next once all are in use. */
  private next = 0;

  /** The shortstr `buf[start, start + n)` (n ≤ 255) as a string. */
  read(buf: Buffer, start: number, n: number): string {
    const values = this.values;
    for (let s = 0; s < values.length; s++) {
      const held = values[s]!;
      if (held.length !== n) continue;
      let i = 0;
      while (i < n && held.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return held;
    }
    const value = buf.toString('utf8', start, start + n);
    for (let i = start; i < start + n; i++) if (buf[i]! >= 0x80) return value;
    if (values.length < SLOTS) values.push(value);
    else {
      values[this.next] = value;
      this.next = (this.next + 1) % SLOTS;
    }
    return value;
  }
}
