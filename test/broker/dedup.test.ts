import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeduplicationCache, deduplicationSettings, validateDeduplicationArgs } from '../../src/broker/dedup.js';
import { Message } from '../../src/broker/message.js';
import { VHost } from '../../src/broker/vhost.js';
import type { FieldTable } from '../../src/protocol/field-table.js';
import { TypedValue } from '../../src/protocol/field-table.js';
import { encodeProperties } from '../../src/protocol/methods.generated.js';
import { DedupFileStore } from '../../src/storage/dedup-store.js';

function message(headers?: FieldTable): Message {
  const body = Buffer.from('x');
  return new Message('', 'q', encodeProperties(headers === undefined ? {} : { headers }), body, body.length);
}
const withId = (id: unknown, extra: FieldTable = {}): Message => message({ 'x-deduplication-header': id as string, ...extra });

/** Offers a message as a queue does: a duplicate is dropped, anything else taken in. Returns whether it was taken. */
function offer(cache: DeduplicationCache, m: Message): boolean {
  const key = cache.keyOf(m);
  if (cache.isDuplicate(key)) return false;
  cache.accept(key, m);
  return true;
}

function cacheOf(args: FieldTable, clock?: () => number): DeduplicationCache {
  return new DeduplicationCache(deduplicationSettings({ 'x-message-deduplication': true, ...args })!, null, clock);
}

describe('deduplication arguments', () => {
  it('only true enables it; defaults are 128 entries, no TTL, header x-deduplication-header', () => {
    expect(deduplicationSettings({})).toBeNull();
    expect(deduplicationSettings({ 'x-message-deduplication': false })).toBeNull();
    expect(deduplicationSettings({ 'x-message-deduplication': 'true' })).toBeNull();
    expect(deduplicationSettings({ 'x-message-deduplication': true })).toEqual({ cacheSize: 128, ttlMs: null, header: 'x-deduplication-header' });
    expect(deduplicationSettings({ 'x-message-deduplication': true, 'x-cache-size': 5, 'x-cache-ttl': 1000n, 'x-deduplication-header': 'id' })).toEqual({
      cacheSize: 5,
      ttlMs: 1000,
      header: 'id',
    });
  });

  it('refuses values that cannot work, with LavinMQ texts', () => {
    expect(validateDeduplicationArgs({ 'x-message-deduplication': true, 'x-cache-size': 10, 'x-cache-ttl': new TypedValue('l', 5) })).toBeNull();
    expect(validateDeduplicationArgs({ 'x-message-deduplication': 'yes' })).toBe('x-message-deduplication header not a boolean');
    expect(validateDeduplicationArgs({ 'x-cache-size': 'big' })).toBe('x-cache-size header not an integer');
    expect(validateDeduplicationArgs({ 'x-cache-size': 0 })).toBe('x-cache-size header less than minimum value 1');
    expect(validateDeduplicationArgs({ 'x-cache-ttl': -1 })).toBe('x-cache-ttl header less than minimum value 0');
    expect(validateDeduplicationArgs({ 'x-cache-ttl': 1.5 })).toBe('x-cache-ttl header not an integer');
    expect(validateDeduplicationArgs({ 'x-deduplication-header': 5 })).toBe('x-deduplication-header header not a string');
  });
});

