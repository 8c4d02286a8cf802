import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Access } from '../broker/access/permissions.js';
import type { AlarmListener } from '../broker/alarms.js';
import type { Broker, Session, User } from '../broker/broker.js';
import type { FlowWaiter, Queue } from '../broker/queue.js';
import type { VHost } from '../broker/vhost.js';
import { getUInt32 } from '../protocol/byte-sink.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, PROTOCOL_HEADER } from '../protocol/constants.js';
import { AmqpError } from '../protocol/errors.js';
import type { FieldTable } from '../protocol/field-table.js';
import { FrameReader, type FrameSink } from '../protocol/frame-reader.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import {
  BASIC_ACK,
  BASIC_PUBLISH,
  CHANNEL_OPEN,
  CONNECTION_BLOCKED,
  CONNECTION_CLOSE,
  CONNECTION_CLOSE_OK,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  CONNECTION_UNBLOCKED,
  CONNECTION_UPDATE_SECRET,
  CONNECTION_UPDATE_SECRET_OK,
  decodeMethod,
  encodeMethod,
  type IncomingMethod,
  methodName,
} from '../protocol/methods.generated.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { authenticate, isLoopback, type LoginRules, offeredMechanisms } from './auth.js';
import { Channel } from './channel.js';
import type { TlsSession } from './tls-session.js';

export interface SessionSettings {
  /** Heartbeat interval the server proposes, in seconds (RabbitMQ: 60). */
  heartbeat: number;
  frameMax: number;
  channelMax: number;
  /** Largest message body accepted (RabbitMQ 3.10: 128 MiB). */
  maxMessageSize: number;
  serverProperties: FieldTable;
  /** Mechanisms offered and loopback-only users. */
  login: LoginRules;
}

/** "AMQP" 1 1 0 9: the 0-9 header some older clients send; RabbitMQ speaks 0-9-1 to them. */
const PROTOCOL_HEADER_0_9 = Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 9]);

/** RabbitMQ's names for the connection states, used in its reply texts. */
const STATE_NAMES: Record<string, string> = { 'start-ok': 'starting', 'tune-ok': 'tuning', open: 'opening', opened: 'running' };

/** Methods valid only at their step of the handshake. */
const HANDSHAKE_METHODS = new Set([CONNECTION_START_OK, CONNECTION_TUNE_OK, CONNECTION_OPEN]);

type State = 'protocol-header' | 'start-ok' | 'tune-ok' | 'open' | 'opened' | 'closing' | 'closed';

/** How long a peer has to answer our connection.close before the socket is cut. */
const CLOSE_TIMEOUT_MS = 3000;
/**
 * How long a client that sent a SASL response with nothing in it waits for
 * the socket to close, without a word: RabbitMQ's SILENT_CLOSE_DELAY.
 */
const SILENT_CLOSE_DELAY_MS = 3000;
/** How long the handshake may take, as RabbitMQ's handshake_timeout (10 s). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

let nextConnectionId = 1;

/** Most bytes of deliveries written into one connection's output per event-loop turn. */
const OUTPUT_CAP_BYTES = 1024 * 1024;

/** The longest a queue's flow control holds a publisher back at a time. */
const FLOW_PAUSE_MS = 50;

/**
 * A client that sent this much in one event-loop turn has more waiting: it yields to others until the next turn.
 * Counted over the turn, not per read: a TLS socket hands over one record (16 KiB at most) at a time.
 */
const FAIR_SHARE_BYTES = 32 * 1024;

/**
 * The event-loop turn, for counting each connection's bytes per turn: it moves on in the check phase after a
 * turn's reads, scheduled by the first read of the turn (one setImmediate per turn, shared by all connections).
 */
let readTurn = 0;
let readTurnScheduled = false;
function nextReadTurn(): void {
  readTurn++;
  readTurnScheduled = false;
}

/**
 * One client connection: the handshake, heartbeats, channel 0, and the
 * output buffer all channels write into, flushed once per event-loop turn.
 */
