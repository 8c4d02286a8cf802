import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DelayIndex } from '../../src/broker/delay-index.js';
import { DelayedMessages, delayOf, isDelayed } from '../../src/broker/delayed.js';
import { Durability } from '../../src/broker/durability.js';
import { Message } from '../../src/broker/message.js';
import { senderSelected } from '../../src/broker/sender-selected.js';
import { VHost } from '../../src/broker/vhost.js';
import { exchangeJson } from '../../src/http/api/exchanges.js';
import { encodeProperties } from '../../src/protocol/methods.generated.js';
import { MessageLog } from '../../src/storage/message-log.js';

function drain(index: DelayIndex): number[][] {
  const out = new Float64Array(6);
  const entries: number[][] = [];
  while (index.pop(out)) entries.push([...out]);
  return entries;
}

describe('DelayIndex', () => {
  it('pops by due time, equal due times in publish order', () => {
    const index = new DelayIndex();
    const dues = [50, 10, 30, 10, 20, 50, 10];
    dues.forEach((due, seq) => index.push(due, seq, seq * 10, 1, 2, 3));
    expect(index.size).toBe(7);
    expect(index.peekDue()).toBe(10);
    const popped = drain(index);
    expect(popped.map(([due, seq]) => [due, seq])).toEqual([[10, 1], [10, 3], [10, 6], [20, 4], [30, 2], [50, 0], [50, 5]]);
    expect(popped[0]!.slice(2)).toEqual([10, 1, 2, 3]);
    expect(index.peekDue()).toBe(Infinity);
  });

  it('keeps order over many random entries (grows past its first array)', () => {
    const index = new DelayIndex();
    const dues: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const due = Math.floor(Math.random() * 100);
      dues.push(due);
      index.push(due, i, i, 0, 0, 0);
    }
    const popped = drain(index);
    const expected = dues.map((due, seq) => [due, seq]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    expect(popped.map(([due, seq]) => [due, seq])).toEqual(expected);
  });

  it('clear forgets every entry', () => {
    const index = new DelayIndex();
    for (let i = 0; i < 100; i++) index.push(i, i, 0, 0, 0, 0);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.pop(new Float64Array(6))).toBe(false);
  });
});

describe('x-delay header', () => {
  it('reads integers, numeric strings and floats as the plugin; others are no delay', () => {
    expect(delayOf(1500)).toBe(1500);
    expect(delayOf(10n)).toBe(10);
    expect(delayOf('250')).toBe(250);
    expect(delayOf(99.9)).toBe(99);
    expect(delayOf(undefined)).toBe(0);
    expect(delayOf('soon')).toBe(0);
    expect(delayOf(true)).toBe(0);
    expect(isDelayed(delayOf(-5))).toBe(false);
    expect(isDelayed(0)).toBe(false);
    expect(isDelayed(4_294_967_295)).toBe(true);
    // Beyond the plugin's 2^32 − 1 ms (which it routes at once): held, up to ten years.
    expect(isDelayed(4_294_967_296)).toBe(true);
    expect(isDelayed(delayOf(10n ** 11n))).toBe(true);
    expect(isDelayed(315_360_000_000)).toBe(true);
    expect(isDelayed(315_360_000_001)).toBe(false);
    expect(isDelayed(delayOf(10n ** 30n))).toBe(false);
  });
});