describe('DeduplicationCache', () => {
  it('drops a message whose header value it holds; messages without the header always pass and are not recorded', () => {
    const cache = cacheOf({});
    expect(offer(cache, withId('a'))).toBe(true);
    expect(offer(cache, withId('a'))).toBe(false);
    expect(offer(cache, withId('b'))).toBe(true);
    expect(offer(cache, message())).toBe(true);
    expect(offer(cache, message())).toBe(true);
    expect(offer(cache, message({ other: 'a' }))).toBe(true);
    expect(cache.size).toBe(2);
    expect(cache.deduplicated).toBe(1);
  });

  it('compares typed values: the string "1" and the number 1 differ', () => {
    const cache = cacheOf({});
    expect(offer(cache, withId('1'))).toBe(true);
    expect(offer(cache, withId(1))).toBe(true);
    expect(offer(cache, withId(new TypedValue('l', 1)))).toBe(false);
  });

  it('reads another header when x-deduplication-header names it (message_id is no fallback)', () => {
    const cache = cacheOf({ 'x-deduplication-header': 'order' });
    expect(offer(cache, message({ order: 'o-1' }))).toBe(true);
    expect(offer(cache, message({ order: 'o-1' }))).toBe(false);
    expect(offer(cache, withId('o-1'))).toBe(true);
  });

  it('holds at most x-cache-size entries, evicting the oldest inserted (FIFO, a hit does not refresh)', () => {
    const cache = cacheOf({ 'x-cache-size': 3 });
    for (const id of ['a', 'b', 'c']) expect(offer(cache, withId(id))).toBe(true);
    expect(offer(cache, withId('a'))).toBe(false); // a hit: a stays the oldest
    expect(offer(cache, withId('d'))).toBe(true); // evicts a
    expect(cache.size).toBe(3);
    expect(offer(cache, withId('b'))).toBe(false);
    expect(offer(cache, withId('a'))).toBe(true); // evicted, so accepted again (and evicts b)
    expect(offer(cache, withId('b'))).toBe(true);
    for (let i = 0; i < 1000; i++) offer(cache, withId(`n${i}`));
    expect(cache.size).toBe(3);
  });

  it('x-cache-ttl: entries expire, lazily, and the id is accepted again', () => {
    let now = 1_000_000;
    const cache = cacheOf({ 'x-cache-ttl': 100 }, () => now);
    expect(offer(cache, withId('a'))).toBe(true);
    now += 99;
    expect(offer(cache, withId('a'))).toBe(false);
    now += 1;
    expect(offer(cache, withId('a'))).toBe(true);
    now += 50;
    expect(offer(cache, withId('a'))).toBe(false);
  });

  it('a message x-cache-ttl header sets that entry\'s lifetime (over the default, or where there is none)', () => {
    let now = 5_000;
    const cache = cacheOf({ 'x-cache-ttl': 1000 }, () => now);
    expect(offer(cache, withId('short', { 'x-cache-ttl': 10 }))).toBe(true);
    expect(offer(cache, withId('long', { 'x-cache-ttl': new TypedValue('l', 5000) }))).toBe(true);
    expect(offer(cache, withId('default'))).toBe(true);
    now += 10;
    expect([offer(cache, withId('short')), offer(cache, withId('long')), offer(cache, withId('default'))]).toEqual([true, false, false]);
    now += 2000;
    expect([offer(cache, withId('long')), offer(cache, withId('default'))]).toEqual([false, true]);
    const forever = cacheOf({}, () => now);
    expect(offer(forever, withId('x', { 'x-cache-ttl': 1 }))).toBe(true);
    now += 1;
    expect(offer(forever, withId('x'))).toBe(true);
    expect(offer(forever, withId('y'))).toBe(true);
    now += 1e9;
    expect(offer(forever, withId('y'))).toBe(false);
  });
});

describe('DedupFileStore (a durable object\'s cache)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-dedup-'));
    dirs.push(dir);
    return dir;
  };
  const settings = (args: FieldTable = {}) => deduplicationSettings({ 'x-message-deduplication': true, ...args })!;

  it('a reopened cache holds what was accepted, in the same order, without expired entries', () => {
    const dir = tempDir();
    let now = 1_000;
    const first = new DeduplicationCache(settings({ 'x-cache-size': 3 }), new DedupFileStore(dir).open('queue\0/\0q'), () => now);
    for (const id of ['a', 'b']) offer(first, withId(id));
    offer(first, withId('soon', { 'x-cache-ttl': 5 }));
    first.close();
    now += 10;
    const second = new DeduplicationCache(settings({ 'x-cache-size': 3 }), new DedupFileStore(dir).open('queue\0/\0q'), () => now);
    expect(second.size).toBe(2);
    expect(offer(second, withId('a'))).toBe(false);
    expect(offer(second, withId('soon'))).toBe(true);
    expect(offer(second, withId('c'))).toBe(true); // full: evicts a, the oldest
    expect(offer(second, withId('a'))).toBe(true);
    second.close();
    const other = new DeduplicationCache(settings(), new DedupFileStore(dir).open('queue\0/\0other'));
    expect(other.size).toBe(0);
    other.close();
  });

  it('compacts the file when it grows past twice the cache (and a few hundred records), and ignores a torn last record', () => {
    const dir = tempDir();
    const store = new DedupFileStore(dir);
    const cache = new DeduplicationCache(settings({ 'x-cache-size': 10 }), store.open('exchange\0/\0x'));
    for (let i = 0; i < 1000; i++) offer(cache, withId(`id-${i}`));
    cache.close();
    const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.dedup'));
    const full = path.join(dir, file!);
    const size = fs.statSync(full).size;
    expect(size).toBeLessThan(300 * 30);
    fs.appendFileSync(full, Buffer.from([0, 0, 0, 40, 1, 2, 3])); // a record cut short by a crash
    const reopened = new DeduplicationCache(settings({ 'x-cache-size': 10 }), new DedupFileStore(dir).open('exchange\0/\0x'));
    expect(reopened.size).toBe(10);
    expect(offer(reopened, withId('id-999'))).toBe(false);
    expect(offer(reopened, withId('id-989'))).toBe(true);
    reopened.drop();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.dedup'))).toEqual([]);
  });

  it('reports a cache file that cannot be removed, and the deletion goes on', () => {
    const dir = tempDir();
    const failures: string[] = [];
    const cache = new DeduplicationCache(settings(), new DedupFileStore(dir, (file, error) => failures.push(`${path.basename(file)}: ${(error as NodeJS.ErrnoException).code}`)).open('queue\0/\0q'));
    offer(cache, withId('a'));
    // What stands at the file's name cannot be removed by rmSync (as a file on a failing disk).
    const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.dedup'));
    fs.rmSync(path.join(dir, file!));
    fs.mkdirSync(path.join(dir, file!, 'inside'), { recursive: true });
    expect(() => cache.drop()).not.toThrow();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^[0-9a-f]{32}\.dedup: /);
  });
});