export class Connection implements FrameSink, FlowWaiter, AlarmListener, Session {
  readonly id = nextConnectionId++;
  // Starts small: most connections are idle, and below 4 KiB the scratch is a
  // slice of Node's shared buffer pool; a busy one grows its buffer on first use.
  // 1 KiB holds the whole handshake (connection.start is about 440 bytes) and
  // what an idle connection writes after it; each idle connection holds it for
  // good (issue 13: 2 KiB was a fifth of the 10,000-connection figure).
  readonly writer = new FrameWriter(1024);
  readonly channels = new Map<number, Channel>();
  /**
   * The channel a frame came on last (see channelAt): a message's frames, a consumer's acks, come in runs on one
   * channel. Forgotten whenever `channels` changes.
   */
  private lastChannel: Channel | undefined = undefined;
  readonly name: string;
  /** When the socket was accepted (ms since the epoch), for the management API. */
  readonly connectedAt = Date.now();
  readonly log: Logger;
  vhost: VHost | undefined;
  user: User | undefined;
  /** The SASL mechanism the client logged in with (the management API's auth_mechanism). */
  authMechanism: string | undefined;
  /** What the user may do in the vhost; set at connection.open. */
  access: Access | undefined;
  clientProperties: FieldTable = {};
  capabilities: FieldTable = {};
  /** The socket asked us to wait for 'drain': deliveries pause until then. */
  writeBlocked = false;
  /** Deliveries stopped at OUTPUT_CAP_BYTES this turn: resumed after the flush. */
  private outputCapped = false;
  private state: State = 'protocol-header';
  private readonly reader = new FrameReader();
  private headerBytes: Buffer | undefined;
  private channelMax: number;
  private heartbeatSeconds = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private receivedSinceTick = true;
  private silentTicks = 0;
  /** Channels, timers and exclusive queues are freed once, however the connection ends. */
  private released = false;
  private sentSinceTick = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  /** Channels with publisher confirms to send at the next flush. */
  readonly confirmingChannels: Channel[] = [];
  // Timer and socket callbacks, guarded: an unexpected error in one closes this connection only.
  private readonly flushBound = this.guard('output flush', () => this.flush());
  private readonly resumeInputBound = this.guard('input resume', () => this.resumeInput());
  private readonly flowResumedBound = this.guard('flow-control timer', () => this.flowResumed());
  private readonly heartbeatTickBound = this.guard('heartbeat timer', () => this.heartbeatTick());
  /** Yielding to other connections until the next turn (fair share). */
  private inputPaused = false;
  /** Bytes read in event-loop turn bytesReadTurn (see FAIR_SHARE_BYTES). */
  private bytesReadThisTurn = 0;
  private bytesReadTurn = -1;
  /** Held back by a queue's flow control, for at most FLOW_PAUSE_MS at a time. */
  private flowTimer: NodeJS.Timeout | undefined;
  /** A resource alarm is in effect: the next publish blocks this connection. */
  private alarmReason: string | null = null;
  /** Blocked by an alarm at a publish: not read until it clears. */
  private blockedByAlarm = false;
  /** Frames read (from the chunk in hand) after blocking: type, channel, payload, replayed when unblocked. */
  private heldFrames: (number | Buffer | Buffer[])[] = [];
  private closeReason = 'client closed the connection';
  /** Bytes and socket reads/writes (RabbitMQ's recv_oct, recv_cnt, send_oct, send_cnt). */
  recvOct = 0;
  recvCnt = 0;
  sendOct = 0;
  sendCnt = 0;
  /** When connection.open succeeded (ms since the epoch); 0 before. */
  openedAt = 0;
  /** recv_oct and send_oct per second over the last sampling period, and the sample they come from. */
  private readonly traffic = new TrafficSample();
  /** SASL mechanisms offered in connection.start. */
  private readonly mechanisms: readonly string[];

  /**
   * `socket` is a TCP socket or, over amqps, a TLS socket after its handshake (a TLSSocket is a Socket: the same
   * code serves both); `tls` describes that TLS session.
   */
  constructor(
    readonly socket: Socket,
    readonly broker: Broker,
    readonly settings: SessionSettings,
    logger: Logger,
    private readonly onClosed: (connection: Connection) => void,
    readonly tls: TlsSession | undefined = undefined,
  ) {
    this.mechanisms = offeredMechanisms(settings.login, tls !== undefined);
    this.name = `${socket.remoteAddress}:${socket.remotePort} -> ${socket.localAddress}:${socket.localPort}`;
    this.log = logger.child({ connection: this.id, peer: `${socket.remoteAddress}:${socket.remotePort}` });
    this.channelMax = settings.channelMax;
    socket.setNoDelay(true);
    socket.on('data', this.guard('input', (chunk: Buffer) => this.onData(chunk)));
    socket.on('drain', this.guard('socket drain', () => this.onDrain()));
    socket.on('error', (error: Error) => {
      this.closeReason = `socket error: ${error.message}`;
    });
    socket.on('close', this.guard('socket close', () => this.onSocketClosed()));
    this.closeTimer = setTimeout(this.guard('handshake timer', () => this.abort('handshake timed out')), HANDSHAKE_TIMEOUT_MS);
    this.log.info({ event: 'connection.accepted', tls: tls?.protocol }, 'accepting AMQP connection');
  }

