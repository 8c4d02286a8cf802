// What every queue carries whether or not it is used (issue 13: RSS per idle queue, docs/scale.md):
// no per-instance closures and, once sampled, no statistics arrays. Each of those cost hundreds of bytes per queue.
import { describe, expect, it } from 'vitest';
import type { FieldTable } from '../../src/protocol/field-table.js';
import { Queue } from '../../src/broker/queue.js';

describe('an idle queue', () => {
  it('holds no functions of its own, even with x-expires and a message TTL', () => {
    for (const args of [{}, { 'x-expires': 60_000, 'x-message-ttl': 1_000 }] as FieldTable[]) {
      const queue = new Queue('idle', '/', { durable: false, exclusive: false, autoDelete: false, arguments: args }, null);
      expect(Object.entries(queue).filter(([, v]) => typeof v === 'function').map(([k]) => k)).toEqual([]);
      queue.stopTimers();
    }
  });

  it('keeps no statistics arrays after the sampler has run over it', () => {
    const queue = new Queue('idle', '/', { durable: false, exclusive: false, autoDelete: false, arguments: {} }, null);
    for (const now of [5_000, 10_000, 15_000]) queue.stats.sample(now);
    expect(queue.stats.rates).toBeNull();
    expect(Object.values(queue.stats).filter((v) => ArrayBuffer.isView(v))).toEqual([]);
  });
});
