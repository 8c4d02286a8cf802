import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmListener } from '../../src/broker/alarms.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import type { Connection } from '../../src/session/connection.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 16 KiB of heartbeat frames (type 8, channel 0, size 0, frame end): the most a TLS socket hands over at once. */
function tlsRecordOfHeartbeats(): Buffer {
  const chunk = Buffer.alloc(16 * 1024);
  for (let at = 0; at < chunk.length; at += 8) chunk.set([8, 0, 0, 0, 0, 0, 0, 0xce], at);
  return chunk;
}

describe('fair share of reads', () => {
  it('a connection that sends 32 KiB in one event-loop turn in 16 KiB reads (TLS records) yields until the next turn', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-fair-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: -1, metricsPort: -1 }, pino({ level: 'silent' }));
    cleanups.push(() => running.close());
    const client = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`);
    cleanups.push(() => client.close());
    const listeners = (running.broker.alarms as unknown as { listeners: Set<AlarmListener> }).listeners;
    const connection = [...listeners][0] as Connection;
    // A fresh turn, so that the handshake's reads do not count.
    await new Promise((resolve) => setImmediate(resolve));

    // Reads as node:tls delivers them: one record per 'data' event, in the same turn.
    connection.socket.emit('data', tlsRecordOfHeartbeats());
    expect(connection.socket.isPaused()).toBe(false);
    connection.socket.emit('data', tlsRecordOfHeartbeats());
    expect(connection.socket.isPaused()).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(connection.socket.isPaused()).toBe(false);

    // A new turn starts a new count: 16 KiB per turn is never held back.
    for (let turn = 0; turn < 3; turn++) {
      connection.socket.emit('data', tlsRecordOfHeartbeats());
      expect(connection.socket.isPaused()).toBe(false);
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  it('the pieces of a large body frame split across reads do not use up the share', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-fair-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, managementPort: -1, metricsPort: -1 }, pino({ level: 'silent' }));
    cleanups.push(() => running.close());
    const client = await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`);
    // The test leaves a body frame unfinished and cuts the connection at the end: the client only hears it closed.
    client.on('error', () => undefined);
    const listeners = (running.broker.alarms as unknown as { listeners: Set<AlarmListener> }).listeners;
    const connection = [...listeners][0] as Connection;
    await new Promise((resolve) => setImmediate(resolve));

    // The start of a body frame of 120 KiB on channel 1, then more of it, 96 KiB in one turn: not paused.
    const header = Buffer.alloc(7);
    header[0] = 3;
    header.writeUInt16BE(1, 1);
    header.writeUInt32BE(120 * 1024, 3);
    connection.socket.emit('data', Buffer.concat([header, Buffer.alloc(48 * 1024)]));
    connection.socket.emit('data', Buffer.alloc(48 * 1024));
    expect(connection.socket.isPaused()).toBe(false);
    const closed = new Promise((resolve) => client.once('close', resolve));
    connection.socket.destroy();
    await closed;
  });
});
