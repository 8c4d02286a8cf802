import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerStats, MessageStats } from '../../src/broker/stats.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';

// The statistics sampler writes fractional rates and times into objects the hot path counts into (channel, queue,
// exchange, vhost and node counters, the connection). A field that held a small integer and then gets a fraction
// changes the object's hidden class ("map"), which deoptimizes every optimized function that touches such an object:
// with latency-1k that was a burst of deopts on publish, route, deliver and flush 5 s and 10 s after the start
// (issue 13, latency tail). Each test compares the map of an object sampled with fractional values against one of
// the same kind created before and never sampled: they differ if sampling changed the class.

setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

describe('sampling statistics keeps the hidden class of the counted objects', () => {
  it('MessageStats and BrokerStats', () => {
    for (const Stats of [MessageStats, BrokerStats]) {
      const untouched = new Stats();
      const sampled = new Stats();
      sampled.deliver += 3;
      sampled.sample(1_000.5);
      sampled.deliver += 4;
      sampled.sample(6_000.25);
      expect(sampled.rate('deliver')).toBeCloseTo(4 / 4.99975, 9);
      expect(haveSameMap(sampled, untouched), Stats.name).toBe(true);
    }
  });

  describe('Connection', () => {
    let running: RunningServer;
    let dataDir: string;
    const clients: amqp.ChannelModel[] = [];

    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-hidden-class-'));
      running = await startServer({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', dataDir, metricsPort: -1 }, createLogger('silent'));
      for (let i = 0; i < 2; i++) clients.push(await amqp.connect(`amqp://guest:guest@127.0.0.1:${running.port}`));
    });

    afterAll(async () => {
      for (const client of clients) await client.close();
      await running?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('after its traffic rates are sampled', async () => {
      const [sampled, untouched] = [...running.connections];
      expect(untouched).toBeDefined();
      sampled!.sampleTraffic(1_000.5);
      const ch = await clients[0]!.createChannel();
      await ch.close();
      sampled!.sampleTraffic(3_001.25);
      expect(sampled!.recvOctRate).toBeGreaterThan(0);
      expect(Number.isInteger(sampled!.recvOctRate), 'a fractional rate').toBe(false);
      expect(haveSameMap(sampled!, untouched!)).toBe(true);
    });
  });
});
