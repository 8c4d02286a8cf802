import { type Consumer, DIRECT_REPLY_PREFIX, DIRECT_REPLY_QUEUE, type ReplyConsumer } from '../broker/consumer.js';
import type { Access } from '../broker/access/permissions.js';
import type { DefinitionsWaiter } from '../broker/definitions.js';
import type { DurabilityWaiter } from '../broker/durability.js';
import { hasProperty, Message, type QueueEntry, USER_ID_FLAG } from '../broker/message.js';
import { truncate } from '../broker/arrays.js';
import { randomName } from '../broker/names.js';
import { senderSelected } from '../broker/sender-selected.js';
import { type BrokerStats, MessageStats } from '../broker/stats.js';
import type { PageInWaiter, Queue } from '../broker/queue.js';
import { globalQosRefused } from '../broker/queues/quorum.js';
import { type StreamDurabilityWaiter, type StreamOpenWaiter, StreamQueue } from '../broker/queues/stream.js';
import { parseStreamOffset, prefetchNotSet, type StreamOffsetSpec, streamRefusal } from '../broker/queues/stream-arguments.js';
import type { VHost } from '../broker/vhost.js';
import { AmqpError } from '../protocol/errors.js';
import * as M from '../protocol/methods.generated.js';
import { decodeMethod, encodeMethod, encodeProperties, type IncomingMethod, methodName } from '../protocol/methods.generated.js';
import { readUInt64At } from '../protocol/byte-sink.js';
import { DeliverFrameTemplate } from '../protocol/frame-writer.js';
import { ShortstrCache } from '../protocol/shortstr-cache.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { type ConfirmSink, PublisherConfirms } from './confirms.js';
import type { Connection } from './connection.js';
import { PublishContent, type BodyFramePayload } from './content.js';
import { type Delivery, requeueByQueue, UnackedDeliveries } from './deliveries.js';
import { Transaction, type TxAck } from './transactions.js';

/** A basic.consume subscription as the queue sees it. */
export class ChannelConsumer implements Consumer {
  unacked = 0;
  /** This consumer's last basic.deliver frame, copied for the next (see FrameWriter.writeBasicDeliver). */
  readonly deliverFrame = new DeliverFrameTemplate();

  constructor(
    readonly channel: Channel,
    readonly queue: Queue,
    readonly tag: string,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly priority: number,
    /** Per-consumer prefetch (basic.qos global=false when it subscribed); 0 = unlimited. */
    readonly prefetch: number,
    /** x-stream-offset, for a stream's consumer. */
    readonly streamOffset?: StreamOffsetSpec,
  ) {}

  canAccept(): boolean {
    const channel = this.channel;
    if (!channel.deliveriesFlowing()) return false;
    if (this.noAck) return true;
    if (this.prefetch !== 0 && this.unacked >= this.prefetch) return false;
    return channel.globalPrefetch === 0 || channel.unacked.byConsumers < channel.globalPrefetch;
  }

  deliver(queue: Queue, entry: QueueEntry, message: Message): void {
    this.channel.deliver(this, queue, entry, message);
  }

  cancelledByBroker(_queue: Queue): void {
    this.channel.consumerCancelledByBroker(this);
  }

  failed(_queue: Queue, error: unknown): void {
    this.channel.connection.fail(error);
  }
}

/** Input held back while a basic.get waits for its queue to read a message back from the log. */
type ParkedFrame =
  | { kind: 'method'; method: IncomingMethod }
  | { kind: 'header'; payload: Buffer }
  | { kind: 'body'; payload: BodyFramePayload };

/**
 * One AMQP channel: its method dispatch and state (open, waiting, closing),
 * consumers, acks and replies; a publish's content, the unacked deliveries,
 * confirms and transactions have their own modules.
 */

