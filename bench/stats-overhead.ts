/**
 * What the message-statistics counters cost on the in-memory routing path: VHost.publish through amq.fanout to
 * 4 queues with a no-ack consumer each, for two source trees in one process (each JIT-compiled on its own),
 * alternating 12 times, in publishes per CPU-second (CPU time, not wall time: the machine is shared).
 *   git archive <commit-before> | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/
 *   npx tsx bench/stats-overhead.ts /tmp/before .
 */
import path from 'node:path';

async function setup(root: string) {
  const { VHost } = (await import(`${root}/src/broker/vhost.ts`)) as typeof import('../src/broker/vhost.js');
  const { Message } = (await import(`${root}/src/broker/message.ts`)) as typeof import('../src/broker/message.js');
  const v = new VHost('/');
  const opts = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
  const consumer = { tag: 't', noAck: true, exclusive: false, priority: 0, canAccept: () => true, deliver: () => {}, cancelledByBroker: () => {} };
  for (let i = 0; i < 4; i++) { const q = v.declareQueue(`q${i}`, false, opts, {}); v.bindQueue(`q${i}`, 'amq.fanout', '', {}, {}); v.consume(q, consumer); }
  const props = Buffer.from([0x10, 0x00, 0x01]); const body = Buffer.alloc(1024);
  return (n: number) => { for (let i = 0; i < n; i++) v.publish(new Message('amq.fanout', 'k', props, body, 1024)); };
}
const [beforeRoot, afterRoot] = process.argv.slice(2).map((dir) => path.resolve(dir));
if (beforeRoot === undefined || afterRoot === undefined) throw new Error('usage: tsx bench/stats-overhead.ts <before-tree> <after-tree>');
const runs = { base: await setup(beforeRoot), after: await setup(afterRoot) };
for (const r of Object.values(runs)) r(300000);
const results: Record<string, number[]> = { base: [], after: [] };
for (let round = 0; round < 12; round++) {
  for (const name of (round % 2 ? ['after', 'base'] : ['base', 'after']) as ('base' | 'after')[]) {
    const c0 = process.cpuUsage(); runs[name](500000); const cu = process.cpuUsage(c0);
    results[name].push(500000 / ((cu.user + cu.system) / 1e6) / 1e6);
  }
}
for (const [name, xs] of Object.entries(results)) { const s = [...xs].sort((a, b) => a - b); console.log(name, 'median', s[6].toFixed(3), 'M publishes per CPU-s', xs.map((x) => x.toFixed(2)).join(' ')); }
