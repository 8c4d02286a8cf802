/**
 * Recovery of the message log: reads every segment record by record (torn
 * tails truncated, damaged records skipped and logged), rebuilds the log's
 * index through ReplayIndex, and collects each queue's unsettled messages.
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32 } from './crc32.js';
import { HEADER_BYTES, MAX_PAYLOAD, SEGMENT_FILE_RE, T_DELIVERED, T_PUBLISH, T_QDELETED, T_SEGDELETED, T_SETTLE, T_START, headerCheck, segmentFileName } from './record.js';
import { RecoveredQueue, type RecoveredState } from './recovered-queue.js';
import { Segment } from './segment.js';

export interface StorageLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const RECOVERY_READ_BYTES = 8 * 1024 * 1024;

/** The log's index as replay rebuilds it, record by record. */
export interface ReplayIndex {
  /** Segments in id order, as added. */
  readonly allSegments: readonly Segment[];
  addSegment(seg: Segment): void;
  queueId(name: string): number;
  queueName(qid: number): string;
  watermark(qid: number): number;
  replayPublish(seg: Segment, msgId: number, qids: number[]): void;
  replaySettle(recordSeg: Segment, msgId: number, qid: number): void;
  replayDelivered(recordSeg: Segment, qid: number, upTo: number): void;
  replayQueueDeleted(recordSeg: Segment, qid: number): void;
  /** Reads a stored message's priority from its properties (bytes [start, end) of record). */
  readonly priorityOf: ((record: Buffer, start: number, end: number) => number) | undefined;
}

export interface Recovery {
  recovered: RecoveredState;
  lastMsgId: number;
  /** Highest segment id seen in the directory or listed by a START record. */
  highestSeenSegment: number;
}

/** Replays the segments in dir into index. */
export async function recoverSegments(dir: string, index: ReplayIndex, logger: StorageLogger): Promise<Recovery> {
  const t0 = performance.now();
  const names = await fsp.readdir(dir);
  const ids: number[] = [];
  for (const n of names) {
    const m = SEGMENT_FILE_RE.exec(n);
    if (m !== null) ids.push(Number(m[1]));
  }
  ids.sort((a, b) => a - b);
  const r = new Replay(index, logger);
  for (const id of ids) {
    const seg = new Segment(id, path.join(dir, segmentFileName(id)));
    seg.created = true;
    index.addSegment(seg);
    await r.readSegment(seg);
  }
  let highestSeenSegment = 0;
  if (ids.length > 0) highestSeenSegment = ids[ids.length - 1]!;
  // missing segments: the newest START record lists what existed when it was written
  let missing = 0;
  if (r.newestStartList !== undefined) {
    const found = new Set(ids);
    for (const id of r.newestStartList) {
      if (!found.has(id) && !r.deletedAfterNewestStart.has(id)) {
        missing++;
        logger.warn({ dir, segment: id, file: segmentFileName(id) }, 'message log: segment file missing; its messages are lost');
      }
      if (id > highestSeenSegment) highestSeenSegment = id;
    }
  }
  const queues = r.collect();
  const stats = {
    segments: ids.length,
    records: r.records,
    corrupt: r.corrupt,
    truncatedBytes: r.truncatedBytes,
    missingSegments: missing,
    ms: Math.round(performance.now() - t0),
  };
  if (ids.length > 0) logger.info({ dir, ...stats, queues: queues.size }, 'message log recovered');
  return { recovered: { queues, nextMsgId: r.lastMsgId + 1, stats }, lastMsgId: r.lastMsgId, highestSeenSegment };
}

/** Reads segments record by record and rebuilds the index and the recovered messages. */
export class Replay {
  records = 0;
  corrupt = 0;
  truncatedBytes = 0;
  lastMsgId = 0;
  newestStartList: number[] | undefined;
  deletedAfterNewestStart = new Set<number>();
  /** Per segment, its publish records in order (only what recovery needs, as numbers). */
  private readonly recs = new Map<Segment, RecoveredQueue>();
  private buf = Buffer.allocUnsafe(RECOVERY_READ_BYTES);
  /** Queue ids of the record being applied (reused). */
  private readonly qids: number[] = [];
  /** The last queue name decoded (its first lastQueueNameLength bytes; names up to 512 bytes) and its id. */
  private readonly lastQueueName = Buffer.alloc(512);
  private lastQueueNameLength = -1;
  private lastQid = 0;

