import { describe, expect, it } from 'vitest';
import { bindingWeight, ConsistentHashRouter, validateConsistentHashArgs } from '../../../src/broker/exchanges/consistent-hash.js';
import { jumpConsistentHash, phash2Binary } from '../../../src/broker/exchanges/erlang-hash.js';
import { isExchangeType } from '../../../src/broker/exchanges/index.js';
import { Message } from '../../../src/broker/message.js';
import { VHost } from '../../../src/broker/vhost.js';
import { Decimal, type FieldTable, type FieldValue, TypedValue } from '../../../src/protocol/field-table.js';
import { encodeProperties } from '../../../src/protocol/methods.generated.js';

interface Q {
  name: string;
}
const q = (name: string): Q => ({ name });

function routeOne(router: ConsistentHashRouter<Q>, key: string, raw?: Buffer): string | undefined {
  const out: Q[] = [];
  router.route(key, undefined, out, raw === undefined ? undefined : { routingKey: key, rawProperties: raw });
  expect(out.length).toBeLessThanOrEqual(1);
  return out[0]?.name;
}

/** A ring of `count` queues q0… bound in order with the given weights. */
function ring(weights: number[], args = {}): { router: ConsistentHashRouter<Q>; queues: Q[] } {
  const router = new ConsistentHashRouter<Q>(args);
  const queues = weights.map((_, i) => q(`q${i}`));
  weights.forEach((w, i) => router.bind(queues[i]!, String(w), {}));
  return { router, queues };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

// Reference values computed on Erlang/OTP 25 (the runtime of RabbitMQ 3.10.8 here) with erlang:phash2/1
// and the plugin's jump_consistent_hash/2 (rand:seed_s(exs1024, {K,K,K}) and rand:uniform_s/1).
describe('Erlang hashing, bit for bit', () => {
  it('phash2 of binaries', () => {
    const cases: [string, number][] = [
      ['', 13708901], ['a', 112802447], ['abc', 98228475], ['hello world!', 25699699], ['hello world!!', 2064796],
      ['key-12345678901234567890', 67998916], ['日本', 63925763],
    ];
    for (const [text, expected] of cases) expect(phash2Binary(bytes(text), 0, bytes(text).length), text).toBe(expected);
  });

  it('jump consistent hash of integers and routing keys', () => {
    const ints: [number, number, number][] = [
      [0, 10, 4], [0, 1_000_000, 892565], [1, 10, 3], [1, 1_000_000, 532457], [12345, 10, 0], [12345, 1_000_000, 718588],
      [134217727, 10, 6], [134217727, 1_000_000, 588834],
    ];
    for (const [key, buckets, expected] of ints) expect(jumpConsistentHash(key, buckets), `${key} of ${buckets}`).toBe(expected);
    const keys: [string, number, number][] = [
      ['a', 7, 6], ['a', 100, 47], ['b', 100, 13], ['key-1', 100, 64], ['key-2', 7, 5], ['key-2', 100, 22], ['order.42', 7, 3], ['order.42', 100, 36],
    ];
    for (const [key, buckets, expected] of keys) {
      expect(jumpConsistentHash(phash2Binary(bytes(key), 0, bytes(key).length), buckets), `${key} of ${buckets}`).toBe(expected);
    }
  });

  it('routing keys k1…k20 over six weight-1 queues land where RabbitMQ puts them', () => {
    const { router } = ring([1, 1, 1, 1, 1, 1]);
    const placed = Array.from({ length: 20 }, (_, i) => Number(routeOne(router, `k${i + 1}`)!.slice(1)));
    expect(placed).toEqual([3, 5, 1, 2, 4, 1, 3, 5, 2, 4, 4, 2, 2, 1, 0, 0, 5, 0, 1, 4]);
  });

  it('hash-header hashes the typed value {Type, Value}; a missing header hashes as undefined', () => {
    const { router } = ring([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { 'hash-header': 'h' });
    const cases: [FieldValue | undefined, number][] = [
      ['abc', 8],
      [new TypedValue('I', 7), 0],
      [new TypedValue('l', -3000000000), 0],
      [true, 4],
      [new TypedValue('d', 2.25), 1],
      [null, 0],
      [{ a: 'b' }, 5],
      [[new TypedValue('I', 1), 'x'], 7],
      [new Decimal(2, 150), 8],
      [Buffer.from([0, 1]), 0],
      [undefined, 1],
    ];
    for (const [value, bucket] of cases) {
      const headers: FieldTable = value === undefined ? { other: 'x' } : { other: 1, h: value };
      expect(routeOne(router, 'ignored', encodeProperties({ headers })), String(value)).toBe(`q${bucket}`);
    }
    expect(routeOne(router, 'ignored', encodeProperties({})), 'no headers at all').toBe('q1');
    const before = { s: 'a longer string', t: { x: 1 }, a: [1, 'y'], v: null, d: new Decimal(1, 5), f: new TypedValue('f', 1.5), ts: new Date(0) };
    expect(routeOne(router, 'ignored', encodeProperties({ headers: { ...before, h: 'abc' } })), 'after headers of every kind').toBe('q8');
  });

  it('hash-property hashes message_id, correlation_id and the timestamp as decimal text', () => {
    const byMessageId = ring([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { 'hash-property': 'message_id' }).router;
    expect(routeOne(byMessageId, 'x', encodeProperties({ messageId: 'msg-1', correlationId: 'abc' }))).toBe('q9');
    expect(routeOne(byMessageId, 'x', encodeProperties({ correlationId: 'msg-1' }))).toBe('q1');
    const byCorrelationId = ring([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { 'hash-property': 'correlation_id' }).router;
    expect(routeOne(byCorrelationId, 'x', encodeProperties({ contentType: 'text/plain', headers: { a: 1 }, deliveryMode: 2, correlationId: 'msg-1' }))).toBe('q9');
    const byTimestamp = ring([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { 'hash-property': 'timestamp' }).router;
    expect(routeOne(byTimestamp, 'x', encodeProperties({ messageId: 'm', timestamp: 1700000000 }))).toBe('q5');
  });
});

describe('ConsistentHashRouter', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i}-${(i * 2654435761) % 1000003}`);

  it('routes nothing without bindings, everything to a single destination', () => {
    const router = new ConsistentHashRouter<Q>();
    expect(routeOne(router, 'a')).toBeUndefined();
    router.bind(q('only'), '5', {});
    expect(keys.slice(0, 100).every((k) => routeOne(router, k) === 'only')).toBe(true);
  });

  it('is stable: the same key always lands on the same queue', () => {
    const { router } = ring([1, 2, 3]);
    const first = keys.map((k) => routeOne(router, k));
    const second = keys.map((k) => routeOne(router, k));
    expect(second).toEqual(first);
    expect(new Set(first).size).toBe(3);
  });

  it('shares follow the weights within 2 points over 10,000 keys', () => {
    const weights = [1, 2, 3, 4];
    const { router } = ring(weights);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(routeOne(router, k)!, (counts.get(routeOne(router, k)!) ?? 0) + 1);
    weights.forEach((w, i) => {
      const share = (counts.get(`q${i}`) ?? 0) / keys.length;
      expect(Math.abs(share - w / 10), `q${i}: ${share}`).toBeLessThan(0.02);
    });
  });

  it('removing the last-bound destination moves only its keys; adding one back restores the placement', () => {
    const { router, queues } = ring([2, 1, 3]);
    const before = keys.map((k) => routeOne(router, k));
    router.unbind(queues[2]!, '3', {});
    const after = keys.map((k) => routeOne(router, k));
    const stayedMoved = keys.filter((_, i) => before[i] !== 'q2' && after[i] !== before[i]);
    expect(stayedMoved).toEqual([]);
    expect(before.filter((d) => d === 'q2').length).toBeGreaterThan(keys.length * 0.4);
    router.bind(queues[2]!, '3', {});
    expect(keys.map((k) => routeOne(router, k))).toEqual(before);
  });

  it('adding a destination moves keys only onto it', () => {
    const { router } = ring([1, 1, 1]);
    const before = keys.map((k) => routeOne(router, k));
    router.bind(q('new'), '1', {});
    const after = keys.map((k) => routeOne(router, k));
    const elsewhere = keys.filter((_, i) => after[i] !== before[i] && after[i] !== 'new');
    expect(elsewhere).toEqual([]);
    expect(after.filter((d) => d === 'new').length).toBeGreaterThan(keys.length * 0.2);
  });

  it('removing an earlier destination renumbers the later buckets, as RabbitMQ 3.10 does', () => {
    const { router, queues } = ring([1, 1, 1]);
    router.unbind(queues[0]!, '1', {});
    const same = ring([1, 1]);
    same.queues[0]!.name = 'q1';
    same.queues[1]!.name = 'q2';
    expect(keys.slice(0, 500).map((k) => routeOne(router, k))).toEqual(keys.slice(0, 500).map((k) => routeOne(same.router, k)));
  });

  it('a destination bound twice keeps its first weight; removing either binding removes it (the plugin does the same)', () => {
    const router = new ConsistentHashRouter<Q>();
    const [a, b] = [q('a'), q('b')];
    router.bind(a, '1', {});
    router.bind(b, '1', {});
    router.bind(a, '10', {});
    expect(router.bucketCount).toBe(2);
    router.unbind(a, '10', {});
    expect(router.bucketCount).toBe(1);
    expect(routeOne(router, 'x')).toBe('b');
  });
});

describe('arguments and binding keys', () => {
  it('binding keys: integers of at least 1, with RabbitMQ texts otherwise', () => {
    expect(bindingWeight('1')).toBe(1);
    expect(bindingWeight('+5')).toBe(5);
    expect(bindingWeight('007')).toBe(7);
    expect(bindingWeight('abc')).toBe('The binding key must be an integer: <<"abc">>');
    expect(bindingWeight('')).toBe('The binding key must be an integer: <<>>');
    expect(bindingWeight('1.5')).toBe('The binding key must be an integer: <<"1.5">>');
    expect(bindingWeight(' 5')).toBe('The binding key must be an integer: <<" 5">>');
    expect(bindingWeight('a"b')).toBe('The binding key must be an integer: <<"a\\"b">>');
    expect(bindingWeight('\u0001')).toBe('The binding key must be an integer: <<1>>');
    expect(bindingWeight('0')).toBe('The binding key must be greater than 0');
    expect(bindingWeight('-0')).toBe('The binding key must be greater than 0');
    expect(bindingWeight('-3')).toBe('The binding key must be greater than 0');
  });

  it('exchange arguments', () => {
    expect(validateConsistentHashArgs({})).toBeNull();
    expect(validateConsistentHashArgs({ 'hash-header': 'h' })).toBeNull();
    expect(validateConsistentHashArgs({ 'hash-property': 'timestamp' })).toBeNull();
    expect(validateConsistentHashArgs({ 'hash-property': 'app_id' })).toBe('Unsupported property: app_id');
    expect(validateConsistentHashArgs({ 'hash-header': 'h', 'hash-property': 'message_id' })).toBe(
      'hash-header and hash-property are mutually exclusive',
    );
    // RabbitMQ's plugin crashes on these (541 INTERNAL_ERROR closes the connection); Warren refuses the declare.
    expect(validateConsistentHashArgs({ 'hash-header': 5 })).toBe("invalid arg 'hash-header': expected a longstr, not a signedint");
    expect(validateConsistentHashArgs({ 'hash-property': true })).toBe("invalid arg 'hash-property': expected a longstr, not a bool");
  });
});

describe('VHost with an x-consistent-hash exchange', () => {
  const owner = {};
  const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
  const options = (args = {}) => ({ durable: false, autoDelete: false, internal: false, arguments: args });

  it('is a known type; declares and bindings are checked with the plugin texts', () => {
    const vhost = new VHost('/');
    expect(isExchangeType('x-consistent-hash')).toBe(true);
    expect(() => vhost.declareExchange('bad', 'x-consistent-hash', false, options({ 'hash-property': 'type' }))).toThrow('Unsupported property: type');
    vhost.declareExchange('chx', 'x-consistent-hash', false, options({ 'hash-header': 'h' }));
    vhost.declareQueue('q', false, plain, owner);
    expect(() => vhost.bindQueue('q', 'chx', 'x', {}, owner)).toThrow('The binding key must be an integer: <<"x">>');
    expect(vhost.exchanges.get('chx')!.bindings.size).toBe(0);
  });

  it('routes by the header through the vhost, and by the first routing key with CC', () => {
    const vhost = new VHost('/');
    vhost.declareExchange('chx', 'x-consistent-hash', false, options({ 'hash-header': 'h' }));
    vhost.declareExchange('rk', 'x-consistent-hash', false, options());
    for (let i = 0; i < 10; i++) {
      vhost.declareQueue(`q${i}`, false, plain, owner);
      vhost.bindQueue(`q${i}`, 'chx', '1', {}, owner);
      vhost.bindQueue(`q${i}`, 'rk', '1', {}, owner);
    }
    const publish = (exchange: string, key: string, raw: Buffer, cc: string[] | null = null) =>
      vhost.publish(new Message(exchange, key, raw, Buffer.from('x'), 1), cc).map((q) => q.name);
    // The same buckets as the Erlang reference above: "abc" → 8, no header → 1.
    expect(publish('chx', 'anything', encodeProperties({ headers: { h: 'abc' } }))).toEqual(['q8']);
    expect(publish('chx', 'anything', encodeProperties({}))).toEqual(['q1']);
    // RabbitMQ hashes the first routing key only: the CC'd keys reach the same queue.
    const alone = publish('rk', 'order.42', encodeProperties({}));
    expect(publish('rk', 'order.42', encodeProperties({}), ['a', 'b', 'c'])).toEqual(alone);
  });
});

describe('large weights', () => {
  it('a weight past 2^31 routes (buckets are not truncated to 32 bits), repeatedly the same', () => {
    const router = new ConsistentHashRouter<Q>();
    router.bind(q('small'), '1', {});
    router.bind(q('huge'), String(2 ** 40), {});
    const first = Array.from({ length: 50 }, (_, i) => routeOne(router, `k${i}`));
    expect(first.every((d) => d === 'huge')).toBe(true);
    expect(Array.from({ length: 50 }, (_, i) => routeOne(router, `k${i}`))).toEqual(first);
    expect(router.bucketOf('k1')).toBeGreaterThan(2 ** 31);
  });
});
