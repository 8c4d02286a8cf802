// A tiny raw-socket AMQP 0-9-1 client for the "bad input" suite: it does the
// handshake by hand and then sends arbitrary bytes and frames, reading back
// what the broker answers. Every frame is built here, byte by byte: it must
// not depend on Warren's own codec. Every wait is bounded.
import net from 'node:net';

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]); // "AMQP" 0 0 9 1

// ---- encoding ---------------------------------------------------------------

type TableValue = boolean | string | number | { [k: string]: TableValue };

/** Builds a method's argument list field by field (AMQP 0-9-1 wire types). */
export class Args {
  private parts: Buffer[] = [];
  private bitByte: number | null = null;
  private bitCount = 0;

  private flushBits(): void {
    if (this.bitByte !== null) {
      this.parts.push(Buffer.from([this.bitByte]));
      this.bitByte = null;
      this.bitCount = 0;
    }
  }
  private push(b: Buffer): this {
    this.flushBits();
    this.parts.push(b);
    return this;
  }
  octet(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }
  short(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }
  long(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return this.push(b);
  }
  longlong(v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    return this.push(b);
  }
  shortstr(s: string): this {
    const body = Buffer.from(s, 'utf8');
    if (body.length > 255) throw new Error('shortstr longer than 255 bytes');
    return this.push(Buffer.concat([Buffer.from([body.length]), body]));
  }
  longstr(s: string | Buffer): this {
    const body = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return this.push(Buffer.concat([len, body]));
  }
  /** Consecutive bits pack into one octet, low bit first. */
  bit(v: boolean): this {
    if (this.bitByte === null || this.bitCount === 8) {
      this.flushBits();
      this.bitByte = 0;
    }
    if (v) this.bitByte |= 1 << this.bitCount;
    this.bitCount++;
    return this;
  }
  table(t: Record<string, TableValue>): this {
    return this.push(encodeTable(t));
  }
  raw(b: Buffer): this {
    return this.push(b);
  }
  build(): Buffer {
    this.flushBits();
    return Buffer.concat(this.parts);
  }
}

export function encodeTable(t: Record<string, TableValue>): Buffer {
  const fields: Buffer[] = [];
  for (const [k, v] of Object.entries(t)) {
    const key = new Args().shortstr(k).build();
    let val: Buffer;
    if (typeof v === 'boolean') val = Buffer.from([0x74 /* t */, v ? 1 : 0]);
    else if (typeof v === 'string') val = Buffer.concat([Buffer.from('S'), new Args().longstr(v).build()]);
    else if (typeof v === 'number') val = Buffer.concat([Buffer.from('I'), new Args().long(v >>> 0).build()]);
    else val = Buffer.concat([Buffer.from('F'), encodeTable(v)]);
    fields.push(key, val);
  }
  const body = Buffer.concat(fields);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** type, channel, size, payload, frame-end; `size` and `end` may lie on purpose. */
export function frame(type: number, channel: number, payload: Buffer, opts: { size?: number; end?: number } = {}): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(opts.size ?? payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([opts.end ?? FRAME_END])]);
}

export function methodPayload(classId: number, methodId: number, args: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(classId, 0);
  b.writeUInt16BE(methodId, 2);
  return Buffer.concat([b, args]);
}

export function method(channel: number, classId: number, methodId: number, args: Buffer = Buffer.alloc(0), opts: { end?: number } = {}): Buffer {
  return frame(FRAME_METHOD, channel, methodPayload(classId, methodId, args), opts);
}

/** Content header; `properties` are the raw bytes from the property flags on (default: flags 0, none). */
export function contentHeader(channel: number, classId: number, bodySize: number | bigint, properties: Buffer = Buffer.alloc(2)): Buffer {
  const p = Buffer.alloc(12);
  p.writeUInt16BE(classId, 0);
  p.writeUInt16BE(0, 2); // weight
  p.writeBigUInt64BE(BigInt(bodySize), 4);
  return frame(FRAME_HEADER, channel, Buffer.concat([p, properties]));
}

/** Basic properties with only the headers flag (0x2000) set, and this raw table after it. */
export function headersProperties(table: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x20, 0x00]), table]);
}

/** A raw field table with one field `a` of type `Z`, which no broker can decode. */
export const UNDECODABLE_TABLE = Buffer.from([0, 0, 0, 3, 1, 0x61, 0x5a]);

