import type { FieldValue } from '../protocol/field-table.js';
import type { LogPosition, MessageLog, RecoveredQueue, StoredMessage } from '../storage/message-log.js';
import { preconditionFailed } from '../protocol/errors.js';
import { DelayIndex } from './delay-index.js';
import type { Durability } from './durability.js';
import { Message } from './message.js';

/**
 * Longest delay held: ten years, the bound Warren (as RabbitMQ) puts on TTLs. The plugin routes
 * anything above 2^32 − 1 ms at once, a weakness Warren does not copy; a delay past this bound
 * (a due time no clock reaches) is routed at once as there.
 */
export const MAX_DELAY_MS = 315_360_000_000;
/** Longest a Node.js timer can be armed for; longer waits re-arm. */
const MAX_TIMER_MS = 2_147_483_647;
/** Messages read back from the log per read (at boot, and ahead of their due time). */
const READ_BATCH = 512;
/**
 * A read back from the log into memory starts when the first stored message is due within PREFETCH_MS, and
 * takes (up to READ_BATCH) those due within twice that: one read per batch of messages, not one per timer tick.
 */
const PREFETCH_MS = 250;
/** At most this many read-ahead messages, and this many bytes of their records, wait in memory per exchange. */
const PREFETCH_MAX_MESSAGES = 5_000;
const PREFETCH_MAX_BYTES = 8 * 1024 * 1024;
/** Due messages routed per event-loop turn: deliveries of a backlog go out to sockets between batches. */
const RELEASE_PER_TURN = 1_000;
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
 * A delayed message's record keeps its due time in the exchange field, followed by its CC and BCC routing
 * keys as JSON after a newline when it has some. The field holds at most 65535 bytes: a publish with more
 * keys than that is refused (406 on the channel) rather than have them lost when the message falls due.
 */
function storedField(due: number, extraKeys: readonly string[] | null): string {
  if (extraKeys === null || extraKeys.length === 0) return String(due);
  const field = `${due}\n${JSON.stringify(extraKeys)}`;
  if (Buffer.byteLength(field) > 0xffff) throw preconditionFailed('invalid message: CC and BCC routing keys of a delayed message longer than 65535 bytes');
  return field;
}

function dueOf(field: string): number {
  const end = field.indexOf('\n');
  const due = Number(end < 0 ? field : field.slice(0, end));
  return Number.isFinite(due) ? due : 0;
}

function extraKeysOf(field: string): string[] | null {
  const start = field.indexOf('\n');
  if (start < 0) return null;
  const keys: unknown = JSON.parse(field.slice(start + 1));
  return Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : null;
}

/**
 * The pending messages of one x-delayed-message exchange, and one timer.
 *
 * With a message log (the broker has a data dir), a message waits in the log under a hidden key of the exchange;
 * in memory there is only its entry in `stored`, a DelayIndex of numbers. About PREFETCH_MS before it falls due
 * it is read back (in batches, one read at a time, bounded in count and bytes) into `ready`, so that routing it at
 * its due time needs no disk read. Without a log, every message waits in `ready`.
 *
 * `ready` holds (due, seq, log msgId, record length, 0, 0) entries, the Message of each in `messages` by its seq
 * (and its CC/BCC keys in `extraKeys`). The timer is armed for the earlier of `ready`'s first due time and the
 * time to read `stored`'s first one ahead. A message is
 * routed only once everything due before it (by due time, then publish order) is in `ready`: should a read fall
 * behind, routing waits for it rather than overtake.
 */
export class DelayedMessages {
  /** Messages in the log and not in memory. */
  private readonly stored = new DelayIndex();
  /** Messages in memory, routed from here when due. */
  private readonly ready = new DelayIndex();
  private readonly messages = new Map<number, Message>();
  /** The CC and BCC routing keys of the messages in `ready` that have some, by seq (with a log, read back from the record). */
  private readonly extraKeys = new Map<number, readonly string[]>();
  private readyBytes = 0;
  /** Entries taken out of `stored` whose read is under way, and the first of them (due, seq). */
  private reading = 0;
  private readingDue = Infinity;
  private readingSeq = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private releaseQueued = false;
  private stopped = false;
  private durability: Durability | null = null;
  private key = '';
  private readonly popped = new Float64Array(6);

  constructor(
    /** The exchange's name, which released messages carry. */
    private readonly exchangeName: string,
    /** Routes a due message through the exchange, with its CC and BCC routing keys (null when none). */
    private readonly release: (message: Message, extraKeys: readonly string[] | null) => void,
    /** Where a failure to read due messages back goes. */
    private readonly reportError: (error: unknown, what: string) => void,
  ) {}

