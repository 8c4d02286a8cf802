// amqplib helpers for scenarios: connections that are always closed, server
// channel/connection errors as data, bounded waits.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Message } from 'amqplib';

export interface ServerError {
  code: number;
  text: string;
  classId: number;
  methodId: number;
}

/** A connection whose errors are reported through the caller's awaits, not as unhandled events. */
export async function connect(url: string, socketOpts: Record<string, unknown> = {}): Promise<ChannelModel> {
  const conn = await amqp.connect(url, { timeout: 5_000, ...socketOpts });
  conn.on('error', () => {});
  return conn;
}

export async function withConnection<T>(url: string, fn: (conn: ChannelModel) => Promise<T>, socketOpts: Record<string, unknown> = {}): Promise<T> {
  const conn = await connect(url, socketOpts);
  try {
    return await fn(conn);
  } finally {
    await conn.close().catch(() => {});
  }
}

export async function channel(conn: ChannelModel): Promise<Channel> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  return ch;
}

export async function confirmChannel(conn: ChannelModel): Promise<ConfirmChannel> {
  const ch = await conn.createConfirmChannel();
  ch.on('error', () => {});
  return ch;
}

/** Parse amqplib's 'Channel closed by server: 404 (NOT-FOUND) with message "..."'. */
export function asServerError(err: unknown): ServerError {
  const e = err as Error & { code?: number; classId?: number; methodId?: number };
  const m = /with message "([\s\S]*)"$/.exec(e.message ?? '');
  if (typeof e.code !== 'number' || !m) throw new Error(`not a server close: ${e?.message ?? String(err)}`);
  return { code: e.code, text: m[1]!, classId: e.classId ?? 0, methodId: e.methodId ?? 0 };
}

/** A queue.declare's answer on a channel of its own: 'ok', or the channel.close with the queue's name written Q. */
export async function declareAnswer(conn: ChannelModel, name: string, options: amqp.Options.AssertQueue): Promise<'ok' | ServerError> {
  const ch = await channel(conn);
  try {
    await ch.assertQueue(name, options);
    await ch.close();
    return 'ok';
  } catch (error) {
    const refusal = asServerError(error);
    return { ...refusal, text: name === '' ? refusal.text : refusal.text.split(`'${name}'`).join("'Q'") };
  }
}

export function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

/** Run an operation that the server answers with channel.close; the error as data. */
export async function expectChannelError(ch: Channel, op: () => Promise<unknown> | unknown, ms = 5_000): Promise<ServerError> {
  const closed = new Promise<ServerError>((resolve) => {
    ch.once('error', (err: Error) => resolve(asServerError(err)));
  });
  const opResult = Promise.resolve()
    .then(op)
    .then(
      () => null,
      (err: unknown) => err,
    );
  const err = await timeout(closed, ms, 'channel.close from the server');
  await opResult; // settled either way; the close frame is the answer
  return err;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** basic.get until empty; bodies as strings. */
export async function drain(ch: Channel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const m = await ch.get(queue, { noAck: true });
    if (m === false) return out;
    out.push(m.content.toString());
  }
  throw new Error('queue did not drain');
}

/** Subscribe and collect deliveries into an array. */
export async function collect(ch: Channel, queue: string, opts: { noAck?: boolean } = {}): Promise<{ msgs: ConsumeMessage[]; tag: string }> {
  const msgs: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (m) msgs.push(m);
    },
    { noAck: opts.noAck ?? false },
  );
  return { msgs, tag: consumerTag };
}

export function summary(m: Message): { body: string; redelivered: boolean; deliveryTag: number } {
  return { body: m.content.toString(), redelivered: m.fields.redelivered, deliveryTag: m.fields.deliveryTag };
}

/** Publish through a confirm channel and wait for the broker's confirms (so later reads see the messages). */
export async function publishConfirmed(conn: ChannelModel, exchange: string, routingKey: string, bodies: string[], opts: amqp.Options.Publish = {}): Promise<void> {
  const ch = await confirmChannel(conn);
  for (const b of bodies) ch.publish(exchange, routingKey, Buffer.from(b), opts);
  await timeout(ch.waitForConfirms(), 10_000, 'publisher confirms');
  await ch.close();
}

// tx class: amqplib has no public API for it; its channel rpc takes numeric method ids.
const TX = { select: 5898250, selectOk: 5898251, commit: 5898260, commitOk: 5898261, rollback: 5898270, rollbackOk: 5898271 };
type Rpc = { rpc(method: number, fields: object, expect: number): Promise<unknown> };
export const tx = {
  select: (ch: Channel) => (ch as unknown as Rpc).rpc(TX.select, {}, TX.selectOk),
  commit: (ch: Channel) => (ch as unknown as Rpc).rpc(TX.commit, {}, TX.commitOk),
  rollback: (ch: Channel) => (ch as unknown as Rpc).rpc(TX.rollback, {}, TX.rollbackOk),
};

/** The parts of an x-death entry that do not depend on the clock. */
export function deaths(m: Message): unknown[] {
  const list = (m.properties.headers?.['x-death'] ?? []) as unknown as Record<string, unknown>[];
  return list.map((d) => ({
    count: Number(d['count']),
    reason: d['reason'],
    queue: d['queue'],
    exchange: d['exchange'],
    'routing-keys': d['routing-keys'],
    'original-expiration': d['original-expiration'],
  }));
}