/** A field table nested `levels` deep ({a: {a: … {}}}), built in place: level i starts at 7i. */
export function nestedTable(levels: number): Buffer {
  const table = Buffer.alloc(7 * levels + 4);
  for (let i = 0; i < levels; i++) {
    table.writeUInt32BE(7 * (levels - i), 7 * i);
    table[7 * i + 4] = 1;
    table[7 * i + 5] = 0x61; // a
    table[7 * i + 6] = 0x46; // F
  }
  return table;
}

export function body(channel: number, data: Buffer | string): Buffer {
  return frame(FRAME_BODY, channel, typeof data === 'string' ? Buffer.from(data) : data);
}

export function heartbeat(channel = 0): Buffer {
  return frame(FRAME_HEARTBEAT, channel, Buffer.alloc(0));
}

// The methods the suite sends (class, method ids from the 0-9-1 spec).
export const m = {
  startOk: (props: Record<string, TableValue>, user: string, pass: string) =>
    method(0, 10, 11, new Args().table(props).shortstr('PLAIN').longstr(`\0${user}\0${pass}`).shortstr('en_US').build()),
  tuneOk: (channelMax: number, frameMax: number, hb: number) => method(0, 10, 31, new Args().short(channelMax).long(frameMax).short(hb).build()),
  open: (vhost: string) => method(0, 10, 40, new Args().shortstr(vhost).shortstr('').bit(false).build()),
  closeOk: () => method(0, 10, 51),
  channelOpen: (ch: number) => method(ch, 20, 10, new Args().shortstr('').build()),
  channelCloseOk: (ch: number) => method(ch, 20, 41),
  exchangeDeclare: (ch: number, name: string, type: string) =>
    method(ch, 40, 10, new Args().short(0).shortstr(name).shortstr(type).bit(false).bit(false).bit(false).bit(false).bit(false).table({}).build()),
  queueDeclareArgs: (name: string, opts: { exclusive?: boolean; autoDelete?: boolean } = {}) =>
    new Args()
      .short(0)
      .shortstr(name)
      .bit(false) // passive
      .bit(false) // durable
      .bit(opts.exclusive ?? false)
      .bit(opts.autoDelete ?? false)
      .bit(false) // no-wait
      .table({})
      .build(),
  queueDeclare: (ch: number, name: string, opts: { exclusive?: boolean; autoDelete?: boolean } = {}) => method(ch, 50, 10, m.queueDeclareArgs(name, opts)),
  basicQos: (ch: number, prefetchSize: number, prefetchCount: number, global: boolean) =>
    method(ch, 60, 10, new Args().long(prefetchSize).short(prefetchCount).bit(global).build()),
  basicConsume: (ch: number, queue: string, tag: string) =>
    method(ch, 60, 20, new Args().short(0).shortstr(queue).shortstr(tag).bit(false).bit(true).bit(false).bit(false).table({}).build()),
  basicPublish: (ch: number, exchange: string, routingKey: string, opts: { mandatory?: boolean; immediate?: boolean } = {}) =>
    method(ch, 60, 40, new Args().short(0).shortstr(exchange).shortstr(routingKey).bit(opts.mandatory ?? false).bit(opts.immediate ?? false).build()),
  basicAck: (ch: number, tag: number, multiple = false) => method(ch, 60, 80, new Args().longlong(tag).bit(multiple).build()),
  queueDelete: (ch: number, queue: string) => method(ch, 50, 40, new Args().short(0).shortstr(queue).bit(false).bit(false).bit(false).build()),
};

// ---- decoding ---------------------------------------------------------------

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

export function methodId(f: Frame): [number, number] | null {
  if (f.type !== FRAME_METHOD || f.payload.length < 4) return null;
  return [f.payload.readUInt16BE(0), f.payload.readUInt16BE(2)];
}

/** connection.close / channel.close arguments: reply-code, reply-text, class-id, method-id. */
export function decodeClose(p: Buffer): { code: number; text: string; classId: number; methodId: number } {
  let o = 4;
  const code = p.readUInt16BE(o);
  o += 2;
  const len = p.readUInt8(o);
  o += 1;
  const text = p.subarray(o, o + len).toString('utf8');
  o += len;
  return { code, text, classId: p.readUInt16BE(o), methodId: p.readUInt16BE(o + 2) };
}

// ---- the answer to a bad input -----------------------------------------------

export type AnswerKind =
  | 'connection.close' // the broker sent connection.close
  | 'channel.close' // the broker sent channel.close
  | 'socket-closed' // the broker closed the socket without a close method
  | 'protocol-header' // the broker answered a protocol header with its own and closed
  | 'connection.start' // the broker accepted a protocol header and started the handshake
  | 'no-answer'; // nothing within the window; the connection stays open

