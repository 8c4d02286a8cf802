/**
 * Protocol micro-benchmarks. Run: npx tsx bench/protocol.bench.ts
 *
 * - FrameReader.push of a client's publish stream (basic.publish + content
 *   header + one body frame per message, 100 B and 1 KB bodies, 1,000
 *   messages per op): chunks of whole frames (each chunk ends on a frame
 *   boundary, at most 64 KiB) and the same bytes cut every 64 KiB regardless
 *   of frames (frames split across chunks). The sink only counts frames.
 * - decodeMethod of basic.publish and basic.ack payloads.
 * - Delivery encoding: encodeMethod(basic.deliver) + writeContent + flush
 *   into a FrameWriter, one delivery per flush.
 * - Content assembly of a 256 KiB publish at frame_max 131072 (method, header,
 *   3 body frames): driven through a real Channel (src/session/channel.ts)
 *   behind a minimal fake Connection; the message goes to the default exchange
 *   with a routing key no queue has (mandatory=false), so it is assembled into
 *   a Message, routed to nothing and dropped.
 */
import Benchmark from 'benchmark';
import { channelSink } from './channel-sink.js';
import { VHost } from '../src/broker/vhost.js';
import { DEFAULT_FRAME_MAX } from '../src/protocol/constants.js';
import { FrameReader, type FrameSink } from '../src/protocol/frame-reader.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import {
  BASIC_ACK,
  BASIC_DELIVER,
  BASIC_PUBLISH,
  CLASS_BASIC,
  decodeMethod,
  encodeMethod,
  encodeProperties,
} from '../src/protocol/methods.generated.js';

const MAX_TIME = 3; // seconds per case
const CHUNK = 64 * 1024;
const MESSAGES = 1000;

const props = encodeProperties({ contentType: 'application/octet-stream', deliveryMode: 1 });

/** The bytes a client sends for `count` publishes of `bodySize` bytes on channel 1, one Buffer per frame. */
function publishFrames(count: number, bodySize: number, frameMax = DEFAULT_FRAME_MAX): Buffer[] {
  const w = new FrameWriter();
  w.frameMax = frameMax;
  const body = Buffer.alloc(bodySize, 0x61);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    encodeMethod(w, 1, BASIC_PUBLISH, { ticket: 0, exchange: 'amq.direct', routingKey: 'bench.key', mandatory: false, immediate: false });
    w.writeContent(1, CLASS_BASIC, bodySize, props, body);
  }
  const all = Buffer.concat(w.flush() ?? []);
  // Cut into frames (type 1, channel 2, size 4, payload, end 1).
  for (let off = 0; off < all.length; ) {
    const size = all.readUInt32BE(off + 3);
    frames.push(all.subarray(off, off + 8 + size));
    off += 8 + size;
  }
  return frames;
}

/** Whole frames packed into chunks of at most `max` bytes (a frame larger than `max` gets a chunk of its own). */
function wholeFrameChunks(frames: Buffer[], max: number): Buffer[] {
  const chunks: Buffer[] = [];
  let batch: Buffer[] = [];
  let bytes = 0;
  for (const f of frames) {
    if (bytes + f.length > max && batch.length > 0) {
      chunks.push(Buffer.concat(batch));
      batch = [];
      bytes = 0;
    }
    batch.push(f);
    bytes += f.length;
  }
  if (batch.length > 0) chunks.push(Buffer.concat(batch));
  return chunks;
}

/** The stream cut every `size` bytes, frames or not. */
function fixedChunks(frames: Buffer[], size: number): Buffer[] {
  const all = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; off += size) chunks.push(Buffer.from(all.subarray(off, off + size)));
  return chunks;
}

class CountingSink implements FrameSink {
  frames = 0;
  bytes = 0;
  onFrame(_type: number, _channel: number, _buf: Buffer, start: number, end: number): void {
    this.frames++;
    this.bytes += end - start;
  }
}

interface Case {
  name: string;
  fn: () => void;
  /** Messages per op, for msg/s. */
  messages?: number;
  /** Bytes per op, for MB/s. */
  bytes?: number;
}

const cases: Case[] = [];
const sink = new CountingSink();
let keep = 0;

// ---- FrameReader.push --------------------------------------------------------
for (const bodySize of [100, 1024]) {
  const frames = publishFrames(MESSAGES, bodySize);
  const streamBytes = frames.reduce((n, f) => n + f.length, 0);
  const whole = wholeFrameChunks(frames, CHUNK);
  const split = fixedChunks(frames, CHUNK);
  const label = bodySize === 100 ? '100 B' : '1 KB';
  for (const [how, chunks] of [
    [`whole frames per chunk (${whole.length} chunks)`, whole],
    [`split across 64 KiB chunks (${split.length} chunks)`, split],
  ] as const) {
    const reader = new FrameReader();
    cases.push({
      name: `FrameReader.push, ${MESSAGES} publishes x ${label}, ${how}`,
      messages: MESSAGES,
      bytes: streamBytes,
      fn: () => {
        for (let i = 0; i < chunks.length; i++) reader.push(chunks[i]!, sink);
      },
    });
  }
}

