import type { FieldTable } from '../protocol/field-table.js';
import { effectiveDefinition, type Policy } from './access/policies.js';
import type { Consumer } from './consumer.js';
import type { DeduplicationCache } from './dedup.js';
import type { DeadLetterReason } from './dead-letter.js';
import type { Durability } from './durability.js';
import type { Binding } from './exchange.js';
import { type Message, QueueEntry } from './message.js';
import { type QueueLimits, queueLimits, queueTypeOf } from './queue-arguments.js';
import { ConsumerOrder } from './queues/consumer-order.js';
import { withDeliveryCount } from './queues/quorum.js';
import { FifoReady, PriorityReady, type ReadyList } from './ready-list.js';
import { DepthRates, MessageStats } from './stats.js';

/** A stored queue keeps at most this many ready messages in memory; the rest wait in the log. */
const RESIDENT_MAX_MESSAGES = 20_000;
/** ... and at most this many body bytes. */
const RESIDENT_MAX_BYTES = 16 * 1024 * 1024;
/** Paged-out messages are read back when fewer than this many are resident... */
const PAGE_IN_BELOW = 5_000;
/** ... in batches of this many. */
const PAGE_IN_BATCH = 2_000;

const ignoreMsgId = (): void => {};

/**
 * The longest delay Node's setTimeout keeps (2^31-1 ms, about 24.8 days);
 * longer ones fire at once. TTLs and expiry reach ten years: their timers are
 * armed for at most this long and armed again until the deadline.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Flow control: a queue with consumers that falls this far behind slows the
 * connections publishing into it until it is back under FLOW_RESUME_BELOW.
 */
const FLOW_THROTTLE_ABOVE = 1_000;
const FLOW_RESUME_BELOW = 500;
/** The same in body bytes held in memory, for large messages. */
const FLOW_THROTTLE_ABOVE_BYTES = 8 * 1024 * 1024;
const FLOW_RESUME_BELOW_BYTES = 4 * 1024 * 1024;

/** A publisher slowed down by a queue's flow control. */
export interface FlowWaiter {
  flowResumed(): void;
}

/** Something waiting for a queue to read paged-out messages back (a basic.get). */
export interface PageInWaiter {
  pagedIn(): void;
}

/** The vhost, as a queue sees it: where its dead letters go, and who deletes it when x-expires runs out. */
export interface QueueOwner {
  /** Whether the queue has a dead-letter exchange that exists (dropping a paged-out message then needs its body). */
  hasDeadLetterExchange(queue: Queue): boolean;
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void;
  queueExpired(queue: Queue): void;
  /** An error raised in the queue's timer or I/O callback: that operation failed, the queue goes on. */
  unexpectedError(queue: Queue, error: unknown, what: string): void;
}

