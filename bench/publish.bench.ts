/**
 * Publish cost through a real Channel. Run: npx tsx bench/publish.bench.ts
 *
 * 1,000 publishes of a 100 B body per op, each a basic.publish, a content
 * header and one body frame in one chunk, read by a FrameReader and handed to
 * a Channel behind a minimal fake Connection; the default exchange has no
 * queue for the routing key, so each message is assembled, checked, routed to
 * nothing and dropped. Two kinds of properties: content-type + delivery-mode
 * only, and the same with a headers table of 6 fields (one a nested table, one
 * an array), the case the property check at the content header walks.
 */
import Benchmark from 'benchmark';
import { channelSink } from './channel-sink.js';
import { FrameReader } from '../src/protocol/frame-reader.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import { BASIC_PUBLISH, CLASS_BASIC, encodeMethod, encodeProperties, type BasicProperties } from '../src/protocol/methods.generated.js';

const MAX_TIME = 3; // seconds per case
const MESSAGES = 1000;
const BODY = 100;

function publishStream(props: BasicProperties): Buffer {
  const raw = encodeProperties(props);
  const w = new FrameWriter();
  const body = Buffer.alloc(BODY, 0x61);
  for (let i = 0; i < MESSAGES; i++) {
    encodeMethod(w, 1, BASIC_PUBLISH, { ticket: 0, exchange: '', routingKey: 'no-such-queue', mandatory: false, immediate: false });
    w.writeContent(1, CLASS_BASIC, BODY, raw, body);
  }
  return Buffer.concat(w.flush() ?? []);
}

const plain: BasicProperties = { contentType: 'application/json', deliveryMode: 2 };
const withHeaders: BasicProperties = {
  ...plain,
  headers: { 'x-trace-id': 'a1b2c3d4e5f6', attempt: 3, tenant: 'acme', 'x-retry': true, origin: { host: 'web-1', pid: 4242 }, tags: ['a', 'b', 7] },
};

const suite = new Benchmark.Suite('publish');
for (const [label, props] of [
  ['content-type + delivery-mode', plain],
  ['content-type + delivery-mode + headers (6 fields, nested table and array)', withHeaders],
] as const) {
  const stream = publishStream(props);
  const reader = new FrameReader();
  const sink = channelSink();
  suite.add(`${MESSAGES} publishes x ${BODY} B, ${label}`, () => reader.push(stream, sink), { maxTime: MAX_TIME });
}
suite
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark & { name: string };
    console.log(`${t.name}: ${Math.round(t.hz * MESSAGES).toLocaleString('en-US')} msg/s ±${t.stats.rme.toFixed(1)}%`);
  })
  .run();