  /** Pending delayed messages (the management API's messages_delayed): three counters, no walk. */
  get pending(): number {
    return this.stored.size + this.reading + this.ready.size;
  }

  /** From now on messages wait in the log under `key` (the broker has a data dir). */
  attachStorage(durability: Durability, key: string): void {
    this.durability = durability;
    this.key = key;
  }

  /**
   * A publish that waits `delay` ms; `extraKeys` are its CC and BCC routing keys (the message is already without
   * BCC), routed with it when due as RabbitMQ does. With a log, sets message.ticket: its confirm waits for the disk.
   */
  add(message: Message, delay: number, extraKeys: readonly string[] | null = null): void {
    const due = Date.now() + delay;
    const durability = this.durability;
    // The record's exchange field holds the due time and the CC/BCC keys: the log key already names the exchange.
    const field = durability === null ? '' : storedField(due, extraKeys);
    const seq = ++this.seq;
    if (durability === null) {
      this.messages.set(seq, message);
      if (extraKeys !== null && extraKeys.length > 0) this.extraKeys.set(seq, extraKeys);
      this.ready.push(due, seq, 0, 0, 0, 0);
    } else {
      const msgId = durability.newMsgId();
      const { ticket, position } = durability.log.appendPublish(msgId, [this.key], field, message.routingKey, message.rawProperties, message.body);
      message.ticket = ticket;
      // Read back like any other (at the next timer), so a burst of short delays is read in batches.
      this.stored.push(due, seq, msgId, position.segment, position.offset, position.length);
    }
    this.arm();
  }

  /** Messages found in the log at boot, in publish order: their due times are read back (bodies dropped). */
  async restore(log: MessageLog, stored: RecoveredQueue): Promise<void> {
    for (let start = 0; start < stored.length; start += READ_BATCH) {
      const end = Math.min(stored.length, start + READ_BATCH);
      const positions: LogPosition[] = [];
      for (let i = start; i < end; i++) positions.push(stored.position(i));
      const records = await log.readMessages(positions);
      for (let i = 0; i < records.length; i++) {
        const due = dueOf(records[i].exchange);
        const p = positions[i];
        this.stored.push(due, ++this.seq, records[i].msgId, p.segment, p.offset, p.length);
      }
    }
    this.arm();
  }

  /** The exchange is deleted: its pending messages are discarded (settled in the log). */
  drop(): void {
    this.stop();
    this.stored.clear();
    this.ready.clear();
    this.messages.clear();
    this.extraKeys.clear();
    this.readyBytes = 0;
    this.reading = 0;
    if (this.durability !== null) this.durability.log.appendQueueDeleted(this.key);
  }

