import type { TlsSession } from '../../session/tls-session.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import type { Channel } from '../../session/channel.js';
import type { Connection } from '../../session/connection.js';
import { tableToJson } from '../format.js';
import type { ListItem } from '../list-query.js';
import { type ApiContext, type ApiReply, type ApiRequest, objectNotFound, type Route } from '../router.js';
import { isAdministrator, isMonitor } from '../auth.js';
import { CHANNEL_GROUPS, details, messageStatsField, statsDisabled } from './stats-json.js';
import { listReply, listsVhost, notAuthorisedObject, objectReply, vhostOf, visibleVhostOf } from './common.js';

/** A management user sees its own connections and channels; monitoring users and administrators see all. */
function ownedBy(request: ApiRequest, connection: Connection): boolean {
  return isMonitor(request.user) || connection.user?.name === request.user.name;
}

/**
 * RabbitMQ's is_authorized_user for one connection: its own user, an
 * administrator, or (to read it) a monitoring user.
 */
function requireConnectionAccess(request: ApiRequest, connection: Connection, write: boolean): void {
  const user = request.user;
  if (connection.user?.name === user.name || isAdministrator(user) || (!write && isMonitor(user))) return;
  throw notAuthorisedObject();
}

/** Connections past connection.open: RabbitMQ lists a connection once it has a vhost and a user. */
export function openConnections(context: ApiContext): Connection[] {
  return [...context.connections].filter((connection) => connection.vhost !== undefined && connection.user !== undefined);
}

export function openChannels(context: ApiContext): Channel[] {
  return openConnections(context).flatMap((connection) => [...connection.channels.values()]);
}

function peer(connection: Connection): { host: string; port: number; peerHost: string; peerPort: number } {
  const socket = connection.socket;
  return {
    host: unmapped(socket.localAddress),
    port: socket.localPort ?? 0,
    peerHost: unmapped(socket.remoteAddress),
    peerPort: socket.remotePort ?? 0,
  };
}

/** IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; RabbitMQ shows a.b.c.d. */
function unmapped(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The fields of a connection RabbitMQ's tools read, with its traffic counters and rates unless `withStats` is false. */
export function connectionJson(connection: Connection, context: ApiContext, withStats = true): ListItem {
  const { host, port, peerHost, peerPort } = peer(connection);
  const negotiated = connection.negotiated;
  const clientProperties = tableToJson(connection.clientProperties);
  const providedName = clientProperties.connection_name;
  return {
    name: connection.name,
    ...(typeof providedName === 'string' ? { user_provided_name: providedName } : {}),
    node: context.nodeName,
    type: 'network',
    protocol: 'AMQP 0-9-1',
    vhost: connection.vhost?.name,
    user: connection.user?.name,
    user_who_performed_action: connection.user?.name,
    host,
    port,
    peer_host: peerHost,
    peer_port: peerPort,
    ...sslFields(connection.tls),
    auth_mechanism: connection.authMechanism ?? null,
    state: connection.flowState,
    channels: connection.channels.size,
    channel_max: negotiated.channelMax,
    frame_max: negotiated.frameMax,
    timeout: negotiated.heartbeat,
    connected_at: connection.connectedAt,
    client_properties: clientProperties,
    ...(withStats ? trafficJson(connection) : {}),
  };
}

function trafficJson(connection: Connection): ListItem {
  return {
    recv_oct: connection.recvOct,
    recv_oct_details: details(connection.recvOctRate),
    recv_cnt: connection.recvCnt,
    send_oct: connection.sendOct,
    send_oct_details: details(connection.sendOctRate),
    send_cnt: connection.sendCnt,
  };
}

function channelName(channel: Channel): string {
  return `${channel.connection.name} (${channel.number})`;
}

function channelDetails(channel: Channel): ListItem {
  const { peerHost, peerPort } = peer(channel.connection);
  return { name: channelName(channel), number: channel.number, connection_name: channel.connection.name, peer_host: peerHost, peer_port: peerPort };
}

export function channelJson(channel: Channel, context: ApiContext, withStats = true): ListItem {
  const { peerHost, peerPort } = peer(channel.connection);
  return {
    name: channelName(channel),
    number: channel.number,
    node: context.nodeName,
    vhost: channel.connection.vhost?.name,
    user: channel.connection.user?.name,
    user_who_performed_action: channel.connection.user?.name,
    connection_details: { name: channel.connection.name, peer_host: peerHost, peer_port: peerPort },
    state: 'running',
    confirm: channel.confirmMode,
    transactional: channel.transactional,
    prefetch_count: channel.prefetchCount,
    global_prefetch_count: channel.globalPrefetch,
    consumer_count: channel.consumers.size,
    messages_unacknowledged: channel.unackedMessages,
    messages_unconfirmed: channel.unconfirmedMessages,
    messages_uncommitted: channel.uncommittedMessages,
    acks_uncommitted: channel.uncommittedAcks,
    ...(withStats ? messageStatsField(channel.stats, CHANNEL_GROUPS) : {}),
  };
}

/** Every consumer of the open channels, as /api/consumers shows them. */
export function consumerItems(context: ApiContext): ListItem[] {
  const items: ListItem[] = [];
  for (const channel of openChannels(context)) {
    for (const consumer of channel.consumers.values()) {
      items.push({
        consumer_tag: consumer.tag,
        queue: { name: consumer.queue.name, vhost: consumer.queue.vhost },
        channel_details: { ...channelDetails(channel), user: channel.connection.user?.name, node: context.nodeName },
        ack_required: !consumer.noAck,
        exclusive: consumer.exclusive,
        prefetch_count: consumer.prefetch,
        arguments: consumer.priority !== 0 ? { 'x-priority': consumer.priority } : {},
        active: true,
        activity_status: 'up',
      });
    }
  }
  return items;
}

function connectionNamed(context: ApiContext, name: string): Connection {
  const connection = openConnections(context).find((c) => c.name === name);
  if (connection === undefined) throw objectNotFound();
  return connection;
}

function listConnections(request: ApiRequest): ApiReply {
  const { context, params } = request;
  if (params.vhost !== undefined) visibleVhostOf(request, params.vhost);
  const connections = openConnections(context).filter((c) => (params.vhost === undefined || c.vhost?.name === params.vhost) && ownedBy(request, c));
  return listReply(
    connections.map((c) => connectionJson(c, context, !statsDisabled(request.query))),
    request,
  );
}

function listChannels(request: ApiRequest): ApiReply {
  const { context, params } = request;
  if (params.vhost !== undefined) visibleVhostOf(request, params.vhost);
  const channels = openChannels(context).filter(
    (c) => (params.vhost === undefined || c.connection.vhost?.name === params.vhost) && ownedBy(request, c.connection),
  );
  return listReply(
    channels.map((c) => channelJson(c, context, !statsDisabled(request.query))),
    request,
  );
}

export const connectionRoutes: Route[] = [
  { pattern: 'connections', handlers: { GET: listConnections } },
  { pattern: 'vhosts/:vhost/connections', handlers: { GET: listConnections } },
  {
    pattern: 'connections/:name',
    handlers: {
      GET: (request) => {
        const connection = connectionNamed(request.context, request.params.name);
        requireConnectionAccess(request, connection, false);
        return objectReply(connectionJson(connection, request.context, !statsDisabled(request.query)), request);
      },
      DELETE: (request) => {
        const { context, params, headers } = request;
        const connection = connectionNamed(context, params.name);
        requireConnectionAccess(request, connection, true);
        const reason = headers['x-reason'];
        const text = typeof reason === 'string' && reason !== '' ? reason : 'Closed via management plugin';
        connection.log.info({ event: 'connection.closed-by-management', reason: text }, 'closing connection on request of the management API');
        connection.forceClose(ReplyCode.CONNECTION_FORCED, text);
        return { status: 204 };
      },
    },
  },
  {
    pattern: 'connections/:name/channels',
    handlers: {
      GET: (request) => {
        const connection = connectionNamed(request.context, request.params.name);
        requireConnectionAccess(request, connection, false);
        return listReply(
          [...connection.channels.values()].map((c) => channelJson(c, request.context, !statsDisabled(request.query))),
          request,
        );
      },
    },
  },
  { pattern: 'channels', handlers: { GET: listChannels } },
  { pattern: 'vhosts/:vhost/channels', handlers: { GET: listChannels } },
  {
    pattern: 'channels/:name',
    handlers: {
      GET: (request) => {
        const channel = openChannels(request.context).find((c) => channelName(c) === request.params.name);
        if (channel === undefined) throw objectNotFound();
        requireConnectionAccess(request, channel.connection, false);
        return objectReply(channelJson(channel, request.context, !statsDisabled(request.query)), request);
      },
    },
  },
  {
    pattern: 'consumers',
    handlers: { GET: (request) => listReply(consumerItems(request.context).filter((c) => listsVhost(request, (c.queue as { vhost: string }).vhost)), request) },
  },
  {
    pattern: 'consumers/:vhost',
    handlers: {
      GET: (request) => {
        vhostOf(request.context, request.params.vhost);
        const vhost = request.params.vhost;
        const items = consumerItems(request.context).filter((c) => (c.queue as { vhost: string }).vhost === vhost && listsVhost(request, vhost));
        return listReply(items, request);
      },
    },
  },
];

/**
 * RabbitMQ's ssl_* fields: the suite in Erlang's names (RabbitMQ reports `ssl:connection_information`'s
 * selected_cipher_suite), read from the IANA name: `TLS_<KX>_WITH_<CIPHER>_<HASH>` for TLS 1.2,
 * `TLS_<CIPHER>_<HASH>` for TLS 1.3 (key exchange `any`). AEAD ciphers have hash `aead`. Nulls over plain TCP.
 */
export function sslFields(tls: TlsSession | undefined): Record<string, string | boolean | null> {
  if (tls === undefined) {
    return { ssl: false, ssl_protocol: null, ssl_key_exchange: null, ssl_cipher: null, ssl_hash: null, peer_cert_subject: null, peer_cert_issuer: null, peer_cert_validity: null };
  }
  const suite = erlangCipherSuite(tls.cipher);
  const certificate = tls.peerCertificate;
  return {
    ssl: true,
    ssl_protocol: tls.protocol,
    ssl_key_exchange: suite.keyExchange,
    ssl_cipher: suite.cipher,
    ssl_hash: suite.hash,
    peer_cert_subject: certificate?.subject ?? null,
    peer_cert_issuer: certificate?.issuer ?? null,
    peer_cert_validity: certificate === undefined ? null : `${isoSeconds(certificate.validFrom)} - ${isoSeconds(certificate.validTo)}`,
  };
}

const AEAD = /(?:_GCM|_CCM|_CCM_8|CHACHA20_POLY1305)$/;

export function erlangCipherSuite(iana: string): { keyExchange: string; cipher: string; hash: string } {
  const name = iana.replace(/^TLS_/, '');
  const withAt = name.indexOf('_WITH_');
  const keyExchange = withAt < 0 ? 'any' : name.slice(0, withAt).toLowerCase();
  const rest = withAt < 0 ? name : name.slice(withAt + '_WITH_'.length);
  const hashAt = rest.lastIndexOf('_');
  const cipher = hashAt < 0 ? rest : rest.slice(0, hashAt);
  const hash = hashAt < 0 ? '' : rest.slice(hashAt + 1);
  // CHACHA20_POLY1305 without a hash suffix (some TLS 1.2 names end with it).
  if (AEAD.test(rest) && !AEAD.test(cipher)) return { keyExchange, cipher: rest.toLowerCase(), hash: 'aead' };
  return { keyExchange, cipher: cipher.toLowerCase(), hash: AEAD.test(cipher) ? 'aead' : hash.toLowerCase() };
}

/** `2026-12-01T07:25:56Z`, as RabbitMQ prints a certificate's validity. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