describe('DelayedMessages (in memory, fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const message = (key: string) => new Message('dx', key, Buffer.alloc(0), Buffer.from(key), key.length);

  it('releases each message at its due time, never earlier, in due order with ties in publish order', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const released: [string, number][] = [];
    const delayed = new DelayedMessages('dx', (m) => released.push([m.routingKey, Date.now()]), (error) => { throw error; });
    delayed.add(message('late'), 300);
    delayed.add(message('early'), 100);
    delayed.add(message('tie-1'), 200);
    delayed.add(message('tie-2'), 200);
    expect(delayed.pending).toBe(4);
    vi.advanceTimersByTime(99);
    expect(released).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(released).toEqual([['early', 1_000_100]]);
    vi.advanceTimersByTime(200);
    expect(released.map(([k]) => k)).toEqual(['early', 'tie-1', 'tie-2', 'late']);
    expect(released[3]![1]).toBe(1_000_300);
    expect(delayed.pending).toBe(0);
  });

  it('a delay past 2^31 − 1 ms re-arms its timer and is released on time', () => {
    vi.useFakeTimers({ now: 0 });
    const released: number[] = [];
    const delayed = new DelayedMessages('dx', () => released.push(Date.now()), (error) => { throw error; });
    const delay = 2 ** 32 - 1;
    delayed.add(message('far'), delay);
    vi.advanceTimersByTime(2 ** 31);
    expect(released).toEqual([]);
    vi.advanceTimersByTime(delay - 2 ** 31 - 1);
    expect(released).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(released).toEqual([delay]);
  });

  it('dropping (exchange deleted) discards pending messages and stops the timer', () => {
    vi.useFakeTimers({ now: 0 });
    const released: string[] = [];
    const delayed = new DelayedMessages('dx', (m) => released.push(m.routingKey), (error) => { throw error; });
    delayed.add(message('a'), 10);
    delayed.add(message('b'), 20);
    delayed.drop();
    expect(delayed.pending).toBe(0);
    vi.advanceTimersByTime(100);
    expect(released).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('an x-delayed-message exchange in a vhost (no message log, fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a delayed publish (messages_delayed in the management API), then routes it through the headers bindings of the moment', () => {
    vi.useFakeTimers({ now: 0 });
    const vhost = new VHost('/');
    const owner = {};
    const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
    vhost.declareExchange('dh', 'x-delayed-message', false, { durable: false, autoDelete: false, internal: false, arguments: { 'x-delayed-type': 'headers' } });
    vhost.declareQueue('q', false, plain, owner);
    const properties = encodeProperties({ headers: { 'x-delay': 1000, colour: 'red' } });
    const routed = vhost.publish(new Message('dh', '', properties, Buffer.from('b'), 1));
    expect(routed.length).toBe(0);
    const exchange = vhost.exchanges.get('dh')!;
    expect(exchangeJson(exchange, false)).toMatchObject({ type: 'x-delayed-message', messages_delayed: 1 });
    vhost.bindQueue('q', 'dh', '', { colour: 'red' }, owner);
    vi.advanceTimersByTime(999);
    expect(vhost.queues.get('q')!.messageCount).toBe(0);
    vi.advanceTimersByTime(1);
    expect(vhost.queues.get('q')!.messageCount).toBe(1);
    expect(exchangeJson(exchange, false)).toMatchObject({ messages_delayed: 0 });
    // No x-delay: routed at once, through the headers rules.
    vhost.publish(new Message('dh', '', encodeProperties({ headers: { colour: 'red' } }), Buffer.from('b'), 1));
    vhost.publish(new Message('dh', '', encodeProperties({ headers: { colour: 'blue' } }), Buffer.from('b'), 1));
    expect(vhost.queues.get('q')!.messageCount).toBe(2);
    expect(exchangeJson(vhost.exchanges.get('amq.direct')!, false)).not.toHaveProperty('messages_delayed');
    vhost.stop();
  });

  it('holds a delay beyond 2^32 − 1 ms (the plugin routes it at once) until it is due; past ten years it routes at once', () => {
    vi.useFakeTimers({ now: 0 });
    const vhost = new VHost('/');
    const owner = {};
    vhost.declareExchange('dl', 'x-delayed-message', false, { durable: false, autoDelete: false, internal: false, arguments: { 'x-delayed-type': 'fanout' } });
    vhost.declareQueue('q', false, { durable: false, exclusive: false, autoDelete: false, arguments: {} }, owner);
    vhost.bindQueue('q', 'dl', '', {}, owner);
    const delay = 2 ** 32 + 5_000;
    vhost.publish(new Message('dl', '', encodeProperties({ headers: { 'x-delay': delay } }), Buffer.from('b'), 1));
    const queue = vhost.queues.get('q')!;
    expect(exchangeJson(vhost.exchanges.get('dl')!, false)).toMatchObject({ messages_delayed: 1 });
    vi.advanceTimersByTime(delay - 1);
    expect(queue.messageCount).toBe(0);
    vi.advanceTimersByTime(1);
    expect(queue.messageCount).toBe(1);
    vhost.publish(new Message('dl', '', encodeProperties({ headers: { 'x-delay': 315_360_000_001 } }), Buffer.from('b'), 1));
    expect(queue.messageCount).toBe(2);
    vhost.stop();
  });

  it('routes a due message with its CC and BCC routing keys, as a publish is; BCC is not delivered', () => {
    vi.useFakeTimers({ now: 0 });
    const vhost = new VHost('/');
    const owner = {};
    const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
    vhost.declareExchange('dd', 'x-delayed-message', false, { durable: false, autoDelete: false, internal: false, arguments: { 'x-delayed-type': 'direct' } });
    for (const name of ['to', 'cc', 'bcc', 'other']) {
      vhost.declareQueue(name, false, plain, owner);
      vhost.bindQueue(name, 'dd', name, {}, owner);
    }
    // As the channel does: CC and BCC become extra routing keys, BCC leaves the headers.
    const published = new Message('dd', 'to', encodeProperties({ headers: { 'x-delay': 500, CC: ['cc'], BCC: ['bcc'] } }), Buffer.from('b'), 1);
    const selected = senderSelected(published)!;
    expect(vhost.publish(selected.message, selected.keys).length).toBe(0);
    vi.advanceTimersByTime(499);
    expect(vhost.queues.get('to')!.messageCount).toBe(0);
    vi.advanceTimersByTime(1);
    const counts = Object.fromEntries(['to', 'cc', 'bcc', 'other'].map((name) => [name, vhost.queues.get(name)!.messageCount]));
    expect(counts).toEqual({ to: 1, cc: 1, bcc: 1, other: 0 });
    const headers = vhost.queues.get('bcc')!.get(true)!.message!.properties.headers!;
    expect(headers['CC']).toEqual(['cc']);
    expect(headers).not.toHaveProperty('BCC');
    vhost.stop();
  });
});

