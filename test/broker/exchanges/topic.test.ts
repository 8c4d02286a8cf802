import { describe, expect, it } from 'vitest';
import { TopicRouter, splitTopicKey } from '../../../src/broker/exchanges/topic.js';

interface Q {
  name: string;
}
const q = (name: string): Q => ({ name });

function routeNames(r: TopicRouter<Q>, key: string): string[] {
  const out: Q[] = [];
  r.route(key, undefined, out);
  return [...new Set(out.map((d) => d.name))].sort();
}

/** Independent reference matcher: RabbitMQ semantics stated recursively on word lists. */
function refMatch(pattern: string, key: string): boolean {
  const p = splitTopicKey(pattern);
  const w = splitTopicKey(key);
  const memo = new Map<string, boolean>();
  const m = (i: number, j: number): boolean => {
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === p.length) r = j === w.length;
    else if (p[i] === '#') r = m(i + 1, j) || (j < w.length && m(i, j + 1));
    else r = j < w.length && (p[i] === '*' || p[i] === w[j]) && m(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return m(0, 0);
}

describe('splitTopicKey (RabbitMQ split_topic_key)', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a.b', ['a', 'b']],
    ['a..b', ['a', '', 'b']],
    ['.', ['', '']],
    ['a.', ['a', '']],
    ['.a', ['', 'a']],
  ] as const)('%j -> %j', (key, words) => {
    expect(splitTopicKey(key)).toEqual(words);
  });
});

