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
import { decodeMethod } from '../src/protocol/methods.generated.js';
import { Channel } from '../src/session/channel.js';
import type { Connection } from '../src/session/connection.js';

/** The access of a user with every permission on '/', as the default guest has. */
function allowAll(): Access {
  const table = new PermissionTable();
  table.set({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
  return new Access(table, 'guest', '/');
}

/** The sink, and the channel and output writer behind it (for benchmarks that consume and ack). */
export function channelSink(vhost: VHost = new VHost('/')): FrameSink & { channel: Channel; writer: FrameWriter } {
  const fakeConnection = {
    vhost,
    broker: { stats: new BrokerStats() },
    access: allowAll(),
    writer: new FrameWriter(),
    writeBlocked: false,
    acceptsDeliveries: true,
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
  return {
    channel,
    writer: fakeConnection.writer,
    onFrame(type, _ch, payload) {
      if (type === FRAME_METHOD) channel.onMethod(decodeMethod(payload));
      else if (type === FRAME_HEADER) channel.onContentHeader(payload);
      else if (type === FRAME_BODY) channel.onContentBody(payload);
    },
  };
}