export interface QueueOptions {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

/**
 * A queue is a data structure, not a stream: a ring buffer of ready entries,
 * its consumers in the order they are chosen (ConsumerOrder), and a dispatch loop that runs until
 * every consumer's window is full. No timers, promises or closures per message.
 * A stored (durable) queue keeps a bounded window of ready messages in memory:
 * past it, stored messages are paged out to the log and read back in batches
 * ahead of the consumers.
 */
export class Queue {
  /** Ready entries in delivery order (by priority first in a priority queue). */
  readonly ready: ReadyList;
  /** Subscribed consumers, in the order the next one is chosen from (see ConsumerOrder). */
  readonly consumers: Consumer[];
  private readonly consumerOrder: ConsumerOrder;
  readonly bindings = new Set<Binding>();
  /** Messages delivered to consumers (or got) and not yet acked. */
  unackedCount = 0;
  /** Body bytes of those unacked messages. */
  unackedBytes = 0;
  /** Ready and unacked messages kept in the message log (RabbitMQ's messages_persistent). */
  storedCount = 0;
  /** publish (enqueued), deliveries, gets and acks; the channel counts all but publish. */
  readonly stats = new MessageStats();
  /** Its depth's rates, sampled with the counters. */
  readonly depthRates = new DepthRates();
  /** Set when a consumer has ever subscribed: auto-delete applies only after that. */
  hadConsumer = false;
  deleted = false;
  /** Last publish this queue was routed by; dedups fan-in from several bindings. */
  routeMark = 0;
  /** x-queue-type: 'classic', 'quorum' or 'stream' (a StreamQueue). */
  readonly type: string;
  /**
   * A quorum queue: every message is stored whatever its delivery mode, and
   * returns are counted (x-delivery-count, x-delivery-limit).
   */
  private readonly quorum: boolean;
  private nextSeq = 1;
  /** Seqs for entries a quorum queue puts back at the front, decreasing. */
  private frontSeq = 0;
  /** Set for a durable queue when the broker has a message log: stored messages are settled there. */
  private durability: Durability | null = null;
  /** The queue's name in the log (vhost and name). */
  storeKey = '';
  /** Highest stored message id delivered; the log brings those back redelivered after a restart. */
  private deliveredUpTo = 0;
  private watermarkPending = false;
  private dispatching = false;
  /** Ready entries whose message is in memory, and their body bytes. */
  private residentCount = 0;
  private residentBytes = 0;
  /** Ready entries paged out to the log. */
  private pagedCount = 0;
  private pagingIn = false;
  private readonly pageInWaiters: PageInWaiter[] = [];
  private readonly flowWaiters: FlowWaiter[] = [];
  /** Body bytes of all ready entries, resident or paged out (x-max-length-bytes counts these). */
  readyBytes = 0;
  /**
   * x-message-ttl, x-max-length(-bytes), x-overflow, x-expires, x-max-priority, x-single-active-consumer,
   * dead-lettering: the arguments combined with the policies that apply. Recomputed when those change, never per message.
   */
  limits: QueueLimits;
  /** The policy and the operator policy that apply to this queue (the vhost sets them). */
  policy: Policy | undefined = undefined;
  operatorPolicy: Policy | undefined = undefined;
  /** x-max-length or x-max-length-bytes is set; with reject-publish(-dlx), the queue may refuse messages. */
  private capped: boolean;
  private refusesWhenFull: boolean;
  /** Told of dead letters and of the queue expiring; null for a queue on its own (tests). */
  owner: QueueOwner | null = null;
  /** x-message-deduplication: the cache of the deduplication header values it took in (the vhost sets it). */
  deduplication: DeduplicationCache | null = null;
  /** Some entry has carried an expiry: dispatch and get drop expired heads first. */
  private expiring: boolean;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryTimerAt = 0;
  private unusedTimer: NodeJS.Timeout | undefined;
  /** When x-expires deletes the queue, if it stays unused. */
  private unusedUntil = 0;
  // The timer callbacks are static and get the queue as setTimeout's argument: two closures per queue
  // (expiry and unused) cost about 700 bytes of heap on every queue, used or not (issue 13: RSS per idle queue).
  private static expiryDue(queue: Queue): void {
    queue.expiryTimer = undefined;
    if (queue.deleted) return;
    const head = queue.ready.peek();
    try {
      queue.dropExpired();
    } catch (error) {
      queue.reportFailure(error, 'message expiry');
      // When the message that failed has left the head, the rest still expire on time
      // (one that stays at the head waits for the next publish or get, rather than failing in a loop).
      if (queue.ready.peek() !== head) queue.armExpiryTimer();
    }
  }

  private static unusedFor(queue: Queue): void {
    queue.unusedTimer = undefined;
    if (queue.deleted || queue.consumers.length > 0) return;
    const left = queue.unusedUntil - Date.now();
    try {
      if (left > 0) queue.armUnusedTimer(left);
      else queue.owner?.queueExpired(queue);
    } catch (error) {
      queue.reportFailure(error, 'queue expiry (x-expires)');
    }
  }

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly options: QueueOptions,
    /** The connection of an exclusive queue; null otherwise. */
    readonly exclusiveOwner: object | null,
  ) {
    this.type = queueTypeOf(options.arguments);
    this.quorum = this.type === 'quorum';
    this.limits = queueLimits(options.arguments);
    this.consumerOrder = new ConsumerOrder(this.limits.singleActiveConsumer);
    this.consumers = this.consumerOrder.list;
    this.ready = this.limits.maxPriority >= 0 ? new PriorityReady(this.limits.maxPriority) : new FifoReady();
    this.capped = this.limits.maxLength >= 0 || this.limits.maxLengthBytes >= 0;
    this.refusesWhenFull = this.capped && this.limits.overflow !== 'drop-head';
    this.expiring = this.limits.messageTtl >= 0;
    this.used();
  }