// [pattern, routing key, matches?] — each row checked against a router holding only that pattern.
const cases: [string, string, boolean][] = [
  // '#' matches zero or more words, including the zero words of the empty key
  ['#', '', true],
  ['#', 'a', true],
  ['#', 'a.b.c', true],
  ['#', '.', true],
  ['a.#', 'a', true],
  ['a.#', 'a.b', true],
  ['a.#', 'a.b.c', true],
  ['a.#', 'b.a', false],
  ['a.#', '', false],
  ['#.a', 'a', true],
  ['#.a', 'x.y.a', true],
  ['#.a', 'a.x', false],
  ['a.#.b', 'a.b', true],
  ['a.#.b', 'a.x.y.b', true],
  ['a.#.b', 'a.x.y', false],
  ['a.#.#.b', 'a.b', true],
  ['a.#.#.b', 'a.x.b', true],
  ['#.#', '', true],
  ['#.#', 'a.b.c', true],
  ['#.*', '', false],
  ['#.*', 'a', true],
  ['*.#', 'a.b', true],
  // '*' matches exactly one word (possibly empty); the empty key has no words
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['*', '', false],
  ['*', '.', false],
  ['*.*', '.', true],
  ['*.*', 'a', false],
  ['a.*', 'a.', true],
  ['a.*', 'a', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a..c', true],
  ['a.*.c', 'a.c', false],
  ['a.*.c', 'a.b.b.c', false],
  ['*.b.*', 'a.b.c', true],
  ['*.b.*', 'b.c', false],
  // literal words, empty words, empty key
  ['', '', true],
  ['', 'a', false],
  ['', '.', false],
  ['a', '', false],
  ['a.b', 'a.b', true],
  ['a.b', 'a.b.c', false],
  ['a.b', 'a', false],
  ['a..b', 'a..b', true],
  ['a..b', 'a.b', false],
  ['.', '.', true],
  ['.', '', false],
  ['a.', 'a', false],
  ['a.', 'a.', true],
  // a literal '*' or '#' in a routing key is just a word
  ['a.b', 'a.*', false],
  ['*', '*', true],
  ['#', '#', true],
  ['a.#', 'a.#', true],
  // case-sensitive
  ['A', 'a', false],
];

describe('TopicRouter single-pattern table (RabbitMQ semantics)', () => {
  it.each(cases)('pattern %j vs key %j -> %s', (pattern, key, expected) => {
    const r = new TopicRouter<Q>();
    r.bind(q('d'), pattern, {});
    expect(routeNames(r, key)).toEqual(expected ? ['d'] : []);
    // the reference matcher agrees with the table (guards the table itself)
    expect(refMatch(pattern, key)).toBe(expected);
  });
});

describe('TopicRouter with many bindings', () => {
  const bindings: [string, string][] = [
    ['q1', '*.orange.*'],
    ['q2', '*.*.rabbit'],
    ['q2', 'lazy.#'],
    ['q3', '#'],
    ['q4', ''],
    ['q5', 'quick.orange.rabbit'],
  ];
  const table: [string, string[]][] = [
    ['quick.orange.rabbit', ['q1', 'q2', 'q3', 'q5']],
    ['lazy.orange.elephant', ['q1', 'q2', 'q3']],
    ['quick.orange.fox', ['q1', 'q3']],
    ['lazy.brown.fox', ['q2', 'q3']],
    ['lazy.pink.rabbit', ['q2', 'q3']],
    ['quick.brown.fox', ['q3']],
    ['orange', ['q3']],
    ['quick.orange.male.rabbit', ['q3']],
    ['lazy.orange.male.rabbit', ['q2', 'q3']],
    ['lazy', ['q2', 'q3']],
    ['', ['q3', 'q4']],
  ];
  it.each(table)('key %j -> %j', (key, expected) => {
    const r = new TopicRouter<Q>();
    const qs = new Map<string, Q>();
    for (const [name, pattern] of bindings) {
      let d = qs.get(name);
      if (!d) qs.set(name, (d = q(name)));
      r.bind(d, pattern, {});
    }
    expect(routeNames(r, key)).toEqual(expected);
  });

  it('a destination matched by several patterns is reported (at least once) and only once from the cache', () => {
    const r = new TopicRouter<Q>();
    const d = q('d');
    r.bind(d, 'a.*', {});
    r.bind(d, 'a.#', {});
    r.bind(d, '#.b', {});
    r.bind(d, 'a.b', {});
    const out: Q[] = [];
    r.route('a.b', undefined, out);
    expect(out).toContain(d);
    expect(out.every((x) => x === d)).toBe(true);
    const out2: Q[] = [];
    r.route('x.y', undefined, out2);
    expect(out2).toEqual([]);
  });

  it('appends to out without clearing it', () => {
    const r = new TopicRouter<Q>();
    const a = q('a');
    const pre = q('pre');
    r.bind(a, '#', {});
    const out: Q[] = [pre];
    r.route('x', undefined, out);
    expect(out).toEqual([pre, a]);
  });

  it('pathological #.#.#... patterns stay fast and match correctly', () => {
    const r = new TopicRouter<Q>();
    const pattern = Array(30).fill('#').join('.') + '.z';
    r.bind(q('d'), pattern, {});
    const key = Array(100).fill('a').join('.');
    const t0 = Date.now();
    expect(routeNames(r, key)).toEqual([]);
    expect(routeNames(r, key + '.z')).toEqual(['d']);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('TopicRouter unbind', () => {
  it('removes exactly one binding: a destination bound twice with the same key stays routed once', () => {
    const r = new TopicRouter<Q>();
    const d = q('d');
    r.bind(d, 'a.*', { 'x-arg': 1 });
    r.bind(d, 'a.*', { 'x-arg': 2 });
    r.unbind(d, 'a.*', { 'x-arg': 1 });
    expect(routeNames(r, 'a.b')).toEqual(['d']);
    r.unbind(d, 'a.*', { 'x-arg': 2 });
    expect(routeNames(r, 'a.b')).toEqual([]);
  });

  it('removes only the given pattern of the given destination', () => {
    const r = new TopicRouter<Q>();
    const d1 = q('d1');
    const d2 = q('d2');
    r.bind(d1, 'a.#', {});
    r.bind(d1, 'a.b', {});
    r.bind(d2, 'a.#', {});
    r.unbind(d1, 'a.#', {});
    expect(routeNames(r, 'a.b')).toEqual(['d1', 'd2']);
    expect(routeNames(r, 'a.c')).toEqual(['d2']);
    expect(routeNames(r, 'a')).toEqual(['d2']);
  });

  it('unbinding a binding that does not exist changes nothing', () => {
    const r = new TopicRouter<Q>();
    const d = q('d');
    const other = q('other');
    r.bind(d, 'a.b', {});
    r.unbind(other, 'a.b', {});
    r.unbind(d, 'a.c', {});
    r.unbind(d, 'a.b.c', {});
    r.unbind(d, '*', {});
    expect(routeNames(r, 'a.b')).toEqual(['d']);
  });

  it('a prefix pattern survives unbinding a longer one through the same trie path', () => {
    const r = new TopicRouter<Q>();
    const d1 = q('d1');
    const d2 = q('d2');
    r.bind(d1, 'a', {});
    r.bind(d2, 'a.b.c', {});
    r.unbind(d2, 'a.b.c', {});
    expect(routeNames(r, 'a')).toEqual(['d1']);
    expect(routeNames(r, 'a.b.c')).toEqual([]);
    r.bind(d2, 'a.b.c', {}); // re-adding after pruning works
    expect(routeNames(r, 'a.b.c')).toEqual(['d2']);
  });
});

describe('TopicRouter cache invalidation', () => {
  it('a cached miss becomes a hit after bind', () => {
    const r = new TopicRouter<Q>();
    expect(routeNames(r, 'a.b')).toEqual([]);
    expect(routeNames(r, 'a.b')).toEqual([]);
    r.bind(q('d'), 'a.b', {});
    expect(routeNames(r, 'a.b')).toEqual(['d']);
  });

  it('a cached hit disappears after unbind', () => {
    const r = new TopicRouter<Q>();
    const d = q('d');
    r.bind(d, '#', {});
    expect(routeNames(r, 'x.y')).toEqual(['d']);
    expect(r.cachedKeys).toBe(1);
    r.unbind(d, '#', {});
    expect(r.cachedKeys).toBe(0);
    expect(routeNames(r, 'x.y')).toEqual([]);
  });

  it('cached results are not aliased to the out array', () => {
    const r = new TopicRouter<Q>();
    const d = q('d');
    r.bind(d, 'k', {});
    const out1: Q[] = [];
    r.route('k', undefined, out1);
    out1.push(q('junk'));
    out1.length = 0;
    const out2: Q[] = [];
    r.route('k', undefined, out2);
    expect(out2).toEqual([d]);
  });

  it('the cache is bounded and evicts oldest keys, results stay correct', () => {
    const r = new TopicRouter<Q>(10);
    r.bind(q('d'), 'k.*', {});
    for (let i = 0; i < 25; i++) expect(routeNames(r, `k.${i}`)).toEqual(['d']);
    expect(r.cachedKeys).toBe(10);
    expect(routeNames(r, 'k.0')).toEqual(['d']);
    expect(routeNames(r, 'j.0')).toEqual([]);
  });

  it('cacheSize 0 disables caching', () => {
    const r = new TopicRouter<Q>(0);
    r.bind(q('d'), 'a', {});
    expect(routeNames(r, 'a')).toEqual(['d']);
    expect(r.cachedKeys).toBe(0);
  });
});

describe('TopicRouter at scale', () => {
  it('10,000 bindings route correctly, and unbinding all leaves nothing', () => {
    const r = new TopicRouter<Q>();
    const qs: Q[] = [];
    for (let i = 0; i < 10_000; i++) {
      const d = q(`q${i}`);
      qs.push(d);
      // exact, '*' and '#' patterns mixed
      const pattern = i % 3 === 0 ? `stock.${i}.nyse` : i % 3 === 1 ? `stock.*.${i}` : `log.${i}.#`;
      r.bind(d, pattern, {});
    }
    expect(routeNames(r, 'stock.3.nyse')).toEqual(['q3']);
    expect(routeNames(r, 'stock.zzz.4')).toEqual(['q4']);
    expect(routeNames(r, 'log.5')).toEqual(['q5']);
    expect(routeNames(r, 'log.5.a.b.c')).toEqual(['q5']);
    expect(routeNames(r, 'stock.1.1')).toEqual(['q1']);
    expect(routeNames(r, 'stock.9999.nyse')).toEqual(['q9999']);
    expect(routeNames(r, 'log.9999.x')).toEqual([]); // 9999 % 3 === 0
    expect(routeNames(r, 'nothing')).toEqual([]);
    const everything = new TopicRouter<Q>();
    for (const d of qs) everything.bind(d, '#', {});
    const out: Q[] = [];
    everything.route('any.key', undefined, out);
    expect(out.length).toBe(10_000);
    for (let i = 0; i < 10_000; i++) {
      const pattern = i % 3 === 0 ? `stock.${i}.nyse` : i % 3 === 1 ? `stock.*.${i}` : `log.${i}.#`;
      r.unbind(qs[i]!, pattern, {});
    }
    expect(routeNames(r, 'stock.3.nyse')).toEqual([]);
    expect(routeNames(r, 'log.5.a')).toEqual([]);
  });
});

describe('TopicRouter agrees with the reference matcher on random patterns', () => {
  // deterministic PRNG so failures are reproducible
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const vocab = ['a', 'b', '', '*', '#'];
  const keyVocab = ['a', 'b', ''];
  const make = (v: string[], maxWords: number): string => {
    const n = rnd(maxWords + 1);
    if (n === 0) return '';
    return Array.from({ length: n }, () => v[rnd(v.length)]).join('.');
  };

  it('200 patterns x 300 keys', () => {
    const patterns = Array.from({ length: 200 }, () => make(vocab, 5));
    const keys = Array.from({ length: 300 }, () => make(keyVocab, 6));
    const r = new TopicRouter<Q>();
    const dests = patterns.map((p, i) => q(`${i}:${p}`));
    patterns.forEach((p, i) => r.bind(dests[i]!, p, {}));
    let matched = 0;
    for (const key of keys) {
      const expected = dests.filter((_d, i) => refMatch(patterns[i]!, key)).map((d) => d.name).sort();
      matched += expected.length;
      expect(routeNames(r, key), `key ${JSON.stringify(key)}`).toEqual(expected);
    }
    expect(matched).toBeGreaterThan(0); // the random data exercises matches, not only misses
  });
});
