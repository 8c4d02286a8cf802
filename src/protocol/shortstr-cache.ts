/**
 * The string last read from one field of a stream of frames (a channel's
 * publish exchange, its routing key): when the same bytes come again, the
 * same string is returned, so a publisher that repeats them (the common case)
 * costs a byte comparison rather than a UTF-8 decode and a new string.
 */
export class ShortstrCache {
  /** Up to 255 bytes (a shortstr's limit); allocated at the first read, so idle channels do not pay for it. */
  private bytes: Buffer | undefined;
  private length = -1;
  private value = '';

  /** The shortstr `buf[start, start + n)` (n ≤ 255) as a string. */
  read(buf: Buffer, start: number, n: number): string {
    let bytes = this.bytes;
    if (n === this.length && bytes !== undefined) {
      let i = 0;
      while (i < n && bytes[i] === buf[start + i]) i++;
      if (i === n) return this.value;
    }
    if (bytes === undefined) this.bytes = bytes = Buffer.allocUnsafe(255);
    buf.copy(bytes, 0, start, start + n);
    this.length = n;
    this.value = buf.toString('utf8', start, start + n);
    return this.value;
  }
}
