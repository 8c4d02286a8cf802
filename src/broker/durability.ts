import type { MessageLog } from '../storage/message-log.js';
import type { Queue } from './queue.js';

/** Something waiting for log records to reach the disk (a channel with confirms due). */
export interface DurabilityWaiter {
  onDurable(durableTicket: number): void;
}

/**
 * The broker's side of the message log: message ids, the queues' "delivered
 * up to" watermarks (written once per turn, not per delivery), and the
 * waiters told when a group commit reaches the disk.
 */
export class Durability {
  private nextMsgId: number;
  private readonly waiters = new Set<DurabilityWaiter>();
  private readonly watermarkQueues: Queue[] = [];
  private watermarkScheduled = false;
  private readonly writeWatermarksBound = (): void => this.writeWatermarks();

  constructor(
    readonly log: MessageLog,
    firstMsgId: number,
  ) {
    this.nextMsgId = firstMsgId;
  }

  get durableTicket(): number {
    return this.log.durableTicket;
  }

  newMsgId(): number {
    return this.nextMsgId++;
  }

  /** Called by the log after each group commit. */
  onDurable(upTo: number): void {
    for (const waiter of this.waiters) waiter.onDurable(upTo);
  }

  wait(waiter: DurabilityWaiter): void {
    this.waiters.add(waiter);
  }

  stopWaiting(waiter: DurabilityWaiter): void {
    this.waiters.delete(waiter);
  }

  /** A durable queue delivered a stored message: its watermark goes to the log at the end of the turn. */
  watermarkMoved(queue: Queue): void {
    this.watermarkQueues.push(queue);
    if (!this.watermarkScheduled) {
      this.watermarkScheduled = true;
      setImmediate(this.writeWatermarksBound);
    }
  }

  private writeWatermarks(): void {
    this.watermarkScheduled = false;
    const queues = this.watermarkQueues;
    for (let i = 0; i < queues.length; i++) queues[i].writeWatermark();
    queues.length = 0;
  }
}