describe('VHost with deduplicating queues and exchanges', () => {
  const owner = {};
  const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
  const exchangeOptions = { durable: false, autoDelete: false, internal: false, arguments: {} };
  const route = (vhost: VHost, exchange: string, key: string, id?: string): string[] =>
    vhost
      .publish(message2(exchange, key, id))
      .map((q) => q.name)
      .sort();
  function message2(exchange: string, key: string, id?: string): Message {
    const properties = encodeProperties(id === undefined ? {} : { headers: { 'x-deduplication-header': id } });
    return new Message(exchange, key, properties, Buffer.from('x'), 1);
  }

  it('a queue drops its duplicates; other queues on the route and the refused flag are unaffected', () => {
    const vhost = new VHost('/');
    vhost.declareExchange('fan', 'fanout', false, exchangeOptions);
    vhost.declareQueue('dedup', false, { ...plain, arguments: { 'x-message-deduplication': true } }, owner);
    vhost.declareQueue('plain', false, plain, owner);
    vhost.bindQueue('dedup', 'fan', '', {}, owner);
    vhost.bindQueue('plain', 'fan', '', {}, owner);
    expect(route(vhost, 'fan', '', 'a')).toEqual(['dedup', 'plain']);
    expect(route(vhost, 'fan', '', 'a')).toEqual(['plain']);
    expect(vhost.refused).toBe(false);
    expect(route(vhost, '', 'dedup', 'a')).toEqual([]);
    expect(vhost.queues.get('dedup')!.messageCount).toBe(1);
    expect(vhost.queues.get('dedup')!.deduplication!.deduplicated).toBe(2);
  });

  it('an exchange routes a duplicate nowhere, not even to its alternate exchange', () => {
    const vhost = new VHost('/');
    vhost.declareExchange('ae', 'fanout', false, exchangeOptions);
    vhost.declareQueue('ae-q', false, plain, owner);
    vhost.bindQueue('ae-q', 'ae', '', {}, owner);
    vhost.declareExchange('x', 'direct', false, { ...exchangeOptions, arguments: { 'x-message-deduplication': true, 'alternate-exchange': 'ae' } });
    vhost.declareQueue('q', false, plain, owner);
    vhost.bindQueue('q', 'x', 'k', {}, owner);
    expect(route(vhost, 'x', 'k', 'a')).toEqual(['q']);
    expect(route(vhost, 'x', 'other', 'a')).toEqual([]);
    expect(route(vhost, 'x', 'other', 'b')).toEqual(['ae-q']);
    expect(route(vhost, 'x', 'k', 'b')).toEqual([]);
    expect(route(vhost, 'x', 'k')).toEqual(['q']);
    expect(vhost.exchanges.get('x')!.deduplication!.deduplicated).toBe(2);
  });

  it('declare refuses arguments that cannot work', () => {
    const vhost = new VHost('/');
    expect(() => vhost.declareQueue('q', false, { ...plain, arguments: { 'x-cache-size': 'x' } }, owner)).toThrow('x-cache-size header not an integer');
    expect(() => vhost.declareExchange('x', 'topic', false, { ...exchangeOptions, arguments: { 'x-message-deduplication': 1 } })).toThrow(
      'x-message-deduplication header not a boolean',
    );
    expect(vhost.queues.has('q')).toBe(false);
    expect(vhost.exchanges.has('x')).toBe(false);
  });
});

describe('DedupFileStore that cannot write', () => {
  it('reports the failure once and keeps the cache working in memory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-dedup-'));
    try {
      const notADir = path.join(dir, 'file');
      fs.writeFileSync(notADir, 'x');
      const errors: string[] = [];
      const store = new DedupFileStore(path.join(notADir, 'dedup'), (_file, error) => errors.push(error.message));
      const cache = new DeduplicationCache(deduplicationSettings({ 'x-message-deduplication': true })!, store.open('queue\0/\0q'));
      expect(offer(cache, withId('a'))).toBe(true);
      expect(offer(cache, withId('a'))).toBe(false);
      expect(offer(cache, withId('b'))).toBe(true);
      expect(errors.length).toBe(1);
      cache.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
