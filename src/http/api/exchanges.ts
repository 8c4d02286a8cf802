import { type Exchange } from '../../broker/exchange.js';
import { isExchangeType } from '../../broker/exchanges/index.js';
import { Message } from '../../broker/message.js';
import { encodeProperties } from '../../protocol/methods.generated.js';
import { jsonToProperties, jsonToTable, tableToJson } from '../format.js';
import type { ListItem } from '../list-query.js';
import { type ApiReply, type ApiRequest, badRequest, objectNotFound, type Route } from '../router.js';
import { EXCHANGE_GROUPS, messageStatsField, statsDisabled } from './stats-json.js';
import { bindingJson, exchangeNameInPath, sortedBindings } from './bindings.js';
import { accessOf, visibleVhostOf, bodyObject, booleanField, requireKeys, listReply, objectReply, whenStored, channelRefusal, vhostAccessRefused, vhostForAction, vhostNotFound, vhostsIn } from './common.js';

/** An exchange's fields, with message_stats (publish_in, publish_out) once it was published to unless `withStats` is false. */
export function exchangeJson(exchange: Exchange, withStats = true): ListItem {
  return {
    name: exchange.name,
    vhost: exchange.vhost,
    type: exchange.type,
    durable: exchange.options.durable,
    auto_delete: exchange.options.autoDelete,
    internal: exchange.options.internal,
    arguments: tableToJson(exchange.options.arguments),
    // RabbitMQ shows the policy of an exchange only when one applies.
    ...(exchange.policy === undefined ? {} : { policy: exchange.policy.name }),
    // x-delayed-message: the messages waiting for their delay (the plugin's name for the count).
    ...(exchange.delayed === null ? {} : { messages_delayed: exchange.delayed.pending }),
    ...(withStats ? messageStatsField(exchange.stats, EXCHANGE_GROUPS) : {}),
  };
}

function exchangeOf(request: ApiRequest): Exchange {
  const vhost = visibleVhostOf(request, request.params.vhost);
  const exchange = vhost.exchanges.get(exchangeNameInPath(request.params.name));
  if (exchange === undefined) throw objectNotFound();
  return exchange;
}

/** PUT: exchange.declare with the body's settings (HTTP defaults: direct, not durable); 201 when new, 204 when it was there. */
function declare(request: ApiRequest): Promise<ApiReply> {
  const vhost = vhostForAction(request, request.params.vhost, vhostNotFound);
  const name = exchangeNameInPath(request.params.name);
  const body = bodyObject(request);
  const type = body.type === undefined ? 'direct' : String(body.type);
  if (!isExchangeType(type)) throw badRequest(`unknown exchange type '${type}'`);
  const existed = vhost.exchanges.has(name);
  const access = accessOf(request, vhost.name);
  if (!name.startsWith('amq.')) access.check('configure', 'exchange', name);
  vhost.declareExchange(name, type, false, {
    durable: booleanField(body, 'durable', false),
    autoDelete: booleanField(body, 'auto_delete', false),
    internal: booleanField(body, 'internal', false),
    arguments: jsonToTable(body.arguments, 'arguments'),
  }, access);
  return whenStored(vhost, { status: existed ? 204 : 201 });
}

function remove(request: ApiRequest): Promise<ApiReply> {
  const vhost = vhostForAction(request, request.params.vhost);
  const name = exchangeNameInPath(request.params.name);
  if (!vhost.exchanges.has(name)) throw objectNotFound();
  accessOf(request, vhost.name).check('configure', 'exchange', name);
  vhost.deleteExchange(name, request.query.get('if-unused') === 'true');
  return whenStored(vhost, { status: 204 });
}

const PUBLISH_KEYS = ['routing_key', 'properties', 'payload', 'payload_encoding'];

/**
 * POST …/publish: a basic.publish through the same routing as AMQP;
 * `{"routed":bool}` says whether a queue took it. Broker refusals are 400s
 * whose reason carries the AMQP code and text, as RabbitMQ's are.
 */
function publish(request: ApiRequest): ApiReply {
  const vhost = vhostForAction(request, request.params.vhost, vhostAccessRefused);
  const body = bodyObject(request);
  requireKeys(body, PUBLISH_KEYS);
  const encoding = body.payload_encoding;
  if (encoding !== 'string' && encoding !== 'base64') throw badRequest(['unsupported_encoding', encoding]);
  const payload = Buffer.from(String(body.payload), encoding === 'base64' ? 'base64' : 'utf8');
  const properties = encodeProperties(jsonToProperties(body.properties));
  const exchange = exchangeNameInPath(request.params.name);
  const message = new Message(exchange, String(body.routing_key), properties, payload, payload.length);
  try {
    const access = accessOf(request, vhost.name);
    access.check('write', 'exchange', exchange);
    if (vhost.exchanges.get(exchange)?.type === 'topic') access.checkTopic('write', exchange, message.routingKey);
    void message.ttl; // a bad expiration is refused before routing, as on a channel
    return { status: 200, body: { routed: vhost.publish(message).length > 0 } };
  } catch (error) {
    throw channelRefusal(error);
  }
}

export const exchangeRoutes: Route[] = [
  { pattern: 'exchanges', handlers: { GET: (request) => listReply(vhostsIn(request).flatMap((v) => [...v.exchanges.values()].map((e) => exchangeJson(e, !statsDisabled(request.query)))), request) } },
  { pattern: 'exchanges/:vhost', handlers: { GET: (request) => listReply(vhostsIn(request).flatMap((v) => [...v.exchanges.values()].map((e) => exchangeJson(e, !statsDisabled(request.query)))), request) } },
  {
    pattern: 'exchanges/:vhost/:name',
    handlers: {
      GET: (request) => objectReply({ ...exchangeJson(exchangeOf(request), !statsDisabled(request.query)), incoming: [], outgoing: [] }, request),
      PUT: declare,
      DELETE: remove,
    },
  },
  {
    pattern: 'exchanges/:vhost/:name/bindings/source',
    handlers: { GET: (request) => listReply(sortedBindings([...exchangeOf(request).bindings.values()].map(bindingJson)), request) },
  },
  {
    pattern: 'exchanges/:vhost/:name/bindings/destination',
    handlers: { GET: (request) => listReply(sortedBindings([...exchangeOf(request).incoming].map(bindingJson)), request) },
  },
  { pattern: 'exchanges/:vhost/:name/publish', handlers: { POST: publish } },
];