export interface Answer {
  kind: AnswerKind;
  code?: number;
  text?: string;
  classId?: number;
  methodId?: number;
  /** The channel the close came on. */
  channel?: number;
  /** protocol-header: the 8 bytes sent back, hex. */
  header?: string;
  /** connection.close / protocol-header / connection.start: the socket ended afterwards (after our close-ok). */
  closed?: boolean;
  /** channel.close: after our close-ok the same channel number could be opened again. */
  connectionUsable?: boolean;
  /** Diagnostics only: other methods seen before the answer ("class.method"). */
  seen?: string[];
}

export interface Tune {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

export interface HandshakeOptions {
  user?: string;
  pass?: string;
  vhost?: string;
  /** Announce capabilities.authentication_failure_close in client-properties (default true). */
  authFailureClose?: boolean;
  /** tune-ok values; default: the server's channel_max and frame_max, heartbeat 0. */
  channelMax?: number;
  frameMax?: number;
  /** More client capabilities to announce (e.g. consumer_cancel_notify). */
  capabilities?: Record<string, TableValue>;
  /** tune-ok heartbeat in seconds (default 0: none). */
  heartbeat?: number;
  /** Stop after sending this step (the answer is then read with answer()). */
  until?: 'start-ok' | 'tune-ok' | 'open' | 'open-ok';
}

export class RawAmqp {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiters: Array<() => void> = [];
  tune: Tune | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  static connect(port: number, timeoutMs = 5_000): Promise<RawAmqp> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to 127.0.0.1:${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.setNoDelay(true);
        resolve(new RawAmqp(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolve on the next data/end event or at the deadline. */
  private waitChange(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const ms = Math.max(0, deadline - Date.now());
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Everything received until the socket ends or ms pass. */
  async readAll(ms: number): Promise<{ bytes: Buffer; ended: boolean }> {
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) await this.waitChange(deadline);
    const bytes = this.buf;
    this.buf = Buffer.alloc(0);
    return { bytes, ended: this.ended };
  }

  /** The next frame, or null if the socket ended or ms passed first. Throws on a malformed frame. */
  async readFrame(ms: number): Promise<Frame | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.buf.length >= 7) {
        const size = this.buf.readUInt32BE(3);
        if (this.buf.length >= 8 + size) {
          const f: Frame = { type: this.buf.readUInt8(0), channel: this.buf.readUInt16BE(1), payload: this.buf.subarray(7, 7 + size) };
          if (this.buf[7 + size] !== FRAME_END) throw new Error(`broker sent a frame without frame-end: ${this.buf.subarray(0, 32).toString('hex')}`);
          this.buf = this.buf.subarray(8 + size);
          return f;
        }
      }
      if (this.ended || Date.now() >= deadline) return null;
      await this.waitChange(deadline);
    }
  }

