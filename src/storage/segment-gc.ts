/**
 * Which settled segments of the message log may be deleted, and deleting them.
 *
 * A segment file may go when none of its messages is live, it is fully synced,
 * none of its settle records refers to a message in a segment that still
 * exists, and it holds no queue's latest watermark while that queue has live
 * messages (that watermark is written again first; the segment goes once the
 * copy is durable).
 */
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Segment } from './segment.js';

/** The parts of the log's index the deletion rule reads. */
export interface GcView {
  readonly segments: readonly Segment[];
  readonly active: Segment;
  /** Highest ticket on disk. */
  readonly durable: number;
  /** Per queue id, the segment holding its latest watermark. */
  readonly wmSeg: readonly (Segment | undefined)[];
  /** Per queue id, its live messages. */
  readonly qLive: readonly number[];
}

export interface GcChoice {
  victims: Segment[];
  /** Some segment could go once the current batch is synced: look again after it. */
  retryAfterSync: boolean;
}

/**
 * Picks the segments that can be deleted now and marks them `deleting`.
 * rewriteWatermark(qid) is called for a queue whose latest watermark keeps an
 * otherwise deletable segment alive.
 */
export function pickVictims(view: GcView, rewriteWatermark: (qid: number) => void): GcChoice {
  const victims: Segment[] = [];
  let retryAfterSync = false;
  for (const seg of view.segments) {
    if (seg === view.active || seg.deleting) continue;
    if (seg.live > 0) continue;
    if (seg.synced < seg.size || seg.carryTicket > view.durable) {
      retryAfterSync = true;
      continue;
    }
    let blocked = false;
    for (const d of seg.deps) {
      if (!d.deleted) {
        blocked = true;
        break;
      }
    }
    if (blocked) continue;
    for (let qid = 0; qid < view.wmSeg.length; qid++) {
      if (view.wmSeg[qid] === seg && view.qLive[qid]! > 0) {
        // the queue's latest watermark still matters: write it again, delete later
        rewriteWatermark(qid);
        blocked = true;
      }
    }
    if (blocked) {
      retryAfterSync = true;
      continue;
    }
    seg.deleting = true;
    victims.push(seg);
  }
  return { victims, retryAfterSync };
}

/** Unlinks the victims' files (one already gone is fine) and makes that durable. */
export async function unlinkSegments(victims: readonly Segment[], dirFh: FileHandle): Promise<void> {
  for (const seg of victims) {
    try {
      await fsp.unlink(seg.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await dirFh.sync();
}
