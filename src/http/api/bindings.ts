import type { Binding } from '../../broker/exchange.js';
import { isExchange } from '../../broker/exchange.js';
import type { Queue } from '../../broker/queue.js';
import type { VHost } from '../../broker/vhost.js';
import { AmqpError } from '../../protocol/errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { jsonToTable, propertiesKey, quotePlus, tableToJson } from '../format.js';
import type { ListItem } from '../list-query.js';
import { type ApiReply, type ApiRequest, HttpError, objectNotFound, type Route } from '../router.js';
import { accessOf, visibleVhostOf, bodyObject, HTTP_OWNER, listReply, vhostForAction, vhostsIn, whenStored } from './common.js';

/** URLs name the default exchange `amq.default`. */
export function exchangeNameInPath(name: string): string {
  return name === 'amq.default' ? '' : name;
}

export function bindingJson(binding: Binding): ListItem {
  const destination = binding.destination;
  return {
    source: binding.source.name,
    vhost: binding.source.vhost,
    destination: destination.name,
    destination_type: isExchange(destination) ? 'exchange' : 'queue',
    routing_key: binding.bindingKey,
    arguments: tableToJson(binding.args),
    properties_key: propertiesKey(binding.bindingKey, binding.args),
  };
}

/** Every queue is bound to the default exchange by its name; RabbitMQ lists that binding too. */
export function defaultBindingJson(queue: Queue): ListItem {
  return {
    source: '',
    vhost: queue.vhost,
    destination: queue.name,
    destination_type: 'queue',
    routing_key: queue.name,
    arguments: {},
    properties_key: propertiesKey(queue.name, {}),
  };
}

/**
 * Bindings in RabbitMQ's order (its binding records sort by source, key,
 * destination, arguments; measured): the default exchange's first.
 */
export function sortedBindings(items: ListItem[]): ListItem[] {
  const order = (b: ListItem): string[] => [
    b.source as string,
    b.routing_key as string,
    b.destination_type as string,
    b.destination as string,
    JSON.stringify(b.arguments),
  ];
  return items.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < x.length; i++) {
      const c = Buffer.compare(Buffer.from(x[i]), Buffer.from(y[i]));
      if (c !== 0) return c;
    }
    return 0;
  });
}

export function queueBindings(queue: Queue): ListItem[] {
  return sortedBindings([defaultBindingJson(queue), ...[...queue.bindings].map(bindingJson)]);
}

function vhostBindings(vhost: VHost): ListItem[] {
  const items: ListItem[] = [];
  for (const queue of vhost.queues.values()) items.push(defaultBindingJson(queue));
  for (const exchange of vhost.exchanges.values()) {
    for (const binding of exchange.bindings.values()) items.push(bindingJson(binding));
  }
  return sortedBindings(items);
}

interface BindingPath {
  vhost: VHost;
  source: string;
  destination: string;
  toExchange: boolean;
}

/** /bindings/{v}/e/{source}/{q|e}/{destination}: both ends must exist (404 otherwise). */
function bindingPath(request: ApiRequest): BindingPath {
  const { params } = request;
  const vhost = visibleVhostOf(request, params.vhost);
  if (params.kind !== 'q' && params.kind !== 'e') throw objectNotFound();
  const toExchange = params.kind === 'e';
  const source = exchangeNameInPath(params.source);
  const destination = toExchange ? exchangeNameInPath(params.destination) : params.destination;
  if (!vhost.exchanges.has(source)) throw objectNotFound();
  if (toExchange ? !vhost.exchanges.has(destination) : !vhost.queues.has(destination)) throw objectNotFound();
  return { vhost, source, destination, toExchange };
}

function bindingsBetween(path: BindingPath): Binding[] {
  const source = path.vhost.exchanges.get(path.source);
  if (source === undefined) return [];
  return [...source.bindings.values()].filter(
    (b) => b.destination.name === path.destination && isExchange(b.destination) === path.toExchange,
  );
}

function listBetween(request: ApiRequest): ApiReply {
  return listReply(sortedBindings(bindingsBetween(bindingPath(request)).map(bindingJson)), request);
}

/** POST: binds as queue.bind / exchange.bind do; 201 with the new binding's location (destination/properties_key, quoted again). */
function createBinding(request: ApiRequest): Promise<ApiReply> {
  const { params } = request;
  const vhost = vhostForAction(request, params.vhost);
  if (params.kind !== 'q' && params.kind !== 'e') throw objectNotFound();
  const toExchange = params.kind === 'e';
  const body = bodyObject(request);
  const routingKey = body.routing_key === undefined || body.routing_key === null ? '' : String(body.routing_key);
  const args = jsonToTable(body.arguments, 'arguments');
  const source = exchangeNameInPath(params.source);
  const destination = toExchange ? exchangeNameInPath(params.destination) : params.destination;
  checkBindAccess(request, vhost, source, destination, toExchange, routingKey);
  try {
    if (toExchange) vhost.bindExchange(destination, source, routingKey, args);
    else vhost.bindQueue(destination, source, routingKey, args, HTTP_OWNER);
  } catch (error) {
    // A missing end is named in the body, unlike the generic 404 of a GET.
    if (error instanceof AmqpError && error.replyCode === ReplyCode.NOT_FOUND) throw new HttpError(404, 'not_found', error.detail);
    throw error;
  }
  return whenStored(vhost, { status: 201, headers: { location: `${quotePlus(params.destination)}/${quotePlus(propertiesKey(routingKey, args))}` } });
}

/** The checks of queue.bind and exchange.bind (and their unbind): write on the destination, read on the source. */
function checkBindAccess(request: ApiRequest, vhost: VHost, source: string, destination: string, toExchange: boolean, routingKey: string): void {
  const access = accessOf(request, vhost.name);
  access.check('write', toExchange ? 'exchange' : 'queue', destination);
  access.check('read', 'exchange', source);
  if (vhost.exchanges.get(source)?.type === 'topic') access.checkTopic('read', source, routingKey);
}

function bindingByKey(request: ApiRequest): { path: BindingPath; binding: Binding } {
  const path = bindingPath(request);
  const binding = bindingsBetween(path).find((b) => propertiesKey(b.bindingKey, b.args) === request.params.props);
  if (binding === undefined) throw objectNotFound();
  return { path, binding };
}

export const bindingRoutes: Route[] = [
  {
    pattern: 'bindings',
    handlers: { GET: (request) => listReply(vhostsIn(request).flatMap(vhostBindings), request) },
  },
  {
    pattern: 'bindings/:vhost',
    handlers: { GET: (request) => listReply(vhostsIn(request).flatMap(vhostBindings), request) },
  },
  {
    pattern: 'bindings/:vhost/e/:source/:kind/:destination',
    handlers: { GET: listBetween, POST: createBinding },
  },
  {
    pattern: 'bindings/:vhost/e/:source/:kind/:destination/:props',
    handlers: {
      GET: (request) => ({ status: 200, body: bindingJson(bindingByKey(request).binding) }),
      DELETE: (request) => {
        vhostForAction(request, request.params.vhost);
        const { path, binding } = bindingByKey(request);
        checkBindAccess(request, path.vhost, path.source, path.destination, path.toExchange, binding.bindingKey);
        if (path.toExchange) path.vhost.unbindExchange(path.destination, path.source, binding.bindingKey, binding.args);
        else path.vhost.unbindQueue(path.destination, path.source, binding.bindingKey, binding.args, HTTP_OWNER);
        return whenStored(path.vhost, { status: 204 });
      },
    },
  },
];