// ---- decodeMethod ---------------------------------------------------------------
const methodPayload = (frame: Buffer) => frame.subarray(7, frame.length - 1);
const publishPayload = methodPayload(publishFrames(1, 0)[0]!);
const ackWriter = new FrameWriter();
encodeMethod(ackWriter, 1, BASIC_ACK, { deliveryTag: 123456, multiple: false });
const ackPayload = methodPayload(Buffer.concat(ackWriter.flush() ?? []));
cases.push({
  name: `decodeMethod basic.publish (${publishPayload.length} B payload)`,
  messages: 1,
  fn: () => {
    const m = decodeMethod(publishPayload);
    if (m.id === BASIC_PUBLISH) keep += m.args.routingKey.length;
  },
});
cases.push({
  name: `decodeMethod basic.ack (${ackPayload.length} B payload)`,
  fn: () => {
    const m = decodeMethod(ackPayload);
    if (m.id === BASIC_ACK) keep += m.args.deliveryTag;
  },
});

// ---- delivery encoding ----------------------------------------------------------
for (const bodySize of [100, 1024]) {
  const w = new FrameWriter();
  const body = Buffer.alloc(bodySize, 0x62);
  let tag = 0;
  // Frame bytes of one delivery, for MB/s.
  encodeMethod(w, 1, BASIC_DELIVER, { consumerTag: 'amq.ctag-bench000000000000000', deliveryTag: 1, redelivered: false, exchange: 'amq.direct', routingKey: 'bench.key' });
  w.writeContent(1, CLASS_BASIC, bodySize, props, body);
  const oneDelivery = (w.flush() ?? []).reduce((n, b) => n + b.length, 0);
  cases.push({
    name: `deliver encode: encodeMethod(basic.deliver) + writeContent + flush, ${bodySize === 100 ? '100 B' : '1 KB'} body`,
    messages: 1,
    bytes: oneDelivery,
    fn: () => {
      encodeMethod(w, 1, BASIC_DELIVER, {
        consumerTag: 'amq.ctag-bench000000000000000',
        deliveryTag: ++tag,
        redelivered: false,
        exchange: 'amq.direct',
        routingKey: 'bench.key',
      });
      w.writeContent(1, CLASS_BASIC, bodySize, props, body);
      const out = w.flush();
      if (out !== null) keep += out.length;
    },
  });
}

// ---- content assembly through a real Channel ---------------------------------------
{
  const BIG = 256 * 1024;
  const vhost = new VHost('/');
  const channel = channelSink(vhost);
  const w = new FrameWriter();
  w.frameMax = DEFAULT_FRAME_MAX;
  encodeMethod(w, 1, BASIC_PUBLISH, { ticket: 0, exchange: '', routingKey: 'no-such-queue', mandatory: false, immediate: false });
  w.writeContent(1, CLASS_BASIC, BIG, props, Buffer.alloc(BIG, 0x63));
  const stream = Buffer.concat(w.flush() ?? []);
  const frameCount = (() => {
    const counter = new CountingSink();
    new FrameReader().push(stream, counter);
    return counter.frames;
  })();
  // Sanity check, once: the same stream routed to a real queue arrives as one 256 KiB message in 3 parts.
  {
    const check = vhost.createQueue('check', { durable: false, exclusive: false, autoDelete: false, arguments: {} }, null);
    const cw = new FrameWriter();
    encodeMethod(cw, 1, BASIC_PUBLISH, { ticket: 0, exchange: '', routingKey: 'check', mandatory: false, immediate: false });
    cw.writeContent(1, CLASS_BASIC, BIG, props, Buffer.alloc(BIG, 0x63));
    const reader = new FrameReader();
    for (const c of fixedChunks([Buffer.concat(cw.flush() ?? [])], CHUNK)) reader.push(c, channel);
    const m = check.ready.peek()?.message;
    const parts = m === undefined || m === null ? -1 : Buffer.isBuffer(m.body) ? 1 : m.body.length;
    if (m?.bodySize !== BIG || parts !== 3) throw new Error(`assembly check failed: ${m?.bodySize} bytes in ${parts} parts`);
    vhost.queues.delete('check');
  }
  const whole = new FrameReader();
  const split = new FrameReader();
  const splitChunks = fixedChunks([stream], CHUNK);
  cases.push({
    name: `assembly via Channel (fake Connection), 256 KiB publish at frame_max ${DEFAULT_FRAME_MAX}: ${frameCount} frames in one 256 KiB chunk (zero-copy subarrays: MB/s is not a copy rate)`,
    messages: 1,
    bytes: stream.length,
    fn: () => whole.push(stream, channel),
  });
  cases.push({
    name: `assembly via Channel (fake Connection), 256 KiB publish at frame_max ${DEFAULT_FRAME_MAX}: ${frameCount} frames over ${splitChunks.length} x 64 KiB chunks`,
    messages: 1,
    bytes: stream.length,
    fn: () => {
      for (let i = 0; i < splitChunks.length; i++) split.push(splitChunks[i]!, channel);
    },
  });
}

// ---- run ---------------------------------------------------------------------------
const suite = new Benchmark.Suite('protocol');
for (const c of cases) suite.add(c.name, c.fn, { maxTime: MAX_TIME });
suite
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark & { name: string };
    const c = cases.find((x) => x.name === t.name)!;
    const hz = t.hz;
    const parts = [`${Math.round(hz).toLocaleString('en-US')} ops/s ±${t.stats.rme.toFixed(1)}%`];
    if (c.messages !== undefined) parts.push(`${Math.round(hz * c.messages).toLocaleString('en-US')} msg/s`);
    if (c.bytes !== undefined) parts.push(`${((hz * c.bytes) / 1048576).toFixed(0)} MB/s`);
    console.log(`${c.name}: ${parts.join(', ')}`);
  })
  .on('complete', () => {
    if (keep < 0 || sink.frames < 0) console.log(keep);
  })
  .run();