  constructor(
    private readonly log: ReplayIndex,
    private readonly logger: StorageLogger,
  ) {}

  async readSegment(seg: Segment): Promise<void> {
    const logger = this.logger;
    let fh: FileHandle;
    try {
      fh = await fsp.open(seg.path, 'r+');
    } catch (err) {
      logger.warn({ err, file: seg.path }, 'message log: cannot open segment; skipped');
      return;
    }
    const recs = new RecoveredQueue();
    this.recs.set(seg, recs);
    try {
      const { size: fileSize } = await fh.stat();
      let bufStart = 0; // file offset of buf[0]
      let bufLen = 0;
      let pos = 0; // file offset of the next record
      let truncateAt = -1;
      for (;;) {
        // make sure the header (and later the record) is in the buffer
        let rel = pos - bufStart;
        if (rel + HEADER_BYTES > bufLen) {
          if (pos + HEADER_BYTES > fileSize) {
            if (pos < fileSize) truncateAt = pos;
            break;
          }
          ({ bufStart, bufLen } = await this.fill(fh, pos, HEADER_BYTES, fileSize));
          rel = 0;
        }
        const buf = this.buf;
        const len = buf.readUInt32LE(rel);
        const check = buf.readUInt32LE(rel + 4);
        if (check !== headerCheck(len) || len < 1 || len > MAX_PAYLOAD) {
          logger.warn({ file: seg.path, offset: pos }, 'message log: damaged record header; rest of segment skipped');
          this.corrupt++;
          break;
        }
        const total = HEADER_BYTES + len;
        if (pos + total > fileSize) {
          truncateAt = pos;
          break;
        }
        if (rel + total > bufLen) {
          ({ bufStart, bufLen } = await this.fill(fh, pos, total, fileSize));
          rel = 0;
        }
        const b = this.buf;
        const payloadStart = rel + HEADER_BYTES;
        if (crc32(b, payloadStart, payloadStart + len) !== b.readUInt32LE(rel + 8)) {
          logger.warn({ file: seg.path, offset: pos, length: total }, 'message log: record checksum mismatch; record skipped');
          this.corrupt++;
        } else {
          this.records++;
          this.apply(seg, recs, b, payloadStart, len, pos, total);
        }
        pos += total;
      }
      if (truncateAt >= 0) {
        this.truncatedBytes += fileSize - truncateAt;
        logger.warn({ file: seg.path, offset: truncateAt, bytes: fileSize - truncateAt }, 'message log: torn tail truncated');
        await fh.truncate(truncateAt);
        await fh.datasync();
        seg.size = truncateAt;
      } else seg.size = fileSize;
      seg.written = seg.synced = seg.size;
      // Recovered segments take no more messages (the log starts a new one).
      seg.trim();
    } finally {
      await fh.close();
    }
  }

  /**
   * The queue id of the name in b[start, start + length): records name their
   * queues, mostly the same one as the record before, so the last name's bytes
   * are compared before a string is decoded and looked up (recovery of
   * 1,000,000 messages: 130 to 270 ms less CPU on a loaded machine).
   */
  private queueIdAt(b: Buffer, start: number, length: number): number {
    const last = this.lastQueueName;
    if (length === this.lastQueueNameLength && b.compare(last, 0, length, start, start + length) === 0) return this.lastQid;
    const qid = this.log.queueId(b.toString('utf8', start, start + length));
    if (length <= last.length) {
      b.copy(last, 0, start, start + length);
      this.lastQueueNameLength = length;
      this.lastQid = qid;
    }
    return qid;
  }

