import { AmqpError, accessRefused, notFound, preconditionFailed } from '../protocol/errors.js';
import type { FieldTable } from '../protocol/field-table.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { truncate } from './arrays.js';
import { type Policy, type PolicyInput, type PolicyKind, PolicyTable, validatePolicy } from './access/policies.js';
import type { Access } from './access/permissions.js';
import { type Consumer, DIRECT_REPLY_PREFIX, type ReplyConsumer } from './consumer.js';
import { deadLetter, deadLetterExchange, type DeadLetterReason, isDeadLetterCycle } from './dead-letter.js';
import { DEDUPLICATION_ARGUMENTS, DeduplicationCache, type DeduplicationStore, deduplicationSettings, validateDeduplicationArgs } from './dedup.js';
import type { DefinitionsJournal } from './definitions.js';
import type { Durability } from './durability.js';
import { type Binding, type Destination, Exchange, type ExchangeOptions, isExchange } from './exchange.js';
import { validateHeadersBindingArgs } from './exchanges/headers.js';
import { DELAYED_KEY_PREFIX, DelayedMessages, delayOf, isDelayed } from './delayed.js';
import { bindingWeight, delayedTypeProblem, isExchangeType, validateConsistentHashArgs } from './exchanges/index.js';
import { canonicalTable, describeValue, rabbitTypeName, stringValue } from './field-values.js';
import { randomName } from './names.js';
import { reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';
import type { Message } from './message.js';
import { queueTypeOf, typeArguments, validateQueueArguments } from './queue-arguments.js';
import { checkQuorumProperties, deleteFlagRefused } from './queues/quorum.js';
import { StreamQueue, type StreamStore } from './queues/stream.js';
import { checkStreamProperties, streamRefusal } from './queues/stream-arguments.js';
import { Queue, type QueueOptions, type QueueOwner } from './queue.js';
import { BrokerStats, MessageStats } from './stats.js';

const DEFAULT_EXCHANGES: [string, string][] = [
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];
/** RabbitMQ's firehose tracing exchange: present (internal) in every vhost, though Warren never publishes to it. */
const TRACE_EXCHANGE = 'amq.rabbitmq.trace';

/** What describes a vhost besides its contents (RabbitMQ's vhost metadata). */
export interface VHostMetadata {
  description: string;
  tags: string[];
  /** x-queue-type given to queues declared without one ('classic' unless set). */
  defaultQueueType: string;
}

/**
 * A virtual host: its exchanges, queues and bindings, and the operations the
 * AMQP methods perform on them. Errors are AmqpErrors with RabbitMQ's texts.
 */
export class VHost implements QueueOwner {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** Direct reply-to consumers by their address (amq.rabbitmq.reply-to.<key>). */
  private readonly replyConsumers = new Map<string, ReplyConsumer>();
  private routeSeq = 0;
  /** Scratch space for routing, reused by every publish. */
  private readonly matched: Destination[] = [];
  private readonly routed: Queue[] = [];
  private readonly storeKeys: string[] = [];
  /**
   * Dead letters wait here while a publish is under way (a queue drops its
   * head as a message comes in), and go out once it is done: publishing
   * them at once would reuse the scratch arrays under the running publish.
   */
  private readonly deadLetters: { queue: Queue; message: Message; reason: DeadLetterReason }[] = [];
  private publishing = false;
  /** Set by publish(): a queue it reached turned the message away (x-overflow reject-publish), so a confirm is a nack. */
  refused = false;
  /** The message log, when the broker has one. */
  durability: Durability | null = null;
  /** Where durable queues and exchanges keep their deduplication caches (when the broker stores them). */
  deduplicationStore: DeduplicationStore | null = null;
  /** Where streams keep their logs (when the broker stores them; without one a stream takes no message). */
  streamStore: StreamStore | null = null;
  /** Told when a durable exchange, queue or binding, or a policy, comes or goes (when the broker stores them). */
  definitions: DefinitionsJournal | null = null;
  readonly policies = new PolicyTable();
  readonly operatorPolicies = new PolicyTable();
  readonly metadata: VHostMetadata = { description: '', tags: [], defaultQueueType: 'classic' };
  /** The vhost's message counters (its channels count into them). */
  readonly stats = new MessageStats();
  /** The default exchange, whose counters a publish to '' moves without a lookup. */
  private readonly defaultExchange: Exchange;

  constructor(
    readonly name: string,
    /** Where errors raised in its queues' timers and callbacks go (the broker's log). */
    readonly reportError: UnexpectedErrorReporter = reportToStderr,
    /** The node's counters: queue churn and dead letters are counted there. */
    readonly brokerStats: BrokerStats = new BrokerStats(),
  ) {
    const options: ExchangeOptions = { durable: true, autoDelete: false, internal: false, arguments: {} };
    this.defaultExchange = new Exchange('', name, 'direct', options);
    this.exchanges.set('', this.defaultExchange);
    for (const [exchangeName, type] of DEFAULT_EXCHANGES) {
      this.exchanges.set(exchangeName, new Exchange(exchangeName, name, type as 'direct', options));
    }
    this.exchanges.set(TRACE_EXCHANGE, new Exchange(TRACE_EXCHANGE, name, 'topic', { ...options, internal: true }));
  }

  // ---- publishing -------------------------------------------------------

  /**
   * Routes a message to its queues and enqueues it. Returns the queues it
   * reached; the array is reused by the next publish, so read it at once.
   */
  publish(message: Message, extraKeys: readonly string[] | null = null): readonly Queue[] {
    const routed = this.routed;
    truncate(routed, 0);
    this.refused = false;
    const exchangeName = message.exchange;
    let exchange: Exchange | undefined;
    if (exchangeName !== '') {
      exchange = this.exchanges.get(exchangeName);
      if (exchange === undefined) throw notFound(`no exchange '${exchangeName}' in vhost '${this.name}'`);
      if (exchange.options.internal) {
        throw accessRefused(`cannot publish to internal exchange '${exchangeName}' in vhost '${this.name}'`);
      }
    }
    const exchangeStats = (exchange ?? this.defaultExchange).stats;
    exchangeStats.publish_in++;
    // x-message-deduplication on the exchange: a duplicate goes nowhere (not to the alternate exchange either).
    const deduplication = exchange === undefined ? null : exchange.deduplication;
    if (deduplication !== null) {
      const key = deduplication.keyOf(message);
      if (deduplication.isDuplicate(key)) return routed;
      deduplication.accept(key, message);
    }
    // x-delayed-message: the message waits and is routed when due. Like the plugin, nothing is routed now
    // (a mandatory publish is returned at once); its confirm waits for the delay store.
    const delayed = exchange === undefined ? null : exchange.delayed;
    if (delayed !== null) {
      const delay = delayOf(message.properties.headers?.['x-delay']);
      if (isDelayed(delay)) {
        delayed.add(message, delay, extraKeys);
        return routed;
      }
    }
    this.routeKey(exchange, message.routingKey, message, routed);
    if (extraKeys !== null) this.collectExtraKeys(exchange, extraKeys, message, routed);
    if (routed.length === 0) return routed;
    exchangeStats.publish_out++;
    this.publishing = true;
    try {
      this.admit(message, routed, true);
      this.enqueue(message, routed);
    } finally {
      this.publishing = false;
    }
    if (this.deadLetters.length > 0) this.publishDeadLetters();
    return routed;
  }

  /**
   * A delayed message falls due: routed through `exchange`'s bindings as they are now (no publisher to refuse),
   * with its CC and BCC routing keys as a publish is (RabbitMQ keeps them in the message the plugin stores).
   */
  publishDue(exchange: Exchange, message: Message, extraKeys: readonly string[] | null): void {
    const routed = this.routed;
    truncate(routed, 0);
    this.routeKey(exchange, message.routingKey, message, routed);
    if (extraKeys !== null) this.collectExtraKeys(exchange, extraKeys, message, routed);
    if (routed.length === 0) return;
    exchange.stats.publish_out++;
    this.publishing = true;
    try {
      this.admit(message, routed, false);
      this.enqueue(message, routed);
    } finally {
      this.publishing = false;
    }
    if (this.deadLetters.length > 0) this.publishDeadLetters();
  }

  /** The log's name for the delayed messages of an exchange of this vhost. */
  delayedStoreKey(exchangeName: string): string {
    return `${DELAYED_KEY_PREFIX}${this.name}\u0000${exchangeName}`;
  }

  /** x-overflow reject-publish: takes the queues that turn the message away out of `routed`. */
  private admit(message: Message, routed: Queue[], isPublish: boolean): void {
    let kept = 0;
    for (let i = 0; i < routed.length; i++) {
      const queue = routed[i];
      const deduplication = queue.deduplication;
      const key = deduplication === null ? undefined : deduplication.keyOf(message);
      // A duplicate is dropped by this queue alone, and the publisher's confirm is still an ack.
      if (deduplication !== null && deduplication.isDuplicate(key)) continue;
      if (!queue.refuses(message)) {
        routed[kept++] = queue;
        deduplication?.accept(key, message);
      } else if (isPublish) {
        this.refused = true;
        if (queue.limits.overflow === 'reject-publish-dlx') this.deadLetter(queue, message, 'maxlen');
      }
    }
    truncate(routed, kept);
  }

  private enqueue(message: Message, routed: readonly Queue[]): void {
    // Stored before it is enqueued: a consumer may take (and settle) it at once.
    if (this.durability !== null && routed.length > 0) this.store(message, routed, message.persistent);
    for (let i = 0; i < routed.length; i++) routed[i].enqueue(message);
  }

  /**
   * Appends a message to the log for the durable queues it reached: a
   * persistent one for all of them, a transient one for the quorum queues
   * (which store every message).
   */
  private store(message: Message, routed: readonly Queue[], persistent: boolean): void {
    const keys = this.storeKeys;
    truncate(keys, 0);
    for (let i = 0; i < routed.length; i++) {
      const queue = routed[i];
      if (queue.isStored && (persistent || queue.storesEveryMessage)) keys.push(queue.storeKey);
    }
    if (keys.length === 0) return;
    const durability = this.durability as Durability;
    const msgId = durability.newMsgId();
    const { ticket, position } = durability.log.appendPublish(
      msgId,
      keys,
      message.exchange,
      message.routingKey,
      message.rawProperties,
      message.body,
    );
    message.msgId = msgId;
    message.ticket = ticket;
    message.position = position;
  }

  /** The log's name for a queue of this vhost. */
  storeKey(queueName: string): string {
    return `${this.name}\u0000${queueName}`;
  }

  hasDeadLetterExchange(queue: Queue): boolean {
    const exchange = deadLetterExchange(queue);
    return exchange !== undefined && this.exchanges.has(exchange);
  }

  /**
   * A message leaves `queue` for `reason` (rejected, expired, maxlen):
   * published on to its dead-letter exchange, if it has one that exists
   * (else dropped, as in RabbitMQ).
   */
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void {
    const counts = this.brokerStats.deadLettered[reason];
    if (!this.hasDeadLetterExchange(queue)) {
      counts.disabled++;
      return;
    }
    counts.at_most_once++;
    this.deadLetters.push({ queue, message, reason });
    if (!this.publishing) this.publishDeadLetters();
  }

  /**
   * Routes waiting dead letters (and those they cause in turn). A queue the
   * letter already died in without a rejection on the way is left out: an
   * automatic cycle, which RabbitMQ drops too.
   */
  private publishDeadLetters(): void {
    const letters = this.deadLetters;
    this.publishing = true;
    try {
      for (let i = 0; i < letters.length; i++) {
        const { queue, message, reason } = letters[i];
        const exchangeName = deadLetterExchange(queue) as string;
        const exchange = this.exchanges.get(exchangeName);
        if (exchange === undefined) continue;
        const letter = deadLetter(queue, message, exchangeName, reason);
        const routed: Queue[] = [];
        this.routeKey(exchangeName === '' ? undefined : exchange, letter.routingKey, letter, routed);
        const acyclic = routed.filter((target) => !isDeadLetterCycle(letter, target.name));
        this.admit(letter, acyclic, false);
        this.enqueue(letter, acyclic);
      }
    } finally {
      letters.length = 0;
      this.publishing = false;
    }
  }

  queueExpired(queue: Queue): void {
    this.removeQueue(queue);
  }

  unexpectedError(queue: Queue, error: unknown, what: string): void {
    this.reportError(error, what, { vhost: this.name, queue: queue.name });
  }

  /** The broker stops: no queue timer (TTL, x-expires) fires after this. */
  stop(): void {
    for (const queue of this.queues.values()) {
      queue.stopTimers();
      queue.deduplication?.close();
    }
    for (const exchange of this.exchanges.values()) {
      exchange.deduplication?.close();
      exchange.delayed?.stop();
    }
  }

  /** The vhost is deleted: every queue goes, with its stored messages, and every exchange. */
  deleteAll(): void {
    for (const queue of [...this.queues.values()]) this.removeQueue(queue);
    for (const exchange of this.exchanges.values()) {
      exchange.deduplication?.drop();
      exchange.delayed?.drop();
    }
    this.exchanges.clear();
    this.replyConsumers.clear();
  }

  /** Registers a direct reply-to consumer; returns the address publishers reply to. */
  addReplyConsumer(consumer: ReplyConsumer): string {
    const address = randomName(DIRECT_REPLY_PREFIX);
    this.replyConsumers.set(address, consumer);
    return address;
  }

  removeReplyConsumer(address: string): void {
    this.replyConsumers.delete(address);
  }

  /** A publish to the default exchange addressed to a direct reply-to consumer. Returns whether it was delivered. */
  deliverReply(message: Message): boolean {
    const consumer = this.replyConsumers.get(message.routingKey);
    if (consumer === undefined) return false;
    consumer.deliverReply(message);
    return true;
  }

  private collect(exchange: Exchange, routingKey: string, message: Message, mark: number, routed: Queue[]): void {
    exchange.routeMark = mark;
    const matched = this.matched;
    const start = matched.length;
    const headers = exchange.routingType === 'headers' ? message.properties.headers : undefined;
    exchange.router.route(routingKey, headers, matched, message);
    const end = matched.length;
    // Nothing matched: the alternate exchange, if any, routes it instead (each exchange once per publish).
    if (end === start && exchange.alternate !== undefined) {
      const alternate = this.exchanges.get(exchange.alternate);
      if (alternate !== undefined && alternate.routeMark !== mark) this.collect(alternate, routingKey, message, mark, routed);
      return;
    }
    for (let i = start; i < end; i++) {
      const destination = matched[i];
      if (destination.routeMark === mark) continue;
      if (isExchange(destination)) {
        this.collect(destination, routingKey, message, mark, routed);
      } else {
        destination.routeMark = mark;
        routed.push(destination);
      }
    }
    truncate(matched, start);
  }

  /**
   * CC/BCC: the message is routed with each extra key too (through
   * `exchange`, or the default exchange when undefined), each queue once.
   * Rare, so it may allocate.
   */
  private collectExtraKeys(exchange: Exchange | undefined, keys: readonly string[], message: Message, routed: Queue[]): void {
    for (const key of keys) {
      const reached: Queue[] = [];
      this.routeKey(exchange, key, message, reached);
      for (const queue of reached) if (!routed.includes(queue)) routed.push(queue);
    }
  }

  /** Routes one key through `exchange`, or through the default exchange (a queue by name) when undefined. */
  private routeKey(exchange: Exchange | undefined, routingKey: string, message: Message, routed: Queue[]): void {
    if (exchange !== undefined) {
      this.collect(exchange, routingKey, message, ++this.routeSeq, routed);
      return;
    }
    const queue = this.queues.get(routingKey);
    if (queue !== undefined) routed.push(queue);
  }

  // ---- exchanges --------------------------------------------------------

  /**
   * exchange.declare, checked in RabbitMQ's order: the type (503), the default
   * exchange (403), `access` (a client's permissions; none for imports:
   * configure on the exchange), then an existing exchange, amq.* ones included,
   * must be equivalent (406); only a new name may not start with 'amq.' (403),
   * and a new one with an alternate-exchange needs read on it and write on the
   * AE. Passive needs no permission (3.10).
   */
  declareExchange(name: string, type: string, passive: boolean, options: ExchangeOptions, access?: Access): Exchange {
    if (passive) {
      const existing = this.exchanges.get(name);
      if (existing === undefined) throw notFound(`no exchange '${name}' in vhost '${this.name}'`);
      return existing;
    }
    if (!isExchangeType(type)) {
      throw AmqpError.connection(ReplyCode.COMMAND_INVALID, `unknown exchange type '${type}'`);
    }
    if (name === '') throw accessRefused('operation not permitted on the default exchange');
    access?.check('configure', 'exchange', name);
    const existing = this.exchanges.get(name);
    if (existing !== undefined) {
      const what = `for exchange '${name}' in vhost '${this.name}'`;
      if (existing.type !== type) {
        throw preconditionFailed(`inequivalent arg 'type' ${what}: received '${type}' but current is '${existing.type}'`);
      }
      checkEquivalent('durable', what, options.durable, existing.options.durable);
      checkEquivalent('auto_delete', what, options.autoDelete, existing.options.autoDelete);
      checkEquivalent('internal', what, options.internal, existing.options.internal);
      // RabbitMQ compares only this one of an exchange's arguments.
      checkArguments(what, options.arguments, existing.options.arguments, type === 'x-delayed-message' ? DELAYED_EQUIVALENCE_ARGS : EXCHANGE_EQUIVALENCE_ARGS);
      return existing;
    }
    if (name.startsWith('amq.')) {
      throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`);
    }
    const alternate = stringValue(options.arguments['alternate-exchange']);
    if (access !== undefined && alternate !== undefined) {
      access.check('read', 'exchange', name);
      access.check('write', 'exchange', alternate);
    }
    if (type === 'x-delayed-message') {
      const invalid = delayedTypeProblem(options.arguments);
      if (invalid !== null) {
        throw invalid.connection ? AmqpError.connection(ReplyCode.COMMAND_INVALID, invalid.text) : preconditionFailed(invalid.text);
      }
    }
    const routingType = type === 'x-delayed-message' ? stringValue(options.arguments['x-delayed-type']) : type;
    const problem = (routingType === 'x-consistent-hash' ? validateConsistentHashArgs(options.arguments) : null) ?? validateDeduplicationArgs(options.arguments);
    if (problem !== null) throw preconditionFailed(problem);
    const exchange = new Exchange(name, this.name, type, options);
    if (type === 'x-delayed-message') this.attachDelayed(exchange);
    exchange.deduplication = this.deduplicationCache('exchange', name, options.durable, options.arguments);
    this.applyExchangePolicies(exchange);
    this.exchanges.set(name, exchange);
    if (options.durable) this.definitions?.changed();
    return exchange;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw accessRefused('operation not permitted on the default exchange');
    if (name.startsWith('amq.')) {
      throw accessRefused(`deletion of system exchange '${name}' in vhost '${this.name}' not allowed`);
    }
    const exchange = this.exchanges.get(name);
    if (exchange === undefined) return;
    if (ifUnused && exchange.bindings.size > 0) {
      throw preconditionFailed(`exchange '${name}' in vhost '${this.name}' in use`);
    }
    this.removeExchange(exchange);
  }

  /** Gives an x-delayed-message exchange its delay store: in the message log when the broker has one. */
  attachDelayed(exchange: Exchange): void {
    const delayed = new DelayedMessages(
      exchange.name,
      (message, extraKeys) => this.publishDue(exchange, message, extraKeys),
      (error, what) => this.reportError(error, what, { vhost: this.name, exchange: exchange.name }),
    );
    if (this.durability !== null) delayed.attachStorage(this.durability, this.delayedStoreKey(exchange.name));
    exchange.delayed = delayed;
  }

  private removeExchange(exchange: Exchange): void {
    this.exchanges.delete(exchange.name);
    exchange.deduplication?.drop();
    exchange.delayed?.drop();
    if (exchange.options.durable) this.definitions?.changed();
    for (const binding of exchange.bindings.values()) this.detachDestination(binding);
    exchange.bindings.clear();
    for (const binding of [...exchange.incoming]) this.removeBinding(binding);
  }

  bindExchange(destinationName: string, sourceName: string, bindingKey: string, args: FieldTable): void {
    const [source, destination] = this.bindingEnds(sourceName, destinationName, true);
    this.addBinding(source, destination as Exchange, bindingKey, args);
  }

  unbindExchange(destinationName: string, sourceName: string, bindingKey: string, args: FieldTable): void {
    const [source, destination] = this.bindingEnds(sourceName, destinationName, true);
    const binding = source.bindings.get(bindingId(destination, bindingKey, args));
    if (binding !== undefined) this.removeBinding(binding);
  }

  // ---- queues -----------------------------------------------------------

  /**
   * queue.declare. `access` (a client's permissions; none for imports) is
   * checked as RabbitMQ does: configure on the queue (a server-named one by its
   * generated name); for a new one with a dead-letter exchange, read on it and
   * write on the DLX. Passive needs none (3.10).
   */
  declareQueue(name: string, passive: boolean, options: QueueOptions, owner: object, access?: Access): Queue {
    if (passive) {
      const existing = this.queues.get(name);
      if (existing === undefined) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
      this.checkExclusiveAccess(existing, owner);
      existing.used();
      return existing;
    }
    options = this.withDefaultQueueType(options);
    if (name === '') {
      const type = queueTypeOf(options.arguments);
      if (type === 'quorum' || type === 'stream') throw preconditionFailed(`Cannot declare a server-named queue for type rabbit_${type}_queue`);
      name = randomName('amq.gen-');
    } else if (name.startsWith('amq.')) {
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    const existing = this.queues.get(name);
    if (access !== undefined) {
      access.check('configure', 'queue', name);
      const deadLetterTo = stringValue(options.arguments['x-dead-letter-exchange']);
      if (existing === undefined && deadLetterTo !== undefined) {
        access.check('read', 'queue', name);
        access.check('write', 'exchange', deadLetterTo);
      }
    }
    if (existing !== undefined) {
      // Strict, as RabbitMQ: the exclusive flag must match too (same owner, or none on both sides).
      if (existing.exclusiveOwner !== (options.exclusive ? owner : null)) throw this.locked(existing);
      existing.used();
      const what = `for queue '${name}' in vhost '${this.name}'`;
      checkEquivalent('durable', what, options.durable, existing.options.durable);
      checkEquivalent('auto_delete', what, options.autoDelete, existing.options.autoDelete);
      // As RabbitMQ 3.10: a redeclare is compared, not validated, and only in the arguments the queue's type has
      // (and Warren's deduplication ones, which LavinMQ compares).
      const compared = typeArguments(existing.type);
      checkArguments(what, options.arguments, existing.options.arguments, compared === undefined ? undefined : [...compared, ...DEDUPLICATION_ARGUMENTS]);
      this.brokerStats.queuesDeclared++;
      return existing;
    }
    validateQueueArguments(name, this.name, options.arguments);
    const deduplicationProblem = validateDeduplicationArgs(options.arguments);
    if (deduplicationProblem !== null) throw preconditionFailed(deduplicationProblem);
    const type = queueTypeOf(options.arguments);
    if (type === 'quorum') checkQuorumProperties(name, this.name, options);
    else if (type === 'stream') checkStreamProperties(name, this.name, options);
    this.brokerStats.queuesDeclared++;
    const queue = this.createQueue(name, options, options.exclusive ? owner : null);
    if (isPersistentQueue(queue)) this.definitions?.changed();
    return queue;
  }

  /**
   * RabbitMQ 3.10's default queue type (vhost metadata): given to a durable,
   * non-exclusive, non-auto-delete queue declared without x-queue-type, and
   * kept in its arguments (observed: the other queues stay classic).
   */
  private withDefaultQueueType(options: QueueOptions): QueueOptions {
    const type = this.metadata.defaultQueueType;
    if (type === 'classic' || options.arguments['x-queue-type'] !== undefined) return options;
    if (!options.durable || options.exclusive || options.autoDelete) return options;
    return { ...options, arguments: { ...options.arguments, 'x-queue-type': type } };
  }

  /**
   * A stored queue at start-up, as it was declared: its name is not checked
   * (a server-named amq.gen-* queue comes back) and neither are its arguments
   * (the limits ignore what would not validate), as RabbitMQ restores them.
   */
  restoreQueue(name: string, options: QueueOptions): Queue {
    if (this.queues.has(name)) throw new Error(`queue '${name}' in vhost '${this.name}' is stored twice`);
    return this.createQueue(name, options, null);
  }

  /** A new queue, stored in the log when durable (exclusive queues never survive a restart). */
  createQueue(name: string, options: QueueOptions, exclusiveOwner: object | null): Queue {
    const stream = queueTypeOf(options.arguments) === 'stream' ? new StreamQueue(name, this.name, options) : null;
    const queue = stream ?? new Queue(name, this.name, options, exclusiveOwner);
    queue.owner = this;
    this.brokerStats.queuesCreated++;
    queue.deduplication = this.deduplicationCache('queue', name, isPersistentQueue(queue), options.arguments);
    this.applyQueuePolicies(queue);
    if (this.durability !== null && isPersistentQueue(queue)) queue.attachStorage(this.durability, this.storeKey(name));
    // Its log opens in the background: a declare-ok waits for it (StreamQueue.whenOpen), a restart awaits it.
    if (stream !== null && this.streamStore !== null) void stream.open(this.streamStore);
    this.queues.set(name, queue);
    return queue;
  }

  /** Looks a queue up for an operation by `owner`: 404 if missing, 405 if another connection's exclusive queue. */
  queueFor(name: string, owner: object): Queue {
    const queue = this.queues.get(name);
    if (queue === undefined) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
    this.checkExclusiveAccess(queue, owner);
    return queue;
  }

  bindQueue(queueName: string, exchangeName: string, bindingKey: string, args: FieldTable, owner: object): void {
    const [source, destination] = this.bindingEnds(exchangeName, queueName, false);
    this.checkExclusiveAccess(destination as Queue, owner);
    this.addBinding(source, destination, bindingKey, args);
  }

  unbindQueue(queueName: string, exchangeName: string, bindingKey: string, args: FieldTable, owner: object): void {
    const [source, destination] = this.bindingEnds(exchangeName, queueName, false);
    this.checkExclusiveAccess(destination as Queue, owner);
    const binding = source.bindings.get(bindingId(destination, bindingKey, args));
    if (binding !== undefined) this.removeBinding(binding);
  }

  purgeQueue(name: string, owner: object): number {
    const queue = this.queueFor(name, owner);
    if (queue.type === 'stream') throw streamRefusal(name, this.name, 'purge');
    return queue.purge();
  }

  /** queue.delete: returns the number of ready messages it held (0 if it did not exist). */
  deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, owner: object): number {
    const queue = this.queues.get(name);
    if (queue === undefined) return 0;
    this.checkExclusiveAccess(queue, owner);
    if (queue.type === 'quorum' && (ifUnused || ifEmpty)) throw deleteFlagRefused(name, this.name, ifUnused ? 'if-unused' : 'if-empty');
    if (ifUnused && queue.consumerCount > 0) {
      throw preconditionFailed(`queue '${name}' in vhost '${this.name}' in use`);
    }
    if (ifEmpty && queue.messageCount > 0) {
      throw preconditionFailed(`queue '${name}' in vhost '${this.name}' not empty`);
    }
    const count = queue.messageCount;
    this.removeQueue(queue);
    return count;
  }

  removeQueue(queue: Queue): void {
    if (queue.deleted) return;
    queue.dropStorage();
    queue.deduplication?.drop();
    queue.stopTimers();
    queue.deleted = true;
    this.brokerStats.queuesDeleted++;
    this.queues.delete(queue.name);
    for (const binding of [...queue.bindings]) this.removeBinding(binding);
    if (isPersistentQueue(queue)) this.definitions?.changed();
    const consumers = queue.consumers.splice(0);
    for (const consumer of consumers) {
      try {
        consumer.cancelledByBroker(queue);
      } catch (error) {
        // That consumer's session fails; the others still hear of the deletion.
        if (consumer.failed !== undefined) consumer.failed(queue, error);
        else this.unexpectedError(queue, error, `cancelling consumer '${consumer.tag}'`);
      }
    }
    queue.purge();
  }

  /**
   * The deduplication cache of a new queue or exchange with x-message-deduplication
   * (null without it); a durable one keeps its cache in the store across restarts.
   */
  private deduplicationCache(kind: 'queue' | 'exchange', name: string, durable: boolean, args: FieldTable): DeduplicationCache | null {
    const settings = deduplicationSettings(args);
    if (settings === null) return null;
    const journal = durable && this.deduplicationStore !== null ? this.deduplicationStore.open(`${kind}\u0000${this.name}\u0000${name}`) : null;
    return new DeduplicationCache(settings, journal);
  }

  // ---- policies -----------------------------------------------------------

  /**
   * Adds or replaces a policy (RabbitMQ's set_policy). Throws
   * PolicyValidationError with RabbitMQ's text when it is not valid. Takes
   * effect on existing queues and exchanges at once.
   */
  setPolicy(name: string, input: PolicyInput): Policy {
    return this.putPolicy(this.policies, 'policy', name, input);
  }

  /** Removes a policy; returns whether there was one. The objects it applied to fall back to the next match. */
  clearPolicy(name: string): boolean {
    return this.removePolicy(this.policies, name);
  }

  /** Adds or replaces an operator policy: only numeric caps, combined with the policy by the lower value. */
  setOperatorPolicy(name: string, input: PolicyInput): Policy {
    return this.putPolicy(this.operatorPolicies, 'operator_policy', name, input);
  }

  clearOperatorPolicy(name: string): boolean {
    return this.removePolicy(this.operatorPolicies, name);
  }

  private putPolicy(table: PolicyTable, kind: PolicyKind, name: string, input: PolicyInput): Policy {
    const policy = validatePolicy(kind, this.name, name, input);
    table.set(policy);
    this.policiesChanged();
    return policy;
  }

  private removePolicy(table: PolicyTable, name: string): boolean {
    if (!table.delete(name)) return false;
    this.policiesChanged();
    return true;
  }

  private policiesChanged(): void {
    this.definitions?.changed();
    for (const queue of [...this.queues.values()]) this.applyQueuePolicies(queue);
    for (const exchange of this.exchanges.values()) this.applyExchangePolicies(exchange);
  }

  private applyQueuePolicies(queue: Queue): void {
    if (queue.deleted) return;
    const target = { kind: 'queue' as const, name: queue.name, queueType: queue.queueType };
    const policy = this.policies.match(target);
    const operatorPolicy = this.operatorPolicies.match(target);
    if (policy !== queue.policy || operatorPolicy !== queue.operatorPolicy) queue.applyPolicies(policy, operatorPolicy);
  }

  private applyExchangePolicies(exchange: Exchange): void {
    const target = { kind: 'exchange' as const, name: exchange.name };
    const policy = this.policies.match(target);
    const operatorPolicy = this.operatorPolicies.match(target);
    if (policy !== exchange.policy || operatorPolicy !== exchange.operatorPolicy) exchange.applyPolicies(policy, operatorPolicy);
  }

  // ---- consumers ----------------------------------------------------------

  /**
   * Subscribes a consumer; deliveries start with queue.dispatch(), which the
   * caller runs once it has answered consume-ok.
   */
  consume(queue: Queue, consumer: Consumer): void {
    if (queue.hasExclusiveConsumer() || (consumer.exclusive && queue.consumerCount > 0)) {
      throw accessRefused(`queue '${queue.name}' in vhost '${this.name}' in exclusive use`);
    }
    queue.addConsumer(consumer, false);
  }

  /** basic.cancel, or the channel closing: an auto-delete queue goes with its last consumer. */
  cancel(queue: Queue, consumer: Consumer): void {
    if (!queue.removeConsumer(consumer)) return;
    if (queue.options.autoDelete && queue.consumerCount === 0 && queue.hadConsumer) this.removeQueue(queue);
  }

  /** The connection `owner` closed: its exclusive queues go with it. */
  ownerClosed(owner: object): void {
    for (const queue of this.queues.values()) {
      if (queue.exclusiveOwner === owner) this.removeQueue(queue);
    }
  }

  // ---- bindings -------------------------------------------------------------

  private bindingEnds(sourceName: string, destinationName: string, destinationIsExchange: boolean): [Exchange, Destination] {
    if (sourceName === '' || (destinationIsExchange && destinationName === '')) {
      throw accessRefused('operation not permitted on the default exchange');
    }
    const destination = destinationIsExchange ? this.exchanges.get(destinationName) : this.queues.get(destinationName);
    if (destination === undefined) {
      throw notFound(`no ${destinationIsExchange ? 'exchange' : 'queue'} '${destinationName}' in vhost '${this.name}'`);
    }
    const source = this.exchanges.get(sourceName);
    if (source === undefined) throw notFound(`no exchange '${sourceName}' in vhost '${this.name}'`);
    return [source, destination];
  }

  private addBinding(source: Exchange, destination: Destination, bindingKey: string, args: FieldTable): void {
    const id = bindingId(destination, bindingKey, args);
    if (source.bindings.has(id)) return;
    if (source.routingType === 'headers') {
      const problem = validateHeadersBindingArgs(args);
      if (problem !== null) throw preconditionFailed(problem);
    } else if (source.routingType === 'x-consistent-hash') {
      const weight = bindingWeight(bindingKey);
      if (typeof weight === 'string') throw preconditionFailed(weight);
    }
    const binding: Binding = { source, destination, bindingKey, args, id };
    source.bindings.set(id, binding);
    if (isExchange(destination)) destination.incoming.add(binding);
    else destination.bindings.add(binding);
    source.router.bind(destination, bindingKey, args);
    if (isPersistentBinding(binding)) this.definitions?.changed();
  }

  private removeBinding(binding: Binding): void {
    const source = binding.source;
    if (!source.bindings.delete(binding.id)) return;
    this.detachDestination(binding);
    if (isPersistentBinding(binding)) this.definitions?.changed();
    if (source.options.autoDelete && source.bindings.size === 0 && this.exchanges.get(source.name) === source) {
      this.removeExchange(source);
    }
  }

  private detachDestination(binding: Binding): void {
    const destination = binding.destination;
    if (isExchange(destination)) destination.incoming.delete(binding);
    else destination.bindings.delete(binding);
    binding.source.router.unbind(destination, binding.bindingKey, binding.args);
  }

  private checkExclusiveAccess(queue: Queue, owner: object): void {
    if (queue.exclusiveOwner !== null && queue.exclusiveOwner !== owner) throw this.locked(queue);
  }

  private locked(queue: Queue): AmqpError {
    return AmqpError.channel(
      ReplyCode.RESOURCE_LOCKED,
      `cannot obtain exclusive access to locked queue '${queue.name}' in vhost '${this.name}'. ` +
        'It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.',
    );
  }
}

/** Durable and not exclusive: kept across restarts. */
export function isPersistentQueue(queue: Queue): boolean {
  return queue.options.durable && !queue.options.exclusive;
}

/** A binding survives a restart when both its ends do. */
export function isPersistentBinding(binding: Binding): boolean {
  const destination = binding.destination;
  const durableDestination = isExchange(destination) ? destination.options.durable : isPersistentQueue(destination);
  return binding.source.options.durable && durableDestination;
}

function bindingId(destination: Destination, bindingKey: string, args: FieldTable): string {
  const kind = isExchange(destination) ? 'e' : 'q';
  return `${kind}\u0000${destination.name}\u0000${bindingKey}\u0000${canonicalTable(args)}`;
}

function checkEquivalent(arg: string, what: string, received: boolean, current: boolean): void {
  if (received !== current) {
    throw preconditionFailed(`inequivalent arg '${arg}' ${what}: received '${received}' but current is '${current}'`);
  }
}

const EXCHANGE_EQUIVALENCE_ARGS: readonly string[] = ['alternate-exchange'];
/** The plugin accepts any x-delayed-type on a redeclare; comparing it is safer (as LavinMQ). */
const DELAYED_EQUIVALENCE_ARGS: readonly string[] = ['alternate-exchange', 'x-delayed-type'];

/** RabbitMQ compares the arguments of a redeclare with the original's: those in `only` (the queue type's, or the exchange's one), else every x- argument. */
function checkArguments(what: string, received: FieldTable, current: FieldTable, only?: readonly string[]): void {
  // In the order of `only` when given: RabbitMQ names the first argument of its list that differs.
  const keys = only ?? new Set([...Object.keys(received), ...Object.keys(current)]);
  for (const key of keys) {
    if (only === undefined ? !key.startsWith('x-') : !only.includes(key)) continue;
    // An absent x-queue-type is 'classic' (RabbitMQ 3.10, observed both ways).
    if (key === 'x-queue-type' && queueTypeOf(received) === queueTypeOf(current)) continue;
    const now = received[key];
    const before = current[key];
    if (canonicalTable({ v: now ?? null }) === canonicalTable({ v: before ?? null })) continue;
    // RabbitMQ's wording: plain values when both sides have one, typed when one side has none.
    const bothSet = now !== undefined && before !== undefined;
    throw preconditionFailed(
      `inequivalent arg '${key}' ${what}: received ${describeArg(now, bothSet)} but current is ${describeArg(before, bothSet)}`,
    );
  }
}

function describeArg(value: FieldTable[string] | undefined, plain: boolean): string {
  if (value === undefined) return 'none';
  return plain ? `'${describeValue(value)}'` : `the value '${describeValue(value)}' of type '${rabbitTypeName(value)}'`;
}