describe('DelayedMessages with a message log (fake clock and timers, real disk reads)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function logged(): Promise<{ delayed: DelayedMessages; released: [string, number, readonly string[] | null][]; reads: () => Promise<void>; readCount: () => number }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-delayed-'));
    const { log, recovered } = await MessageLog.open({ dir, onDurable: () => {}, onError: (e) => { throw e; } });
    cleanups.push(async () => {
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const readMessages = vi.spyOn(log, 'readMessages');
    // The log's own flushes use setImmediate, which stays real.
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const released: [string, number, readonly string[] | null][] = [];
    const delayed = new DelayedMessages('dx', (m, keys) => released.push([m.routingKey, Date.now(), keys]), (error) => { throw error; });
    delayed.attachStorage(new Durability(log, recovered.nextMsgId, () => {}), 'dx-key');
    // Waits for the reads started so far, and for their messages to join the ready ones.
    const reads = async () => {
      await Promise.all(readMessages.mock.results.map((r) => r.value));
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { delayed, released, reads, readCount: () => readMessages.mock.calls.length };
  }
  const message = (key: string) => new Message('dx', key, Buffer.alloc(0), Buffer.from(key), key.length);

  it('reads a message back a quarter of a second before it falls due, so that at its due time it is routed without a disk read', async () => {
    const { delayed, released, reads, readCount } = await logged();
    delayed.add(message('m'), 5_000, ['cc-key']);
    expect(delayed.pending).toBe(1);
    vi.advanceTimersByTime(4_749);
    expect(readCount()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(readCount()).toBe(1);
    await reads();
    expect(released).toEqual([]);
    expect(delayed.pending).toBe(1);
    vi.advanceTimersByTime(249);
    expect(released).toEqual([]);
    // Due: routed within the timer's own turn, with the CC/BCC keys kept in the log record.
    vi.advanceTimersByTime(1);
    expect(released).toEqual([['m', 5_000, ['cc-key']]]);
    expect(delayed.pending).toBe(0);
    expect(readCount()).toBe(1);
  });

  it('refuses (406) a delayed publish whose CC/BCC keys do not fit its record, and keeps nothing of it', async () => {
    const { delayed } = await logged();
    const keys = Array.from({ length: 300 }, (_, i) => `${i}`.padEnd(255, 'k'));
    expect(() => delayed.add(message('m'), 1_000, keys)).toThrow(expect.objectContaining({ replyCode: 406 }));
    expect(delayed.pending).toBe(0);
    delayed.add(message('m'), 1_000, keys.slice(0, 200));
    expect(delayed.pending).toBe(1);
  });

  it('keeps due order, ties in publish order, when a short delay is published while longer ones are being read ahead', async () => {
    const { delayed, released, reads } = await logged();
    delayed.add(message('long'), 3_000);
    vi.advanceTimersByTime(2_750);
    // `long` is being read; `short` falls due before it and `tie` with it, published after it.
    delayed.add(message('short'), 100);
    delayed.add(message('tie'), 250);
    delayed.add(message('longest'), 2_250);
    expect(delayed.pending).toBe(4);
    await reads();
    vi.advanceTimersByTime(0);
    await reads();
    vi.advanceTimersByTime(99);
    expect(released).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(released.map(([k, at]) => [k, at])).toEqual([['short', 2_850]]);
    vi.advanceTimersByTime(150);
    expect(released.map(([k, at]) => [k, at])).toEqual([['short', 2_850], ['long', 3_000], ['tie', 3_000]]);
    await reads();
    vi.advanceTimersByTime(1_750);
    await reads();
    vi.advanceTimersByTime(250);
    expect(released.map(([k, at]) => [k, at])).toEqual([['short', 2_850], ['long', 3_000], ['tie', 3_000], ['longest', 5_000]]);
    expect(delayed.pending).toBe(0);
  });

  it('waits for a read that fell behind rather than let a later-due message overtake', async () => {
    const { delayed, released, reads } = await logged();
    delayed.add(message('later'), 100);
    vi.advanceTimersByTime(0);
    // `later` is being read; `sooner`, published after it, falls due first and can only be read after it.
    delayed.add(message('sooner'), 50);
    vi.advanceTimersByTime(200);
    await reads();
    await reads();
    expect(released.map(([k, at]) => [k, at])).toEqual([['sooner', 200], ['later', 200]]);
  });
});
