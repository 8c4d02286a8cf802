/**
 * CPU time per delivered message on publish -> route -> enqueue -> deliver,
 * no acks, in one process without sockets. Run: npx tsx bench/deliver-path.bench.ts
 *
 * A real Channel behind a minimal fake Connection (bench/channel-sink.ts)
 * reads 2,000 publishes, cut into 64 KB chunks as a socket hands them over;
 * its no-ack consumers' deliveries are encoded into the FrameWriter, flushed
 * after every chunk. Cases as amqpperf's scenarios: transient-1p1c (12 B
 * to the default exchange, one queue) and fanout-1p4c (100 B to a fanout
 * exchange bound to 4 queues), the latter also with amqpperf's routing keys
 * (round-robin over the 4 queue names). The figure is process CPU time (user + system)
 * per delivered message: the minimum and median of 15 samples of 20 passes,
 * after 300 passes of warm-up. CPU time, not wall time, so that other load
 * on a shared machine moves it less; the minimum is the figure to compare.
 */
import { benchChannel } from './channel-sink.js';
import { FrameReader } from '../src/protocol/frame-reader.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import * as M from '../src/protocol/methods.generated.js';

const MESSAGES = 2000;
const CHUNK = 64 * 1024;

function frames(write: (w: FrameWriter) => void): Buffer {
  const w = new FrameWriter();
  write(w);
  return Buffer.concat(w.flush() ?? []);
}

function run(name: string, exchange: string, routingKeys: string[], queues: string[], size: number): void {
  const { sink, writer } = benchChannel();
  const setup = frames((w) => {
    if (exchange !== '') {
      M.encodeMethod(w, 1, M.EXCHANGE_DECLARE, { ticket: 0, exchange, type: 'fanout', passive: false, durable: false, autoDelete: false, internal: false, nowait: true, arguments: {} });
    }
    for (const queue of queues) {
      M.encodeMethod(w, 1, M.QUEUE_DECLARE, { ticket: 0, queue, passive: false, durable: false, exclusive: false, autoDelete: false, nowait: true, arguments: {} });
      if (exchange !== '') M.encodeMethod(w, 1, M.QUEUE_BIND, { ticket: 0, queue, exchange, routingKey: '', nowait: true, arguments: {} });
      M.encodeMethod(w, 1, M.BASIC_CONSUME, { ticket: 0, queue, consumerTag: `amq.ctag-${queue}-8Yx3kQ0bXh1mZr7wVbT2sg`, noLocal: false, noAck: true, exclusive: false, nowait: true, arguments: {} });
    }
  });
  new FrameReader().push(setup, sink);
  writer.flush();
  const properties = M.encodeProperties({ deliveryMode: 1 });
  const body = Buffer.alloc(size, 0x61);
  const stream = frames((w) => {
    for (let i = 0; i < MESSAGES; i++) {
      M.encodeMethod(w, 1, M.BASIC_PUBLISH, { ticket: 0, exchange, routingKey: routingKeys[i % routingKeys.length]!, mandatory: false, immediate: false });
      w.writeContent(1, M.CLASS_BASIC, size, properties, body);
    }
  });
  const chunks: Buffer[] = [];
  for (let off = 0; off < stream.length; off += CHUNK) chunks.push(Buffer.from(stream.subarray(off, off + CHUNK)));
  const reader = new FrameReader();
  let written = 0;
  const pass = (): void => {
    for (const chunk of chunks) {
      reader.push(chunk, sink);
      // As Connection.flush with a socket that takes it all at once: the scratch is reused.
      for (const piece of writer.take() ?? []) written += piece.length;
      writer.written(true);
    }
  };
  for (let i = 0; i < 300; i++) pass();
  // Each delivery is basic.deliver, a content header and the body: at least the body and 2 x 8 octets of framing.
  if (written < 300 * MESSAGES * queues.length * (size + 16)) throw new Error(`${name}: not every message was delivered`);
  const samples: number[] = [];
  for (let s = 0; s < 15; s++) {
    const before = process.cpuUsage();
    for (let i = 0; i < 20; i++) pass();
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / (20 * MESSAGES * queues.length));
  }
  samples.sort((a, b) => a - b);
  console.log(`${name}: ${samples[0]!.toFixed(3)} µs CPU per delivered message (median ${samples[7]!.toFixed(3)})`);
}

run('transient-1p1c (12 B, default exchange, 1 queue)', '', ['bench-q'], ['bench-q'], 12);
run('fanout-1p4c (100 B, fanout exchange, 4 queues)', 'bench-fanout', [''], ['bench-f1', 'bench-f2', 'bench-f3', 'bench-f4'], 100);
// amqpperf --queues 4 publishes round-robin over the queue names as routing keys, fanout or not.
run('fanout-1p4c, routing keys round-robin over 4 (as amqpperf)', 'bench-fanout', ['bench-f1', 'bench-f2', 'bench-f3', 'bench-f4'], ['bench-f1', 'bench-f2', 'bench-f3', 'bench-f4'], 100);
