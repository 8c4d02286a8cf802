// Bad input, byte by byte: malformed frames, wrong methods, content frames out
// of order, bad handshakes, clients that stall or vanish. Each case is sent
// over a raw socket (interop/support/raw-amqp.ts, independent of Warren's
// codec) to a private RabbitMQ node and to Warren. The table holds RabbitMQ
// 3.10's exact answers: the kind of close, reply code, class-id/method-id and
// reply text. Warren must give the same kind, code, class and method (and the
// same reply-code name at the head of the text) as the table and as the live
// RabbitMQ, and after every case the broker must still serve a fresh amqplib
// client and a bystander connection that stayed open through all of it must
// be unaffected, its message still queued.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Channel, ChannelModel } from 'amqplib';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, timeout, withConnection } from './support/amqp.js';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import {
  type Answer,
  type HandshakeOptions,
  Args,
  PROTOCOL_HEADER,
  RawAmqp,
  answerToHeader,
  body,
  contentHeader,
  frame,
  headersProperties,
  heartbeat,
  m,
  method,
  nestedTable,
  UNDECODABLE_TABLE,
} from './support/raw-amqp.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { startWarren } from './support/warren.js';

interface Broker {
  port: number;
  url: string;
}

/** What a case returns: the broker's answer, plus anything the case observed afterwards. */
type Outcome = Answer & { after?: Record<string, unknown> };

interface Case {
  name: string;
  run(b: Broker): Promise<Outcome>;
  /** RabbitMQ 3.10.8's answer, recorded from a live node. */
  expected: Outcome;
  /**
   * Warren's answer where it deliberately differs from RabbitMQ's: where RabbitMQ
   * drops the socket or stalls without a word, Warren sends the AMQP close the
   * spec prescribes, so the client learns why. The reason is in a comment at the case.
   */
  warren?: Outcome;
  /** Fields of the answer not compared, with the reason in a comment at the case. */
  loose?: Array<keyof Outcome>;
  timeoutMs?: number;
}

/** Handshake, run `send`, then read the broker's answer (bounded). */
async function afterHandshake(b: Broker, opts: HandshakeOptions, send: (c: RawAmqp) => Promise<void> | void, answerMs = 3_000): Promise<Outcome> {
  const c = await RawAmqp.connect(b.port);
  try {
    await c.handshake(opts);
    await send(c);
    return await c.answer(answerMs);
  } finally {
    c.destroy();
  }
}

/** Handshake and open channel 1, then send. */
function onChannel1(b: Broker, send: (c: RawAmqp) => Promise<void> | void, opts: HandshakeOptions = {}, answerMs = 3_000): Promise<Outcome> {
  return afterHandshake(
    b,
    opts,
    async (c) => {
      await c.openChannel(1);
      await send(c);
    },
    answerMs,
  );
}

const rand = () => crypto.randomBytes(4).toString('hex');

/** A fresh amqplib client can declare a queue, publish and get the message back. */
async function freshClientWorks(url: string): Promise<void> {
  await timeout(
    withConnection(url, async (conn) => {
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      const payload = `alive-${rand()}`;
      ch.sendToQueue(queue, Buffer.from(payload));
      let got: false | amqp.GetMessage = false;
      for (let i = 0; i < 100 && got === false; i++) {
        got = await ch.get(queue, { noAck: true });
        if (got === false) await sleep(20);
      }
      expect(got === false ? null : got.content.toString(), 'fresh client: publish then get').toBe(payload);
      await ch.close();
    }),
    10_000,
    'fresh amqplib client: declare, publish, get',
  );
}

/** Messages ready in a queue (queue.declare passive). */
async function queueDepth(url: string, queue: string): Promise<number> {
  return withConnection(url, async (conn) => {
    const ch = await conn.createChannel();
    const ok = await ch.checkQueue(queue);
    await ch.close();
    return ok.messageCount;
  });
}

/** A queue whose messages expire after ttlMs into a second queue (through the default exchange); cleanUp deletes both. */
async function deadLetteringQueue(url: string, ttlMs: number): Promise<{ queue: string; deadLetters: string; cleanUp(): Promise<void> }> {
  const queue = `raw-frames-ttl-${rand()}`;
  const deadLetters = `${queue}-dead`;
  await withConnection(url, async (conn) => {
    const ch = await conn.createChannel();
    await ch.assertQueue(deadLetters, { durable: false, autoDelete: false });
    await ch.assertQueue(queue, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': ttlMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': deadLetters } });
    await ch.close();
  });
  const cleanUp = () =>
    withConnection(url, async (conn) => {
      const ch = await conn.createChannel();
      await ch.deleteQueue(queue);
      await ch.deleteQueue(deadLetters);
      await ch.close();
    });
  return { queue, deadLetters, cleanUp };
}

