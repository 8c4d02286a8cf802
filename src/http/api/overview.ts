import { availableParallelism } from 'node:os';
import type { VHost } from '../../broker/vhost.js';
import { parseTags } from '../../broker/access/users.js';
import type { ListItem } from '../list-query.js';
import { type ApiContext, type ApiReply, type ApiRequest, objectNotFound, type Route } from '../router.js';
import { bodyObject, listReply, objectReply, requireAdministrator, requireMonitor, vhostOf, visibleVhosts, whenStored } from './common.js';
import { isMonitor } from '../auth.js';
import { openConnections } from './connections.js';
import { CHANNEL_GROUPS, churnRatesJson, depthJson, details, messageStatsField, messageStatsJson, statsDisabled } from './stats-json.js';

const EXCHANGE_TYPES = ['direct', 'fanout', 'headers', 'topic'].map((name) => ({
  name,
  description: `AMQP ${name} exchange, as per the AMQP specification`,
  enabled: true,
}));

/** The RabbitMQ release whose API this one follows; tools branch on rabbitmq_version. */
export const RABBITMQ_VERSION = '3.10.8';

/** messages, messages_ready, messages_unacknowledged over the vhosts' queues, with their rates when `withStats`. */
function messageTotals(vhosts: Iterable<VHost>, withStats: boolean): ListItem {
  let ready = 0;
  let unacked = 0;
  const rates = { ready: 0, unacked: 0 };
  for (const vhost of vhosts) {
    for (const queue of vhost.queues.values()) {
      ready += queue.messageCount;
      unacked += queue.unackedCount;
      rates.ready += queue.depthRates.ready;
      rates.unacked += queue.depthRates.unacked;
    }
  }
  return depthJson(ready, unacked, withStats ? rates : undefined);
}