  /** The broker stops: no timer fires after this. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  /** One timer, for the earliest of: the first ready message's due time, the time to read the first stored one. */
  private arm(): void {
    if (this.stopped) return;
    let wake = Infinity;
    // While a batch waits for the next turn, that turn re-arms.
    if (!this.releaseQueued) {
      // A ready message that waits for a read under way is routed when the read comes back, not by a timer.
      if (this.reading === 0 || this.readyFirst()) wake = this.ready.peekDue();
      if (this.reading === 0 && this.stored.size > 0) {
        // A full read-ahead waits for room, unless what is stored falls due first.
        const readAt = this.hasRoom() ? this.stored.peekDue() - PREFETCH_MS : this.stored.peekDue();
        if (readAt < wake) wake = readAt;
      }
    }
    if (wake === this.timerDue) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = wake;
    if (wake === Infinity) return;
    this.timer = setTimeout(this.fire, Math.min(Math.max(0, wake - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerDue = Infinity;
    this.run();
  };

  private readonly resume = (): void => {
    this.releaseQueued = false;
    this.run();
  };

  /** Routes what is due, starts the next read-ahead, re-arms. */
  private run(): void {
    if (this.stopped || this.releaseQueued) return;
    try {
      const now = Date.now();
      this.releaseDue(now);
      this.readAhead(now);
    } catch (error) {
      this.reportError(error, 'releasing delayed messages');
    }
    this.arm();
  }

  /** Routes the ready messages due by `now`, at most RELEASE_PER_TURN; the rest in the next turn. */
  private releaseDue(now: number): void {
    const ready = this.ready;
    const out = this.popped;
    const log = this.durability === null ? null : this.durability.log;
    let routed = 0;
    while (ready.peekDue() <= now && this.readyFirst()) {
      if (routed === RELEASE_PER_TURN) {
        this.releaseQueued = true;
        setImmediate(this.resume);
        return;
      }
      ready.pop(out);
      const seq = out[1];
      const message = this.messages.get(seq);
      if (message === undefined) continue;
      this.messages.delete(seq);
      let extraKeys: readonly string[] | null = null;
      if (this.extraKeys.size > 0) {
        extraKeys = this.extraKeys.get(seq) ?? null;
        if (extraKeys !== null) this.extraKeys.delete(seq);
      }
      routed++;
      if (log !== null) {
        this.readyBytes -= out[3];
        log.appendSettle(out[2], this.key);
      }
      try {
        this.release(message, extraKeys);
      } catch (error) {
        this.reportError(error, 'routing a delayed message');
      }
    }
  }

  /** Whether ready's first message comes before every message not yet in memory (by due time, then publish order). */
  private readyFirst(): boolean {
    const readyDue = this.ready.peekDue();
    const readySeq = this.ready.peekSeq();
    // The read under way holds the messages that were first in `stored` when it started; a short delay
    // published since may come before them.
    if (this.reading > 0 && (this.readingDue < readyDue || (this.readingDue === readyDue && this.readingSeq < readySeq))) return false;
    if (this.stored.size === 0) return true;
    const storedDue = this.stored.peekDue();
    return readyDue < storedDue || (readyDue === storedDue && readySeq < this.stored.peekSeq());
  }

  /** Whether the read-ahead is below its bounds (log record bytes stand for the bodies' size). */
  private hasRoom(): boolean {
    return this.ready.size + this.reading < PREFETCH_MAX_MESSAGES && this.readyBytes < PREFETCH_MAX_BYTES;
  }

  /** Starts one read of stored messages when the first is due within PREFETCH_MS (or overdue), if none is under way. */
  private readAhead(now: number): void {
    const durability = this.durability;
    if (durability === null || this.reading > 0) return;
    const stored = this.stored;
    if (stored.peekDue() > now + PREFETCH_MS) return;
    const horizon = now + 2 * PREFETCH_MS;
    const out = this.popped;
    let entries: Float64Array | null = null;
    const positions: LogPosition[] = [];
    let n = 0;
    // Overdue messages are read even when the read-ahead is full: nothing due after them may be routed first.
    while (n < READ_BATCH && (stored.peekDue() <= now || (stored.peekDue() <= horizon && this.hasRoom()))) {
      stored.pop(out);
      if (entries === null) {
        entries = new Float64Array(READ_BATCH * 4);
        this.readingDue = out[0];
        this.readingSeq = out[1];
      }
      const e = n * 4;
      entries[e] = out[0];
      entries[e + 1] = out[1];
      entries[e + 2] = out[2];
      entries[e + 3] = out[5];
      positions.push({ segment: out[3], offset: out[4], length: out[5] });
      this.readyBytes += out[5];
      this.reading = ++n;
    }
    if (entries === null) return;
    const batch = entries;
    durability.log.readMessages(positions).then(
      (records) => this.arrived(batch, records),
      (error: unknown) => this.readFailed(batch, n, error),
    );
  }

  /** A read-ahead is back: its messages join `ready`, and any due now are routed. */
  private arrived(entries: Float64Array, records: readonly StoredMessage[]): void {
    if (this.reading === 0) return; // the exchange was deleted meanwhile
    this.reading = 0;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        const e = i * 4;
        const seq = entries[e + 1];
        this.messages.set(seq, new Message(this.exchangeName, record.routingKey, record.properties, record.body, record.body.length));
        const keys = extraKeysOf(record.exchange);
        if (keys !== null) this.extraKeys.set(seq, keys);
        this.ready.push(entries[e], seq, entries[e + 2], entries[e + 3], 0, 0);
      }
    } catch (error) {
      this.reportError(error, 'reading delayed messages back');
    }
    this.run();
  }

  /** A read-ahead failed (the log cannot give these messages back): reported, and the others go on. */
  private readFailed(entries: Float64Array, n: number, error: unknown): void {
    if (this.reading === 0) return;
    this.reading = 0;
    for (let i = 0; i < n; i++) this.readyBytes -= entries[i * 4 + 3];
    this.reportError(error, 'reading delayed messages back');
    this.run();
  }
}
