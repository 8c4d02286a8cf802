// The Prometheus endpoint, with rabbitmq_prometheus's names, types, labels and HELP texts (RabbitMQ 3.10.8), so
// that RabbitMQ's Grafana dashboards and alerts work unchanged. prom-client does the exposition and Node's
// process_*/nodejs_* metrics; every rabbitmq_* family is read from the broker at scrape time (nothing is
// updated on the hot path but the counters the broker keeps anyway).
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../listen.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Broker } from '../broker/broker.js';
import type { Exchange } from '../broker/exchange.js';
import type { Queue } from '../broker/queue.js';
import type { DeadLetterCause } from '../broker/stats.js';
import type { VHost } from '../broker/vhost.js';
import type { Logger } from '../logger.js';
import type { ResourceReadings } from '../resource-monitor.js';
import type { Channel } from '../session/channel.js';
import type { Connection } from '../session/connection.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4';

/** What the endpoint reads: the broker, its connections, and the node's identity and resources. */
export interface MetricsSource {
  broker: Broker;
  connections: ReadonlySet<Connection>;
  resources: ResourceReadings;
  /** rabbitmq_identity_info: warren@host, the cluster name, and an id that survives restarts. */
  node: string;
  cluster: string;
  clusterPermanentId: string;
  /** Warren's version. */
  version: string;
}

type Labels = Record<string, string>;
interface Sample {
  labels?: Labels;
  value: number;
}
type MetricType = 'gauge' | 'counter' | 'untyped';

/**
 * One metric family, registered in a prom-client Registry as a collector: its samples are computed when the
 * registry is scraped. (prom-client's own Gauge has no `untyped`, which RabbitMQ uses for info metrics and alarms.)
 */
class Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly read: () => Sample[],
  ) {}

  get(): { name: string; help: string; type: MetricType; values: Sample[] } {
    return { name: this.name, help: this.help, type: this.type, values: this.read() };
  }
}

/** A metric with one value per object (queue, channel, connection): summed in /metrics, labelled in /per-object. */
interface ObjectMetric<T> {
  name: string;
  help: string;
  type: MetricType;
  value: (object: T) => number;
}

/** Metrics of one kind of object, the objects a scrape covers, and each object's labels. */
interface ObjectGroup<T> {
  metrics: readonly ObjectMetric<T>[];
  objects: () => T[];
  labels: (object: T) => Labels;
}

const group = <T>(metrics: readonly ObjectMetric<T>[], objects: () => T[], labels: (object: T) => Labels): ObjectGroup<unknown> =>
  ({ metrics, objects, labels }) as ObjectGroup<unknown>;

const gauge = <T>(name: string, help: string, value: (object: T) => number): ObjectMetric<T> => ({ name, help, type: 'gauge', value });
const counter = <T>(name: string, help: string, value: (object: T) => number): ObjectMetric<T> => ({ name, help, type: 'counter', value });

// ---- per-object families, grouped as RabbitMQ's /metrics/detailed families ----

const QUEUE_COARSE_METRICS: ObjectMetric<Queue>[] = [
  gauge('rabbitmq_queue_messages_ready', 'Messages ready to be delivered to consumers', (q) => q.messageCount),
  gauge('rabbitmq_queue_messages_unacked', 'Messages delivered to consumers but not yet acknowledged', (q) => q.unackedCount),
  gauge('rabbitmq_queue_messages', 'Sum of ready and unacknowledged messages - total queue depth', (q) => q.messageCount + q.unackedCount),
];

const QUEUE_CONSUMER_COUNT: ObjectMetric<Queue>[] = [gauge('rabbitmq_queue_consumers', 'Consumers on a queue', (q) => q.consumerCount)];