  /** x-queue-type as declared ('classic' when not given): what a policy's apply-to matches. */
  get queueType(): string {
    return this.type;
  }

  /** Stores transient messages too (a quorum queue): the vhost writes them to the log for it. */
  get storesEveryMessage(): boolean {
    return this.quorum;
  }

  /**
   * The policies that apply changed: the limits are recomputed and take
   * effect at once, as in RabbitMQ: a lower length limit drops (or
   * dead-letters) the head now, and the unused clock (expires) starts again.
   * Messages already queued keep the TTL they were enqueued with.
   */
  applyPolicies(policy: Policy | undefined, operatorPolicy: Policy | undefined): void {
    this.policy = policy;
    this.operatorPolicy = operatorPolicy;
    const limits = queueLimits(this.options.arguments, effectiveDefinition(policy, operatorPolicy));
    this.limits = limits;
    this.capped = limits.maxLength >= 0 || limits.maxLengthBytes >= 0;
    this.refusesWhenFull = this.capped && limits.overflow !== 'drop-head';
    if (limits.messageTtl >= 0) this.expiring = true;
    if (this.deleted) return;
    clearTimeout(this.unusedTimer);
    this.unusedTimer = undefined;
    this.used();
    if (this.capped) this.dropOverflow();
  }

  /** An error in a timer or callback of this queue: reported; the operation it broke is abandoned. */
  protected reportFailure(error: unknown, what: string): void {
    if (this.owner !== null) this.owner.unexpectedError(this, error, what);
  }

  /** x-expires: the queue was declared or got from; its clock starts again (it runs only without consumers). */
  used(): void {
    if (this.limits.expires <= 0 || this.consumers.length > 0 || this.deleted) return;
    clearTimeout(this.unusedTimer);
    this.unusedUntil = Date.now() + this.limits.expires;
    this.armUnusedTimer(this.limits.expires);
  }

  private armUnusedTimer(delay: number): void {
    this.unusedTimer = setTimeout(Queue.unusedFor, Math.min(delay, MAX_TIMER_MS), this);
    this.unusedTimer.unref();
  }

  /** The queue is deleted or the broker stops: no timer of it may fire. */
  stopTimers(): void {
    clearTimeout(this.unusedTimer);
    clearTimeout(this.expiryTimer);
    this.unusedTimer = undefined;
    this.expiryTimer = undefined;
  }

  /** Makes the queue settle its stored messages in the log. */
  attachStorage(durability: Durability, key: string): void {
    this.durability = durability;
    this.storeKey = key;
  }

  get isStored(): boolean {
    return this.durability !== null;
  }

  /** Whether the next recovered message should stay in the log rather than in memory. */
  get wantsPagedRestore(): boolean {
    return this.residentCount >= RESIDENT_MAX_MESSAGES || this.residentBytes >= RESIDENT_MAX_BYTES;
  }

  /** A message recovered from the log, in its original order; `message` null leaves it paged out. */
  restore(
    msgId: number,
    segment: number,
    offset: number,
    length: number,
    bodySize: number,
    message: Message | null,
    redelivered: boolean,
    /** Its priority, as the log recorded it (for a paged-out message of a priority queue). */
    priority: number,
  ): void {
    if (msgId !== 0) this.storedCount++;
    if (redelivered && msgId > this.deliveredUpTo) this.deliveredUpTo = msgId;
    // The TTL runs again from the restart: the log keeps no publish time.
    const ttl = message === null ? this.limits.messageTtl : this.restoredTtl(message);
    if (message === null) {
      this.pushPaged(msgId, segment, offset, length, bodySize, ttl, redelivered, priority);
      return;
    }
    const entry = new QueueEntry(message, this.nextSeq++, msgId, segment, offset, length, bodySize);
    entry.redelivered = redelivered;
    if (this.limits.maxPriority >= 0) entry.priority = Math.min(priority, this.limits.maxPriority);
    if (ttl >= 0) this.expireAt(entry, Date.now() + ttl);
    this.pushReady(entry);
  }

  /** A stored message that waits in the log, kept in the ready list's compact tail (no QueueEntry until it nears the head). */
  private pushPaged(msgId: number, segment: number, offset: number, length: number, bodySize: number, ttl: number, redelivered: boolean, priority: number): void {
    let expiresAt = 0;
    if (ttl >= 0) {
      expiresAt = Date.now() + ttl;
      this.expiring = true;
    }
    const band = this.limits.maxPriority >= 0 ? Math.min(priority, this.limits.maxPriority) : 0;
    this.ready.pushPaged(this.nextSeq++, msgId, segment, offset, length, bodySize, expiresAt, redelivered, 0, band);
    this.readyBytes += bodySize;
    this.pagedCount++;
  }

