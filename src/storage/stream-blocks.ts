/**
 * The block cache that stream readers share, and the reads that fill it.
 */
import * as fsp from 'node:fs/promises';
import { HEADER_BYTES, MAX_PAYLOAD, headerCheck } from './record.js';
import { closeReadHandle, type StreamSegment } from './stream-segment.js';

/** blockBytes of one segment file, starting at index × blockBytes. */
export class CachedBlock {
  /** End of the valid bytes, from the block's start. */
  length = 0;
  /**
   * Start of the valid bytes: 0, except for a tail re-created after its predecessor
   * was evicted, whose earlier bytes are on disk (a load reads them in place).
   */
  start = 0;
  /** Not evictable: holds bytes not yet on disk. */
  pinned = true;
  /** Read from the file (its records' CRCs are checked when read), not written by this process. */
  fromDisk = false;
  /** Still in the cache (a reader may check a block it looked up earlier). */
  cached = true;
  prev: CachedBlock | undefined;
  next: CachedBlock | undefined;

  constructor(
    readonly seg: StreamSegment,
    readonly index: number,
    readonly buf: Buffer,
  ) {}
}

/**
 * File blocks shared by every reader of the streams that use this cache, bounded in
 * bytes, least recently used evicted first. Pinned blocks (appends not yet synced)
 * count towards the total but are not evicted; the bound holds whenever the writes
 * keep up.
 */
export class BlockCache {
  /** Bytes of every block held, pinned or not. */
  bytes = 0;
  /** Blocks read from disk (a hit is a lookup that needed none). */
  loads = 0;
  private head: CachedBlock | undefined; // least recently used
  private tail: CachedBlock | undefined; // most recently used

  constructor(
    readonly maxBytes = 64 * 1024 * 1024,
    readonly blockBytes = 1024 * 1024,
  ) {
    if (!(blockBytes >= 64) || !(maxBytes >= blockBytes)) throw new RangeError('block cache: need blockBytes >= 64 and maxBytes >= blockBytes');
  }

  /** Adds a block (pinned or not) to seg's blocks and the total, evicting as needed. */
  add(block: CachedBlock): void {
    const old = block.seg.blocks.get(block.index);
    if (old !== undefined) this.remove(old);
    block.seg.blocks.set(block.index, block);
    this.bytes += block.buf.length;
    if (!block.pinned) this.link(block);
    this.evict();
  }

  /** Marks a lookup: the block becomes the most recently used. */
  touch(block: CachedBlock): void {
    if (block.pinned || this.tail === block) return;
    this.unlink(block);
    this.link(block);
  }

  pin(block: CachedBlock): void {
    if (block.pinned) return;
    if (block.cached) this.unlink(block);
    block.pinned = true;
  }

  unpin(block: CachedBlock): void {
    if (!block.pinned) return;
    block.pinned = false;
    if (block.cached) {
      this.link(block);
      this.evict();
    }
  }

  remove(block: CachedBlock): void {
    if (!block.cached) return;
    block.cached = false;
    if (!block.pinned) this.unlink(block);
    if (block.seg.blocks.get(block.index) === block) block.seg.blocks.delete(block.index);
    if (block.seg.tail === block) block.seg.tail = undefined;
    this.bytes -= block.buf.length;
  }

  /** Drops every block of seg (deleted by retention, or its log closed). */
  dropSegment(seg: StreamSegment): void {
    for (const b of [...seg.blocks.values()]) this.remove(b);
    seg.tail = undefined;
  }

  private evict(): void {
    while (this.bytes > this.maxBytes && this.head !== undefined) this.remove(this.head);
  }

  private link(b: CachedBlock): void {
    b.prev = this.tail;
    b.next = undefined;
    if (this.tail !== undefined) this.tail.next = b;
    else this.head = b;
    this.tail = b;
  }

  private unlink(b: CachedBlock): void {
    if (b.prev !== undefined) b.prev.next = b.next;
    else this.head = b.next;
    if (b.next !== undefined) b.next.prev = b.prev;
    else this.tail = b.prev;
    b.prev = b.next = undefined;
  }
}

let shared: BlockCache | undefined;

/** The process-wide cache streams use unless given their own: one bound for all streams. */
export function sharedBlockCache(): BlockCache {
  return (shared ??= new BlockCache());
}

/**
 * Reads of stream segments through a BlockCache: what a reader's next record needs,
 * one read per block however many readers want it, one block read ahead.
 */
export class BlockReads {
  constructor(
    readonly cache: BlockCache,
    private readonly onReadAheadError: (err: unknown) => void,
  ) {}

  /** Set by gather: some of what it returned was read from disk (check the CRC). */
  gatheredFromDisk = false;