const QUEUE_METRICS: ObjectMetric<Queue>[] = [
  gauge('rabbitmq_queue_messages_ram', 'Ready and unacknowledged messages stored in memory', (q) => q.messageCount - q.pagedOutCount + q.unackedCount),
  gauge('rabbitmq_queue_messages_ready_ram', 'Ready messages stored in memory', (q) => q.messageCount - q.pagedOutCount),
  gauge('rabbitmq_queue_messages_unacked_ram', 'Unacknowledged messages stored in memory', (q) => q.unackedCount),
  gauge('rabbitmq_queue_messages_persistent', 'Persistent messages', (q) => q.storedCount),
  gauge('rabbitmq_queue_messages_bytes', 'Size in bytes of ready and unacknowledged messages', (q) => q.readyBytes + q.unackedBytes),
  gauge('rabbitmq_queue_messages_ready_bytes', 'Size in bytes of ready messages', (q) => q.readyBytes),
  gauge('rabbitmq_queue_messages_unacked_bytes', 'Size in bytes of all unacknowledged messages', (q) => q.unackedBytes),
  gauge('rabbitmq_queue_messages_paged_out', 'Messages paged out to disk', (q) => q.pagedOutCount),
  counter('rabbitmq_queue_messages_published_total', 'Total number of messages published to queues', (q) => q.stats.publish),
];

const channelName = (channel: Channel): Labels => ({ channel: channel.name });

const CHANNEL_METRICS: ObjectMetric<Channel>[] = [
  gauge('rabbitmq_channel_consumers', 'Consumers on a channel', (c) => c.consumers.size),
  gauge('rabbitmq_channel_messages_unacked', 'Delivered but not yet acknowledged messages', (c) => c.unackedMessages),
  gauge('rabbitmq_channel_messages_unconfirmed', 'Published but not yet confirmed messages', (c) => c.unconfirmedMessages),
  gauge('rabbitmq_channel_messages_uncommitted', 'Messages received in a transaction but not yet committed', (c) => c.uncommittedMessages),
  gauge('rabbitmq_channel_acks_uncommitted', 'Message acknowledgements in a transaction not yet committed', (c) => c.uncommittedAcks),
  gauge('rabbitmq_consumer_prefetch', 'Limit of unacknowledged messages for each consumer', (c) => c.prefetchCount),
  gauge('rabbitmq_channel_prefetch', 'Total limit of unacknowledged messages for all consumers on a channel', (c) => c.globalPrefetch),
];

/** RabbitMQ's channel_exchange_metrics and channel_queue_metrics, per channel (Warren does not split them by exchange or queue). */
const CHANNEL_COUNTERS: ObjectMetric<Channel>[] = [
  counter('rabbitmq_channel_messages_published_total', 'Total number of messages published into an exchange on a channel', (c) => c.stats.publish),
  counter('rabbitmq_channel_messages_confirmed_total', 'Total number of messages published into an exchange and confirmed on the channel', (c) => c.stats.confirm),
  counter(
    'rabbitmq_channel_messages_unroutable_returned_total',
    'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable',
    (c) => c.stats.return_unroutable,
  ),
  counter(
    'rabbitmq_channel_messages_unroutable_dropped_total',
    'Total number of messages published as non-mandatory into an exchange and dropped as unroutable',
    (c) => c.stats.drop_unroutable,
  ),
  counter('rabbitmq_channel_get_ack_total', 'Total number of messages fetched with basic.get in manual acknowledgement mode', (c) => c.stats.get),
  counter('rabbitmq_channel_get_total', 'Total number of messages fetched with basic.get in automatic acknowledgement mode', (c) => c.stats.get_no_ack),
  counter('rabbitmq_channel_messages_delivered_ack_total', 'Total number of messages delivered to consumers in manual acknowledgement mode', (c) => c.stats.deliver),
  counter('rabbitmq_channel_messages_delivered_total', 'Total number of messages delivered to consumers in automatic acknowledgement mode', (c) => c.stats.deliver_no_ack),
  counter('rabbitmq_channel_messages_redelivered_total', 'Total number of messages redelivered to consumers', (c) => c.stats.redeliver),
  counter('rabbitmq_channel_messages_acked_total', 'Total number of messages acknowledged by consumers', (c) => c.stats.ack),
  counter('rabbitmq_channel_get_empty_total', 'Total number of times basic.get operations fetched no message', (c) => c.stats.get_empty),
];

