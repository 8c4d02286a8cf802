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
import { Access, PermissionTable } from '../src/broker/access/permissions.js';
import { BrokerStats } from '../src/broker/stats.js';
import { VHost } from '../src/broker/vhost.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD } from '../src/protocol/constants.js';
import { FrameReader, type FrameSink } from '../src/protocol/frame-reader.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import { BASIC_PUBLISH, CLASS_BASIC, decodeMethod, encodeMethod, encodeProperties, type BasicProperties } from '../src/protocol/methods.generated.js';
import { Channel } from '../src/session/channel.js';
import type { Connection } from '../src/session/connection.js';

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

/** The access of a user with every permission on '/', as the default guest has. */
function allowAll(): Access {
  const table = new PermissionTable();
  table.set({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
  return new Access(table, 'guest', '/');
}

function channelSink(): FrameSink {
  const fakeConnection = {
    vhost: new VHost('/'),
    broker: { stats: new BrokerStats() },
    access: allowAll(),
    writer: new FrameWriter(),
    writeBlocked: false,
    settings: { maxMessageSize: 128 * 1024 * 1024 },
    confirmingChannels: [] as Channel[],
    capabilities: {},
    scheduleFlush(): void {},
    throttle(): void {},
    channelClosed(): void {},
    fail(error: unknown): void {
      throw error;
    },
  };
  const channel = new Channel(fakeConnection as unknown as Connection, 1);
  return {
    onFrame(type, _ch, payload) {
      if (type === FRAME_METHOD) channel.onMethod(decodeMethod(payload));
      else if (type === FRAME_HEADER) channel.onContentHeader(payload);
      else if (type === FRAME_BODY) channel.onContentBody(payload);
    },
  };
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