  /** Ready messages whose bodies wait in the log rather than in memory. */
  get pagedOutCount(): number {
    return this.pagedCount;
  }

  get messageCount(): number {
    return this.ready.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  enqueue(message: Message): void {
    // A transient message is in the log only for the quorum queues it reached.
    const stored = message.msgId !== 0 && this.durability !== null && (this.quorum || message.persistent);
    const pageOut =
      stored && (this.pagedCount > 0 || this.residentCount >= RESIDENT_MAX_MESSAGES || this.residentBytes >= RESIDENT_MAX_BYTES);
    const position = message.position;
    this.stats.publish++;
    if (pageOut && position !== undefined) {
      this.storedCount++;
      const priority = this.limits.maxPriority >= 0 ? message.priority : 0;
      this.pushPaged(message.msgId, position.segment, position.offset, position.length, message.bodySize, this.ttlOf(message), false, priority);
    } else {
      const entry =
        stored && position !== undefined
          ? new QueueEntry(message, this.nextSeq++, message.msgId, position.segment, position.offset, position.length, message.bodySize)
          : new QueueEntry(message, this.nextSeq++, 0, 0, 0, 0, message.bodySize);
      if (entry.msgId !== 0) this.storedCount++;
      const ttl = this.ttlOf(message);
      if (ttl >= 0) this.expireAt(entry, Date.now() + ttl);
      if (this.limits.maxPriority >= 0) entry.priority = Math.min(message.priority, this.limits.maxPriority);
      this.pushReady(entry);
    }
    if (this.consumers.length > 0) this.dispatch();
    // A message with TTL 0 lives only if a consumer took it at once.
    if (this.expiring) this.dropExpired();
    if (this.capped) this.dropOverflow();
  }

  /** The TTL of a message in this queue: the lower of x-message-ttl and its expiration; -1 for none. */
  private ttlOf(message: Message): number {
    const queueTtl = this.limits.messageTtl;
    const messageTtl = message.ttl;
    if (messageTtl < 0) return queueTtl;
    return queueTtl < 0 || messageTtl < queueTtl ? messageTtl : queueTtl;
  }

  /** As ttlOf, for a message read back from the log: one with an expiration that does not parse lives on. */
  private restoredTtl(message: Message): number {
    try {
      return this.ttlOf(message);
    } catch {
      return this.limits.messageTtl;
    }
  }

  private expireAt(entry: QueueEntry, at: number): void {
    entry.expiresAt = at;
    this.expiring = true;
  }

  /**
   * x-overflow reject-publish(-dlx): a queue that one more message would take
   * past x-max-length or x-max-length-bytes turns it away (RabbitMQ's rule).
   */
  refuses(message: Message): boolean {
    return this.refusesWhenFull && this.exceedsLimits(1, message.bodySize);
  }

  /** Whether `count` more ready messages of `bytes` would leave the queue past x-max-length or x-max-length-bytes. */
  private exceedsLimits(count: number, bytes: number): boolean {
    const limits = this.limits;
    return (
      (limits.maxLength >= 0 && this.ready.length + count > limits.maxLength) ||
      (limits.maxLengthBytes >= 0 && this.readyBytes + bytes > limits.maxLengthBytes)
    );
  }

  /**
   * Expired messages leave from the head only, as in RabbitMQ (a message
   * behind one with a longer TTL waits for it); a timer is armed for the
   * next head. They are dead-lettered with reason 'expired' where configured.
   */
  private dropExpired(now = Date.now()): void {
    let head = this.ready.peek();
    while (head !== undefined && head.expiresAt !== 0 && head.expiresAt <= now) {
      if (!this.dropHead(head, 'expired')) return;
      head = this.ready.peek();
    }
    this.armExpiryTimer(head);
  }

  /** One timer per queue, for the head's deadline (none when the head does not expire). */
  private armExpiryTimer(head = this.ready.peek()): void {
    if (head === undefined || head.expiresAt === 0) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    } else if (this.expiryTimer === undefined || this.expiryTimerAt !== head.expiresAt) {
      clearTimeout(this.expiryTimer);
      this.expiryTimerAt = head.expiresAt;
      // A head due past MAX_TIMER_MS: dropExpired runs early, finds it not due, and arms again.
      this.expiryTimer = setTimeout(Queue.expiryDue, Math.min(MAX_TIMER_MS, Math.max(0, head.expiresAt - Date.now())), this);
      this.expiryTimer.unref();
    }
  }