/** RabbitMQ 3.10 labels connection metrics `channel` (with the connection's id): copied, so that queries written for it work. */
const connectionName = (connection: Connection): Labels => ({ channel: connection.name });

const CONNECTION_COARSE_METRICS: ObjectMetric<Connection>[] = [
  counter('rabbitmq_connection_incoming_bytes_total', 'Total number of bytes received on a connection', (c) => c.recvOct),
  counter('rabbitmq_connection_outgoing_bytes_total', 'Total number of bytes sent on a connection', (c) => c.sendOct),
];

const CONNECTION_METRICS: ObjectMetric<Connection>[] = [
  counter('rabbitmq_connection_incoming_packets_total', 'Total number of packets received on a connection', (c) => c.recvCnt),
  counter('rabbitmq_connection_outgoing_packets_total', 'Total number of packets sent on a connection', (c) => c.sendCnt),
  gauge('rabbitmq_connection_channels', 'Channels on a connection', (c) => c.channels.size),
];

// ---- reading the broker ----

function queues(broker: Broker, vhost: string | undefined): Queue[] {
  const all: Queue[] = [];
  for (const v of broker.vhosts.values()) {
    if (vhost !== undefined && v.name !== vhost) continue;
    for (const queue of v.queues.values()) all.push(queue);
  }
  return all;
}

function openConnections(source: MetricsSource): Connection[] {
  return [...source.connections].filter((c) => c.openedAt !== 0);
}

function channels(source: MetricsSource): Channel[] {
  const all: Channel[] = [];
  for (const connection of source.connections) for (const channel of connection.channels.values()) all.push(channel);
  return all;
}

/** /metrics: one summed sample per metric of the group, through prom-client. */
function summedFamilies(group: ObjectGroup<unknown>): Family[] {
  return group.metrics.map(
    (metric) =>
      new Family(metric.name, metric.help, metric.type, () => {
        const list = group.objects();
        let sum = 0;
        for (let i = 0; i < list.length; i++) sum += metric.value(list[i]);
        return [{ value: sum }];
      }),
  );
}

/**
 * /metrics/per-object and /metrics/detailed: one labelled sample per object, written as exposition text
 * directly. Each object's label text is made once and shared by every metric of its group; through
 * prom-client (a sample object and a label formatting per metric and object) a 10,000-queue scrape took
 * 5 times as long and blocked the event loop, deliveries included, for over half a second.
 */
function writeObjectGroup(group: ObjectGroup<unknown>, prefix: string, out: string[]): void {
  const list = group.objects();
  const labels = list.map((object) => formatLabels(group.labels(object)));
  for (const metric of group.metrics) {
    const name = prefix + metric.name.slice('rabbitmq_'.length);
    let text = `# HELP ${name} ${metric.help}\n# TYPE ${name} ${metric.type}\n`;
    for (let i = 0; i < list.length; i++) text += `${name}${labels[i]} ${formatValue(metric.value(list[i]))}\n`;
    out.push(text);
  }
}

function formatLabels(labels: Labels): string {
  let text = '';
  for (const key in labels) {
    const value = labels[key] as string;
    text += `${text === '' ? '{' : ','}${key}="${value.replace(/[\\"\n]/g, escapeLabelChar)}"`;
  }
  return text === '' ? '' : `${text}}`;
}

const escapeLabelChar = (char: string): string => (char === '\n' ? '\\n' : `\\${char}`);

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

const queueLabels = (q: Queue): Labels => ({ vhost: q.vhost, queue: q.name });