  /** Read frames until a method frame (heartbeats skipped); null on end/timeout. */
  async readMethod(ms: number): Promise<{ frame: Frame; id: [number, number] } | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = await this.readFrame(Math.max(0, deadline - Date.now()));
      if (!f) return null;
      const id = methodId(f);
      if (id) return { frame: f, id };
    }
  }

  async expectMethod(classId: number, mid: number, ms = 5_000): Promise<Frame> {
    const got = await this.readMethod(ms);
    if (!got) throw new Error(`expected method ${classId}.${mid}, got ${this.ended ? 'socket end' : 'nothing'} within ${ms} ms`);
    if (got.id[0] !== classId || got.id[1] !== mid) {
      const extra = got.id[0] === 10 && got.id[1] === 50 ? ` ${JSON.stringify(decodeClose(got.frame.payload))}` : '';
      throw new Error(`expected method ${classId}.${mid}, got ${got.id.join('.')}${extra}`);
    }
    return got.frame;
  }

  /** The handshake by hand: header, start-ok PLAIN, tune-ok, open. */
  async handshake(opts: HandshakeOptions = {}): Promise<Tune | undefined> {
    const until = opts.until ?? 'open-ok';
    this.write(PROTOCOL_HEADER);
    await this.expectMethod(10, 10);
    const capabilities: Record<string, TableValue> = { ...(opts.capabilities ?? {}) };
    if (opts.authFailureClose ?? true) capabilities.authentication_failure_close = true;
    const props: Record<string, TableValue> = { product: 'warren raw-frames test', capabilities };
    this.write(m.startOk(props, opts.user ?? 'guest', opts.pass ?? 'guest'));
    if (until === 'start-ok') return undefined;
    const tuneFrame = await this.expectMethod(10, 30);
    const p = tuneFrame.payload;
    const server: Tune = { channelMax: p.readUInt16BE(4), frameMax: p.readUInt32BE(6), heartbeat: p.readUInt16BE(10) };
    this.tune = { channelMax: opts.channelMax ?? server.channelMax, frameMax: opts.frameMax ?? server.frameMax, heartbeat: opts.heartbeat ?? 0 };
    this.write(m.tuneOk(this.tune.channelMax, this.tune.frameMax, this.tune.heartbeat));
    if (until === 'tune-ok') return server;
    this.write(m.open(opts.vhost ?? '/'));
    if (until === 'open') return server;
    await this.expectMethod(10, 41);
    return server;
  }

  async openChannel(ch: number): Promise<void> {
    this.write(m.channelOpen(ch));
    await this.expectMethod(20, 11);
  }

  /** Send a method and wait for its -ok (a method with the given id). */
  async rpc(b: Buffer, okClass: number, okMethod: number): Promise<Frame> {
    this.write(b);
    return this.expectMethod(okClass, okMethod);
  }

  /**
   * Read until the broker answers: connection.close (we reply close-ok and see
   * whether the socket ends), channel.close (we reply close-ok and try to open
   * the channel again), a plain socket close, or nothing within ms.
   */
  async answer(ms = 3_000): Promise<Answer> {
    const deadline = Date.now() + ms;
    const seen: string[] = [];
    for (;;) {
      let f: Frame | null;
      try {
        f = await this.readFrame(Math.max(0, deadline - Date.now()));
      } catch (e) {
        return { kind: 'socket-closed', text: `unparseable bytes: ${(e as Error).message}`, seen };
      }
      if (!f) {
        if (this.ended) return withSeen({ kind: 'socket-closed' }, seen);
        return withSeen({ kind: 'no-answer' }, seen);
      }
      const id = methodId(f);
      if (!id) {
        if (f.type !== FRAME_HEARTBEAT) seen.push(`frame-type-${f.type}`);
        continue;
      }
      if (id[0] === 10 && id[1] === 50) {
        const c = decodeClose(f.payload);
        this.write(m.closeOk());
        const { ended } = await this.readAll(2_000);
        return withSeen({ kind: 'connection.close', ...c, channel: f.channel, closed: ended }, seen);
      }
      if (id[0] === 20 && id[1] === 40) {
        const c = decodeClose(f.payload);
        this.write(m.channelCloseOk(f.channel));
        let connectionUsable = false;
        try {
          await this.openChannel(f.channel);
          connectionUsable = true;
        } catch {
          connectionUsable = false;
        }
        return withSeen({ kind: 'channel.close', ...c, channel: f.channel, connectionUsable }, seen);
      }
      seen.push(id.join('.'));
    }
  }
}

function withSeen(a: Answer, seen: string[]): Answer {
  return seen.length ? { ...a, seen } : a;
}

/** What a broker sends back to a protocol header (or other first bytes): its header, a connection.start, or nothing. */
export async function answerToHeader(port: number, bytes: Buffer, ms = 3_000): Promise<Answer> {
  const c = await RawAmqp.connect(port);
  try {
    c.write(bytes);
    // Read until the socket ends, or until a connection.start frame is complete.
    const deadline = Date.now() + ms;
    let got = Buffer.alloc(0);
    let ended = false;
    for (;;) {
      const r = await c.readAll(Math.min(200, Math.max(0, deadline - Date.now())));
      got = Buffer.concat([got, r.bytes]);
      ended = r.ended;
      if (ended || Date.now() >= deadline) break;
    }
    if (got.length === 0) return { kind: ended ? 'socket-closed' : 'no-answer' };
    if (got.subarray(0, 4).toString('latin1') === 'AMQP') return { kind: 'protocol-header', header: got.toString('hex'), closed: ended };
    if (got.length >= 11 && got[0] === FRAME_METHOD && got.readUInt16BE(7) === 10 && got.readUInt16BE(9) === 10) {
      return { kind: 'connection.start', closed: ended };
    }
    return { kind: 'socket-closed', header: got.subarray(0, 64).toString('hex'), closed: ended };
  } finally {
    c.destroy();
  }
}
