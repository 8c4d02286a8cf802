/**
 * A real Channel behind a minimal fake Connection, fed frames as
 * Connection.onFrame feeds a channel's frames: what the publish benchmarks
 * drive (not a benchmark itself).
 */
import { Access, PermissionTable } from '../src/broker/access/permissions.js';
import { BrokerStats } from '../src/broker/stats.js';
import { VHost } from '../src/broker/vhost.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD } from '../src/protocol/constants.js';
import type { FrameSink } from '../src/protocol/frame-reader.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import { BASIC_PUBLISH, decodeMethod } from '../src/protocol/methods.generated.js';
import { Channel } from '../src/session/channel.js';
import type { Connection } from '../src/session/connection.js';

/** The access of a user with every permission on '/', as the default guest has. */
function allowAll(): Access {
  const table = new PermissionTable();
  table.set({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
  return new Access(table, 'guest', '/');
}

export function channelSink(vhost: VHost = new VHost('/')): FrameSink {
  return benchChannel(vhost).sink;
}

/** The sink, its Channel (number 1) and the FrameWriter its deliveries and replies go to (flush it yourself). */
export function benchChannel(vhost: VHost = new VHost('/')): { sink: FrameSink; channel: Channel; writer: FrameWriter } {
  const writer = new FrameWriter();
  const fakeConnection = {
    vhost,
    broker: { stats: new BrokerStats() },
    access: allowAll(),
    writer,
    acceptsDeliveries: true,
    name: 'bench',
    user: { name: 'guest', tags: [] },
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
    // A channel error in a benchmark is a broken benchmark: fail loudly rather than close the channel.
    log: {
      warn(_fields: unknown, text: string): void {
        throw new Error(`channel error: ${text}`);
      },
    },
  };
  const channel = new Channel(fakeConnection as unknown as Connection, 1);
  const sink: FrameSink = {
    onFrame(type, _ch, buf, start, end) {
      if (type === FRAME_METHOD) {
        if (end - start >= 4 && buf.readUInt32BE(start) === BASIC_PUBLISH) channel.onPublish(buf, start, end);
        else channel.onMethod(decodeMethod(buf.subarray(start, end)));
      } else if (type === FRAME_HEADER) channel.onContentHeader(buf, start, end);
      else if (type === FRAME_BODY) channel.onContentBody(buf.subarray(start, end));
    },
  };
  return { sink, channel, writer };
}