const PROTOCOL = { protocol: 'amqp091' };
const CLASSIC = { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' };

/** The node-wide families, the same in every shape (as in RabbitMQ). */
function globalFamilies(source: MetricsSource): Family[] {
  const { broker, resources } = source;
  const stats = broker.stats;
  const one = (value: number): Sample[] => [{ value }];
  const amqp = (value: number): Sample[] => [{ labels: PROTOCOL, value }];
  const classic = (value: number): Sample[] => [{ labels: CLASSIC, value }];
  const deadLettered = (cause: DeadLetterCause, queueType = 'rabbit_classic_queue'): Sample[] => [
    { labels: { queue_type: queueType, dead_letter_strategy: 'at_most_once' }, value: stats.deadLettered[cause].at_most_once },
    { labels: { queue_type: queueType, dead_letter_strategy: 'disabled' }, value: stats.deadLettered[cause].disabled },
  ];
  const consumers = (): number => {
    let count = 0;
    for (const vhost of broker.vhosts.values()) for (const queue of vhost.queues.values()) count += queue.consumerCount;
    return count;
  };
  const publishers = (): number => {
    let count = 0;
    for (const channel of channels(source)) if (channel.stats.publish > 0) count++;
    return count;
  };
  const f = (name: string, help: string, type: MetricType, read: () => Sample[]) => new Family(name, help, type, read);
  return [
    f('rabbitmq_identity_info', 'RabbitMQ node & cluster identity info', 'untyped', () => [
      {
        labels: { rabbitmq_node: source.node, rabbitmq_cluster: source.cluster, rabbitmq_cluster_permanent_id: source.clusterPermanentId },
        value: 1,
      },
    ]),
    f('rabbitmq_build_info', 'RabbitMQ & Erlang/OTP version info', 'untyped', () => [
      {
        labels: {
          rabbitmq_version: RABBITMQ_COMPATIBLE_VERSION,
          prometheus_plugin_version: source.version,
          prometheus_client_version: PROM_CLIENT_VERSION,
          // RabbitMQ's four labels only: Warren's own version is the "plugin" version, Node's stands for Erlang's.
          erlang_version: process.version,
        },
        value: 1,
      },
    ]),
    f('rabbitmq_connections', 'Connections currently open', 'gauge', () => one(openConnections(source).length)),
    f('rabbitmq_channels', 'Channels currently open', 'gauge', () => one(channels(source).length)),
    f('rabbitmq_consumers', 'Consumers currently connected', 'gauge', () => one(consumers())),
    f('rabbitmq_queues', 'Queues available', 'gauge', () => {
      let count = 0;
      for (const vhost of broker.vhosts.values()) count += vhost.queues.size;
      return one(count);
    }),
    f('rabbitmq_connections_opened_total', 'Total number of connections opened', 'counter', () => one(stats.connectionsOpened)),
    f('rabbitmq_connections_closed_total', 'Total number of connections closed or terminated', 'counter', () => one(stats.connectionsClosed)),
    f('rabbitmq_channels_opened_total', 'Total number of channels opened', 'counter', () => one(stats.channelsOpened)),
    f('rabbitmq_channels_closed_total', 'Total number of channels closed', 'counter', () => one(stats.channelsClosed)),
    f('rabbitmq_queues_declared_total', 'Total number of queues declared', 'counter', () => one(stats.queuesDeclared)),
    f('rabbitmq_queues_created_total', 'Total number of queues created', 'counter', () => one(stats.queuesCreated)),
    f('rabbitmq_queues_deleted_total', 'Total number of queues deleted', 'counter', () => one(stats.queuesDeleted)),
    f('rabbitmq_process_open_fds', 'Open file descriptors', 'gauge', () => one(openFds())),
    f('rabbitmq_process_open_tcp_sockets', 'Open TCP sockets', 'gauge', () => one(source.connections.size)),
    f('rabbitmq_process_resident_memory_bytes', 'Memory used in bytes', 'gauge', () => one(resources.memoryUsed)),
    f('rabbitmq_disk_space_available_bytes', 'Disk space available in bytes', 'gauge', () => one(resources.diskFree)),
    f('rabbitmq_process_max_fds', 'Open file descriptors limit', 'gauge', () => one(maxFds())),
    f('rabbitmq_process_max_tcp_sockets', 'Open TCP sockets limit', 'gauge', () => one(maxFds())),
    f('rabbitmq_resident_memory_limit_bytes', 'Memory high watermark in bytes', 'gauge', () => one(resources.memoryLimit)),
    f('rabbitmq_disk_space_available_limit_bytes', 'Free disk space low watermark in bytes', 'gauge', () => one(resources.diskFreeLimit)),
    f('rabbitmq_erlang_uptime_seconds', 'Node uptime', 'gauge', () => one(process.uptime())),
    f('rabbitmq_alarms_memory_used_watermark', 'is 1 if VM memory watermark alarm is in effect', 'untyped', () =>
      one(broker.alarms.isSet('memory') ? 1 : 0),
    ),
    f('rabbitmq_alarms_free_disk_space_watermark', 'is 1 if free disk space watermark alarm is in effect', 'untyped', () =>
      one(broker.alarms.isSet('disk') ? 1 : 0),
    ),
    f('rabbitmq_alarms_file_descriptor_limit', 'is 1 if file descriptor limit alarm is in effect', 'untyped', () => one(0)),
    f('rabbitmq_auth_attempts_total', 'Total number of authorization attempts', 'counter', () =>
      amqp(broker.logins.succeeded + broker.logins.failed),
    ),
    f('rabbitmq_auth_attempts_succeeded_total', 'Total number of successful authentication attempts', 'counter', () =>
      amqp(broker.logins.succeeded),
    ),
    f('rabbitmq_auth_attempts_failed_total', 'Total number of failed authentication attempts', 'counter', () => amqp(broker.logins.failed)),
    f('rabbitmq_global_consumers', 'Current number of consumers', 'gauge', () => amqp(consumers())),
    f('rabbitmq_global_publishers', 'Current number of publishers', 'gauge', () => amqp(publishers())),
    f('rabbitmq_global_messages_received_total', 'Total number of messages received from publishers', 'counter', () => amqp(stats.publish)),
    f(
      'rabbitmq_global_messages_received_confirm_total',
      'Total number of messages received from publishers expecting confirmations',
      'counter',
      () => amqp(stats.publish_confirm),
    ),
    f('rabbitmq_global_messages_confirmed_total', 'Total number of messages confirmed to publishers', 'counter', () => amqp(stats.confirm)),
    f('rabbitmq_global_messages_routed_total', 'Total number of messages routed to queues or streams', 'counter', () => amqp(stats.routed)),
    f(
      'rabbitmq_global_messages_unroutable_dropped_total',
      'Total number of messages published as non-mandatory into an exchange and dropped as unroutable',
      'counter',
      () => amqp(stats.drop_unroutable),
    ),
    f(
      'rabbitmq_global_messages_unroutable_returned_total',
      'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable',
      'counter',
      () => amqp(stats.return_unroutable),
    ),
    f('rabbitmq_global_messages_delivered_total', 'Total number of messages delivered to consumers', 'counter', () =>
      classic(stats.deliver_get),
    ),
    f(
      'rabbitmq_global_messages_delivered_consume_auto_ack_total',
      'Total number of messages delivered to consumers using basic.consume with automatic acknowledgment',
      'counter',
      () => classic(stats.deliver_no_ack),
    ),
    f(
      'rabbitmq_global_messages_delivered_consume_manual_ack_total',
      'Total number of messages delivered to consumers using basic.consume with manual acknowledgment',
      'counter',
      () => classic(stats.deliver),
    ),
    f(
      'rabbitmq_global_messages_delivered_get_auto_ack_total',
      'Total number of messages delivered to consumers using basic.get with automatic acknowledgment',
      'counter',
      () => classic(stats.get_no_ack),
    ),
    f(
      'rabbitmq_global_messages_delivered_get_manual_ack_total',
      'Total number of messages delivered to consumers using basic.get with manual acknowledgment',
      'counter',
      () => classic(stats.get),
    ),
    f('rabbitmq_global_messages_get_empty_total', 'Total number of times basic.get operations fetched no message', 'counter', () =>
      classic(stats.get_empty),
    ),
    f('rabbitmq_global_messages_redelivered_total', 'Total number of messages redelivered to consumers', 'counter', () =>
      classic(stats.redeliver),
    ),
    f('rabbitmq_global_messages_acknowledged_total', 'Total number of messages acknowledged by consumers', 'counter', () =>
      classic(stats.ack),
    ),
    f('rabbitmq_global_messages_dead_lettered_expired_total', 'Total number of messages dead-lettered due to message TTL exceeded', 'counter', () =>
      deadLettered('expired'),
    ),
    f(
      'rabbitmq_global_messages_dead_lettered_rejected_total',
      'Total number of messages dead-lettered due to basic.reject or basic.nack',
      'counter',
      () => deadLettered('rejected'),
    ),
    f(
      'rabbitmq_global_messages_dead_lettered_maxlen_total',
      'Total number of messages dead-lettered due to overflow drop-head or reject-publish-dlx',
      'counter',
      () => deadLettered('maxlen'),
    ),
    f(
      'rabbitmq_global_messages_dead_lettered_delivery_limit_total',
      'Total number of messages dead-lettered due to delivery-limit exceeded',
      'counter',
      () => deadLettered('delivery_limit', 'rabbit_quorum_queue'),
    ),
  ];
}

/** The RabbitMQ release whose behaviour Warren copies: what tools that branch on rabbitmq_version should see. */
const RABBITMQ_COMPATIBLE_VERSION = '3.10.8';
const PROM_CLIENT_VERSION = '15.1.3';

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

let fdLimit: number | undefined;
/** The soft limit on open files (Linux /proc/self/limits); 0 where it cannot be read. */
function maxFds(): number {
  if (fdLimit === undefined) {
    try {
      const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
      fdLimit = line === null ? 0 : Number(line[1]);
    } catch {
      fdLimit = 0;
    }
  }
  return fdLimit;
}

/** The /metrics/detailed families Warren has, by RabbitMQ's family names. */
function detailedGroup(source: MetricsSource, family: string, vhost: string | undefined): ObjectGroup<unknown> | undefined {
  const { broker } = source;
  const inVhost = () => queues(broker, vhost);
  switch (family) {
    case 'queue_coarse_metrics':
      return group(QUEUE_COARSE_METRICS, inVhost, queueLabels);
    case 'queue_consumer_count':
      return group(QUEUE_CONSUMER_COUNT, inVhost, queueLabels);
    case 'queue_metrics':
      return group(QUEUE_METRICS, inVhost, queueLabels);
    case 'connection_coarse_metrics':
      return group(CONNECTION_COARSE_METRICS, () => openConnections(source), connectionName);
    case 'connection_metrics':
      return group(CONNECTION_METRICS, () => openConnections(source), connectionName);
    case 'channel_metrics':
      return group(CHANNEL_METRICS, () => channels(source), channelName);
    case 'channel_exchange_metrics':
    case 'channel_queue_metrics':
      return group(CHANNEL_COUNTERS, () => channels(source), channelName);
    case 'exchange_names':
      return group(
        [{ name: 'rabbitmq_exchange_name', help: 'Enumerates exchanges without any additional info', type: 'untyped', value: () => 1 }],
        () => exchanges(broker, vhost),
        exchangeLabels,
      );
    case 'exchange_bindings':
      return group(
        [gauge<Exchange>('rabbitmq_exchange_bindings', 'Number of bindings for an exchange. This value is cluster-wide.', (e) => e.bindings.size)],
        () => exchanges(broker, vhost),
        exchangeLabels,
      );
    case 'vhost_status':
      return group(
        [gauge<VHost>('rabbitmq_vhost_status', 'Whether a given vhost is running', () => 1)],
        () => [...broker.vhosts.values()].filter((v) => vhost === undefined || v.name === vhost),
        (v) => ({ vhost: v.name }),
      );
    default:
      return undefined;
  }
}

const exchangeLabels = (e: Exchange): Labels => ({ vhost: e.vhost, exchange: e.name, type: e.type });

function exchanges(broker: Broker, vhost: string | undefined): Exchange[] {
  const all: Exchange[] = [];
  for (const v of broker.vhosts.values()) {
    if (vhost !== undefined && v.name !== vhost) continue;
    for (const exchange of v.exchanges.values()) all.push(exchange);
  }
  return all;
}

/** Every per-object metric: queues, channels, connections. */
function objectGroups(source: MetricsSource): ObjectGroup<unknown>[] {
  return [
    group([...QUEUE_COARSE_METRICS, ...QUEUE_CONSUMER_COUNT, ...QUEUE_METRICS], () => queues(source.broker, undefined), queueLabels),
    group([...CHANNEL_METRICS, ...CHANNEL_COUNTERS], () => channels(source), channelName),
    group([...CONNECTION_COARSE_METRICS, ...CONNECTION_METRICS], () => openConnections(source), connectionName),
  ];
}

function registry(families: readonly Family[], process: Registry): Registry {
  const own = new Registry();
  for (const family of families) own.registerMetric(family as never);
  return Registry.merge([own, process]);
}

export interface MetricsEndpoint {
  readonly port: number;
  readonly host: string;
  /** The text a scrape of `path` (with its query) returns. */
  scrape(path: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Serves /metrics, /metrics/per-object and /metrics/detailed on `port` (0: a free one). */
export async function startMetricsServer(source: MetricsSource, port: number, host: string, logger: Logger): Promise<MetricsEndpoint> {
  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics });
  const groups = objectGroups(source);
  const aggregated = registry([...globalFamilies(source), ...groups.flatMap(summedFamilies)], processMetrics);
  const nodeWide = registry(globalFamilies(source), processMetrics);
  const identity = new Registry();
  for (const family of globalFamilies(source)) {
    if (family.name === 'rabbitmq_identity_info' || family.name === 'rabbitmq_build_info') identity.registerMetric(family as never);
  }

  const scrape = async (path: string): Promise<string | undefined> => {
    // A request target that is no URL (`//[`) names no endpoint either: a 404, not a failed scrape.
    if (!URL.canParse(path, 'http://localhost')) return undefined;
    const url = new URL(path, 'http://localhost');
    const route = url.pathname.replace(/\/+$/, '');
    if (route === '/metrics') return aggregated.metrics();
    const out: string[] = [];
    if (route === '/metrics/per-object') {
      out.push(await nodeWide.metrics());
      for (const g of groups) writeObjectGroup(g, 'rabbitmq_', out);
      return out.join('');
    }
    if (route === '/metrics/detailed') {
      const vhost = url.searchParams.get('vhost') ?? undefined;
      out.push(await identity.metrics());
      for (const family of new Set(url.searchParams.getAll('family'))) {
        const chosen = detailedGroup(source, family, vhost);
        if (chosen !== undefined) writeObjectGroup(chosen, 'rabbitmq_detailed_', out);
      }
      return out.join('');
    }
    return undefined;
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    scrape(request.url ?? '/').then(
      (text) => {
        if (text === undefined) {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /metrics/per-object or /metrics/detailed\n');
          return;
        }
        response.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        logger.error({ event: 'metrics.scrape-failed', err: error }, `metrics scrape failed: ${(error as Error).message}`);
        response.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
      },
    );
  });
  server.on('error', (error) => logger.error({ err: error }, 'metrics listener error'));
  const address = await listen(server, port, host);
  logger.info({ protocol: 'http/prometheus', host: address.address, port: address.port }, 'listening');
  return {
    port: address.port,
    host: address.address,
    scrape,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