  /** x-overflow drop-head: the oldest ready messages go (dead-lettered 'maxlen') until the queue is within its limits. */
  private dropOverflow(): void {
    if (this.limits.overflow !== 'drop-head') return;
    while (this.exceedsLimits(0, 0)) {
      if (!this.dropHead(this.ready.peek() as QueueEntry, 'maxlen')) return;
    }
  }

  /**
   * Removes the head entry for good. A paged-out head that is to be
   * dead-lettered needs its body first: false, and the queue reads it back
   * (then drops again).
   */
  private dropHead(head: QueueEntry, reason: DeadLetterReason): boolean {
    if (head.message === null && this.owner !== null && this.owner.hasDeadLetterExchange(this)) {
      this.pageIn();
      return false;
    }
    this.ready.shift();
    this.countOut(head);
    this.forget(head);
    if (head.message !== null) this.owner?.deadLetter(this, head.message, reason);
    this.afterShift();
    return true;
  }

  /** Behind its consumers: publishers into it should wait (see FlowWaiter). */
  get overloaded(): boolean {
    return (
      (this.ready.length > FLOW_THROTTLE_ABOVE || this.residentBytes > FLOW_THROTTLE_ABOVE_BYTES) && this.consumers.length > 0
    );
  }

  /** `waiter` hears when the queue has caught up (or lost its consumers, or went away). */
  waitForFlow(waiter: FlowWaiter): void {
    this.flowWaiters.push(waiter);
  }

  private releaseFlow(): void {
    const waiters = this.flowWaiters.splice(0);
    for (let i = 0; i < waiters.length; i++) waiters[i].flowResumed();
  }

  private pushReady(entry: QueueEntry): void {
    this.ready.push(entry);
    this.countIn(entry);
  }

  private countIn(entry: QueueEntry): void {
    this.readyBytes += entry.bodySize;
    if (entry.message === null) this.pagedCount++;
    else {
      this.residentCount++;
      this.residentBytes += entry.bodySize;
    }
  }

  private countOut(entry: QueueEntry): void {
    this.readyBytes -= entry.bodySize;
    if (entry.message === null) this.pagedCount--;
    else {
      this.residentCount--;
      this.residentBytes -= entry.bodySize;
    }
  }

  /** After an entry left the ready list: read more back from the log, let throttled publishers go. */
  private afterShift(): void {
    if (this.pagedCount > 0 && this.residentCount < PAGE_IN_BELOW) this.pageIn();
    if (this.flowWaiters.length > 0 && this.ready.length < FLOW_RESUME_BELOW && this.residentBytes < FLOW_RESUME_BELOW_BYTES) {
      this.releaseFlow();
    }
  }

  /** Takes the head entry off the ready list; undefined when empty or when its message is still in the log. */
  private shiftResident(): QueueEntry | undefined {
    const head = this.ready.peek();
    if (head === undefined) return undefined;
    if (head.message === null) {
      this.pageIn();
      return undefined;
    }
    this.ready.shift();
    this.countOut(head);
    this.afterShift();
    return head;
  }

  /** Reads the next batch of paged-out messages back from the log. */
  private pageIn(): void {
    if (this.pagingIn || this.pagedCount === 0 || this.durability === null) return;
    const entries = this.ready.pagedBatch(PAGE_IN_BATCH);
    if (entries.length === 0) return;
    this.pagingIn = true;
    const positions = entries.map((entry) => entry.position);
    this.durability.loadMessages(positions).then(
      (loaded) => {
        try {
          this.pagedInBatch(entries, loaded.messages, loaded.error);
        } catch (error) {
          this.pagingIn = false;
          this.reportFailure(error, 'page-in');
        }
      },
      (error: unknown) => {
        // Not a damaged record (those come back as null): keep the entries and try again later.
        this.pagingIn = false;
        this.durability?.pageInFailed(this, error);
      },
    );
  }

