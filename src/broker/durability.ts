import type { LogPosition, MessageLog } from '../storage/message-log.js';
import { Message } from './message.js';
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
    /** Where failures to read paged-out messages back are reported (the broker's log). */
    private readonly reportError: (queue: Queue, error: unknown) => void,
  ) {
    this.nextMsgId = firstMsgId;
  }

  /** A queue could not read paged-out messages back; it retries on its next dispatch. */
  pageInFailed(queue: Queue, error: unknown): void {
    this.reportError(queue, error);
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

  /** Reads paged-out messages back from the log, in one batch. */
  async loadMessages(positions: readonly LogPosition[]): Promise<Message[]> {
    const records = await this.log.readMessages(positions);
    const messages = new Array<Message>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const message = new Message(record.exchange, record.routingKey, record.properties, record.body, record.body.length);
      message.msgId = record.msgId;
      message.position = positions[i];
      messages[i] = message;
    }
    return messages;
  }

  private writeWatermarks(): void {
    this.watermarkScheduled = false;
    const queues = this.watermarkQueues;
    for (let i = 0; i < queues.length; i++) queues[i].writeWatermark();
    queues.length = 0;
  }
}
