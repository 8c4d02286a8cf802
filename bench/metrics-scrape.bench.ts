/**
 * Prometheus scrape time with many queues. Run: npx tsx bench/metrics-scrape.bench.ts [queues]
 *
 * A broker model with N queues (default 10,000) in one vhost, each holding one message, scraped in process
 * (no HTTP) through the endpoint's own scrape(): /metrics, /metrics/per-object and a /metrics/detailed of the
 * queue families. Prints the median of 5 scrapes each, and the size of the text.
 */
import { Broker } from '../src/broker/broker.js';
import { Message } from '../src/broker/message.js';
import { startMetricsServer } from '../src/http/metrics.js';
import { createLogger } from '../src/logger.js';

const queues = Number(process.argv[2] ?? 10_000);
const broker = new Broker();
const vhost = broker.putVhost('/');
const options = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
const props = Buffer.from([0x10, 0x00, 0x01]);
for (let i = 0; i < queues; i++) {
  const name = `queue-${i}`;
  vhost.declareQueue(name, false, options, {});
  vhost.publish(new Message('', name, props, Buffer.from('x'), 1));
}
const endpoint = await startMetricsServer(
  {
    broker,
    connections: new Set(),
    resources: { memoryUsed: 0, memoryLimit: 0, diskFree: 0, diskFreeLimit: 0 },
    node: 'warren@bench',
    cluster: 'warren@bench',
    clusterPermanentId: 'warren-cluster-id-bench',
    version: '0.0.0',
  },
  0,
  '127.0.0.1',
  createLogger('silent'),
);
for (const route of ['/metrics', '/metrics/per-object', '/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count&family=queue_metrics']) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const text = (await endpoint.scrape(route)) as string;
    times.push(performance.now() - started);
    bytes = text.length;
  }
  times.sort((a, b) => a - b);
  console.log(`${route}: ${queues} queues, median ${times[2]?.toFixed(0)} ms (min ${times[0]?.toFixed(0)}, max ${times[4]?.toFixed(0)}), ${(bytes / 1e6).toFixed(1)} MB`);
}
await endpoint.close();
broker.stop();