  private pagedInBatch(entries: readonly QueueEntry[], messages: readonly (Message | null)[], error: unknown): void {
    this.pagingIn = false;
    if (this.deleted) return;
    let lost = 0;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      // Purged meanwhile, or loaded already: nothing to do.
      if (entry.message !== null || !this.ready.includes(entry)) continue;
      const message = messages[i];
      if (message === null || message === undefined) {
        // Unreadable in the log: dropped (and settled there) rather than blocking the queue.
        this.ready.remove(entry);
        this.countOut(entry);
        this.forget(entry);
        lost++;
        continue;
      }
      this.pagedCount--;
      entry.message = message;
      this.residentCount++;
      this.residentBytes += entry.bodySize;
    }
    if (lost > 0) this.durability?.pageInFailed(this, new Error(`${lost} stored messages could not be read back and were dropped: ${String(error)}`));
    // Heads that waited for their bodies to be dead-lettered.
    if (this.expiring) this.dropExpired();
    this.dropOverflow();
    const waiters = this.pageInWaiters.splice(0);
    for (const waiter of waiters) {
      try {
        waiter.pagedIn();
      } catch (error) {
        this.reportFailure(error, 'page-in waiter');
      }
    }
    if (this.consumers.length > 0) this.dispatch();
  }

  /** basic.get found the head paged out: `waiter` hears when it is back. */
  waitForPageIn(waiter: PageInWaiter): void {
    this.pageInWaiters.push(waiter);
    this.pageIn();
  }

  /** Hands ready entries to consumers, round-robin, while any has room. */
  dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      while (this.ready.length > 0 && consumers.length > 0) {
        const chosen = this.consumerOrder.next();
        if (chosen === undefined) break;
        // Not those due this very ms: a message with TTL 0 goes to a consumer that can take it.
        if (this.expiring) this.dropExpired(Date.now() - 1);
        const entry = this.shiftResident();
        if (entry === undefined) break;
        this.taken(entry, chosen.noAck);
        try {
          chosen.deliver(this, entry, entry.message as Message);
        } catch (error) {
          this.consumerFailed(chosen, error);
        }
      }
    } finally {
      this.dispatching = false;
    }
    this.watchNewHead();
  }

  /**
   * A head without expiry left: the next one may carry one (a per-message
   * expiration, or a TTL set by a policy after the first arrived) with no
   * timer for it yet. It then expires on time, not at the next touch.
   */
  private watchNewHead(): void {
    if (this.expiring && this.expiryTimer === undefined && this.ready.length > 0) this.dropExpired();
  }

  /** A consumer's deliver threw: it is unsubscribed and its session closes; the queue serves the others. */
  protected consumerFailed(consumer: Consumer, error: unknown): void {
    this.removeConsumer(consumer);
    try {
      if (consumer.failed !== undefined) consumer.failed(this, error);
      else this.reportFailure(error, `delivery to consumer '${consumer.tag}'`);
    } catch (failure) {
      this.reportFailure(failure, `closing consumer '${consumer.tag}'`);
    }
  }

  /**
   * basic.get: the head entry, counted as unacked unless no-ack; undefined
   * when empty, null when the head is still being read from the log.
   */
  get(noAck: boolean): QueueEntry | undefined | null {
    this.used();
    if (this.expiring) this.dropExpired();
    const entry = this.shiftResident();
    if (entry === undefined) return this.ready.length > 0 ? null : undefined;
    this.taken(entry, noAck);
    this.watchNewHead();
    return entry;
  }

  /** An entry leaves the ready list for a consumer or basic.get. */
  private taken(entry: QueueEntry, noAck: boolean): void {
    if (noAck) this.forget(entry);
    else {
      this.unackedCount++;
      this.unackedBytes += entry.bodySize;
    }
    const msgId = entry.msgId;
    if (msgId > this.deliveredUpTo && this.durability !== null) {
      this.deliveredUpTo = msgId;
      if (!this.watermarkPending) {
        this.watermarkPending = true;
        this.durability.watermarkMoved(this);
      }
    }
  }

  writeWatermark(): void {
    this.watermarkPending = false;
    if (this.durability !== null && !this.deleted) this.durability.log.appendDelivered(this.storeKey, this.deliveredUpTo);
  }

  /** An unacked entry was acked, or rejected without requeue. */
  settle(entry: QueueEntry): void {
    this.unackedCount--;
    this.unackedBytes -= entry.bodySize;
    this.forget(entry);
  }

  /** The entry is gone for good: its stored message is settled for this queue. */
  private forget(entry: QueueEntry): void {
    this.forgetStored(entry.msgId);
  }

  private forgetStored(msgId: number): void {
    if (msgId !== 0) this.storedCount--;
    if (msgId !== 0 && this.durability !== null && !this.deleted) this.durability.log.appendSettle(msgId, this.storeKey);
  }

  /**
   * Puts unacked entries back at their original place (by seq), marked
   * redelivered, as RabbitMQ does, then dispatches.
   */
  requeue(entries: readonly QueueEntry[]): void {
    if (this.deleted) return;
    if (this.quorum) {
      this.returnEntries(entries);
      return;
    }
    const sorted = entries.length > 1 ? [...entries].sort((a, b) => b.seq - a.seq) : entries;
    for (const entry of sorted) {
      this.unackedCount--;
      this.unackedBytes -= entry.bodySize;
      entry.redelivered = true;
      this.ready.reinsert(entry);
      this.countIn(entry);
    }
    if (this.consumers.length > 0) this.dispatch();
    if (this.expiring) this.dropExpired();
  }

  /**
   * A quorum queue gets delivered entries back (nack/reject with requeue,
   * basic.recover, the consumer's channel closing): each return counts, and
   * one that takes a message past x-delivery-limit drops it, dead-lettered
   * with reason delivery_limit where the queue has a DLX. As RabbitMQ 3.10
   * does (observed): with a limit the others go back to the front, in the
   * order returned; without one, to the back.
   */
  private returnEntries(entries: readonly QueueEntry[]): void {
    const limit = this.limits.deliveryLimit;
    const kept: QueueEntry[] = [];
    for (const entry of entries) {
      this.unackedCount--;
      entry.deliveryCount++;
      entry.redelivered = true;
      if (limit >= 0 && entry.deliveryCount > limit) {
        this.forget(entry);
        if (entry.message !== null) this.owner?.deadLetter(this, entry.message, 'delivery_limit');
      } else kept.push(entry);
    }
    if (limit >= 0) {
      for (let i = kept.length - 1; i >= 0; i--) {
        kept[i].seq = --this.frontSeq;
        this.ready.reinsert(kept[i]);
        this.countIn(kept[i]);
      }
    } else {
      for (const entry of kept) {
        entry.seq = this.nextSeq++;
        this.pushReady(entry);
      }
    }
    if (this.consumers.length > 0) this.dispatch();
    if (this.expiring) this.dropExpired();
  }

  /**
   * The basic properties a delivery of `entry` carries: the message's own,
   * but a quorum queue sets x-delivery-count on a redelivery (a returned
   * message) and on every basic.get (`get`), 0 on a first one.
   */
  deliveryProperties(entry: QueueEntry, message: Message, get: boolean): Buffer {
    if (!this.quorum || (entry.deliveryCount === 0 && !get)) return message.rawProperties;
    return withDeliveryCount(message.rawProperties, entry.deliveryCount);
  }

  purge(): number {
    if (this.flowWaiters.length > 0) this.releaseFlow();
    const purged = this.ready.clear(this.durability === null ? ignoreMsgId : (msgId) => this.forgetStored(msgId));
    this.residentCount = 0;
    this.residentBytes = 0;
    this.readyBytes = 0;
    this.pagedCount = 0;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    return purged;
  }

  /** The queue is deleted: its stored messages go from the log in one record. */
  dropStorage(): void {
    if (this.durability !== null) this.durability.log.appendQueueDeleted(this.storeKey);
    this.durability = null;
  }

  addConsumer(consumer: Consumer, dispatchNow = true): void {
    this.consumerOrder.add(consumer);
    this.hadConsumer = true;
    clearTimeout(this.unusedTimer);
    this.unusedTimer = undefined;
    if (dispatchNow) this.dispatch();
  }

  /** Returns whether the consumer was subscribed here. */
  removeConsumer(consumer: Consumer): boolean {
    if (!this.consumerOrder.remove(consumer)) return false;
    if (this.consumers.length === 0 && this.flowWaiters.length > 0) this.releaseFlow();
    if (this.consumers.length === 0) this.used();
    return true;
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.length > 0 && this.consumers[0].exclusive;
  }
}
