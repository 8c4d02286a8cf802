/**
 * A growable output buffer: `buf` is written directly at `pos` after
 * `ensure(n)` has guaranteed n free bytes. Subclasses decide how to grow.
 */
export class ByteSink {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Guarantees `n` writable bytes at `pos`. May replace `buf`: re-read it after calling. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  protected grow(n: number): void {
    let size = this.buf.length * 2 || 256;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  writeUInt8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  writeUInt16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  writeUInt32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  /** Unsigned 64-bit from a non-negative safe integer. */
  writeUInt64(v: number): void {
    this.ensure(8);
    writeUInt64At(this.buf, v, this.pos);
    this.pos += 8;
  }

  /** u8 length + UTF-8 bytes; throws RangeError over 255 bytes. */
  writeShortstr(s: string): void {
    const len = s.length;
    if (len > 255) throw new RangeError(`shortstr longer than 255 bytes (${len} chars)`);
    this.ensure(1 + len * 3);
    const buf = this.buf;
    const start = this.pos;
    // ASCII (names, routing keys, consumer tags nearly always are) is copied here: cheaper than a call into
    // Buffer.write for a few bytes, and the length is the character count.
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + 1 + i] = c;
    }
    if (i === len) {
      buf[start] = len;
      this.pos = start + 1 + len;
      return;
    }
    const n = buf.write(s, start + 1, 'utf8');
    if (n > 255) throw new RangeError(`shortstr longer than 255 bytes (${n} bytes)`);
    buf[start] = n;
    this.pos = start + 1 + n;
  }

  /** u32 length + bytes. */
  writeLongstr(b: Buffer | string): void {
    if (typeof b === 'string') {
      const n = Buffer.byteLength(b, 'utf8');
      this.ensure(4 + n);
      this.buf.writeUInt32BE(n, this.pos);
      this.buf.write(b, this.pos + 4, 'utf8');
      this.pos += 4 + n;
      return;
    }
    const n = b.length;
    this.ensure(4 + n);
    this.buf.writeUInt32BE(n, this.pos);
    b.copy(this.buf, this.pos + 4);
    this.pos += 4 + n;
  }

  writeBytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
}

/**
 * Big-endian unsigned 16 and 32 bits at `at`, stored byte by byte: the
 * per-delivery frame writers call these a dozen times per message, and
 * Buffer#writeUInt16BE/writeUInt32BE's range and bounds checks cost more
 * than the stores. Unchecked: the caller has ensured the room, and `v` is in
 * range (out-of-range bits are dropped, as by a Uint8Array store).
 */
export function putUInt16(buf: Buffer, v: number, at: number): void {
  buf[at] = v >>> 8;
  buf[at + 1] = v;
}

export function putUInt32(buf: Buffer, v: number, at: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

/**
 * Big-endian unsigned 16 and 32 bits at `at`, read byte by byte: a
 * Buffer#readUInt16BE/readUInt32BE call (bounds-checked, and a method looked
 * up on Buffer.prototype) costs several times the loads, and the publish path
 * reads a dozen per message. Unchecked: the caller has checked the bounds.
 */
export function getUInt16(buf: Buffer, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

export function getUInt32(buf: Buffer, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** Writes a non-negative integer (up to 2^53) as an unsigned 64-bit big-endian value. */
export function writeUInt64At(buf: Buffer, v: number, at: number): void {
  const hi = Math.floor(v / 0x100000000);
  putUInt32(buf, hi >>> 0, at);
  putUInt32(buf, (v - hi * 0x100000000) >>> 0, at + 4);
}

/** Reads an unsigned 64-bit big-endian value as a number (exact up to 2^53). */
export function readUInt64At(buf: Buffer, at: number): number {
  return getUInt32(buf, at) * 0x100000000 + getUInt32(buf, at + 4);
}