  /** Reads from file offset `pos` at least `need` bytes into the buffer (growing it if a record is bigger). */
  private async fill(fh: FileHandle, pos: number, need: number, fileSize: number): Promise<{ bufStart: number; bufLen: number }> {
    if (this.buf.length < need) this.buf = Buffer.allocUnsafe(need);
    const want = Math.min(this.buf.length, fileSize - pos);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(this.buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { bufStart: pos, bufLen: got };
  }

  private apply(seg: Segment, recs: RecoveredQueue, b: Buffer, p: number, len: number, recordOffset: number, total: number): void {
    const end = p + len;
    const type = b[p]!;
    let o = p + 1;
    const log = this.log;
    switch (type) {
      case T_PUBLISH: {
        const msgId = b.readUIntLE(o, 6);
        o += 6;
        const bodySize = b.readUInt32LE(o);
        o += 4;
        if (msgId <= this.lastMsgId) {
          this.logger.warn({ file: seg.path, offset: recordOffset, msgId }, 'message log: message id out of order; record skipped');
          return;
        }
        const nq = b.readUInt16LE(o);
        o += 2;
        const qids = this.qids;
        qids.length = 0;
        for (let i = 0; i < nq; i++) {
          const l = b.readUInt16LE(o);
          qids.push(this.queueIdAt(b, o + 2, l));
          o += 2 + l;
        }
        // Exchange, routing key and properties stay in the log; skip over them.
        o += 2 + b.readUInt16LE(o);
        o += 2 + b.readUInt16LE(o);
        const pl = b.readUInt32LE(o);
        o += 4;
        if (o + pl + bodySize !== end) {
          this.logger.warn({ file: seg.path, offset: recordOffset }, 'message log: malformed publish record; skipped');
          this.corrupt++;
          return;
        }
        log.replayPublish(seg, msgId, qids);
        this.lastMsgId = msgId;
        recs.push(msgId, seg.id, recordOffset, total, bodySize, false, log.priorityOf === undefined ? 0 : log.priorityOf(b, o, o + pl));
        return;
      }
      case T_SETTLE: {
        const msgId = b.readUIntLE(o, 6);
        o += 6;
        const l = b.readUInt16LE(o);
        log.replaySettle(seg, msgId, this.queueIdAt(b, o + 2, l));
        return;
      }
      case T_DELIVERED: {
        const upTo = b.readUIntLE(o, 6);
        o += 6;
        const l = b.readUInt16LE(o);
        log.replayDelivered(seg, this.queueIdAt(b, o + 2, l), upTo);
        return;
      }
      case T_QDELETED: {
        const l = b.readUInt16LE(o);
        log.replayQueueDeleted(seg, this.queueIdAt(b, o + 2, l));
        return;
      }
      case T_START: {
        const id = b.readUInt32LE(o);
        const n = b.readUInt32LE(o + 4);
        if (id !== seg.id) this.logger.warn({ file: seg.path, recorded: id }, 'message log: segment file carries another segment number');
        const list: number[] = [];
        for (let i = 0; i < n; i++) list.push(b.readUInt32LE(o + 8 + 4 * i));
        this.newestStartList = list;
        this.deletedAfterNewestStart.clear();
        return;
      }
      case T_SEGDELETED:
        this.deletedAfterNewestStart.add(b.readUInt32LE(o));
        return;
      default:
        this.logger.warn({ file: seg.path, offset: recordOffset, type }, 'message log: unknown record type; skipped');
    }
  }

  /** Builds queue name → unsettled messages in publish order. */
  collect(): Map<string, RecoveredQueue> {
    const out = new Map<string, RecoveredQueue>();
    const log = this.log;
    for (const seg of log.allSegments) {
      const recs = this.recs.get(seg);
      if (recs === undefined) continue;
      for (let i = 0; i < seg.count; i++) {
        const msgId = recs.msgId(i);
        for (let p = seg.firstPair(i), end = seg.firstPair(i + 1); p < end; p++) {
          if (seg.pairDone[p] !== 0) continue;
          const qid = seg.qidAt(p);
          const name = log.queueName(qid);
          let queue = out.get(name);
          if (queue === undefined) out.set(name, (queue = new RecoveredQueue()));
          queue.push(msgId, seg.id, recs.offset(i), recs.recordLength(i), recs.bodySize(i), msgId <= log.watermark(qid), recs.priority(i));
        }
      }
      // Free each segment's records as soon as they are folded in: recovery's peak memory.
      this.recs.delete(seg);
    }
    return out;
  }
}