export class Channel
  implements ReplyConsumer, DurabilityWaiter, StreamDurabilityWaiter, StreamOpenWaiter, PageInWaiter, DefinitionsWaiter, ConfirmSink
{
  readonly consumers = new Map<string, ChannelConsumer>();
  readonly unacked = new UnackedDeliveries();
  private nextDeliveryTag = 1;
  /** basic.qos global=false: the window given to consumers created from now on. */
  private consumerPrefetch = 0;
  /** basic.qos global=true: one window shared by the channel's consumers. */
  globalPrefetch = 0;
  private readonly content = new PublishContent();
  /** The exchange and routing key of the last basic.publish, as read (see onPublish). */
  private readonly publishExchanges = new ShortstrCache();
  private readonly publishRoutingKeys = new ShortstrCache();
  private lastQueueName: string | undefined;
  /** The channel's direct reply-to consumer: its tag and the address replies go to. */
  private replyTo: { tag: string; address: string } | undefined;
  /** Set by confirm.select. */
  private confirms: PublisherConfirms | undefined;
  /** In the connection's list of channels with confirms to send at the next flush. */
  private confirmsQueued = false;
  /** Set by tx.select. */
  private transaction: Transaction | undefined;
  awaitingCloseOk = false;
  private released = false;
  /**
   * Set while the channel waits (a basic.get for a paged-out message, a
   * declare-ok for definitions not yet on disk): later input waits in order.
   */
  private parked: ParkedFrame[] | undefined;
  /** Handling a method: server-sent cancels wait for its reply. */
  private handling = false;
  /** Consumer tags to send basic.cancel for once the current reply is out. */
  private readonly cancelsDue: string[] = [];
  /** Streams whose group commits this channel's confirms wait for. */
  private readonly streamsAwaited = new Set<StreamQueue>();
  /** What a tx.commit-ok waits for: the message log's ticket (0: nothing there) and each stream's highest offset. */
  private commitWait: { ticket: number; streams: Map<StreamQueue, number> } | undefined;
  /** While a tx.commit routes its publishes: the streams they reached, with the highest offset in each. */
  private committedStreams: Map<StreamQueue, number> | null = null;
  /**
   * Exchanges this channel was allowed to publish to, with whether the user
   * has topic permissions on them, valid while the permission table's version
   * is `grantsVersion`: a publish runs no regular expression for its exchange.
   */
  private readonly publishGrants = new Map<string, boolean>();
  private grantsVersion = -1;
  /** A reply held until what it depends on is stored (definitions, or a transaction's messages). */
  private heldReply: { id: keyof M.MethodArgsById; args: M.MethodArgsById[keyof M.MethodArgsById] } | undefined;
  /** The channel's message_stats; each count moves the vhost's and the node's too. */
  readonly stats = new MessageStats();
  private readonly vhostStats: MessageStats;
  private readonly brokerStats: BrokerStats;

  constructor(
    readonly connection: Connection,
    readonly number: number,
  ) {
    this.vhostStats = (connection.vhost as VHost).stats;
    this.brokerStats = connection.broker.stats;
  }

  private get vhost(): VHost {
    return this.connection.vhost as VHost;
  }

  private get access(): Access {
    return this.connection.access as Access;
  }

  open(): void {
    encodeMethod(this.connection.writer, this.number, M.CHANNEL_OPEN_OK, { channelId: Buffer.alloc(0) });
    this.connection.scheduleFlush();
  }

  /** RabbitMQ's channel name: the connection's, and the channel number in parentheses. */
  get name(): string {
    return `${this.connection.name} (${this.number})`;
  }

  /** What the management API and the metrics show of the channel's state. */
  get confirmMode(): boolean {
    return this.confirms !== undefined;
  }

  get transactional(): boolean {
    return this.transaction !== undefined;
  }

  get unackedMessages(): number {
    return this.unacked.size;
  }

  get unconfirmedMessages(): number {
    return this.confirms === undefined ? 0 : this.confirms.unconfirmed;
  }

  get uncommittedMessages(): number {
    return this.transaction === undefined ? 0 : this.transaction.uncommittedMessages;
  }

  get uncommittedAcks(): number {
    return this.transaction === undefined ? 0 : this.transaction.uncommittedAcks;
  }

  /** basic.qos global=false: the prefetch of consumers subscribed from now on. */
  get prefetchCount(): number {
    return this.consumerPrefetch;
  }

  deliveriesFlowing(): boolean {
    return !this.released && this.connection.acceptsDeliveries;
  }

  // ---- input ----------------------------------------------------------------

  /**
   * A basic.publish frame, `buf[start, end)`, read in place: the hot path
   * makes no method object, and repeated exchange and routing-key bytes give
   * the strings read last. A frame that is not a plain publish in a
   * channel ready for one (parked, closing, content pending, immediate set,
   * malformed) takes the generic way, which raises the errors.
   */
  onPublish(buf: Buffer, start: number, end: number): void {
    if (this.parked === undefined && !this.awaitingCloseOk && !this.content.active) {
      // class and method ids (4), ticket (2), exchange, routing key, flags.
      let p = start + 6;
      if (p < end) {
        const exchangeAt = p + 1;
        const exchangeLength = buf[p]!;
        p = exchangeAt + exchangeLength;
        if (p < end) {
          const keyAt = p + 1;
          const keyLength = buf[p]!;
          p = keyAt + keyLength;
          if (p + 1 === end && (buf[p]! & 2) === 0) {
            const exchange = this.publishExchanges.read(buf, exchangeAt, exchangeLength);
            const routingKey = this.publishRoutingKeys.read(buf, keyAt, keyLength);
            this.content.start(exchange, routingKey, (buf[p]! & 1) !== 0);
            return;
          }
        }
      }
    }
    this.onMethod(decodeMethod(buf.subarray(start, end)));
  }

  onMethod(method: IncomingMethod): void {
    if (this.parked !== undefined) {
      this.parked.push({ kind: 'method', method });
      return;
    }
    if (this.awaitingCloseOk) {
      // After our channel.close, everything but close and close-ok is dropped.
      if (method.id === M.CHANNEL_CLOSE_OK) this.closed();
      else if (method.id === M.CHANNEL_CLOSE) this.reply(M.CHANNEL_CLOSE_OK, {});
      return;
    }
    if (this.content.active) {
      throw AmqpError.connection(
        ReplyCode.UNEXPECTED_FRAME,
        'expected content header for class 60, got non content header frame instead',
        60,
        40,
      );
    }
    this.handling = true;
    try {
      this.handle(method);
    } catch (error) {
      this.methodFailed(error, method.id);
      return;
    }
    this.handled();
  }

  /**
   * A basic.ack frame, `buf[start, end)`, read in place as onPublish reads a
   * publish: a consumer acking each message makes no method object per ack.
   * A channel that would not handle it at once (parked, closing, content
   * pending) or a frame of another length takes the generic way.
   */
  onAck(buf: Buffer, start: number, end: number): void {
    if (end - start === 13 && this.parked === undefined && !this.awaitingCloseOk && !this.content.active) {
      // class and method ids (4), delivery tag (8), the multiple bit.
      const deliveryTag = readUInt64At(buf, start + 4);
      const multiple = (buf[start + 12]! & 1) !== 0;
      this.handling = true;
      try {
        this.settleOrDefer('ack', deliveryTag, multiple, false);
      } catch (error) {
        this.methodFailed(error, M.BASIC_ACK);
        return;
      }
      this.handled();
      return;
    }
    this.onMethod(decodeMethod(buf.subarray(start, end)));
  }

  /** A method `id` threw: a channel error closes the channel; anything else goes up, to the connection. */
  private methodFailed(error: unknown, id: number): void {
    this.handling = false;
    this.cancelsDue.length = 0;
    if (error instanceof AmqpError && error.classId === 0 && error.methodId === 0) {
      error.classId = id >>> 16;
      error.methodId = id & 0xffff;
    }
    if (error instanceof AmqpError && error.scope === 'channel') {
      this.fail(error);
      return;
    }
    throw error;
  }

  private handled(): void {
    this.handling = false;
    // A reply held for the definitions goes first; the cancels follow it then.
    if (this.heldReply === undefined) this.sendCancels();
  }

  /** A content header frame, its payload `buf[start, end)` (as FrameSink passes it). */
  onContentHeader(buf: Buffer, start: number, end: number): void {
    if (this.parked !== undefined) {
      this.parked.push({ kind: 'header', payload: buf.subarray(start, end) });
      return;
    }
    if (this.awaitingCloseOk) return;
    let complete: boolean;
    try {
      complete = this.content.header(buf, start, end, this.connection.settings.maxMessageSize);
    } catch (error) {
      // Too large a message closes the channel; a bad frame, the connection.
      if (error instanceof AmqpError && error.scope === 'channel') {
        this.fail(error);
        return;
      }
      throw error;
    }
    if (complete) this.completePublish();
  }

  onContentBody(payload: BodyFramePayload): void {
    if (this.parked !== undefined) {
      this.parked.push({ kind: 'body', payload });
      return;
    }
    if (this.awaitingCloseOk) return;
    if (this.content.body(payload)) this.completePublish();
  }

  private handle(method: IncomingMethod): void {
    switch (method.id) {
      case M.BASIC_PUBLISH: {
        const a = method.args;
        if (a.immediate) throw AmqpError.connection(ReplyCode.NOT_IMPLEMENTED, 'immediate=true', 60, 40);
        this.content.start(a.exchange, a.routingKey, a.mandatory);
        return;
      }
      case M.BASIC_ACK:
        return this.settleOrDefer('ack', method.args.deliveryTag, method.args.multiple, false);
      case M.BASIC_NACK: {
        const a = method.args;
        return this.settleOrDefer('nack', a.deliveryTag, a.multiple, a.requeue);
      }
      case M.BASIC_REJECT: {
        const a = method.args;
        return this.settleOrDefer('nack', a.deliveryTag, false, a.requeue);
      }
      case M.BASIC_QOS: {
        const a = method.args;
        if (a.prefetchSize !== 0) {
          throw AmqpError.connection(ReplyCode.NOT_IMPLEMENTED, `prefetch_size!=0 (${a.prefetchSize})`, 60, 10);
        }
        if (a.global) this.globalPrefetch = a.prefetchCount;
        else this.consumerPrefetch = a.prefetchCount;
        this.reply(M.BASIC_QOS_OK, {});
        this.resumeDeliveries();
        return;
      }
      case M.BASIC_CONSUME:
        return this.consume(method.args);
      case M.BASIC_CANCEL: {
        if (this.replyTo !== undefined && this.replyTo.tag === method.args.consumerTag) this.stopReplyConsumer();
        const consumer = this.consumers.get(method.args.consumerTag);
        if (consumer !== undefined) {
          this.consumers.delete(consumer.tag);
          this.vhost.cancel(consumer.queue, consumer);
        }
        if (!method.args.nowait) this.reply(M.BASIC_CANCEL_OK, { consumerTag: method.args.consumerTag });
        return;
      }
      case M.BASIC_GET:
        return this.get(method);
      case M.BASIC_RECOVER:
      case M.BASIC_RECOVER_ASYNC: {
        if (!method.args.requeue) throw AmqpError.connection(ReplyCode.NOT_IMPLEMENTED, 'requeue=false', method.id >>> 16, method.id & 0xffff);
        this.requeueAll();
        if (method.id === M.BASIC_RECOVER) this.reply(M.BASIC_RECOVER_OK, {});
        return;
      }
      case M.EXCHANGE_DECLARE: {
        const a = method.args;
        const options = { durable: a.durable, autoDelete: a.autoDelete, internal: a.internal, arguments: a.arguments };
        this.vhost.declareExchange(a.exchange, a.type, a.passive, options, this.access);
        if (!a.nowait) this.replyWhenStored(M.EXCHANGE_DECLARE_OK, {});
        return;
      }
      case M.EXCHANGE_DELETE: {
        const a = method.args;
        // RabbitMQ refuses the default and amq.* exchanges before it checks permissions.
        if (a.exchange !== '' && !a.exchange.startsWith('amq.')) this.access.check('configure', 'exchange', a.exchange);
        this.vhost.deleteExchange(a.exchange, a.ifUnused);
        if (!a.nowait) this.replyWhenStored(M.EXCHANGE_DELETE_OK, {});
        return;
      }
      case M.EXCHANGE_BIND: {
        const a = method.args;
        this.checkBind('exchange', a.destination, a.source, a.routingKey);
        this.vhost.bindExchange(a.destination, a.source, a.routingKey, a.arguments);
        if (!a.nowait) this.replyWhenStored(M.EXCHANGE_BIND_OK, {});
        return;
      }
      case M.EXCHANGE_UNBIND: {
        const a = method.args;
        this.checkBind('exchange', a.destination, a.source, a.routingKey);
        this.vhost.unbindExchange(a.destination, a.source, a.routingKey, a.arguments);
        if (!a.nowait) this.replyWhenStored(M.EXCHANGE_UNBIND_OK, {});
        return;
      }
      case M.QUEUE_DECLARE: {
        const a = method.args;
        const queue = this.vhost.declareQueue(
          a.queue,
          a.passive,
          { durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: a.arguments },
          this.connection,
          this.access,
        );
        this.lastQueueName = queue.name;
        if (!a.nowait) {
          const answer = { queue: queue.name, messageCount: queue.messageCount, consumerCount: queue.consumerCount };
          if (queue instanceof StreamQueue && !queue.isOpen) {
            // A new stream answers once its log is open (and its definition stored): it takes messages from then on.
            this.heldReply = { id: M.QUEUE_DECLARE_OK, args: answer };
            this.parked = [];
            queue.whenOpen(this);
          } else this.replyWhenStored(M.QUEUE_DECLARE_OK, answer);
        }
        return;
      }
      case M.QUEUE_BIND: {
        const a = method.args;
        const queueName = this.queueName(a.queue);
        this.checkBind('queue', queueName, a.exchange, a.routingKey);
        this.vhost.bindQueue(queueName, a.exchange, a.routingKey, a.arguments, this.connection);
        if (!a.nowait) this.replyWhenStored(M.QUEUE_BIND_OK, {});
        return;
      }
      case M.QUEUE_UNBIND: {
        const a = method.args;
        const queueName = this.queueName(a.queue);
        this.checkBind('queue', queueName, a.exchange, a.routingKey);
        this.vhost.unbindQueue(queueName, a.exchange, a.routingKey, a.arguments, this.connection);
        this.replyWhenStored(M.QUEUE_UNBIND_OK, {});
        return;
      }
      case M.QUEUE_PURGE: {
        const a = method.args;
        const queueName = this.queueName(a.queue);
        this.access.check('read', 'queue', queueName);
        const messageCount = this.vhost.purgeQueue(queueName, this.connection);
        if (!a.nowait) this.reply(M.QUEUE_PURGE_OK, { messageCount });
        return;
      }
      case M.QUEUE_DELETE: {
        const a = method.args;
        const queueName = this.queueName(a.queue);
        this.access.check('configure', 'queue', queueName);
        const messageCount = this.vhost.deleteQueue(queueName, a.ifUnused, a.ifEmpty, this.connection);
        if (!a.nowait) this.replyWhenStored(M.QUEUE_DELETE_OK, { messageCount });
        return;
      }
      case M.CONFIRM_SELECT: {
        if (this.transaction !== undefined) throw AmqpError.channel(ReplyCode.PRECONDITION_FAILED, 'cannot switch from tx to confirm mode');
        this.confirms ??= new PublisherConfirms(this);
        if (!method.args.nowait) this.reply(M.CONFIRM_SELECT_OK, {});
        return;
      }
      case M.TX_SELECT: {
        if (this.confirms !== undefined) throw AmqpError.channel(ReplyCode.PRECONDITION_FAILED, 'cannot switch from confirm to tx mode');
        this.transaction ??= new Transaction();
        this.reply(M.TX_SELECT_OK, {});
        return;
      }
      case M.TX_COMMIT: {
        const transaction = this.transaction;
        if (transaction === undefined) throw AmqpError.channel(ReplyCode.PRECONDITION_FAILED, 'channel is not transactional');
        const publishes = transaction.takePublishes();
        const acks = transaction.takeAcks();
        let ticket = 0;
        const streams = new Map<StreamQueue, number>();
        this.committedStreams = streams;
        try {
          for (const { message, mandatory, extraKeys } of publishes) {
            this.route(message, mandatory, extraKeys);
            if (message.ticket > ticket) ticket = message.ticket;
          }
        } finally {
          this.committedStreams = null;
        }
        for (const ack of acks) this.settle(ack.kind, ack.tag, ack.multiple, ack.requeue);
        const durability = this.vhost.durability;
        if (durability === null || ticket <= durability.durableTicket) ticket = 0;
        for (const [stream, offset] of streams) if (stream.isDurable(offset)) streams.delete(stream);
        if (ticket !== 0 || streams.size > 0) {
          // As in RabbitMQ, commit-ok waits until the transaction's persistent messages (and stream messages) are on disk.
          this.commitWait = { ticket, streams };
          this.heldReply = { id: M.TX_COMMIT_OK, args: {} };
          this.parked = [];
          durability?.wait(this);
          for (const stream of streams.keys()) this.waitForStream(stream);
          return;
        }
        this.reply(M.TX_COMMIT_OK, {});
        return;
      }
      case M.TX_ROLLBACK: {
        if (this.transaction === undefined) throw AmqpError.channel(ReplyCode.PRECONDITION_FAILED, 'channel is not transactional');
        this.transaction.rollback();
        this.reply(M.TX_ROLLBACK_OK, {});
        return;
      }
      case M.CHANNEL_FLOW: {
        // RabbitMQ refuses a client's request to stop deliveries; use basic.qos instead.
        if (!method.args.active) throw AmqpError.connection(ReplyCode.NOT_IMPLEMENTED, 'active=false', 20, 20);
        this.reply(M.CHANNEL_FLOW_OK, { active: true });
        return;
      }
      case M.CHANNEL_FLOW_OK:
        return;
      case M.ACCESS_REQUEST:
        // Deprecated in 0-9-1; RabbitMQ still answers it with a dummy ticket.
        this.reply(M.ACCESS_REQUEST_OK, { ticket: 1 });
        return;
      case M.CHANNEL_CLOSE: {
        this.release();
        this.reply(M.CHANNEL_CLOSE_OK, {});
        this.connection.channelClosed(this);
        return;
      }
      case M.CHANNEL_CLOSE_OK:
        return;
      default:
        throw AmqpError.connection(
          ReplyCode.COMMAND_INVALID,
          `unexpected method '${methodName(method.id)}' on channel ${this.number}`,
          method.id >>> 16,
          method.id & 0xffff,
        );
    }
  }

  /**
   * queue/exchange bind and unbind, in RabbitMQ's order: write on the
   * destination, read on the source, then the binding key against the topic
   * permissions when the source is a topic exchange.
   */
  private checkBind(destinationKind: 'queue' | 'exchange', destination: string, source: string, bindingKey: string): void {
    const access = this.access;
    access.check('write', destinationKind, destination);
    access.check('read', 'exchange', source);
    if (this.vhost.exchanges.get(source)?.type === 'topic') access.checkTopic('read', source, bindingKey);
  }

  /**
   * basic.publish, in RabbitMQ's order: write on the exchange (cached per
   * exchange until the permissions change), the routing key against topic
   * permissions, and a user_id property that must name the user.
   */
  private checkPublish(message: Message): void {
    const access = this.access;
    const grants = this.publishGrants;
    if (this.grantsVersion !== access.table.version) {
      grants.clear();
      this.grantsVersion = access.table.version;
    }
    const exchange = message.exchange;
    let topicRestricted = grants.get(exchange);
    if (topicRestricted === undefined) {
      access.check('write', 'exchange', exchange);
      topicRestricted = access.table.restrictsTopic(access.user, access.vhost, exchange);
      grants.set(exchange, topicRestricted);
    }
    if (topicRestricted && this.vhost.exchanges.get(exchange)?.type === 'topic') access.checkTopic('write', exchange, message.routingKey);
    if (hasProperty(message.rawProperties, USER_ID_FLAG)) {
      const userId = message.properties.userId;
      const user = this.connection.user;
      if (userId !== undefined && user !== undefined && userId !== user.name && !user.tags.includes('impersonator')) {
        throw AmqpError.channel(
          ReplyCode.PRECONDITION_FAILED,
          `user_id property set to '${userId}' but authenticated user was '${user.name}'`,
        );
      }
    }
  }

  /** RabbitMQ lets "" name the queue this channel declared last. */
  private queueName(name: string): string {
    if (name !== '') return name;
    if (this.lastQueueName === undefined) throw AmqpError.channel(ReplyCode.NOT_FOUND, 'no previously declared queue');
    return this.lastQueueName;
  }

  // ---- publishing -------------------------------------------------------------

  private completePublish(): void {
    const content = this.content;
    const mandatory = content.mandatory;
    const bodySize = content.bodySize;
    const body = content.takeBody();
    let message = new Message(content.exchange, content.routingKey, content.rawProperties as Buffer, body, bodySize);
    if (this.replyTo !== undefined && message.properties.replyTo === DIRECT_REPLY_QUEUE) {
      // A request from a direct reply-to client: tell the server where to reply.
      const properties = encodeProperties({ ...message.properties, replyTo: this.replyTo.address });
      message = new Message(message.exchange, message.routingKey, properties, body, bodySize);
    }
    try {
      this.checkPublish(message);
      // A bad expiration closes the channel whatever the message's fate (RabbitMQ checks it on receipt).
      void message.ttl;
      let extraKeys: readonly string[] | null = null;
      const selected = senderSelected(message);
      if (selected !== null) {
        message = selected.message;
        extraKeys = selected.keys;
      }
      const transaction = this.transaction;
      if (transaction !== undefined) {
        // The exchange must exist now even though routing waits for the commit.
        if (message.exchange !== '' && !this.vhost.exchanges.has(message.exchange)) {
          throw AmqpError.channel(ReplyCode.NOT_FOUND, `no exchange '${message.exchange}' in vhost '${this.vhost.name}'`, 60, 40);
        }
        transaction.publish(message, mandatory, extraKeys);
        return;
      }
      this.route(message, mandatory, extraKeys);
    } catch (error) {
      if (error instanceof AmqpError && error.scope === 'channel') {
        error.classId = 60;
        error.methodId = 40;
        this.fail(error);
        return;
      }
      throw error;
    }
  }

  /** Routes a publish; `extraKeys` are its CC and BCC routing keys. */
  private route(message: Message, mandatory: boolean, extraKeys: readonly string[] | null): void {
    const isReply = message.exchange === '' && message.routingKey.startsWith(DIRECT_REPLY_PREFIX);
    let reached: number;
    let refused = false;
    // The (first) stream the message reached whose offset is not on disk yet, and any others: its confirm waits for them.
    let stream: StreamQueue | null = null;
    let moreStreams: { stream: StreamQueue; offset: number }[] | null = null;
    if (isReply) {
      reached = this.vhost.deliverReply(message) ? 1 : 0;
    } else {
      const routed = this.vhost.publish(message, extraKeys);
      refused = this.vhost.refused;
      reached = routed.length;
      for (let i = 0; i < routed.length; i++) {
        const queue = routed[i];
        if (queue.overloaded) this.connection.throttle(queue);
        if (queue.type !== 'stream') continue;
        const reachedStream = queue as StreamQueue;
        if (this.committedStreams !== null) this.committedStreams.set(reachedStream, reachedStream.lastOffset);
        else if (this.confirms !== undefined && !reachedStream.isDurable(reachedStream.lastOffset)) {
          if (stream === null) stream = reachedStream;
          else (moreStreams ??= []).push({ stream: reachedStream, offset: reachedStream.lastOffset });
        }
      }
    }
    const stats = this.stats;
    const vhostStats = this.vhostStats;
    const brokerStats = this.brokerStats;
    stats.publish++;
    vhostStats.publish++;
    brokerStats.publish++;
    if (this.confirms !== undefined) brokerStats.publish_confirm++;
    if (reached > 0 || refused) brokerStats.routed++;
    else if (mandatory) {
      stats.return_unroutable++;
      vhostStats.return_unroutable++;
      brokerStats.return_unroutable++;
    } else {
      stats.drop_unroutable++;
      vhostStats.drop_unroutable++;
      brokerStats.drop_unroutable++;
    }
    // A message a full queue turned away was routed: it is nacked, not returned.
    if (reached === 0 && mandatory && !refused) {
      const writer = this.connection.writer;
      encodeMethod(writer, this.number, M.BASIC_RETURN, {
        replyCode: ReplyCode.NO_ROUTE,
        replyText: 'NO_ROUTE',
        exchange: message.exchange,
        routingKey: message.routingKey,
      });
      writer.writeContent(this.number, M.CLASS_BASIC, message.bodySize, message.rawProperties, message.body);
      this.connection.scheduleFlush();
    }
    const confirms = this.confirms;
    if (confirms !== undefined) {
      const durability = this.vhost.durability;
      const inMessageLog = message.ticket !== 0 && durability !== null && message.ticket > durability.durableTicket;
      if (refused) confirms.refused();
      else if (inMessageLog || stream !== null) {
        const ticket = inMessageLog ? message.ticket : 0;
        const first = confirms.publishedAwaitingDisk(ticket, stream, stream === null ? -1 : stream.lastOffset, moreStreams);
        if (first && durability !== null) durability.wait(this);
        if (stream !== null) this.waitForStream(stream);
        if (moreStreams !== null) for (const other of moreStreams) this.waitForStream(other.stream);
      } else confirms.published();
      this.queueConfirms();
    }
  }

  private queueConfirms(): void {
    if (this.confirmsQueued || this.confirms === undefined || !this.confirms.due) return;
    this.confirmsQueued = true;
    this.connection.confirmingChannels.push(this);
    this.connection.scheduleFlush();
  }

  /** The log synced up to `upTo`: confirms and a commit-ok waiting for those records can go. */
  onDurable(upTo: number): void {
    try {
      this.sendWhatIsOnDisk(upTo);
    } catch (error) {
      this.vhost.durability?.stopWaiting(this);
      this.connection.fail(error);
    }
  }

  private sendWhatIsOnDisk(upTo: number): void {
    const stillWaiting = this.confirms !== undefined && this.confirms.onDurable(upTo);
    const commit = this.commitWait;
    if (commit !== undefined && commit.ticket <= upTo && [...commit.streams].every(([stream, offset]) => stream.isDurable(offset))) {
      this.commitWait = undefined;
      this.sendHeldReply();
    }
    if (!stillWaiting && this.commitWait === undefined) {
      this.vhost.durability?.stopWaiting(this);
      this.stopWaitingForStreams();
    }
    this.queueConfirms();
  }

  /** A stream this channel's confirms wait for synced: the same check, against the message log as it stands. */
  streamDurable(): void {
    this.onDurable(this.vhost.durability?.durableTicket ?? Number.MAX_SAFE_INTEGER);
  }

  private waitForStream(stream: StreamQueue): void {
    if (this.streamsAwaited.has(stream)) return;
    this.streamsAwaited.add(stream);
    stream.waitForDurable(this);
  }

  private stopWaitingForStreams(): void {
    if (this.streamsAwaited.size === 0) return;
    for (const stream of this.streamsAwaited) stream.stopWaitingForDurable(this);
    this.streamsAwaited.clear();
  }

  /** At the connection's flush: the confirms due since the last one. */
  sendConfirms(): void {
    this.confirmsQueued = false;
    if (this.awaitingCloseOk || this.released) return;
    this.confirms?.flush();
  }

  sendAck(deliveryTag: number, multiple: boolean, confirmed: number): void {
    encodeMethod(this.connection.writer, this.number, M.BASIC_ACK, { deliveryTag, multiple });
    this.stats.confirm += confirmed;
    this.vhostStats.confirm += confirmed;
    this.brokerStats.confirm += confirmed;
  }

  sendNack(deliveryTag: number): void {
    encodeMethod(this.connection.writer, this.number, M.BASIC_NACK, { deliveryTag, multiple: false, requeue: false });
    this.connection.scheduleFlush();
  }

  // ---- consuming --------------------------------------------------------------

  private consume(a: M.BasicConsume): void {
    if (a.queue === DIRECT_REPLY_QUEUE) return this.consumeReplies(a);
    const queueName = this.queueName(a.queue);
    this.access.check('read', 'queue', queueName);
    const queue = this.vhost.queueFor(queueName, this.connection);
    if (this.globalPrefetch > 0 && queue.type === 'quorum') throw globalQosRefused(queue.name, this.vhost.name);
    let streamOffset: StreamOffsetSpec | undefined;
    if (queue.type === 'stream') {
      // RabbitMQ 3.10 (observed): no consumer prefetch (406) before no-ack (540); a global prefetch as well is accepted.
      if (this.consumerPrefetch === 0) throw prefetchNotSet(queue.name, this.vhost.name);
      if (a.noAck) throw streamRefusal(queue.name, this.vhost.name, 'no-ack');
      streamOffset = parseStreamOffset(a.arguments['x-stream-offset']);
    }
    const tag = a.consumerTag === '' ? randomName('amq.ctag-') : a.consumerTag;
    if (this.consumers.has(tag)) {
      throw AmqpError.connection(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`, 60, 20);
    }
    const priority = a.arguments['x-priority'];
    const consumer = new ChannelConsumer(
      this,
      queue,
      tag,
      a.noAck,
      a.exclusive,
      typeof priority === 'number' ? priority : 0,
      this.consumerPrefetch,
      streamOffset,
    );
    this.vhost.consume(queue, consumer);
    this.consumers.set(tag, consumer);
    // consume-ok goes out before the first delivery.
    if (!a.nowait) this.reply(M.BASIC_CONSUME_OK, { consumerTag: tag });
    queue.dispatch();
  }

  private consumeReplies(a: M.BasicConsume): void {
    if (!a.noAck) throw AmqpError.channel(ReplyCode.PRECONDITION_FAILED, 'reply consumer cannot acknowledge');
    if (this.replyTo !== undefined) throw AmqpError.channel(ReplyCode.PRECONDITION_FAILED, 'reply consumer already set');
    const tag = a.consumerTag === '' ? randomName('amq.ctag-') : a.consumerTag;
    this.replyTo = { tag, address: this.vhost.addReplyConsumer(this) };
    if (!a.nowait) this.reply(M.BASIC_CONSUME_OK, { consumerTag: tag });
  }

  private stopReplyConsumer(): void {
    if (this.replyTo === undefined) return;
    this.vhost.removeReplyConsumer(this.replyTo.address);
    this.replyTo = undefined;
  }

  /** A reply published to this channel's direct reply-to address: delivered at once, no-ack. */
  deliverReply(message: Message): void {
    if (this.replyTo === undefined || this.released) return;
    const writer = this.connection.writer;
    encodeMethod(writer, this.number, M.BASIC_DELIVER, {
      consumerTag: this.replyTo.tag,
      deliveryTag: this.nextDeliveryTag++,
      redelivered: false,
      exchange: message.exchange,
      routingKey: message.routingKey,
    });
    writer.writeContent(this.number, M.CLASS_BASIC, message.bodySize, message.rawProperties, message.body);
    this.connection.scheduleFlush();
  }

  /** The queue read back what a parked basic.get waits for: replay the held input in order. */
  pagedIn(): void {
    this.unpark();
  }

  /**
   * Replies to a method that may have changed durable definitions: at once if
   * nothing is waiting to be stored, else once it is (the channel waits meanwhile).
   */
  private replyWhenStored<K extends keyof M.MethodArgsById>(id: K, args: M.MethodArgsById[K]): void {
    const journal = this.vhost.definitions;
    if (journal === null || !journal.pending) {
      this.reply(id, args);
      return;
    }
    this.heldReply = { id, args };
    this.parked = [];
    journal.whenStored(this);
  }

  /** The stream a held declare-ok waits for has its log open: the reply goes once the definitions are stored too. */
  streamOpened(): void {
    try {
      const journal = this.vhost.definitions;
      if (journal !== null && journal.pending) journal.whenStored(this);
      else this.sendHeldReply();
    } catch (error) {
      this.connection.fail(error);
    }
  }

  definitionsStored(): void {
    try {
      this.sendHeldReply();
    } catch (error) {
      this.connection.fail(error);
    }
  }

  /** The held reply's condition is met: send it, then what it held back. */
  private sendHeldReply(): void {
    const held = this.heldReply;
    if (held === undefined || this.released) return;
    this.heldReply = undefined;
    this.reply(held.id, held.args);
    this.sendCancels();
    this.unpark();
  }

  private unpark(): void {
    const frames = this.parked;
    if (frames === undefined || this.released) return;
    this.parked = undefined;
    try {
      for (let i = 0; i < frames.length; i++) {
        const frame = frames[i];
        if (frame.kind === 'method') this.onMethod(frame.method);
        else if (frame.kind === 'header') this.onContentHeader(frame.payload, 0, frame.payload.length);
        else this.onContentBody(frame.payload);
      }
    } catch (error) {
      this.connection.fail(error);
    }
  }

  deliver(consumer: ChannelConsumer, queue: Queue, entry: QueueEntry, message: Message): void {
    const tag = this.nextDeliveryTag++;
    if (!consumer.noAck) {
      this.unacked.add(tag, queue, entry, consumer);
      this.stats.deliver++;
      this.vhostStats.deliver++;
      this.brokerStats.deliver++;
      queue.stats.deliver++;
    } else {
      this.stats.deliver_no_ack++;
      this.vhostStats.deliver_no_ack++;
      this.brokerStats.deliver_no_ack++;
      queue.stats.deliver_no_ack++;
    }
    if (entry.redelivered) this.countRedelivered(queue);
    const writer = this.connection.writer;
    writer.writeBasicDeliver(this.number, consumer.tag, tag, entry.redelivered, message.exchange, message.routingKey, consumer.deliverFrame);
    writer.writeContent(this.number, M.CLASS_BASIC, message.bodySize, queue.deliveryProperties(entry, message, false), message.body);
    this.connection.scheduleFlush();
  }

  private get(method: IncomingMethod & { id: typeof M.BASIC_GET }): void {
    const { noAck } = method.args;
    const queueName = this.queueName(method.args.queue);
    this.access.check('read', 'queue', queueName);
    const queue = this.vhost.queueFor(queueName, this.connection);
    if (queue.type === 'stream') throw streamRefusal(queue.name, this.vhost.name, 'get');
    const entry = queue.get(noAck);
    if (entry === null) {
      // The head is still in the log: answer when it is back, and hold later input until then.
      this.parked = [{ kind: 'method', method }];
      queue.waitForPageIn(this);
      return;
    }
    if (entry === undefined) {
      this.stats.get_empty++;
      this.vhostStats.get_empty++;
      this.brokerStats.get_empty++;
      queue.stats.get_empty++;
      this.reply(M.BASIC_GET_EMPTY, { clusterId: '' });
      return;
    }
    const tag = this.nextDeliveryTag++;
    if (!noAck) {
      this.unacked.add(tag, queue, entry, null);
      this.stats.get++;
      this.vhostStats.get++;
      this.brokerStats.get++;
      queue.stats.get++;
    } else {
      this.stats.get_no_ack++;
      this.vhostStats.get_no_ack++;
      this.brokerStats.get_no_ack++;
      queue.stats.get_no_ack++;
    }
    if (entry.redelivered) this.countRedelivered(queue);
    const message = entry.message as Message;
    const writer = this.connection.writer;
    encodeMethod(writer, this.number, M.BASIC_GET_OK, {
      deliveryTag: tag,
      redelivered: entry.redelivered,
      exchange: message.exchange,
      routingKey: message.routingKey,
      messageCount: queue.messageCount,
    });
    writer.writeContent(this.number, M.CLASS_BASIC, message.bodySize, queue.deliveryProperties(entry, message, true), message.body);
    this.connection.scheduleFlush();
  }

  private countRedelivered(queue: Queue): void {
    this.stats.redeliver++;
    this.vhostStats.redeliver++;
    this.brokerStats.redeliver++;
    queue.stats.redeliver++;
  }

  consumerCancelledByBroker(consumer: ChannelConsumer): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    if (this.connection.capabilities.consumer_cancel_notify !== true || this.awaitingCloseOk) return;
    this.cancelsDue.push(consumer.tag);
    // While this channel's own method deleted the queue, its reply goes first (as in RabbitMQ).
    if (!this.handling) this.sendCancels();
  }

  private sendCancels(): void {
    const tags = this.cancelsDue;
    for (let i = 0; i < tags.length; i++) this.reply(M.BASIC_CANCEL, { consumerTag: tags[i], nowait: true });
    truncate(tags, 0);
  }

  /** A window may have opened (ack, qos, drain): let the queues deliver again. */
  resumeDeliveries(): void {
    for (const consumer of this.consumers.values()) {
      if (consumer.queue.messageCount > 0) consumer.queue.dispatch();
    }
  }

  // ---- acks -------------------------------------------------------------------

  private settleOrDefer(kind: TxAck['kind'], tag: number, multiple: boolean, requeue: boolean): void {
    if (kind === 'nack') {
      this.unacked.check(tag, multiple);
      const stream = this.unacked.firstOfType(tag, multiple, 'stream');
      if (stream !== undefined) throw streamRefusal(stream.name, this.vhost.name, 'nack');
    }
    const transaction = this.transaction;
    if (transaction !== undefined) {
      this.unacked.check(tag, multiple);
      transaction.ack(kind, tag, multiple, requeue);
      return;
    }
    this.settle(kind, tag, multiple, requeue);
  }

  /** ack, nack or reject: single acks (the common case) allocate nothing. */
  private settle(kind: TxAck['kind'], tag: number, multiple: boolean, requeue: boolean): void {
    if (!multiple) {
      const delivery = this.unacked.take(tag);
      if (kind === 'nack' && requeue) delivery.queue.requeue([delivery.entry]);
      else this.finish(delivery, kind);
      const consumer = delivery.consumer;
      this.unacked.recycle(delivery);
      if (this.globalPrefetch === 0 && consumer !== null) {
        if (consumer.queue.messageCount > 0) consumer.queue.dispatch();
        return;
      }
      this.resumeDeliveries();
      return;
    }
    this.unacked.check(tag, multiple);
    const settled = this.unacked.takeUpTo(tag);
    if (kind === 'nack' && requeue) requeueByQueue(settled);
    else for (const delivery of settled) this.finish(delivery, kind);
    this.resumeDeliveries();
  }

  /** Settled for good: gone from its queue (and its log), dead-lettered if rejected. */
  private finish(delivery: Delivery, kind: TxAck['kind']): void {
    const queue = delivery.queue;
    queue.settle(delivery.entry);
    if (kind === 'nack') {
      this.vhost.deadLetter(queue, delivery.entry.message as Message, 'rejected');
      return;
    }
    this.stats.ack++;
    this.vhostStats.ack++;
    this.brokerStats.ack++;
    queue.stats.ack++;
  }

  private requeueAll(): void {
    requeueByQueue(this.unacked.takeAll());
  }

  // ---- closing ----------------------------------------------------------------

  /** A channel error: tell the client, free what the channel held, await close-ok. */
  private fail(error: AmqpError): void {
    this.connection.log.warn(
      { event: 'channel.error', channel: this.number, replyCode: error.replyCode, classId: error.classId, methodId: error.methodId },
      `closing channel: ${error.replyText}`,
    );
    this.release();
    this.awaitingCloseOk = true;
    encodeMethod(this.connection.writer, this.number, M.CHANNEL_CLOSE, {
      replyCode: error.replyCode,
      replyText: error.replyText,
      classId: error.classId,
      methodId: error.methodId,
    });
    this.connection.scheduleFlush();
  }

  private closed(): void {
    this.awaitingCloseOk = false;
    this.connection.channelClosed(this);
  }

  /** Cancels the channel's consumers and requeues its unacked messages (in their original order). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.content.clear();
    this.parked = undefined;
    this.heldReply = undefined;
    this.stopReplyConsumer();
    this.vhost.durability?.stopWaiting(this);
    this.stopWaitingForStreams();
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    // Unsubscribe first so that requeued messages are not offered back to this channel.
    for (const consumer of consumers) this.vhost.cancel(consumer.queue, consumer);
    this.requeueAll();
  }

  private reply<K extends keyof M.MethodArgsById>(id: K, args: M.MethodArgsById[K]): void {
    encodeMethod(this.connection.writer, this.number, id, args);
    this.connection.scheduleFlush();
  }
}