  /**
   * Bytes [pos, pos + len) of seg if its blocks are in memory: a view when
   * they lie in one block, else a copy; undefined if a block is missing.
   */
  gather(seg: StreamSegment, pos: number, len: number): Buffer | undefined {
    const B = this.cache.blockBytes;
    const index = Math.floor(pos / B);
    const at = pos - index * B;
    const b = seg.blocks.get(index);
    if (b === undefined || b.length < Math.min(B, at + len) || b.start > at) return undefined;
    this.cache.touch(b);
    this.gatheredFromDisk = b.fromDisk;
    if (at + len <= B) return b.buf.subarray(at, at + len);
    const out = Buffer.allocUnsafe(len);
    let got = b.buf.copy(out, 0, at, B);
    for (let i = index + 1; got < len; i++) {
      const c = seg.blocks.get(i);
      const want = Math.min(B, len - got);
      if (c === undefined || c.length < want || c.start > 0) return undefined;
      this.cache.touch(c);
      if (c.fromDisk) this.gatheredFromDisk = true;
      got += c.buf.copy(out, got, 0, want);
    }
    return out;
  }

  /**
   * Reads the record at pos of seg (len 0: its length is not known yet)
   * into the cache and returns it, so the reader that asked progresses even if the
   * cache evicts the blocks at once. A record larger than a block that is not cached
   * is read on its own, not cached. undefined: damaged header or segment gone.
   */
  async load(seg: StreamSegment, pos: number, len: number): Promise<Buffer | undefined> {
    if (seg.deleted) return undefined;
    if (len === 0) {
      await this.loadBlocks(seg, pos, HEADER_BYTES);
      const head = this.gather(seg, pos, HEADER_BYTES) ?? (await this.readRange(seg, pos, HEADER_BYTES));
      const l = head.readUInt32LE(0);
      if (head.readUInt32LE(4) !== headerCheck(l) || l < 1 || l > MAX_PAYLOAD) return undefined; // the reader reports it
      len = HEADER_BYTES + l;
      if (pos + len > seg.synced) return undefined;
    }
    if (len <= this.cache.blockBytes) await this.loadBlocks(seg, pos, len);
    const record = this.gather(seg, pos, len) ?? (seg.deleted ? undefined : await this.readRange(seg, pos, len));
    // read ahead: a reader going on will want the next block while it works through this one
    const after = Math.floor((pos + len - 1) / this.cache.blockBytes) + 1;
    if (after * this.cache.blockBytes < seg.synced) this.loadBlock(seg, after).catch(this.onReadAheadError);
    return record;
  }

  private async loadBlocks(seg: StreamSegment, pos: number, len: number): Promise<void> {
    const B = this.cache.blockBytes;
    const first = Math.floor(pos / B);
    const last = Math.floor((pos + len - 1) / B);
    if (first === last) return this.loadBlock(seg, first);
    const loads: Promise<void>[] = [];
    for (let i = first; i <= last; i++) loads.push(this.loadBlock(seg, i));
    await Promise.all(loads);
  }

  private loadBlock(seg: StreamSegment, index: number): Promise<void> {
    const B = this.cache.blockBytes;
    const have = seg.blocks.get(index);
    const want = Math.min(B, seg.synced - index * B);
    if (seg.deleted || want <= 0 || (have !== undefined && have.length >= want && have.start === 0)) return Promise.resolve();
    let p = seg.loading.get(index);
    if (p === undefined) {
      p = this.readBlock(seg, index, want).finally(() => seg.loading.delete(index));
      seg.loading.set(index, p);
    }
    return p;
  }

  private async readBlock(seg: StreamSegment, index: number, want: number): Promise<void> {
    const B = this.cache.blockBytes;
    const tail = seg.blocks.get(index);
    if (tail !== undefined && tail.start > 0) {
      // a tail re-created after an eviction: its earlier bytes are synced; read them in place
      const prefix = tail.start;
      await this.readRange(seg, index * B, prefix, tail.buf);
      tail.start = 0;
      tail.fromDisk = true;
      this.cache.loads++;
      return;
    }
    const buf = await this.readRange(seg, index * B, want);
    const have = seg.blocks.get(index);
    if (seg.deleted || (have !== undefined && have.length >= want && have.start === 0)) return;
    const b = new CachedBlock(seg, index, buf);
    b.length = want;
    b.pinned = false;
    b.fromDisk = true;
    this.cache.loads++;
    this.cache.add(b);
  }

  /** Bytes [pos, pos + len) of seg's file, into `into` (from its start) or a new buffer. */
  private async readRange(seg: StreamSegment, pos: number, len: number, into?: Buffer): Promise<Buffer> {
    const buf = into ?? Buffer.allocUnsafeSlow(len);
    seg.readRefs++;
    try {
      const fh = seg.readFh ?? (seg.readFh = await (seg.readOpening ??= fsp.open(seg.path, 'r')));
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
        if (bytesRead === 0) throw new Error(`stream log: ${seg.path} ends before ${pos + len}`);
        got += bytesRead;
      }
    } finally {
      seg.readRefs--;
      if (seg.deleted) void closeReadHandle(seg);
    }
    return buf;
  }
}
