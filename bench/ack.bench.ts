/**
 * The ack path through a real Channel. Run: npx tsx bench/ack.bench.ts
 *
 * transient-ack-q100 in one process, without sockets: a consumer on a
 * transient queue with prefetch 100 and manual acks, its window full and a
 * backlog behind it (as in that scenario, where the queue is never empty).
 * Each op enqueues 1,000 × 1 KB messages (they wait: the window is full), then
 * acks 1,000 delivery tags through a FrameReader, so that each ack settles the
 * oldest delivery and the queue delivers the next message into the
 * connection's output (encoded, then discarded at each flush as a socket that
 * takes it all at once, so the scratch is reused as in Connection.flush). The acks come
 * one frame per chunk and flush (a client that acks each message in its own
 * write, read one at a time), or 10 per chunk (acks that queued up in the
 * socket), or as one basic.ack multiple per 100 tags.
 */
import Benchmark from 'benchmark';
import { benchChannel } from './channel-sink.js';
import { Message } from '../src/broker/message.js';
import { FrameReader } from '../src/protocol/frame-reader.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import { BASIC_ACK, BASIC_CONSUME, BASIC_QOS, encodeMethod, QUEUE_DECLARE } from '../src/protocol/methods.generated.js';
import { VHost } from '../src/broker/vhost.js';

const MAX_TIME = 3; // seconds per case
const N = 1000;
const PREFETCH = 100;
const BODY = 1000;
const props = Buffer.from([0x10, 0x00, 0x01]); // delivery-mode 1
const body = Buffer.alloc(BODY, 0x61);

function frames(write: (w: FrameWriter) => void): Buffer {
  const w = new FrameWriter();
  write(w);
  return Buffer.concat(w.flush() ?? []);
}

/** The output written as the connection writes it to a socket that takes it all at once: the scratch is reused. */
function discard(writer: FrameWriter): void {
  writer.take();
  writer.written(true);
}

/** One consumer at a full window on queue `q` with a backlog; returns a function that runs one op. */
function setUp(ackStyle: 'each-chunk' | 'ten-per-chunk' | 'multiple-100'): () => void {
  const vhost = new VHost('/');
  const { sink, channel, writer } = benchChannel(vhost);
  const reader = new FrameReader();
  reader.push(
    frames((w) => {
      const queueArgs = { ticket: 0, queue: 'q', passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} };
      encodeMethod(w, 1, QUEUE_DECLARE, queueArgs);
      encodeMethod(w, 1, BASIC_QOS, { prefetchSize: 0, prefetchCount: PREFETCH, global: false });
      const consumeArgs = { ticket: 0, queue: 'q', consumerTag: 'c', noLocal: false, noAck: false, exclusive: false, nowait: false, arguments: {} };
      encodeMethod(w, 1, BASIC_CONSUME, consumeArgs);
    }),
    sink,
  );
  const queue = vhost.queues.get('q')!;
  const fill = (n: number) => {
    for (let i = 0; i < n; i++) queue.enqueue(new Message('', 'q', props, body, BODY));
  };
  fill(N + PREFETCH);
  discard(writer);
  // Tags 1..PREFETCH are out; each op acks the next N tags in order.
  let nextTag = 1;
  const ackChunks = (perChunk: number) => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < N; i += perChunk)
      chunks.push(
        frames((w) => {
          for (let k = 0; k < perChunk; k++) encodeMethod(w, 1, BASIC_ACK, { deliveryTag: 0, multiple: false });
        }),
      );
    return chunks;
  };
  // Templates re-tagged per op (the 64-bit tag sits at payload offset 4, frame offset 11).
  const chunks = ackStyle === 'each-chunk' ? ackChunks(1) : ackStyle === 'ten-per-chunk' ? ackChunks(10) : [];
  const multiple = frames((w) => encodeMethod(w, 1, BASIC_ACK, { deliveryTag: 0, multiple: true }));
  const ACK_FRAME = 21;
  return () => {
    fill(N);
    if (ackStyle === 'multiple-100') {
      for (let i = 0; i < N; i += 100) {
        nextTag += 100;
        multiple.writeUInt32BE(nextTag - 1, 15); // the tag's low 32 bits (the high ones stay 0)
        reader.push(multiple, sink);
        discard(writer);
      }
    } else {
      for (const chunk of chunks) {
        for (let at = 0; at < chunk.length; at += ACK_FRAME) chunk.writeUInt32BE(nextTag++, at + 15);
        reader.push(chunk, sink);
        discard(writer);
      }
    }
    if (channel.unackedMessages !== PREFETCH || queue.messageCount !== N) {
      throw new Error(`window or backlog out of step: ${channel.unackedMessages} unacked, ${queue.messageCount} ready`);
    }
  };
}

const cases = [
  [`${N} acks, one per chunk, each delivering the next 1 KB message`, setUp('each-chunk')],
  [`${N} acks, ten per chunk, each delivering the next 1 KB message`, setUp('ten-per-chunk')],
  [`${N} acks as basic.ack multiple every 100 tags, delivering 100 each`, setUp('multiple-100')],
] as const;
// One op each first: a broken case fails here rather than printing nothing (Benchmark.js swallows errors).
for (const [, run] of cases) run();
const suite = new Benchmark.Suite('ack');
for (const [name, run] of cases) suite.add(name, run, { maxTime: MAX_TIME });
suite
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark & { name: string };
    const perAck = (1e6 / (t.hz * N)).toFixed(2);
    console.log(`${t.name}: ${Math.round(t.hz * N).toLocaleString('en-US')} acks/s (${perAck} µs/ack, enqueue included) ±${t.stats.rme.toFixed(1)}%`);
  })
  .run();
