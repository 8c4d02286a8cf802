/**
 * One segment file of the message log and the compact in-memory index of the
 * messages it holds: for each message its id and, per destination queue, a
 * settled flag: about 7 bytes per single-queue message (a 32-bit id offset,
 * a 16-bit queue id, the flag), 1 byte (the flag) while ids follow one another
 * and every message goes to the same queue. No per-message objects, so a
 * backlog of 10,000,000 messages costs tens of MB, not the bodies (issue 13).
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
  /**
   * Message i's id is idBase + i while ids is null (every id one more than the
   * one before); then idBase + ids[i]: 32-bit offsets, or whole ids (idBase 0)
   * once one is 2^32 past the first.
   */
  private idBase = 0;
  private ids: Uint32Array | Float64Array | null = null;
  count = 0;
  /**
   * pairStart[i] .. pairStart[i+1]: the (queue, settled) pairs of message i.
   * Null while every message has exactly one pair (message i's is pair i).
   */
  private pairStart: Uint32Array | null = null;
  /** Each pair's queue id: qidBase for all while pairQ is null; 16-bit until one is larger. */
  private qidBase = 0;
  private pairQ: Uint16Array | Uint32Array | null = null;
  pairDone = new Uint8Array(64);
  pairs = 0;
  /** Pairs before the message being added (between beginMessage and endMessage). */
  private pairsBefore = 0;
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
    return this.idAt(0);
  }
  get lastId(): number {
    return this.idAt(this.count - 1);
  }

  idAt(i: number): number {
    return this.idBase + (this.ids === null ? i : this.ids[i]!);
  }

  /** The queue id of pair p. */
  qidAt(p: number): number {
    return this.pairQ === null ? this.qidBase : this.pairQ[p]!;
  }

  /** Message i's pairs are firstPair(i) .. firstPair(i + 1) - 1. */
  firstPair(i: number): number {
    return this.pairStart === null ? i : this.pairStart[i]!;
  }

  beginMessage(msgId: number): void {
    const i = this.count;
    if (i === 0) this.idBase = msgId;
    else if (this.ids === null && msgId !== this.idBase + i) {
      // The first id that is not the one before + 1: every one before was.
      const ids = (this.ids = new Uint32Array(capacity(i)));
      for (let k = 0; k < i; k++) ids[k] = k;
    }
    if (this.ids !== null) {
      if (i === this.ids.length) this.ids = grown(this.ids, this.ids instanceof Uint32Array ? new Uint32Array(capacity(i)) : new Float64Array(capacity(i)));
      const offset = msgId - this.idBase;
      if (this.ids instanceof Uint32Array && !(offset >= 0 && offset <= 0xffffffff)) {
        const whole = new Float64Array(this.ids.length);
        for (let k = 0; k < i; k++) whole[k] = this.idBase + this.ids[k]!;
        this.ids = whole;
        this.idBase = 0;
      }
      this.ids[i] = msgId - this.idBase;
    }
    this.pairsBefore = this.pairs;
  }

  addPair(qid: number): void {
    const p = this.pairs;
    if (p === this.pairDone.length) {
      this.pairDone = grown(this.pairDone, new Uint8Array(capacity(p)));
      if (this.pairQ !== null) this.pairQ = grown(this.pairQ, this.pairQ instanceof Uint16Array ? new Uint16Array(capacity(p)) : new Uint32Array(capacity(p)));
    }
    if (p === 0) this.qidBase = qid;
    else if (this.pairQ === null && qid !== this.qidBase) {
      // The first pair of another queue: every one before was the first's.
      this.pairQ = (this.qidBase > 0xffff ? new Uint32Array(this.pairDone.length) : new Uint16Array(this.pairDone.length)).fill(this.qidBase, 0, p);
    }
    if (this.pairQ !== null) {
      if (qid > 0xffff && this.pairQ instanceof Uint16Array) this.pairQ = grown(this.pairQ, new Uint32Array(this.pairQ.length));
      this.pairQ[p] = qid;
    }
    this.pairDone[p] = 0;
    this.pairs = p + 1;
    this.live++;
    this.liveByQ.set(qid, (this.liveByQ.get(qid) ?? 0) + 1);
  }

  endMessage(): void {
    const i = this.count;
    if (this.pairStart === null && this.pairs !== i + 1) {
      // The first message without exactly one pair: every one before had one.
      const starts = new Uint32Array(capacity(i + 1) + 1);
      for (let k = 0; k <= i; k++) starts[k] = k;
      this.pairStart = starts;
    }
    if (this.pairStart !== null) {
      if (i + 2 > this.pairStart.length) this.pairStart = grown(this.pairStart, new Uint32Array(capacity(i + 1) + 1));
      this.pairStart[i] = this.pairsBefore;
      this.pairStart[i + 1] = this.pairs;
    }
    this.count = i + 1;
  }

  /** No more messages will be added (the segment is no longer the active one): the index shrinks to fit. */
  trim(): void {
    if (this.ids !== null && this.ids.length > this.count) this.ids = this.ids.slice(0, this.count);
    if (this.pairStart !== null && this.pairStart.length > this.count + 1) this.pairStart = this.pairStart.slice(0, this.count + 1);
    if (this.pairDone.length > this.pairs) {
      this.pairDone = this.pairDone.slice(0, this.pairs);
      if (this.pairQ !== null) this.pairQ = this.pairQ.slice(0, this.pairs);
    }
  }

  /** Index of message msgId in this segment, or -1. */
  indexOf(msgId: number): number {
    const target = msgId - this.idBase;
    const ids = this.ids;
    if (ids === null) return target >= 0 && target < this.count && Number.isInteger(target) ? target : -1;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid]!;
      if (v < target) lo = mid + 1;
      else if (v > target) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** Pair index of (msgId, qid) still unsettled, or -1. */
  livePair(msgId: number, qid: number): number {
    const i = this.indexOf(msgId);
    if (i < 0) return -1;
    for (let p = this.firstPair(i), end = this.firstPair(i + 1); p < end; p++) {
      if (this.qidAt(p) === qid) return this.pairDone[p] === 0 ? p : -1;
    }
    return -1;
  }

  settlePair(p: number): void {
    this.pairDone[p] = 1;
    this.live--;
    const qid = this.qidAt(p);
    const n = this.liveByQ.get(qid)! - 1;
    if (n === 0) this.liveByQ.delete(qid);
    else this.liveByQ.set(qid, n);
  }

  /** Settles every live pair of qid; returns how many. */
  settleQueue(qid: number): number {
    const n = this.liveByQ.get(qid);
    if (n === undefined) return 0;
    for (let p = 0; p < this.pairs; p++) {
      if (this.qidAt(p) === qid && this.pairDone[p] === 0) this.pairDone[p] = 1;
    }
    this.live -= n;
    this.liveByQ.delete(qid);
    return n;
  }

  /** Drops the index once the segment is gone. */
  clearIndex(): void {
    this.ids = null;
    this.idBase = 0;
    this.pairStart = null;
    this.pairQ = null;
    this.qidBase = 0;
    this.pairDone = new Uint8Array(0);
    this.count = 0;
    this.pairs = 0;
    this.deps.clear();
  }
}

function grown<T extends Uint16Array | Uint32Array | Float64Array | Uint8Array>(from: Uint16Array | Uint32Array | Float64Array | Uint8Array, to: T): T {
  to.set(from);
  return to;
}

/** Room for more than n entries: double, at least 64. */
function capacity(n: number): number {
  return Math.max(64, n * 2);
}