  /** Asks the client to close, e.g. at shutdown (320 CONNECTION_FORCED). */
  forceClose(replyCode: number, text: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.state !== 'opened') {
      this.abort(text);
      return;
    }
    this.sendClose(AmqpError.connection(replyCode, text));
  }

  /** What the management API shows of the negotiated session and of flow control. */
  get negotiated(): { channelMax: number; frameMax: number; heartbeat: number } {
    return { channelMax: this.channelMax, frameMax: this.writer.frameMax, heartbeat: this.heartbeatSeconds };
  }

  /** RabbitMQ's connection state: blocked (reading stopped by an alarm), blocking (an alarm is on, no publish yet), running. */
  get flowState(): 'running' | 'blocking' | 'blocked' {
    if (this.blockedByAlarm) return 'blocked';
    return this.alarmReason !== null ? 'blocking' : 'running';
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }

  // ---- input --------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.receivedSinceTick = true;
    this.recvOct += chunk.length;
    this.recvCnt++;
    if (!readTurnScheduled) {
      readTurnScheduled = true;
      setImmediate(nextReadTurn);
    }
    if (this.bytesReadTurn !== readTurn) {
      this.bytesReadTurn = readTurn;
      this.bytesReadThisTurn = 0;
    }
    this.bytesReadThisTurn += chunk.length;
    if (this.state === 'closed') return;
    const splitBodyBytes = this.reader.splitBodyBytes;
    try {
      if (this.state === 'protocol-header') {
        chunk = this.readProtocolHeader(chunk);
        if (chunk.length === 0) return;
      }
      this.reader.push(chunk, this);
    } catch (error) {
      this.onError(error);
      return;
    }
    // A large body's bytes, kept as pieces of the reads, cost a subarray per read and no work per message: they do
    // not use up the share (pausing and resuming the socket after each 64 KiB read cost ~10 µs a time).
    this.bytesReadThisTurn -= this.reader.splitBodyBytes - splitBodyBytes;
    if (this.bytesReadThisTurn >= FAIR_SHARE_BYTES && !this.inputPaused && this.state === 'opened') {
      // A client that sends more than its share (a publisher flooding us) waits for the next event-loop turn, so
      // that other connections' acks and consumers are served in between; libuv would otherwise read it dry (up
      // to 32 reads) first.
      this.inputPaused = true;
      this.socket.pause();
      setImmediate(this.resumeInputBound);
    }
  }

  private resumeInput(): void {
    this.inputPaused = false;
    this.resumeIfFree();
  }

  /** Reads the socket again unless something else still holds it back. */
  private resumeIfFree(): void {
    if (this.state !== 'closed' && !this.inputPaused && this.flowTimer === undefined && !this.blockedByAlarm) this.socket.resume();
  }

  alarmsChanged(reason: string | null): void {
    this.alarmReason = reason;
    if (reason !== null || !this.blockedByAlarm) return;
    this.blockedByAlarm = false;
    if (this.capabilities['connection.blocked'] === true && this.state === 'opened') {
      encodeMethod(this.writer, 0, CONNECTION_UNBLOCKED, {});
      this.scheduleFlush();
    }
    this.log.info({ event: 'connection.unblocked' }, 'resource alarm cleared; reading from the connection again');
    this.replayHeldFrames();
    this.resumeIfFree();
  }

  /**
   * While an alarm is in effect, a basic.publish blocks the connection before
   * it is processed, as in RabbitMQ: it and what follows wait for the alarm to clear.
   */
  private blocksAt(type: number, buf: Buffer, start: number, end: number): boolean {
    if (type !== FRAME_METHOD || this.state !== 'opened' || end - start < 4 || buf.readUInt32BE(start) !== BASIC_PUBLISH) return false;
    this.blockedByAlarm = true;
    this.socket.pause();
    if (this.capabilities['connection.blocked'] === true) {
      encodeMethod(this.writer, 0, CONNECTION_BLOCKED, { reason: this.alarmReason as string });
      this.scheduleFlush();
    }
    this.log.warn({ event: 'connection.blocked', reason: this.alarmReason }, `blocking publisher: ${this.alarmReason}`);
    return true;
  }

  private replayHeldFrames(): void {
    const held = this.heldFrames;
    this.heldFrames = [];
    try {
      for (let i = 0; i < held.length; i += 3) {
        const payload = held[i + 2] as Buffer | Buffer[];
        if (Array.isArray(payload)) this.onBodyFrame(held[i + 1] as number, payload);
        else this.onFrame(held[i] as number, held[i + 1] as number, payload, 0, payload.length);
      }
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * A queue this connection publishes into is behind its consumers: stop
   * reading until it catches up. Bounded in time, so that a connection that
   * also consumes from that queue (its acks unread) cannot deadlock.
   */
  throttle(queue: Queue): void {
    if (this.flowTimer !== undefined || this.state !== 'opened') return;
    this.socket.pause();
    queue.waitForFlow(this);
    this.flowTimer = setTimeout(this.flowResumedBound, FLOW_PAUSE_MS);
  }

  flowResumed(): void {
    if (this.flowTimer === undefined) return;
    clearTimeout(this.flowTimer);
    this.flowTimer = undefined;
    this.resumeIfFree();
  }

  private readProtocolHeader(chunk: Buffer): Buffer {
    const have = this.headerBytes === undefined ? chunk : Buffer.concat([this.headerBytes, chunk]);
    if (have.length < 8) {
      this.headerBytes = have;
      return Buffer.alloc(0);
    }
    this.headerBytes = undefined;
    const header = have.subarray(0, 8);
    if (!header.equals(PROTOCOL_HEADER) && !header.equals(PROTOCOL_HEADER_0_9)) {
      this.log.warn({ event: 'connection.bad-header', header: have.subarray(0, 8).toString('hex') }, 'closing: not an AMQP 0-9-1 protocol header');
      this.state = 'closed';
      this.socket.end(PROTOCOL_HEADER);
      return Buffer.alloc(0);
    }
    this.state = 'start-ok';
    encodeMethod(this.writer, 0, CONNECTION_START, {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: this.settings.serverProperties,
      mechanisms: Buffer.from(this.mechanisms.join(' ')),
      locales: Buffer.from('en_US'),
    });
    this.scheduleFlush();
    return have.subarray(8);
  }

  onFrame(type: number, channelNumber: number, buf: Buffer, start: number, end: number): void {
    if (this.state === 'closed') return;
    if (this.alarmReason !== null && (this.blockedByAlarm || this.blocksAt(type, buf, start, end))) {
      this.heldFrames.push(type, channelNumber, buf.subarray(start, end));
      return;
    }
    if (type === FRAME_METHOD) {
      if (channelNumber !== 0 && this.state === 'opened' && end - start >= 4) {
        // Publishes and acks, the methods that come per message, are read in place.
        const id = getUInt32(buf, start);
        if (id === BASIC_PUBLISH || id === BASIC_ACK) {
          const channel = this.channelAt(channelNumber);
          if (channel !== undefined) {
            if (id === BASIC_PUBLISH) channel.onPublish(buf, start, end);
            else channel.onAck(buf, start, end);
            return;
          }
        }
      }
      const method = decodeMethod(buf.subarray(start, end));
      if (channelNumber === 0) this.onConnectionMethod(method);
      else this.onChannelMethod(channelNumber, method);
    } else if (type === FRAME_HEADER) {
      this.contentChannel(channelNumber)?.onContentHeader(buf, start, end);
    } else if (type === FRAME_BODY) {
      this.contentChannel(channelNumber)?.onContentBody(buf.subarray(start, end));
    } else if (type === FRAME_HEARTBEAT) {
      if (channelNumber !== 0) {
        throw AmqpError.connection(ReplyCode.UNEXPECTED_FRAME, `heartbeat frame on channel ${channelNumber}`);
      }
    } else {
      throw AmqpError.connection(ReplyCode.FRAME_ERROR, `unknown frame type ${type}`);
    }
  }

  /** A body frame that arrived across several reads: its pieces, not copied. */
  onBodyFrame(channelNumber: number, pieces: Buffer[]): void {
    if (this.state === 'closed') return;
    // Only a method frame blocks; a body frame is held behind one already held.
    if (this.alarmReason !== null && this.blockedByAlarm) {
      this.heldFrames.push(FRAME_BODY, channelNumber, pieces);
      return;
    }
    this.contentChannel(channelNumber)?.onContentBody(pieces);
  }

  /** The open channel with this number, if any; `channels.get` without its hash lookup for a run of frames on one channel. */
  private channelAt(channelNumber: number): Channel | undefined {
    const last = this.lastChannel;
    if (last !== undefined && last.number === channelNumber) return last;
    const channel = this.channels.get(channelNumber);
    if (channel !== undefined) this.lastChannel = channel;
    return channel;
  }

  /** The channel a content frame is for; undefined while closing (frames are then dropped). */
  private contentChannel(channelNumber: number): Channel | undefined {
    if (this.state === 'closing') return undefined;
    const channel = this.channelAt(channelNumber);
    if (channelNumber === 0 || this.state !== 'opened') {
      throw AmqpError.connection(ReplyCode.UNEXPECTED_FRAME, `unexpected content frame on channel ${channelNumber}`);
    }
    if (channel === undefined) throw AmqpError.connection(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'");
    return channel;
  }

  private onChannelMethod(channelNumber: number, method: IncomingMethod): void {
    if (this.state === 'closing') return;
    if (this.state !== 'opened') {
      throw this.unexpectedMethod(method.id);
    }
    let channel = this.channels.get(channelNumber);
    if (method.id === CHANNEL_OPEN) {
      if (channel === undefined && this.channels.size >= this.channelMax) {
        // RabbitMQ limits how many channels are open, not the channel number.
        throw AmqpError.connection(
          ReplyCode.NOT_ALLOWED,
          `number of channels opened (${this.channels.size}) has reached the negotiated channel_max (${this.channelMax})`,
        );
      }
      if (channel !== undefined) {
        // A channel we closed and whose close-ok is still due stays reserved.
        if (channel.awaitingCloseOk) return;
        throw AmqpError.connection(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen", 20, 10);
      }
      channel = new Channel(this, channelNumber);
      this.channels.set(channelNumber, channel);
      this.lastChannel = undefined;
      this.broker.stats.channelsOpened++;
      channel.open();
      return;
    }
    if (channel === undefined) {
      throw AmqpError.connection(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'", method.id >>> 16, method.id & 0xffff);
    }
    channel.onMethod(method);
  }

  private onConnectionMethod(method: IncomingMethod): void {
    const expected = this.expectedConnectionMethod();
    if (method.id === CONNECTION_CLOSE) {
      this.closeReason = `client closed the connection: ${method.args.replyCode} ${method.args.replyText}`;
      encodeMethod(this.writer, 0, CONNECTION_CLOSE_OK, {});
      this.flush();
      this.awaitClientClose();
      return;
    }
    if (this.state === 'closing') {
      if (method.id === CONNECTION_CLOSE_OK) this.finish();
      return;
    }
    if (method.id !== expected && (expected !== undefined || HANDSHAKE_METHODS.has(method.id))) {
      throw this.unexpectedMethod(method.id);
    }
    switch (method.id) {
      case CONNECTION_START_OK: {
        const args = method.args;
        this.clientProperties = args.clientProperties;
        const capabilities = args.clientProperties.capabilities;
        if (capabilities !== null && typeof capabilities === 'object' && !Array.isArray(capabilities) && !Buffer.isBuffer(capabilities)) {
          this.capabilities = capabilities as FieldTable;
        }
        if (args.mechanism === 'PLAIN' && args.response.length === 0) {
          // As RabbitMQ: no answer at all, the socket closed 3 s later (clients rely on that silence).
          this.closeSilently('empty PLAIN response');
          return;
        }
        try {
          this.user = authenticate(
            this.broker,
            this.settings.login,
            this.mechanisms,
            args.mechanism,
            args.response,
            isLoopback(this.socket.localAddress),
            this.tls?.peerCertificate,
            (reason) => this.log.warn({ event: 'connection.login-refused' }, reason),
          );
        } catch (error) {
          if (error instanceof AmqpError && (error.replyCode !== ReplyCode.ACCESS_REFUSED || this.capabilities.authentication_failure_close !== true)) {
            // As RabbitMQ: only a refused login of a client with that capability gets connection.close;
            // other clients, and other faults here (a mechanism not offered), see the socket closed.
            this.abort(`authentication failed: ${error.replyText}`);
            return;
          }
          throw error;
        }
        this.authMechanism = args.mechanism;
        this.state = 'tune-ok';
        encodeMethod(this.writer, 0, CONNECTION_TUNE, {
          channelMax: this.settings.channelMax,
          frameMax: this.settings.frameMax,
          heartbeat: this.settings.heartbeat,
        });
        this.scheduleFlush();
        return;
      }
      case CONNECTION_TUNE_OK: {
        const { channelMax, frameMax, heartbeat } = method.args;
        const serverFrameMax = this.settings.frameMax;
        if (frameMax !== 0 && frameMax < FRAME_MIN_SIZE) {
          throw AmqpError.connection(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`);
        }
        if (serverFrameMax !== 0 && (frameMax === 0 || frameMax > serverFrameMax)) {
          throw AmqpError.connection(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} > ${serverFrameMax} max size`);
        }
        if (channelMax !== 0 && channelMax < this.settings.channelMax) this.channelMax = channelMax;
        this.reader.frameMax = frameMax;
        this.writer.frameMax = frameMax;
        this.heartbeatSeconds = heartbeat;
        this.state = 'open';
        this.startHeartbeats();
        return;
      }
      case CONNECTION_OPEN: {
        const name = method.args.virtualHost;
        const vhost = this.broker.vhost(name);
        if (vhost === undefined) throw AmqpError.connection(ReplyCode.NOT_ALLOWED, `vhost ${name} not found`, 10, 40);
        const user = this.user as User;
        if (!this.broker.permissions.hasAccess(user.name, name)) {
          throw AmqpError.connection(ReplyCode.NOT_ALLOWED, `access to vhost '${name}' refused for user '${user.name}'`, 10, 40);
        }
        this.vhost = vhost;
        this.access = new Access(this.broker.permissions, user.name, name);
        this.broker.sessions.add(this);
        this.broker.stats.connectionsOpened++;
        this.openedAt = Date.now();
        this.state = 'opened';
        this.alarmReason = this.broker.alarms.reason;
        this.broker.alarms.listen(this);
        clearTimeout(this.closeTimer);
        this.closeTimer = undefined;
        encodeMethod(this.writer, 0, CONNECTION_OPEN_OK, { knownHosts: '' });
        this.scheduleFlush();
        this.log.info({ event: 'connection.opened', user: this.user?.name, vhost: name, client: describeClient(this.clientProperties) }, 'connection opened');
        return;
      }
      case CONNECTION_UPDATE_SECRET:
        encodeMethod(this.writer, 0, CONNECTION_UPDATE_SECRET_OK, {});
        this.scheduleFlush();
        return;
      case CONNECTION_CLOSE_OK:
        return;
      default:
        throw this.unexpectedMethod(method.id);
    }
  }

  private unexpectedMethod(id: number): AmqpError {
    return AmqpError.connection(
      ReplyCode.CHANNEL_ERROR,
      `unexpected method in connection state ${STATE_NAMES[this.state] ?? this.state}`,
      id >>> 16,
      id & 0xffff,
    );
  }

  private expectedConnectionMethod(): number | undefined {
    switch (this.state) {
      case 'start-ok':
        return CONNECTION_START_OK;
      case 'tune-ok':
        return CONNECTION_TUNE_OK;
      case 'open':
        return CONNECTION_OPEN;
      default:
        return undefined;
    }
  }

  // ---- errors and closing -------------------------------------------------

  /** An error raised outside this connection's input handler (e.g. replayed channel input). */
  fail(error: unknown): void {
    this.onError(error);
  }

  /** An error in one of this connection's callbacks: close it (541); if even that fails, drop the socket. */
  private onError(error: unknown): void {
    if (error instanceof AmqpError) {
      if (error.scope === 'channel') {
        // A channel error that escaped its channel (e.g. raised while decoding) still only closes the connection.
        error = AmqpError.connection(error.replyCode, error.detail, error.classId, error.methodId);
      }
      this.sendClose(error as AmqpError);
      return;
    }
    this.log.error({ event: 'connection.internal-error', err: error }, 'internal error; closing connection');
    this.sendClose(AmqpError.connection(ReplyCode.INTERNAL_ERROR, 'internal error'));
  }

  private sendClose(error: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const beforeOpen = this.state !== 'opened';
    this.state = 'closing';
    // The message, not the reply text: a name-only reply text still logs its detail.
    this.closeReason = `${error.replyCode} ${error.message}`;
    this.log.warn(
      { event: 'connection.error', replyCode: error.replyCode, classId: error.classId, methodId: error.methodId },
      `closing connection: ${error.message}`,
    );
    this.releaseChannels();
    encodeMethod(this.writer, 0, CONNECTION_CLOSE, {
      replyCode: error.replyCode,
      replyText: error.replyText,
      classId: error.classId,
      methodId: error.methodId,
    });
    this.flush();
    // After a framing error no close-ok could be read: the socket is closed at once.
    if (this.reader.broken || (beforeOpen && error.replyCode !== ReplyCode.ACCESS_REFUSED && error.replyCode !== ReplyCode.NOT_ALLOWED)) {
      this.finish();
      return;
    }
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(this.guard('close timer', () => this.abort('no connection.close-ok in time')), CLOSE_TIMEOUT_MS);
  }

  /** Reads nothing more and closes the socket after SILENT_CLOSE_DELAY_MS without sending anything. */
  private closeSilently(reason: string): void {
    this.closeReason = reason;
    this.log.warn({ event: 'connection.refused' }, `closing connection in ${SILENT_CLOSE_DELAY_MS} ms without an answer: ${reason}`);
    this.state = 'closed';
    this.socket.pause();
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(this.guard('close timer', () => this.socket.destroy()), SILENT_CLOSE_DELAY_MS);
  }

  /**
   * Wraps a timer or socket callback: an error that escapes it (a bug, not a
   * client's fault) is logged at error level with its stack and closes this
   * connection only, instead of reaching the event loop and ending the process.
   */
  private guard<T = void>(where: string, callback: (arg: T) => void): (arg: T) => void {
    // One argument, not a rest parameter: no array per call on the input path.
    return (arg: T) => {
      try {
        callback(arg);
      } catch (error) {
        this.failInternally(where, error);
      }
    };
  }

  private failInternally(where: string, error: unknown): void {
    // Confirms still queued may be what failed: a failing connection sends none.
    this.confirmingChannels.length = 0;
    this.log.error({ event: 'connection.internal-error', where, err: error }, `internal error in the ${where}; closing connection`);
    if (this.state === 'opened') {
      try {
        this.sendClose(AmqpError.connection(ReplyCode.INTERNAL_ERROR, 'internal error'));
        return;
      } catch {
        // Not even the close could be sent: the socket is cut below.
      }
    }
    this.abort(`internal error in the ${where}`);
  }

  /** Closes the socket after flushing what is buffered. */
  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.flush();
    this.socket.end();
    this.releaseResources();
  }

  /**
   * After our close-ok the client closes the socket (the spec's order, and
   * RabbitMQ's): closing it first can hand the client an EOF before it has
   * read the close-ok. A client that never closes is cut after CLOSE_TIMEOUT_MS.
   */
  private awaitClientClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.releaseResources();
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(this.guard('close timer', () => this.socket.destroy()), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  private abort(reason: string): void {
    if (this.state === 'closed') return;
    this.closeReason = reason;
    this.log.warn({ event: 'connection.aborted' }, `closing connection: ${reason}`);
    this.state = 'closed';
    this.socket.destroy();
    this.releaseResources();
  }

  private onSocketClosed(): void {
    clearTimeout(this.closeTimer);
    if (this.state !== 'closed') {
      this.state = 'closed';
      if (this.closeReason === 'client closed the connection') this.closeReason = 'client closed the socket without connection.close';
    }
    this.releaseResources();
  }

  private releaseResources(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.closeTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.flowTimer);
    this.broker.alarms.unlisten(this);
    if (this.broker.sessions.delete(this)) this.broker.stats.connectionsClosed++;
    this.releaseChannels();
    this.vhost?.ownerClosed(this);
    this.log.info({ event: 'connection.closed', reason: this.closeReason }, 'connection closed');
    this.onClosed(this);
  }

  private releaseChannels(): void {
    this.broker.stats.channelsClosed += this.channels.size;
    for (const channel of this.channels.values()) channel.release();
    this.channels.clear();
    this.lastChannel = undefined;
  }

  /** The channel's close-ok arrived, or it was closed by the client: its number is free again. */
  channelClosed(channel: Channel): void {
    if (this.channels.get(channel.number) !== channel) return;
    this.channels.delete(channel.number);
    this.lastChannel = undefined;
    this.broker.stats.channelsClosed++;
  }

  /** The statistics sampler's tick (`now` in ms): rates since the previous one. */
  sampleTraffic(now: number): void {
    const traffic = this.traffic;
    const seconds = (now - traffic.sampledAt) / 1000;
    if (seconds > 0) {
      traffic.recvOctRate = (this.recvOct - traffic.sampledRecvOct) / seconds;
      traffic.sendOctRate = (this.sendOct - traffic.sampledSendOct) / seconds;
    }
    traffic.sampledRecvOct = this.recvOct;
    traffic.sampledSendOct = this.sendOct;
    traffic.sampledAt = now;
  }

  /** recv_oct per second over the last sampling period (RabbitMQ's recv_oct_details.rate). */
  get recvOctRate(): number {
    return this.traffic.recvOctRate;
  }

  /** send_oct per second over the last sampling period (RabbitMQ's send_oct_details.rate). */
  get sendOctRate(): number {
    return this.traffic.sendOctRate;
  }

  // ---- output -------------------------------------------------------------

  flush(): void {
    this.flushScheduled = false;
    const confirming = this.confirmingChannels;
    for (let i = 0; i < confirming.length; i++) confirming[i].sendConfirms();
    confirming.length = 0;
    const writer = this.writer;
    const buffers = writer.take();
    if (buffers === null) return;
    if (this.socket.destroyed) {
      writer.written(false);
      return;
    }
    this.sentSinceTick = true;
    this.sendCnt++;
    const socket = this.socket;
    if (buffers.length === 1) {
      this.sendOct += buffers[0].length;
      if (!socket.write(buffers[0])) this.writeBlocked = true;
    } else {
      socket.cork();
      for (let i = 0; i < buffers.length; i++) {
        this.sendOct += buffers[i].length;
        socket.write(buffers[i]);
      }
      socket.uncork();
      if (socket.writableNeedDrain) this.writeBlocked = true;
    }
    // Nothing left in the socket's queue: the kernel took it all at once (as a loopback or LAN socket nearly always
    // does) and nothing holds our buffers, so the scratch is reused from its start. A TLS socket keeps its writes
    // queued until encrypted and sent: they stay untouched.
    writer.written(socket.writableLength === 0);
    if (this.outputCapped && !this.writeBlocked) {
      // The socket took it all: consumers held back by the cap may go on (flushed next turn).
      this.outputCapped = false;
      for (const channel of this.channels.values()) channel.resumeDeliveries();
    }
  }

  /**
   * Whether deliveries may be written now: not while the socket wants a drain,
   * nor past OUTPUT_CAP_BYTES in one turn (a consumer without a prefetch limit
   * on a large backlog would otherwise copy all of it into the output at once).
   */
  get acceptsDeliveries(): boolean {
    if (this.writeBlocked) return false;
    if (this.writer.pendingBytes < OUTPUT_CAP_BYTES) return true;
    this.outputCapped = true;
    return false;
  }

  private onDrain(): void {
    if (!this.writeBlocked) return;
    this.writeBlocked = false;
    for (const channel of this.channels.values()) channel.resumeDeliveries();
  }

  // ---- heartbeats -----------------------------------------------------------

  private startHeartbeats(): void {
    if (this.heartbeatSeconds <= 0) return;
    // Tick twice per interval. As RabbitMQ: a heartbeat goes out whenever
    // nothing else did for half the interval (clients that only echo ours
    // then hear from us in time), and a client silent for two whole
    // intervals is dropped.
    const tickMs = (this.heartbeatSeconds * 1000) / 2;
    this.heartbeatTimer = setInterval(this.heartbeatTickBound, tickMs);
    this.heartbeatTimer.unref();
  }

  private heartbeatTick(): void {
    if (this.sentSinceTick) {
      this.sentSinceTick = false;
    } else {
      this.writer.writeHeartbeat();
      this.flush();
      this.sentSinceTick = false;
    }
    if (this.receivedSinceTick) {
      this.receivedSinceTick = false;
      this.silentTicks = 0;
    } else if (++this.silentTicks >= 4) {
      this.abort(`missed heartbeats from client, timeout: ${this.heartbeatSeconds}s`);
    }
  }
}

/**
 * A connection's traffic rates and the sample they are computed from, in an object of their own: the first
 * fractional rate or time stored in a field that held a small integer changes the holder's hidden class, and
 * the Connection's must not change while it runs (every optimized function on the hot path that touches it would
 * be deoptimized; issue 13: latency tail).
 */
class TrafficSample {
  recvOctRate = 0;
  sendOctRate = 0;
  sampledRecvOct = 0;
  sampledSendOct = 0;
  /** NaN before the first sample: no rates until the second. */
  sampledAt = NaN;
}

function describeClient(properties: FieldTable): string {
  const product = properties.product;
  const version = properties.version;
  return [product, version].filter((v) => typeof v === 'string').join(' ');
}
