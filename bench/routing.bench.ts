/**
 * Routing micro-benchmarks. Run: npx tsx bench/routing.bench.ts
 * Topic: 10,000 bindings, cache hit (repeated key) and cache miss (distinct keys,
 * more than the cache holds); direct: 1,000 keys; x-consistent-hash: 100 queues
 * (total weight 300), a repeated key (bucket cache hit) and distinct keys (jump hash each time).
 * Topic scale: the bindings curve's workload (bench/support/topic-keys.ts) at 10, 1,000 and 100,000
 * bindings, 5,000 distinct keys (every route misses the cache), one match each: the cost should stay flat.
 */
import Benchmark from 'benchmark';
import { ConsistentHashRouter } from '../src/broker/exchanges/consistent-hash.js';
import { DirectRouter } from '../src/broker/exchanges/direct.js';
import { TopicRouter } from '../src/broker/exchanges/topic.js';
import { CATCH_ALL_PATTERN, extraPattern, ROUTING_KEYS, routingKey } from './support/topic-keys.js';

interface Q {
  name: string;
}

const topic = new TopicRouter<Q>();
for (let i = 0; i < 10_000; i++) {
  const d: Q = { name: `q${i}` };
  const pattern = i % 3 === 0 ? `stock.${i % 500}.nyse` : i % 3 === 1 ? `stock.*.${i % 700}` : `log.${i % 300}.#`;
  topic.bind(d, pattern, {});
}
const direct = new DirectRouter<Q>();
for (let i = 0; i < 1000; i++) direct.bind({ name: `q${i}` }, `key.${i}`, {});

const consistentHash = new ConsistentHashRouter<Q>();
for (let i = 0; i < 100; i++) consistentHash.bind({ name: `q${i}` }, String(1 + (i % 5)), {});

// More distinct keys than the cache holds, visited round-robin: every route misses.
const missKeys = Array.from({ length: 5000 }, (_, i) => `stock.${i % 500}.${i}`);
let missIdx = 0;
const out: Q[] = [];
let sink = 0;

const scaleKeys = Array.from({ length: ROUTING_KEYS }, (_, i) => routingKey(i));
function scaleRouter(bindings: number): TopicRouter<Q> {
  const router = new TopicRouter<Q>();
  const extra = Array.from({ length: 10 }, (_, q) => ({ name: `b${q}` }));
  router.bind({ name: 'sink' }, CATCH_ALL_PATTERN, {});
  for (let i = 1; i < bindings; i++) router.bind(extra[i % 10] as Q, extraPattern(i), {});
  out.length = 0;
  router.route(scaleKeys[0] as string, undefined, out);
  if (out.length !== 1 || out[0]?.name !== 'sink') throw new Error(`topic scale workload: expected one match, got ${out.length}`);
  return router;
}
const scaleRouters = [10, 1000, 100_000].map((n) => [n, scaleRouter(n)] as const);
let scaleIdx = 0;

const suite = new Benchmark.Suite('routing');
for (const [n, router] of scaleRouters) {
  suite.add(`topic scale: ${n.toLocaleString('en-US')} bindings, cache miss`, () => {
    out.length = 0;
    router.route(scaleKeys[scaleIdx] as string, undefined, out);
    scaleIdx = (scaleIdx + 1) % scaleKeys.length;
    sink += out.length;
  });
}
suite
  .add('topic 10k bindings, cache hit', () => {
    out.length = 0;
    topic.route('stock.42.nyse', undefined, out);
    sink += out.length;
  })
  .add('topic 10k bindings, cache miss', () => {
    out.length = 0;
    topic.route(missKeys[missIdx]!, undefined, out);
    missIdx = (missIdx + 1) % missKeys.length;
    sink += out.length;
  })
  .add('direct 1k keys', () => {
    out.length = 0;
    direct.route('key.512', undefined, out);
    sink += out.length;
  })
  .add('x-consistent-hash 100 queues, repeated key', () => {
    out.length = 0;
    consistentHash.route('order-42', undefined, out);
    sink += out.length;
  })
  .add('x-consistent-hash 100 queues, distinct keys', () => {
    out.length = 0;
    consistentHash.route(missKeys[missIdx]!, undefined, out);
    missIdx = (missIdx + 1) % missKeys.length;
    sink += out.length;
  })
  .on('cycle', (e: Benchmark.Event) => {
    console.log(String(e.target));
  })
  .on('complete', () => {
    if (sink < 0) console.log(sink); // keep results observable
  })
  .run();
