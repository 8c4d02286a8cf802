import type { FieldValue } from '../protocol/field-table.js';
import type { LogPosition, MessageLog, RecoveredQueue } from '../storage/message-log.js';
import { DelayIndex } from './delay-index.js';
import type { Durability } from './durability.js';
import { Message } from './message.js';

/** Longest delay the plugin honours (2^32 − 1 ms); a larger one is routed at once, as there. */
export const MAX_DELAY_MS = 4_294_967_295;
/** Longest a Node.js timer can be armed for; longer waits re-arm. */
const MAX_TIMER_MS = 2_147_483_647;
/** Due messages read back from the log per read. */
const RELEASE_BATCH = 512;
/** Prefix of the message-log keys of delayed messages: no queue's key starts with it. */
export const DELAYED_KEY_PREFIX = '\u0001delayed\u0000';

/**
 * The x-delay header of a publish in ms: integers, numeric strings and
 * floats (truncated) as the plugin reads them; 0 when absent or unreadable.
 */
export function delayOf(value: FieldValue | undefined): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = value > BigInt(MAX_DELAY_MS) ? MAX_DELAY_MS + 1 : value < 0n ? -1 : Number(value);
  else if (typeof value === 'string' && value.trim() !== '') n = Number(value);
  else return 0;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** Whether a publish with this delay waits in the exchange (else it is routed at once). */
export function isDelayed(delay: number): boolean {
  return delay > 0 && delay <= MAX_DELAY_MS;
}

/**
 * The pending messages of one x-delayed-message exchange. Messages wait in the
 * message log under a hidden key of the exchange (when the broker has a data
 * dir), or in memory otherwise; in memory there is only the DelayIndex of
 * numbers and one timer, armed for the earliest due time. When it fires, the
 * due messages are read back in batches and handed to `release`, which routes
 * them through the exchange's bindings as they are then.
 */
export class DelayedMessages {
  private readonly index = new DelayIndex();
  /** Messages kept in memory (no message log), by their sequence number. */
  private readonly inMemory = new Map<number, Message>();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private releasing = false;
  private dropped = false;
  private durability: Durability | null = null;
  private key = '';
  private readonly popped = new Float64Array(6);

  constructor(
    /** The exchange's name, which released messages carry. */
    private readonly exchangeName: string,
    /** Routes a due message through the exchange. */
    private readonly release: (message: Message) => void,
    /** Where a failure to read due messages back goes. */
    private readonly reportError: (error: unknown, what: string) => void,
  ) {}

  /** Pending delayed messages (the management API's messages_delayed). */
  get pending(): number {
    return this.index.size;
  }

  /** From now on messages wait in the log under `key` (the broker has a data dir). */
  attachStorage(durability: Durability, key: string): void {
    this.durability = durability;
    this.key = key;
  }

  /** A publish that waits `delay` ms. With a log, sets message.ticket: its confirm waits for the disk. */
  add(message: Message, delay: number): void {
    const due = Date.now() + delay;
    const seq = ++this.seq;
    const durability = this.durability;
    if (durability === null) {
      this.inMemory.set(seq, message);
      this.index.push(due, seq, seq, 0, 0, 0);
    } else {
      const msgId = durability.newMsgId();
      // The record's exchange field holds the due time: the key already names the exchange.
      const { ticket, position } = durability.log.appendPublish(msgId, [this.key], String(due), message.routingKey, message.rawProperties, message.body);
      message.ticket = ticket;
      this.index.push(due, seq, msgId, position.segment, position.offset, position.length);
    }
    this.arm();
  }

  /** Messages found in the log at boot, in publish order: their due times are read back (bodies dropped). */
  async restore(log: MessageLog, stored: RecoveredQueue): Promise<void> {
    for (let start = 0; start < stored.length; start += RELEASE_BATCH) {
      const end = Math.min(stored.length, start + RELEASE_BATCH);
      const positions: LogPosition[] = [];
      for (let i = start; i < end; i++) positions.push(stored.position(i));
      const records = await log.readMessages(positions);
      for (let i = 0; i < records.length; i++) {
        const due = Number(records[i].exchange);
        const p = positions[i];
        this.index.push(Number.isFinite(due) ? due : 0, ++this.seq, records[i].msgId, p.segment, p.offset, p.length);
      }
    }
    this.arm();
  }

  /** The exchange is deleted: its pending messages are discarded (settled in the log). */
  drop(): void {
    this.stop();
    this.dropped = true;
    this.index.clear();
    this.inMemory.clear();
    if (this.durability !== null) this.durability.log.appendQueueDeleted(this.key);
  }

  /** The broker stops: no timer fires after this. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  private arm(): void {
    if (this.releasing || this.dropped) return;
    const due = this.index.peekDue();
    if (due === this.timerDue) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = due;
    if (due === Infinity) return;
    this.timer = setTimeout(this.fire, Math.min(Math.max(0, due - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerDue = Infinity;
    if (this.durability === null) this.releaseFromMemory();
    else void this.releaseFromLog(this.durability.log);
  };

  private releaseFromMemory(): void {
    const out = this.popped;
    const now = Date.now();
    while (this.index.peekDue() <= now && this.index.pop(out)) {
      const message = this.inMemory.get(out[2]);
      this.inMemory.delete(out[2]);
      if (message !== undefined) this.releaseOne(message);
    }
    this.arm();
  }

  private async releaseFromLog(log: MessageLog): Promise<void> {
    this.releasing = true;
    const out = this.popped;
    try {
      for (;;) {
        const now = Date.now();
        const msgIds: number[] = [];
        const positions: LogPosition[] = [];
        while (msgIds.length < RELEASE_BATCH && this.index.peekDue() <= now && this.index.pop(out)) {
          msgIds.push(out[2]);
          positions.push({ segment: out[3], offset: out[4], length: out[5] });
        }
        if (msgIds.length === 0) break;
        const records = await log.readMessages(positions);
        if (this.dropped) return;
        for (let i = 0; i < records.length; i++) {
          const record = records[i];
          this.releaseOne(new Message(this.exchangeName, record.routingKey, record.properties, record.body, record.body.length));
          log.appendSettle(msgIds[i], this.key);
        }
      }
    } catch (error) {
      this.reportError(error, 'reading delayed messages back');
    } finally {
      this.releasing = false;
      this.arm();
    }
  }

  private releaseOne(message: Message): void {
    try {
      this.release(message);
    } catch (error) {
      this.reportError(error, 'routing a delayed message');
    }
  }
}
