// Heartbeats, over a raw socket so the client side is fully controlled:
// a client that negotiates 1 s and then goes silent is sent heartbeats and is
// disconnected after about two intervals; one that keeps sending heartbeats
// stays connected, and so does one that only echoes the broker's. Checked on a private RabbitMQ node and on Warren.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, label, rabbitmqDependency } from './support/deps.js';
import { FRAME_HEARTBEAT, FRAME_METHOD, heartbeat, RawAmqp } from './support/raw-amqp.js';
import { startRabbitMQ } from './support/rabbitmq.js';
import { startWarren } from './support/warren.js';

interface Broker {
  port: number;
  stop(): Promise<void>;
}

interface SilentClientOutcome {
  heartbeatsReceived: number;
  closeMethods: number;
  closedAfterMs: number | null;
}

/** Negotiate a 1 s heartbeat, say nothing more, and watch for up to 8 s. */
async function silentClient(port: number): Promise<SilentClientOutcome> {
  const client = await RawAmqp.connect(port);
  try {
    await client.handshake({ heartbeat: 1 });
    const started = Date.now();
    let heartbeatsReceived = 0;
    let closeMethods = 0;
    while (Date.now() - started < 8_000) {
      const frame = await client.readFrame(8_000 - (Date.now() - started));
      if (frame === null) break;
      if (frame.type === FRAME_HEARTBEAT) heartbeatsReceived++;
      if (frame.type === FRAME_METHOD && frame.payload.readUInt32BE(0) === 0x000a0032) closeMethods++;
    }
    return { heartbeatsReceived, closeMethods, closedAfterMs: client.isEnded ? Date.now() - started : null };
  } finally {
    client.destroy();
  }
}

/** Negotiate 1 s and send a heartbeat every 400 ms for 4 s: the connection must live. */
async function heartbeatingClient(port: number): Promise<{ stillOpen: boolean }> {
  const client = await RawAmqp.connect(port);
  try {
    await client.handshake({ heartbeat: 1 });
    const started = Date.now();
    while (Date.now() - started < 4_000 && !client.isEnded) {
      client.write(heartbeat(0));
      await client.readFrame(400);
    }
    return { stillOpen: !client.isEnded };
  } finally {
    client.destroy();
  }
}

/**
 * Negotiate 1 s and send a heartbeat only in answer to one from the broker,
 * as @cloudamqp/amqp-client does, for 4 s: the broker must send one whenever
 * it has sent nothing for half the interval, so the gaps stay near 500 ms.
 */
async function echoingClient(port: number): Promise<{ stillOpen: boolean; heartbeats: number; longestGapMs: number }> {
  const client = await RawAmqp.connect(port);
  try {
    await client.handshake({ heartbeat: 1 });
    const started = Date.now();
    let heartbeats = 0;
    let last = 0;
    let longestGapMs = 0;
    while (Date.now() - started < 4_000 && !client.isEnded) {
      const frame = await client.readFrame(4_000 - (Date.now() - started));
      if (frame === null) break;
      if (frame.type !== FRAME_HEARTBEAT) continue;
      const now = Date.now();
      // The first gap runs from the handshake's own traffic, not from a heartbeat.
      if (heartbeats > 0) longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      heartbeats++;
      client.write(heartbeat(0));
    }
    return { stillOpen: !client.isEnded, heartbeats, longestGapMs };
  } finally {
    client.destroy();
  }
}

function suite(start: () => Promise<Broker>): void {
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = await start();
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  }, 30_000);

  it('sends heartbeats to a silent client and drops it after about two intervals, without connection.close', async () => {
    const outcome = await silentClient((broker as Broker).port);
    expect(outcome.heartbeatsReceived).toBeGreaterThanOrEqual(1);
    expect(outcome.closeMethods).toBe(0);
    expect(outcome.closedAfterMs).not.toBeNull();
    expect(outcome.closedAfterMs as number).toBeGreaterThanOrEqual(1_000);
    expect(outcome.closedAfterMs as number).toBeLessThan(6_000);
  }, 20_000);

  it('sends a heartbeat whenever it sent nothing for half the interval, so a client that only echoes them stays', async () => {
    const outcome = await echoingClient((broker as Broker).port);
    expect(outcome.stillOpen).toBe(true);
    // Every ~500 ms over 4 s (RabbitMQ: 6-7); one per whole interval would give 3.
    expect(outcome.heartbeats).toBeGreaterThanOrEqual(5);
    expect(outcome.longestGapMs).toBeLessThan(800);
  }, 20_000);

  it('keeps a client that sends heartbeats', async () => {
    expect(await heartbeatingClient((broker as Broker).port)).toEqual({ stillOpen: true });
  }, 20_000);
}

const rabbitDep = rabbitmqDependency();

describe('heartbeats', () => {
  describe.skipIf(gate(rabbitDep))(label('RabbitMQ (reference)', rabbitDep), () => {
    suite(startRabbitMQ);
  });
  describe('Warren', () => {
    suite(() => startWarren());
  });
});
