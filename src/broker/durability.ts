import type { LogPosition, MessageLog, StoredMessage } from '../storage/message-log.js';
import { Message } from './message.js';
import type { Queue } from './queue.js';
import { reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';

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
    /** Where an error raised by a waiter or a queue in the log's callbacks goes: the log's batch goes on. */
    private readonly reportUnexpected: UnexpectedErrorReporter = reportToStderr,
  ) {
    this.nextMsgId = firstMsgId;
  }

  /** A queue could not read paged-out messages back (a damaged record, a lost segment). */
  pageInFailed(queue: Queue, error: unknown): void {
    this.reportError(queue, error);
  }

  get durableTicket(): number {
    return this.log.durableTicket;
  }

  newMsgId(): number {
    return this.nextMsgId++;
  }

  /** Called by the log after each group commit; must not throw (the log's batch completion runs it). */
  onDurable(upTo: number): void {
    for (const waiter of this.waiters) {
      try {
        waiter.onDurable(upTo);
      } catch (error) {
        this.waiters.delete(waiter);
        this.reportUnexpected(error, 'publisher confirms after a group commit', { durableTicket: upTo });
      }
    }
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

  /**
   * Reads paged-out messages back from the log, in one batch. A damaged record
   * fails a batch read, so then each is read alone: what cannot be read comes
   * back as null (with the error), and the queue drops it.
   */
  async loadMessages(positions: readonly LogPosition[]): Promise<{ messages: (Message | null)[]; error: unknown }> {
    try {
      const records = await this.log.readMessages(positions);
      return { messages: records.map((record, i) => messageFromLog(record, positions[i])), error: undefined };
    } catch (batchError) {
      const results = await Promise.allSettled(positions.map((position) => this.log.readMessages([position])));
      let error: unknown = batchError;
      const messages = results.map((result, i) => {
        if (result.status === 'fulfilled') return messageFromLog(result.value[0], positions[i]);
        error = result.reason;
        return null;
      });
      return { messages, error };
    }
  }

  private writeWatermarks(): void {
    this.watermarkScheduled = false;
    const queues = this.watermarkQueues;
    for (let i = 0; i < queues.length; i++) {
      try {
        queues[i].writeWatermark();
      } catch (error) {
        this.reportUnexpected(error, 'delivered-up-to watermark', { vhost: queues[i].vhost, queue: queues[i].name });
      }
    }
    queues.length = 0;
  }
}

/** A message read back from the log, as the broker holds it (stored: with its log id and place). */
export function messageFromLog(record: StoredMessage, position: LogPosition): Message {
  const message = new Message(record.exchange, record.routingKey, record.properties, record.body, record.body.length);
  message.msgId = record.msgId;
  message.position = position;
  return message;
}
