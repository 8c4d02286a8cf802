/**
 * One segment file of the message log and the compact in-memory index of the
 * messages it holds: for each message its id and, per destination queue, a
 * settled flag. About 17 bytes per single-queue message, no per-message objects,
 * so a backlog of millions of messages costs tens of MB, not the bodies.
 */
import type { FileHandle } from 'node:fs/promises';

export class Segment {
  /** Logical end: bytes appended, including batches not yet written. */
  size = 0;
  /** Bytes whose write has completed (readable from the file). */
  written = 0;
  /** Bytes on disk after fdatasync. */
  synced = 0;
  /** Size of the START record: a segment holding only that is empty. */
  startBytes = 0;
  /** The file exists (created by this process or found at recovery). */
  created = false;
  /** Write handle: open while this segment is the active one (or has a batch in flight). */
  fh: FileHandle | undefined;
  readFh: FileHandle | undefined;
  readOpening: Promise<FileHandle> | undefined;
  readRefs = 0;

  // --- index of the messages published in this segment, in msgId order
  ids = new Float64Array(64);
  count = 0;
  /** pairStart[i] .. pairStart[i+1]: the (queue, settled) pairs of message i. */
  pairStart = new Uint32Array(65);
  pairQ = new Uint32Array(64);
  pairDone = new Uint8Array(64);
  pairs = 0;
  /** Unsettled (message, queue) pairs. */
  live = 0;
  liveByQ = new Map<number, number>();

  /**
   * Older segments that settle / queue-deleted records in this one refer to:
   * this segment must outlive them, or acked messages would come back.
   */
  readonly deps = new Set<Segment>();
  /** Set when the latest watermark of a queue moved out of this segment: delete only after that ticket is durable. */
  carryTicket = 0;
  deleting = false;
  deleted = false;

  constructor(
    readonly id: number,
    readonly path: string,
  ) {}

  get firstId(): number {
    return this.ids[0]!;
  }
  get lastId(): number {
    return this.ids[this.count - 1]!;
  }

  beginMessage(msgId: number): void {
    if (this.count === this.ids.length) {
      const n = this.ids.length * 2;
      const ids = new Float64Array(n);
      ids.set(this.ids);
      this.ids = ids;
      const ps = new Uint32Array(n + 1);
      ps.set(this.pairStart);
      this.pairStart = ps;
    }
    this.ids[this.count] = msgId;
    this.pairStart[this.count] = this.pairs;
  }

  addPair(qid: number): void {
    if (this.pairs === this.pairQ.length) {
      const n = this.pairQ.length * 2;
      const q = new Uint32Array(n);
      q.set(this.pairQ);
      this.pairQ = q;
      const d = new Uint8Array(n);
      d.set(this.pairDone);
      this.pairDone = d;
    }
    this.pairQ[this.pairs] = qid;
    this.pairDone[this.pairs] = 0;
    this.pairs++;
    this.live++;
    this.liveByQ.set(qid, (this.liveByQ.get(qid) ?? 0) + 1);
  }

  endMessage(): void {
    this.count++;
    this.pairStart[this.count] = this.pairs;
  }

  /** Index of message msgId in this segment, or -1. */
  indexOf(msgId: number): number {
    let lo = 0;
    let hi = this.count - 1;
    const ids = this.ids;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid]!;
      if (v < msgId) lo = mid + 1;
      else if (v > msgId) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Pair index of (msgId, qid) still unsettled, or -1. */
  livePair(msgId: number, qid: number): number {
    const i = this.indexOf(msgId);
    if (i < 0) return -1;
    for (let p = this.pairStart[i]!, end = this.pairStart[i + 1]!; p < end; p++) {
      if (this.pairQ[p] === qid) return this.pairDone[p] === 0 ? p : -1;
    }
    return -1;
  }

  settlePair(p: number): void {
    this.pairDone[p] = 1;
    this.live--;
    const qid = this.pairQ[p]!;
    const n = this.liveByQ.get(qid)! - 1;
    if (n === 0) this.liveByQ.delete(qid);
    else this.liveByQ.set(qid, n);
  }

  /** Settles every live pair of qid; returns how many. */
  settleQueue(qid: number): number {
    const n = this.liveByQ.get(qid);
    if (n === undefined) return 0;
    for (let p = 0; p < this.pairs; p++) {
      if (this.pairQ[p] === qid && this.pairDone[p] === 0) this.pairDone[p] = 1;
    }
    this.live -= n;
    this.liveByQ.delete(qid);
    return n;
  }

  /** Drops the index once the segment is gone. */
  clearIndex(): void {
    this.ids = new Float64Array(0);
    this.pairStart = new Uint32Array(1);
    this.pairQ = new Uint32Array(0);
    this.pairDone = new Uint8Array(0);
    this.count = 0;
    this.pairs = 0;
    this.deps.clear();
  }
}