const FRAME_MAX_SMALL = 4096;
/**
 * RabbitMQ answers some handshake errors by closing the socket without a
 * connection.close, after a deliberate 3 s delay (SILENT_CLOSE_DELAY, against
 * clients hammering it with failed logins); wait longer than that.
 */
const SILENT_CLOSE_WINDOW_MS = 6_000;
const MAX_MESSAGE_SIZE = 128 * 1024 * 1024; // RabbitMQ 3.10's default max_message_size

const cases: Case[] = [
  // ---- 1. protocol header --------------------------------------------------
  {
    name: '1a protocol header AMQP 0-0-9-2',
    run: (b) => answerToHeader(b.port, Buffer.from('AMQP\x00\x00\x09\x02', 'latin1')),
    expected: { kind: 'protocol-header', header: '414d515000000901', closed: true },
  },
  {
    name: '1b an HTTP request instead of a protocol header',
    run: (b) => answerToHeader(b.port, Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1')),
    expected: { kind: 'protocol-header', header: '414d515000000901', closed: true },
  },
  {
    name: '1c protocol header AMQP 1-1-0-9 (0-9, which RabbitMQ treats as 0-9-1)',
    run: (b) => answerToHeader(b.port, Buffer.from('AMQP\x01\x01\x00\x09', 'latin1')),
    expected: { kind: 'connection.start', closed: false },
  },
  {
    name: '1d protocol header AMQP 0-1-0-0 (AMQP 1.0)',
    run: (b) => answerToHeader(b.port, Buffer.from('AMQP\x00\x01\x00\x00', 'latin1')),
    expected: { kind: 'protocol-header', header: '414d515000000901', closed: true },
  },

  // ---- 2. framing ----------------------------------------------------------
  {
    name: '2a bad frame-end octet',
    run: (b) => afterHandshake(b, {}, (c) => c.write(method(1, 20, 10, new Args().shortstr('').build(), { end: 0x00 }))),
    expected: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - type 1, all octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,0}', classId: 0, methodId: 0, channel: 0, closed: false },
    // After a fatal frame error RabbitMQ no longer parses input, so it does not see
    // our close-ok and keeps the socket until its own closing timeout; closing at
    // once is as good an answer, so `closed` is not compared.
    loose: ['closed'],
  },
  {
    name: '2b frame type 5 (unknown) on channel 0',
    run: (b) => afterHandshake(b, {}, (c) => c.write(frame(5, 0, Buffer.from('xyz')))),
    expected: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - type 5, all octets = <<"xyz">>: unknown_frame', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '2c frame type 5 (unknown) on an open channel',
    run: (b) => onChannel1(b, (c) => c.write(frame(5, 1, Buffer.from('xyz')))),
    expected: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - type 5, all octets = <<"xyz">>: unknown_frame', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '2d frame above the negotiated frame_max (4096)',
    run: (b) =>
      onChannel1(
        b,
        (c) => {
          const size = 5_000;
          c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, size), body(1, Buffer.alloc(size, 0x62))]));
        },
        { frameMax: FRAME_MAX_SMALL },
      ),
    expected: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,5000,4088}', classId: 0, methodId: 0, channel: 0, closed: false },
    loose: ['closed'], // as in 2a: the unread 5000-byte payload hides our close-ok

  },
  // RabbitMQ goes on waiting for a close-ok after a framing error although it
  // can no longer parse one, and closes the socket 3 s later; Warren closes it
  // as soon as connection.close is sent.
  {
    name: '2h bad frame-end octet, no close-ok from the client: when the socket closes',
    run: async (b) => {
      const c = await RawAmqp.connect(b.port);
      try {
        await c.handshake({});
        c.write(method(1, 20, 10, new Args().shortstr('').build(), { end: 0x00 }));
        const close = await c.readMethod(3_000);
        const sent = Date.now();
        const { ended } = await c.readAll(5_000);
        return { kind: close?.id.join('.') === '10.50' ? 'connection.close' : 'no-answer', after: { closedWithin1s: ended && Date.now() - sent < 1_000 } };
      } finally {
        c.destroy();
      }
    },
    expected: { kind: 'connection.close', after: { closedWithin1s: false } },
    warren: { kind: 'connection.close', after: { closedWithin1s: true } },
  },
  // RabbitMQ takes a payload of up to frame_max octets (the 8-octet overhead not
  // counted, although its text names frame_max - 8 as the limit) and refuses one more.
  {
    name: '2f a body frame whose payload is exactly the negotiated frame_max (8192)',
    run: (b) =>
      onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, 8192), body(1, Buffer.alloc(8192, 0x62))])), { frameMax: 8192 }, 1_000),
    expected: { kind: 'no-answer' },
  },
  {
    name: '2g a body frame whose payload is the negotiated frame_max (8192) + 1',
    run: (b) =>
      onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, 8193), body(1, Buffer.alloc(8193, 0x62))])), { frameMax: 8192 }),
    expected: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,8193,8184}', classId: 0, methodId: 0, channel: 0, closed: false },
    loose: ['closed'], // as in 2a
  },
  {
    name: '2e frame size says more than is sent, client waits; others are served meanwhile',
    run: async (b) => {
      const c = await RawAmqp.connect(b.port);
      try {
        await c.handshake({});
        await c.openChannel(1);
        const full = method(1, 50, 10, m.queueDeclareArgs('raw-frames-stalled'));
        c.write(full.subarray(0, full.length - 10)); // the size field promises 10 more bytes
        const t0 = Date.now();
        await freshClientWorks(b.url);
        const othersServedMs = Date.now() - t0;
        const a = await c.answer(2_000);
        return { ...a, after: { othersServed: othersServedMs < 10_000, stalledSocketOpen: !c.isEnded } };
      } finally {
        c.destroy();
      }
    },
    expected: { kind: 'no-answer', after: { othersServed: true, stalledSocketOpen: true } },
  },

  // ---- 3. methods ----------------------------------------------------------
  {
    name: '3a truncated queue.declare arguments',
    run: (b) => onChannel1(b, (c) => c.write(method(1, 50, 10, m.queueDeclareArgs('raw-frames-truncated').subarray(0, 6)))),
    expected: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - cannot decode <<0,0,20,114,97,119>>', classId: 50, methodId: 10, channel: 0, closed: true },
  },
  // RabbitMQ 3.10 drops the TCP connection here, without a connection.close;
  // Warren answers 540 NOT_IMPLEMENTED, the spec's code for an unknown method.
  {
    name: '3b unknown class id (99)',
    run: (b) => onChannel1(b, (c) => c.write(method(1, 99, 10))),
    expected: { kind: 'socket-closed' },
    warren: { kind: 'connection.close', code: 540, text: 'NOT_IMPLEMENTED - unknown method 99/10', classId: 99, methodId: 10, channel: 0, closed: true },
  },
  {
    name: '3c unknown method id (99) in a known class (queue)',
    run: (b) => onChannel1(b, (c) => c.write(method(1, 50, 99))),
    expected: { kind: 'socket-closed' },
    warren: { kind: 'connection.close', code: 540, text: 'NOT_IMPLEMENTED - unknown method 50/99', classId: 50, methodId: 99, channel: 0, closed: true },
  },
  {
    name: '3d basic.publish on channel 0',
    run: (b) => afterHandshake(b, {}, (c) => c.write(m.basicPublish(0, '', 'raw-frames-nowhere'))),
    expected: { kind: 'connection.close', code: 504, text: 'CHANNEL_ERROR - unexpected method in connection state running', classId: 60, methodId: 40, channel: 0, closed: true },
  },
  {
    name: '3e connection.open twice',
    run: (b) => afterHandshake(b, {}, (c) => c.write(m.open('/'))),
    expected: { kind: 'connection.close', code: 504, text: 'CHANNEL_ERROR - unexpected method in connection state running', classId: 10, methodId: 40, channel: 0, closed: true },
  },

  // RabbitMQ takes method arguments nested 15,000 levels deep. Warren refuses
  // arguments nested more than 1,000 levels with 502 SYNTAX_ERROR: they go on
  // into its model and definitions file, which are written recursively
  // (message headers are not limited: see 5i).
  {
    name: '3f queue.declare with arguments nested 15,000 levels deep',
    run: (b) =>
      onChannel1(b, (c) =>
        c.write(method(1, 50, 10, new Args().short(0).shortstr(`raw-frames-deep-args-${rand()}`).bit(false).bit(false).bit(true).bit(true).bit(false).raw(nestedTable(15_000)).build())),
      ),
    expected: { kind: 'no-answer', seen: ['50.11'] },
    warren: { kind: 'connection.close', code: 502, text: 'SYNTAX_ERROR - field table: tables and arrays nested more than 1000 levels deep', classId: 50, methodId: 10, channel: 0, closed: true },
  },

  // ---- 4. channels ---------------------------------------------------------
  {
    name: '4a a method on a channel that was never opened',
    run: (b) => afterHandshake(b, {}, (c) => c.write(m.queueDeclare(5, 'raw-frames-never-opened'))),
    expected: { kind: 'connection.close', code: 504, text: 'CHANNEL_ERROR - expected \'channel.open\'', classId: 50, methodId: 10, channel: 0, closed: true },
  },
  {
    name: '4b channel.open twice on the same channel',
    run: (b) => onChannel1(b, (c) => c.write(m.channelOpen(1))),
    expected: { kind: 'connection.close', code: 504, text: 'CHANNEL_ERROR - second \'channel.open\' seen', classId: 20, methodId: 10, channel: 0, closed: true },
  },
  // RabbitMQ 3.10 enforces channel_max as a count of open channels, not as the
  // highest channel number: channel 11 opens (see 4d for the count).
  {
    name: '4c channel number above channel_max (tune channel_max 10, open channel 11)',
    run: (b) => afterHandshake(b, { channelMax: 10 }, (c) => c.write(m.channelOpen(11))),
    expected: { kind: 'no-answer', seen: ['20.11'] },
  },
  {
    name: '4d more open channels than channel_max (tune channel_max 10, open channels 1..11)',
    run: (b) =>
      afterHandshake(b, { channelMax: 10 }, async (c) => {
        for (let ch = 1; ch <= 10; ch++) await c.openChannel(ch);
        c.write(m.channelOpen(11));
      }),
    expected: { kind: 'connection.close', code: 530, text: 'NOT_ALLOWED - number of channels opened (10) has reached the negotiated channel_max (10)', classId: 0, methodId: 0, channel: 0, closed: true },
  },

  // ---- 5. content frames out of order ---------------------------------------
  {
    name: '5a content header without basic.publish',
    run: (b) => onChannel1(b, (c) => c.write(contentHeader(1, 60, 5))),
    expected: { kind: 'connection.close', code: 505, text: 'UNEXPECTED_FRAME - expected method frame, got non method frame instead', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '5b body frame without a content header',
    run: (b) => onChannel1(b, (c) => c.write(body(1, 'hello'))),
    expected: { kind: 'connection.close', code: 505, text: 'UNEXPECTED_FRAME - expected method frame, got non method frame instead', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '5c a method frame between basic.publish and its content header',
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), m.queueDeclare(1, 'raw-frames-between')]))),
    expected: { kind: 'connection.close', code: 505, text: 'UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead', classId: 60, methodId: 40, channel: 0, closed: true },
  },
  // basic.ack is read in place (Channel.onAck); one that comes where no method may still gets the generic answer.
  {
    name: '5k a basic.ack between basic.publish and its content header',
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), m.basicAck(1, 1)]))),
    expected: { kind: 'connection.close', code: 505, text: 'UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead', classId: 60, methodId: 40, channel: 0, closed: true },
  },
  // RabbitMQ 3.10 keeps waiting for the rest of a body whose remaining size went
  // negative: the channel stalls silently, the connection stays up. Warren
  // closes the connection with 501 FRAME_ERROR instead of hanging the channel.
  {
    name: "5d a body longer than the content header's body size",
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, 5), body(1, 'hello, world')]))),
    expected: { kind: 'no-answer' },
    warren: { kind: 'connection.close', code: 501, text: 'FRAME_ERROR - content body exceeds the declared size 5', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '5e a content header with class 50 after basic.publish',
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 50, 5), body(1, 'hello')]))),
    expected: { kind: 'connection.close', code: 505, text: 'UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead', classId: 60, methodId: 40, channel: 0, closed: true },
  },

  // ---- 5f-5i. content headers that do not decode, or decode only without recursion ----
  // RabbitMQ decodes the properties when the content header arrives and closes
  // the connection with a bare 541 INTERNAL_ERROR if they do not decode; so
  // does Warren (it used to store the message and fail when reading it later).
  {
    name: "5f a content header whose headers table has a field of unknown type 'Z'",
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, 2, headersProperties(UNDECODABLE_TABLE)), body(1, 'hi')]))),
    expected: { kind: 'connection.close', code: 541, text: 'INTERNAL_ERROR', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '5g properties with a byte past the last property (content-type only, length 0, then 0x61)',
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, 0, Buffer.from([0x80, 0x00, 0x00, 0x61]))]))),
    expected: { kind: 'connection.close', code: 541, text: 'INTERNAL_ERROR', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    // What stopped Warren: the message was stored, and the TTL timer that
    // dead-lettered it threw while decoding its properties.
    name: "5h a 'Z' headers table published to a queue with x-message-ttl 200 and a dead-letter exchange: refused, nothing stored",
    run: async (b) => {
      const { queue, deadLetters, cleanUp } = await deadLetteringQueue(b.url, 200);
      try {
        const a = await onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', queue), contentHeader(1, 60, 2, headersProperties(UNDECODABLE_TABLE)), body(1, 'hi')])));
        // Past the TTL: the timer that used to stop the broker has had its turn.
        await sleep(600);
        return { ...a, after: { queued: await queueDepth(b.url, queue), deadLettered: await queueDepth(b.url, deadLetters) } };
      } finally {
        await cleanUp();
      }
    },
    expected: { kind: 'connection.close', code: 541, text: 'INTERNAL_ERROR', classId: 0, methodId: 0, channel: 0, closed: true, after: { queued: 0, deadLettered: 0 } },
  },
  {
    name: '5i a headers table nested 15,000 levels deep is taken, and dead-lettered (with x-death) when its TTL ends',
    run: async (b) => {
      const { queue, deadLetters, cleanUp } = await deadLetteringQueue(b.url, 100);
      try {
        const a = await onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', queue), contentHeader(1, 60, 2, headersProperties(nestedTable(15_000))), body(1, 'hi')])), {}, 1_000);
        let deadLettered = 0;
        for (let i = 0; i < 50 && deadLettered === 0; i++) {
          deadLettered = await queueDepth(b.url, deadLetters);
          if (deadLettered === 0) await sleep(100);
        }
        return { ...a, after: { deadLettered } };
      } finally {
        await cleanUp();
      }
    },
    expected: { kind: 'no-answer', after: { deadLettered: 1 } },
  },
  // RabbitMQ 3.10 waits for a body of 2^62 bytes that cannot come (it checks the
  // size once the body is in); Warren refuses at the header, with the exact size.
  {
    name: '5j a content header declaring a body of 2^62 bytes',
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, 1n << 62n)]))),
    expected: { kind: 'no-answer' },
    warren: { kind: 'channel.close', code: 406, text: 'PRECONDITION_FAILED - message size 4611686018427387904 is larger than configured max size 134217728', classId: 60, methodId: 40, channel: 1, connectionUsable: true },
  },

  // ---- 6. method semantics ---------------------------------------------------
  {
    name: '6a basic.ack with an unknown delivery tag',
    run: (b) => onChannel1(b, (c) => c.write(m.basicAck(1, 42))),
    expected: { kind: 'channel.close', code: 406, text: 'PRECONDITION_FAILED - unknown delivery tag 42', classId: 60, methodId: 80, channel: 1, connectionUsable: true },
  },
  {
    name: '6b basic.qos with prefetch_size != 0',
    run: (b) => onChannel1(b, (c) => c.write(m.basicQos(1, 1, 0, false))),
    expected: { kind: 'connection.close', code: 540, text: 'NOT_IMPLEMENTED - prefetch_size!=0 (1)', classId: 60, methodId: 10, channel: 0, closed: true },
  },
  {
    name: '6c basic.publish immediate=true',
    run: (b) => onChannel1(b, (c) => c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere', { immediate: true }), contentHeader(1, 60, 5), body(1, 'hello')]))),
    expected: { kind: 'connection.close', code: 540, text: 'NOT_IMPLEMENTED - immediate=true', classId: 60, methodId: 40, channel: 0, closed: true },
  },
  {
    name: '6d basic.consume with a duplicate consumer tag',
    run: (b) =>
      onChannel1(b, async (c) => {
        const q = `raw-frames-dup-${rand()}`;
        await c.rpc(m.queueDeclare(1, q, { exclusive: true }), 50, 11);
        await c.rpc(m.basicConsume(1, q, 'dup'), 60, 21);
        c.write(m.basicConsume(1, q, 'dup'));
      }),
    expected: { kind: 'connection.close', code: 530, text: 'NOT_ALLOWED - attempt to reuse consumer tag \'dup\'', classId: 60, methodId: 20, channel: 0, closed: true },
  },
  {
    name: '6e exchange.declare with an unknown type',
    run: (b) => onChannel1(b, (c) => c.write(m.exchangeDeclare(1, 'raw-frames-x', 'no-such-type'))),
    expected: { kind: 'connection.close', code: 503, text: 'COMMAND_INVALID - unknown exchange type \'no-such-type\'', classId: 40, methodId: 10, channel: 0, closed: true },
  },

  {
    name: '6g channel.flow active=false from the client',
    run: (b) => onChannel1(b, (c) => c.write(method(1, 20, 20, new Args().bit(false).build()))),
    expected: { kind: 'connection.close', code: 540, text: 'NOT_IMPLEMENTED - active=false', classId: 20, methodId: 20, channel: 0, closed: true },
  },
  {
    name: '6f a message one byte above max_message_size (128 MiB)',
    run: (b) =>
      onChannel1(b, (c) => {
        const frameMax = c.tune!.frameMax;
        const size = MAX_MESSAGE_SIZE + 1;
        const chunk = frameMax - 8;
        const data = Buffer.alloc(chunk, 0x63);
        c.write(Buffer.concat([m.basicPublish(1, '', 'raw-frames-nowhere'), contentHeader(1, 60, size)]));
        for (let sent = 0; sent < size; sent += chunk) c.write(body(1, sent + chunk <= size ? data : data.subarray(0, size - sent)));
      }, {}, 20_000),
    expected: { kind: 'channel.close', code: 406, text: 'PRECONDITION_FAILED - message size 134217729 is larger than configured max size 134217728', classId: 60, methodId: 40, channel: 1, connectionUsable: true },
    timeoutMs: 60_000,
  },

  // ---- 7. heartbeats -----------------------------------------------------------
  {
    name: '7a heartbeat frame on channel 1',
    run: (b) => onChannel1(b, (c) => c.write(heartbeat(1))),
    expected: { kind: 'connection.close', code: 505, text: 'UNEXPECTED_FRAME - type 8, all octets = <<>>', classId: 0, methodId: 0, channel: 0, closed: true },
  },

  // ---- 8. clients that vanish ----------------------------------------------------
  {
    name: '8a a partial frame header, then the client disconnects',
    run: async (b) => {
      const c = await RawAmqp.connect(b.port);
      try {
        await c.handshake({});
        await c.openChannel(1);
        c.write(m.queueDeclare(1, 'raw-frames-partial').subarray(0, 5));
        return await c.answer(500);
      } finally {
        c.destroy();
      }
    },
    expected: { kind: 'no-answer' },
  },
  {
    name: '8b a message cut short (half its body), then the client disconnects: nothing is enqueued',
    run: async (b) => {
      const q = `raw-frames-cut-${rand()}`;
      await withConnection(b.url, async (conn) => {
        const ch = await conn.createChannel();
        await ch.assertQueue(q, { durable: false, autoDelete: false });
        await ch.close();
      });
      const c = await RawAmqp.connect(b.port);
      let a: Answer;
      try {
        await c.handshake({});
        await c.openChannel(1);
        c.write(Buffer.concat([m.basicPublish(1, '', q), contentHeader(1, 60, 10), body(1, 'hello')]));
        a = await c.answer(500);
      } finally {
        c.destroy();
      }
      await sleep(300);
      const depth = await queueDepth(b.url, q);
      await withConnection(b.url, async (conn) => {
        const ch = await conn.createChannel();
        await ch.deleteQueue(q);
        await ch.close();
      });
      return { ...a, after: { depth } };
    },
    expected: { kind: 'no-answer', after: { depth: 0 } },
  },

  // ---- 9. authentication and tuning -----------------------------------------------
  {
    name: '9a bad password, client announces authentication_failure_close',
    run: (b) => afterHandshake(b, { pass: 'not-the-password', until: 'start-ok' }, () => {}),
    expected: { kind: 'connection.close', code: 403, text: 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  // 9b, 9d-9f: RabbitMQ closes the socket without connection.close, 3 s late.
  // 9b is what the spec asks for a client that did not announce
  // authentication_failure_close, and Warren does the same (without the delay).
  // For 9d-9f Warren sends 530 NOT_ALLOWED naming the bad frame_max.
  {
    name: '9b bad password, client without authentication_failure_close',
    run: (b) => afterHandshake(b, { pass: 'not-the-password', authFailureClose: false, until: 'start-ok' }, () => {}, SILENT_CLOSE_WINDOW_MS),
    expected: { kind: 'socket-closed' },
  },
  // php-amqplib with an empty password sends an empty PLAIN response: RabbitMQ
  // sends nothing and closes the socket about 3 s later, whether or not the
  // client announced authentication_failure_close; a client test relies on it.
  ...[true, false].map(
    (authFailureClose): Case => ({
      name: `9${authFailureClose ? 'g' : 'h'} an empty PLAIN response, ${authFailureClose ? 'with' : 'without'} authentication_failure_close`,
      run: async (b) => {
        const c = await RawAmqp.connect(b.port);
        try {
          c.write(PROTOCOL_HEADER);
          await c.expectMethod(10, 10);
          const capabilities: Record<string, boolean> = authFailureClose ? { authentication_failure_close: true } : {};
          c.write(method(0, 10, 11, new Args().table({ product: 'raw-frames', capabilities }).shortstr('PLAIN').longstr('').shortstr('en_US').build()));
          const sent = Date.now();
          const a = await c.answer(SILENT_CLOSE_WINDOW_MS);
          const ms = Date.now() - sent;
          return { ...a, after: { closedAfter2to5s: ms >= 2_000 && ms < 5_000 } };
        } finally {
          c.destroy();
        }
      },
      expected: { kind: 'socket-closed', after: { closedAfter2to5s: true } },
      timeoutMs: 20_000,
    }),
  ),
  {
    name: '9c unknown vhost on connection.open',
    run: (b) => afterHandshake(b, { vhost: 'raw-frames-no-such-vhost', until: 'open' }, () => {}),
    expected: { kind: 'connection.close', code: 530, text: 'NOT_ALLOWED - vhost raw-frames-no-such-vhost not found', classId: 10, methodId: 40, channel: 0, closed: true },
  },
  {
    name: '9d tune-ok frame_max below 4096',
    run: (b) => afterHandshake(b, { frameMax: 1024, until: 'tune-ok' }, () => {}, SILENT_CLOSE_WINDOW_MS),
    expected: { kind: 'socket-closed' },
    warren: { kind: 'connection.close', code: 530, text: 'NOT_ALLOWED - frame_max=1024 < 4096 min size', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: "9e tune-ok frame_max above the server's",
    run: (b) => afterHandshake(b, { frameMax: 1 << 20, until: 'tune-ok' }, () => {}, SILENT_CLOSE_WINDOW_MS),
    expected: { kind: 'socket-closed' },
    warren: { kind: 'connection.close', code: 530, text: 'NOT_ALLOWED - frame_max=1048576 > 131072 max size', classId: 0, methodId: 0, channel: 0, closed: true },
  },
  {
    name: '9f tune-ok frame_max 0 (unlimited)',
    run: (b) => afterHandshake(b, { frameMax: 0, until: 'tune-ok' }, () => {}, SILENT_CLOSE_WINDOW_MS),
    expected: { kind: 'socket-closed' },
    warren: { kind: 'connection.close', code: 530, text: 'NOT_ALLOWED - frame_max=0 > 131072 max size', classId: 0, methodId: 0, channel: 0, closed: true },
  },
];

// The suite's own sanity: names unique.
if (new Set(cases.map((c) => c.name)).size !== cases.length) throw new Error('duplicate case names');

/** The fields that must match exactly. */
function key(o: Outcome, loose: Array<keyof Outcome> = []): Record<string, unknown> {
  const k: Record<string, unknown> = {};
  for (const f of ['kind', 'code', 'classId', 'methodId', 'channel', 'header', 'closed', 'connectionUsable', 'seen', 'after'] as const) {
    if (o[f] !== undefined && !loose.includes(f)) k[f] = o[f];
  }
  return k;
}

/** 'NOT_FOUND - no queue ...' → 'NOT_FOUND' */
const replyName = (text: string | undefined) => (text === undefined ? undefined : text.split(' - ')[0]);

// INTEROP_RECORD=<dir>: write each broker's answers as JSON there.
function record(broker: string, answers: Record<string, Outcome>): void {
  const dir = process.env.INTEROP_RECORD;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `raw-frames-${broker}.json`), JSON.stringify(answers, null, 2));
}

/** A connection that stays open through every case, with one message queued that must stay queued. */
interface Bystander {
  conn: ChannelModel;
  ch: Channel;
  queue: string;
  errors: string[];
  closing: boolean;
}

async function openBystander(url: string): Promise<Bystander> {
  const conn = await amqp.connect(url, { timeout: 5_000 });
  const errors: string[] = [];
  const b = { conn, queue: '', errors, closing: false } as Omit<Bystander, 'ch'> & { ch?: Channel };
  const note = (what: string) => {
    if (!b.closing) errors.push(what);
  };
  conn.on('error', (e: Error) => note(`connection error: ${e.message}`));
  conn.on('close', () => note('connection closed'));
  const ch = await conn.createConfirmChannel();
  ch.on('error', (e: Error) => note(`channel error: ${e.message}`));
  ch.on('close', () => note('channel closed'));
  const queue = `raw-frames-bystander-${rand()}`;
  await ch.assertQueue(queue, { durable: false, autoDelete: false });
  ch.sendToQueue(queue, Buffer.from('keep-me'));
  await timeout(ch.waitForConfirms(), 5_000, 'bystander publish confirm');
  b.ch = ch;
  b.queue = queue;
  return b as Bystander;
}

async function checkBystander(b: Bystander): Promise<void> {
  expect(b.errors, 'the bystander connection saw no error or close').toEqual([]);
  const ok = await timeout(b.ch.checkQueue(b.queue), 5_000, 'bystander queue.declare passive');
  expect(ok.messageCount, "the bystander's message is still queued").toBe(1);
}

const IDLE_EXPECTED = {
  // RabbitMQ's handshake_timeout (10 s): a socket that never sends a byte is closed, nothing is sent.
  silent: { kind: 'socket-closed' } as Outcome,
  // One that sent the header (and got connection.start) but never start-ok.
  afterHeader: { kind: 'socket-closed' } as Outcome,
};
const IDLE_WAIT_MS = 25_000;

interface Idle {
  silent: RawAmqp;
  afterHeader: RawAmqp;
  openedAt: number;
}

async function openIdle(port: number): Promise<Idle> {
  const silent = await RawAmqp.connect(port);
  const afterHeader = await RawAmqp.connect(port);
  afterHeader.write(PROTOCOL_HEADER);
  await afterHeader.expectMethod(10, 10);
  return { silent, afterHeader, openedAt: Date.now() };
}

async function idleAnswers(idle: Idle): Promise<{ silent: Outcome; afterHeader: Outcome }> {
  const left = () => Math.max(0, idle.openedAt + IDLE_WAIT_MS - Date.now());
  const s = await idle.silent.readAll(left());
  const silent: Outcome = s.ended ? (s.bytes.length ? { kind: 'socket-closed', header: s.bytes.toString('hex') } : { kind: 'socket-closed' }) : { kind: 'no-answer' };
  const afterHeader = await idle.afterHeader.answer(left());
  return { silent, afterHeader };
}

const reference = new Map<string, Outcome>();
let referenceIdle: { silent: Outcome; afterHeader: Outcome } | undefined;

function brokerSuite(which: 'rabbitmq' | 'warren', start: () => Promise<Broker & { stop(): Promise<void> }>): void {
  let broker: (Broker & { stop(): Promise<void> }) | undefined;
  let bystander: Bystander | undefined;
  let idle: Idle | undefined;
  const answers: Record<string, Outcome> = {};

  beforeAll(async () => {
    broker = await start();
    idle = await openIdle(broker.port);
    bystander = await openBystander(broker.url);
  }, 150_000);

  afterAll(async () => {
    record(which, answers);
    idle?.silent.destroy();
    idle?.afterHeader.destroy();
    if (bystander) {
      bystander.closing = true; // closing it ourselves is not an error
      await bystander.conn.close().catch(() => {});
    }
    await broker?.stop();
  }, 60_000);

  for (const c of cases) {
    it(
      c.name,
      async () => {
        if (!broker || !bystander) throw new Error(`${which} did not start`);
        const got = await c.run(broker);
        answers[c.name] = got;
        if (which === 'rabbitmq') {
          reference.set(c.name, got);
          // The recorded table must be RabbitMQ's exact answer, text included.
          expect.soft(key(got, c.loose), 'RabbitMQ answers as recorded in the table').toEqual(key(c.expected, c.loose));
          expect.soft(got.text ?? '', 'RabbitMQ reply text as recorded').toBe(c.expected.text ?? '');
        } else if (c.warren !== undefined) {
          expect.soft(key(got, c.loose), "Warren's deliberate answer (see the case's comment)").toEqual(key(c.warren, c.loose));
          expect.soft(got.text ?? '', "Warren's reply text").toBe(c.warren.text ?? '');
        } else {
          expect.soft(key(got, c.loose), 'Warren answers as RabbitMQ does (the table)').toEqual(key(c.expected, c.loose));
          expect.soft(replyName(got.text), 'Warren reply text starts with the same reply-code name').toBe(replyName(c.expected.text));
          const live = reference.get(c.name);
          if (live) expect.soft(key(got, c.loose), 'Warren answers as the live RabbitMQ did').toEqual(key(live, c.loose));
        }
        // Whatever the answer: the broker is alive and nobody else noticed.
        await freshClientWorks(broker.url);
        await checkBystander(bystander);
      },
      c.timeoutMs ?? 20_000,
    );
  }

  it(
    '8c clients that connect and stay silent are closed by the handshake timeout',
    async () => {
      if (!broker || !bystander || !idle) throw new Error(`${which} did not start`);
      const got = await idleAnswers(idle);
      answers['8c idle'] = got as unknown as Outcome;
      expect.soft(key(got.silent), 'silent client').toEqual(key(IDLE_EXPECTED.silent));
      expect.soft(key(got.afterHeader), 'client silent after the protocol header').toEqual(key(IDLE_EXPECTED.afterHeader));
      if (which === 'rabbitmq') referenceIdle = got;
      else if (referenceIdle) {
        expect.soft(key(got.silent), 'silent client, as the live RabbitMQ').toEqual(key(referenceIdle.silent));
        expect.soft(key(got.afterHeader), 'client silent after the header, as the live RabbitMQ').toEqual(key(referenceIdle.afterHeader));
      }
      await freshClientWorks(broker.url);
      await checkBystander(bystander);
    },
    IDLE_WAIT_MS + 20_000,
  );
}

describe('bad input over raw frames', () => {
  const rabbitDep = rabbitmqDependency();
  const rabbitMissing = gate(rabbitDep);

  describe.skipIf(rabbitMissing)(label('RabbitMQ (reference)', rabbitDep), () => {
    brokerSuite('rabbitmq', async () => {
      const r = await startRabbitMQ();
      return { port: r.port, url: r.url, stop: r.stop };
    });
  });

  describe('Warren', () => {
    brokerSuite('warren', async () => {
      const w = await startWarren();
      return { port: w.port, url: w.url, stop: w.stop };
    });
  });
});
