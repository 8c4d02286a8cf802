import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmListener } from '../../src/broker/alarms.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { BODY_COPY_THRESHOLD } from '../../src/protocol/frame-writer.js';
import { startServer } from '../../src/server.js';
import type { Connection } from '../../src/session/connection.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * From socket read to socket write, a large body is not copied by the broker: content assembly keeps the read
 * chunks' subarrays, and delivery (split again into frames of at most frame_max) writes subarrays of those same
 * chunks. Only pieces under BODY_COPY_THRESHOLD, where a frame or read boundary cuts a piece short, are copied.
 */
describe('a large body from socket read to socket write', () => {
  it('is written from the memory it was read into, intact, in body frames of at most frame_max', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-large-body-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const frameMax = 16 * 1024;
    const running = await startServer(
      { ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: -1, metricsPort: -1, frameMax },
      pino({ level: 'silent' }),
    );
    cleanups.push(() => running.close());
    const client = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}?frameMax=${frameMax}`);
    cleanups.push(() => client.close());
    const listeners = (running.broker.alarms as unknown as { listeners: Set<AlarmListener> }).listeners;
    const connection = [...listeners][0] as Connection;
    expect(connection.negotiated.frameMax).toBe(frameMax);

    // Every chunk the socket reads, and every buffer the broker writes.
    const readMemory = new Set<ArrayBufferLike>();
    connection.socket.prependListener('data', (chunk: Buffer) => readMemory.add(chunk.buffer));
    const written: Buffer[] = [];
    const write = connection.socket.write.bind(connection.socket) as (b: Buffer) => boolean;
    (connection.socket as unknown as { write: (b: Buffer) => boolean }).write = (b: Buffer) => {
      written.push(b);
      return write(b);
    };

    const body = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i + 4 <= body.length; i += 4) body.writeUInt32BE(i >>> 2, i);
    const channel = await client.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const received = new Promise<Buffer>((resolve) => {
      void channel.consume(queue, (m) => m !== null && resolve(m.content), { noAck: true });
    });
    channel.sendToQueue(queue, body);
    const got = await received;
    expect(got.equals(body)).toBe(true);

    const out = Buffer.concat(written);
    // The delivery's body frames (type 3): each at most frame_max, together the body.
    let at = out.indexOf(Buffer.from([2, 0, 1])); // the content header frame after basic.deliver
    at += 7 + out.readUInt32BE(at + 3) + 1;
    let bodyBytes = 0;
    while (at < out.length && out[at] === 3) {
      const size = out.readUInt32BE(at + 3);
      expect(size + 8).toBeLessThanOrEqual(frameMax);
      bodyBytes += size;
      at += 7 + size + 1;
    }
    expect(bodyBytes).toBe(body.length);
    // Nearly all of it was written straight from the read chunks' memory.
    let referenced = 0;
    for (const b of written) if (readMemory.has(b.buffer) && b.length >= BODY_COPY_THRESHOLD) referenced += b.length;
    expect(referenced).toBeGreaterThan(body.length * 0.9);
  });
});