/** The overview's message_stats: the node's for a monitoring user, the sum of its vhosts' for another. */
function overviewMessageStats(request: ApiRequest, monitor: boolean, vhosts: VHost[]): ListItem {
  if (monitor) return messageStatsJson(request.context.broker.stats, CHANNEL_GROUPS) ?? {};
  const sum: ListItem = {};
  for (const vhost of vhosts) {
    for (const [key, value] of Object.entries(messageStatsJson(vhost.stats, CHANNEL_GROUPS) ?? {})) {
      const before = sum[key];
      if (typeof value === 'number') sum[key] = (typeof before === 'number' ? before : 0) + value;
      else sum[key] = details(((before as { rate: number } | undefined)?.rate ?? 0) + (value as { rate: number }).rate);
    }
  }
  return Object.fromEntries(Object.entries(sum).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A vhost's traffic: its connections' byte counters and rates (RabbitMQ's vhost recv_oct, send_oct), when it has any. */
function vhostTraffic(vhost: VHost, context: ApiContext): ListItem {
  const connections = openConnections(context).filter((c) => c.vhost === vhost);
  if (connections.length === 0) return {};
  let recvOct = 0, sendOct = 0, recvRate = 0, sendRate = 0;
  for (const c of connections) {
    recvOct += c.recvOct;
    sendOct += c.sendOct;
    recvRate += c.recvOctRate;
    sendRate += c.sendOctRate;
  }
  return { recv_oct: recvOct, recv_oct_details: details(recvRate), send_oct: sendOct, send_oct_details: details(sendRate) };
}

function listenersJson(context: ApiContext): ListItem[] {
  return context.listeners.map((l) => ({
    node: context.nodeName,
    protocol: l.protocol,
    ip_address: l.host,
    port: l.port,
    ...(l.socketOpts === undefined ? {} : { socket_opts: l.socketOpts }),
  }));
}

/**
 * GET /api/overview: totals, statistics, listeners and identity. As in RabbitMQ, a user without
 * the monitoring tag gets the totals of its own vhosts and connections, and
 * no node, listeners or contexts.
 */
function overview(request: ApiRequest): ListItem {
  const { context, user } = request;
  const monitor = isMonitor(user);
  const withStats = !statsDisabled(request.query);
  const vhosts = monitor ? [...context.broker.vhosts.values()] : visibleVhosts(request);
  const connections = openConnections(context).filter((c) => monitor || c.user?.name === user.name);
  const channels = connections.flatMap((connection) => [...connection.channels.values()]);
  let exchanges = 0;
  let queues = 0;
  for (const vhost of vhosts) {
    exchanges += vhost.exchanges.size;
    queues += vhost.queues.size;
  }
  const http = context.listeners.find((l) => l.protocol === 'http');
  const https = context.listeners.find((l) => l.protocol === 'https');
  // RabbitMQ lists the HTTPS context first, its port a string and `ssl: "true"`.
  const contexts: ListItem[] = [];
  if (https !== undefined) contexts.push({ ssl_opts: [], node: context.nodeName, description: 'Warren Management', path: '/', port: String(https.port), ssl: 'true' });
  if (http !== undefined) contexts.push({ ssl_opts: [], node: context.nodeName, description: 'Warren Management', path: '/', ip: http.host, port: String(http.port) });
  const totals: ListItem = {
    management_version: RABBITMQ_VERSION,
    rates_mode: 'basic',
    sample_retention_policies: { global: [600, 3600, 28800, 86400], basic: [600, 3600], detailed: [600] },
    exchange_types: EXCHANGE_TYPES,
    product_version: context.productVersion,
    product_name: 'Warren',
    rabbitmq_version: RABBITMQ_VERSION,
    cluster_name: context.clusterName,
    erlang_version: process.versions.node,
    erlang_full_version: `Node.js ${process.version}`,
    disable_stats: false,
    enable_queue_totals: false,
    ...(withStats ? { message_stats: overviewMessageStats(request, monitor, vhosts), churn_rates: churnRatesJson(context.broker.stats) } : {}),
    queue_totals: messageTotals(vhosts, withStats),
    object_totals: {
      channels: channels.length,
      connections: connections.length,
      consumers: channels.reduce((sum, channel) => sum + channel.consumers.size, 0),
      exchanges,
      queues,
    },
    statistics_db_event_queue: 0,
  };
  if (!monitor) return totals;
  return {
    ...totals,
    node: context.nodeName,
    listeners: listenersJson(context),
    contexts,
  };
}

/** GET /api/nodes: this node (Warren is a single node). */
function nodeJson(context: ApiContext): ListItem {
  const alarms = context.broker.alarms;
  return {
    name: context.nodeName,
    type: 'disc',
    running: true,
    os_pid: String(process.pid),
    uptime: Date.now() - context.startedAt,
    mem_used: process.memoryUsage.rss(),
    mem_limit: Math.round(context.memoryLimit),
    mem_alarm: alarms.isSet('memory'),
    mem_calculation_strategy: 'rss',
    disk_free_limit: context.diskFreeLimit,
    disk_free_alarm: alarms.isSet('disk'),
    processors: availableParallelism(),
    rates_mode: 'basic',
    exchange_types: EXCHANGE_TYPES,
    auth_mechanisms: [
      { name: 'PLAIN', description: 'SASL PLAIN authentication mechanism', enabled: true },
      { name: 'AMQPLAIN', description: 'QPid AMQPLAIN mechanism', enabled: true },
    ],
    partitions: [],
    applications: [],
  };
}

function vhostJson(vhost: VHost, context: ApiContext, withStats: boolean): ListItem {
  const { tags, defaultQueueType } = vhost.metadata;
  // RabbitMQ creates / with this description; Warren's / has it unless one was set.
  const description = vhost.metadata.description === '' && vhost.name === '/' ? 'Default virtual host' : vhost.metadata.description;
  // RabbitMQ shows "undefined" for a vhost created without a default queue type (Warren's 'classic').
  const queueType = defaultQueueType === 'classic' ? 'undefined' : defaultQueueType;
  return {
    name: vhost.name,
    description,
    tags: [...tags],
    default_queue_type: queueType,
    metadata: { description, tags: [...tags], ...(queueType === 'undefined' ? {} : { default_queue_type: queueType }) },
    tracing: false,
    cluster_state: { [context.nodeName]: 'running' },
    ...messageTotals([vhost], withStats),
    ...(withStats ? { ...messageStatsField(vhost.stats, CHANNEL_GROUPS), ...vhostTraffic(vhost, context) } : {}),
  };
}

export const overviewRoutes: Route[] = [
  { pattern: 'overview', handlers: { GET: (request) => objectReply(overview(request), request) } },
  { pattern: 'whoami', handlers: { GET: ({ user }) => ({ status: 200, body: { name: user.name, tags: user.tags } }) } },
  {
    pattern: 'auth',
    public: true,
    handlers: { GET: () => ({ status: 200, body: { enable_uaa: false, uaa_client_id: '', uaa_location: '' } }) },
  },
  // Warren's web UI is its own (src/http/ui), so there are no extensions of RabbitMQ's UI to load.
  { pattern: 'extensions', handlers: { GET: () => ({ status: 200, body: [] }) } },
  { pattern: 'cluster-name', handlers: { GET: ({ context }) => ({ status: 200, body: { name: context.clusterName } }) } },
  {
    pattern: 'nodes',
    handlers: {
      GET: (request) => {
        requireMonitor(request);
        return listReply([nodeJson(request.context)], request);
      },
    },
  },
  {
    pattern: 'nodes/:node',
    handlers: {
      GET: (request) => {
        requireMonitor(request);
        if (request.params.node !== request.context.nodeName) throw objectNotFound();
        return objectReply(nodeJson(request.context), request);
      },
    },
  },
  { pattern: 'vhosts', handlers: { GET: (request: ApiRequest) => listReply(visibleVhosts(request).map((v) => vhostJson(v, request.context, !statsDisabled(request.query))), request) } },
  {
    pattern: 'vhosts/:vhost',
    handlers: {
      // RabbitMQ shows one vhost to administrators only (its list shows each user its own).
      GET: (request) => {
        requireAdministrator(request);
        return objectReply(vhostJson(vhostOf(request.context, request.params.vhost), request.context, !statsDisabled(request.query)), request);
      },
      PUT: putVhost,
      DELETE: (request) => {
        requireAdministrator(request);
        const { broker } = request.context;
        if (!broker.deleteVhost(request.params.vhost)) throw objectNotFound();
        return whenStored(broker, { status: 204 });
      },
    },
  },
];

/**
 * PUT /api/vhosts/{v} (description, tags as "a,b" or a list,
 * default_queue_type; all optional): 201 when new, 204 when updated. The
 * creator gets `.* .* .*` on a new vhost, as RabbitMQ grants it.
 */
function putVhost(request: ApiRequest): Promise<ApiReply> {
  requireAdministrator(request);
  const { broker } = request.context;
  const name = request.params.vhost;
  const body = bodyObject(request);
  const existed = broker.vhost(name) !== undefined;
  const description = body.description;
  const defaultQueueType = body.default_queue_type;
  broker.putVhost(name, {
    description: description === undefined || description === null ? undefined : String(description),
    tags: body.tags === undefined || body.tags === null ? undefined : parseTags(body.tags),
    defaultQueueType: typeof defaultQueueType === 'string' && defaultQueueType !== '' ? defaultQueueType : undefined,
  });
  if (!existed && broker.users.has(request.user.name)) {
    broker.setPermission({ user: request.user.name, vhost: name, configure: '.*', write: '.*', read: '.*' });
  }
  return whenStored(broker, { status: existed ? 204 : 201 });
}
