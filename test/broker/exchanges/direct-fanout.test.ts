import { describe, expect, it } from 'vitest';
import { DirectRouter } from '../../../src/broker/exchanges/direct.js';
import { FanoutRouter } from '../../../src/broker/exchanges/fanout.js';
import { createRouter, isExchangeType } from '../../../src/broker/exchanges/index.js';
import type { Router } from '../../../src/broker/exchanges/router.js';

interface Q {
  name: string;
}
const q = (name: string): Q => ({ name });
const names = (r: Router<Q>, key: string): string[] => {
  const out: Q[] = [];
  r.route(key, undefined, out);
  return out.map((d) => d.name).sort();
};

describe('DirectRouter', () => {
  const bindings: [string, string][] = [
    ['q1', 'orange'],
    ['q2', 'black'],
    ['q2', 'green'],
    ['q3', 'black'],
    ['q4', ''],
    ['q5', 'a.b'],
  ];
  const table: [string, string[]][] = [
    ['orange', ['q1']],
    ['black', ['q2', 'q3']],
    ['green', ['q2']],
    ['', ['q4']],
    ['a.b', ['q5']],
    ['a.*', []], // no wildcards in direct exchanges
    ['#', []],
    ['Orange', []], // case-sensitive
    ['orange ', []],
    ['purple', []],
  ];
  it.each(table)('key %j -> %j', (key, expected) => {
    const r = new DirectRouter<Q>();
    const qs = new Map<string, Q>();
    for (const [n, k] of bindings) {
      let d = qs.get(n);
      if (!d) qs.set(n, (d = q(n)));
      r.bind(d, k, {});
    }
    expect(names(r, key)).toEqual(expected);
  });

  it('same destination bound twice with different args: stored twice, one unbind keeps it routed', () => {
    const r = new DirectRouter<Q>();
    const d = q('d');
    r.bind(d, 'k', { v: 1 });
    r.bind(d, 'k', { v: 2 });
    const out: Q[] = [];
    r.route('k', undefined, out);
    expect(out).toEqual([d, d]);
    r.unbind(d, 'k', { v: 1 });
    expect(names(r, 'k')).toEqual(['d']);
    r.unbind(d, 'k', { v: 2 });
    expect(names(r, 'k')).toEqual([]);
  });

  it('unbind of an unknown binding changes nothing', () => {
    const r = new DirectRouter<Q>();
    const d = q('d');
    r.bind(d, 'k', {});
    r.unbind(q('other'), 'k', {});
    r.unbind(d, 'other-key', {});
    expect(names(r, 'k')).toEqual(['d']);
  });

  it('1,000 keys', () => {
    const r = new DirectRouter<Q>();
    for (let i = 0; i < 1000; i++) r.bind(q(`q${i}`), `key.${i}`, {});
    expect(names(r, 'key.0')).toEqual(['q0']);
    expect(names(r, 'key.999')).toEqual(['q999']);
    expect(names(r, 'key.1000')).toEqual([]);
  });
});

describe('FanoutRouter', () => {
  it('routes every binding regardless of key and headers', () => {
    const r = new FanoutRouter<Q>();
    r.bind(q('a'), 'x', {});
    r.bind(q('b'), '', {});
    expect(names(r, '')).toEqual(['a', 'b']);
    const out: Q[] = [];
    r.route('anything', { h: 1 }, out);
    expect(out.map((d) => d.name).sort()).toEqual(['a', 'b']);
  });

  it('unbind removes one binding of that destination only', () => {
    const r = new FanoutRouter<Q>();
    const a = q('a');
    const b = q('b');
    r.bind(a, 'k1', {});
    r.bind(a, 'k2', {});
    r.bind(b, 'k1', {});
    r.unbind(a, 'k1', {});
    expect(names(r, '')).toEqual(['a', 'b']);
    r.unbind(a, 'k2', {});
    expect(names(r, '')).toEqual(['b']);
    r.unbind(a, 'k2', {}); // already gone
    expect(names(r, '')).toEqual(['b']);
  });

  it('with no bindings routes nothing', () => {
    expect(names(new FanoutRouter<Q>(), 'k')).toEqual([]);
  });
});

describe('createRouter / isExchangeType', () => {
  it.each(['direct', 'fanout', 'topic', 'headers', 'x-consistent-hash', 'x-delayed-message'])('isExchangeType(%j) is true', (t) => {
    expect(isExchangeType(t)).toBe(true);
  });
  it.each(['', 'Direct', 'match', 'system', 'topic '])('isExchangeType(%j) is false', (t) => {
    expect(isExchangeType(t)).toBe(false);
  });

  it('creates routers with the right behaviour for each type', () => {
    const d = q('d');
    const direct = createRouter<Q>('direct');
    const fanout = createRouter<Q>('fanout');
    const topic = createRouter<Q>('topic');
    const headers = createRouter<Q>('headers');
    for (const r of [direct, fanout, topic]) r.bind(d, 'a.*', {});
    headers.bind(d, '', { h: 1 });
    expect(names(direct, 'a.b')).toEqual([]);
    expect(names(direct, 'a.*')).toEqual(['d']);
    expect(names(fanout, 'zzz')).toEqual(['d']);
    expect(names(topic, 'a.b')).toEqual(['d']);
    expect(names(topic, 'a')).toEqual([]);
    const out: Q[] = [];
    headers.route('a.b', { h: 1 }, out);
    expect(out).toEqual([d]);
    expect(names(headers, 'a.b')).toEqual([]); // no headers
  });

  it('throws on an unknown type at runtime', () => {
    expect(() => createRouter<Q>('nope' as never)).toThrow(/unknown exchange type/);
  });

  it('returns independent routers', () => {
    const r1 = createRouter<Q>('fanout');
    const r2 = createRouter<Q>('fanout');
    r1.bind(q('d'), '', {});
    expect(names(r2, '')).toEqual([]);
  });
});
