import { Message } from '../../broker/message.js';
import { encodeProperties } from '../../protocol/methods.generated.js';
import { type ApiContext, type ApiReply, type ApiRequest, badRequest, type Route } from '../router.js';
import { HTTP_OWNER, vhostForAction } from './common.js';

const OK: ApiReply = { status: 200, body: { status: 'ok' } };

/** The alarm checks fail (503) while Warren's memory or disk alarm is set, as RabbitMQ's do. */
function alarmsCheck(context: ApiContext, scope: 'cluster' | 'node'): ApiReply {
  const alarms = context.broker.alarms;
  const active = (['memory', 'disk'] as const).filter((resource) => alarms.isSet(resource));
  if (active.length === 0) return OK;
  return {
    status: 503,
    body: {
      status: 'failed',
      reason: `There are alarms in effect in the ${scope}`,
      alarms: active.map((resource) => ({ node: context.nodeName, resource })),
    },
  };
}

function portListener({ context, params }: ApiRequest): ApiReply {
  if (!/^\d+$/.test(params.port)) throw badRequest('Invalid port');
  const port = Number(params.port);
  const ports = context.listeners.map((l) => l.port);
  if (ports.includes(port)) return { status: 200, body: { status: 'ok', port } };
  return { status: 503, body: { status: 'failed', reason: 'No active listener', missing: port, ports } };
}

function protocolListener({ context, params }: ApiRequest): ApiReply {
  const protocols = context.listeners.map((l) => l.protocol);
  const protocol = params.protocol.toLowerCase();
  if (protocols.includes(protocol as 'amqp' | 'http')) return { status: 200, body: { status: 'ok', protocol } };
  return { status: 503, body: { status: 'failed', reason: 'No active listener', missing: params.protocol, protocols } };
}

/**
 * GET /api/aliveness-test/{v}: declares the non-durable queue
 * `aliveness-test` (it stays, as in RabbitMQ), publishes `test_message` to it
 * through the default exchange and gets it back.
 */
function alivenessTest(request: ApiRequest): ApiReply {
  const vhost = vhostForAction(request, request.params.vhost);
  const queue = vhost.declareQueue('aliveness-test', false, { durable: false, exclusive: false, autoDelete: false, arguments: {} }, HTTP_OWNER);
  const body = Buffer.from('test_message');
  vhost.publish(new Message('', queue.name, encodeProperties({}), body, body.length));
  const entry = queue.get(true);
  if (entry === undefined) return { status: 503, body: { status: 'failed', reason: 'aliveness-test got no message back' } };
  return OK;
}

export const healthRoutes: Route[] = [
  { pattern: 'health/checks/alarms', handlers: { GET: ({ context }) => alarmsCheck(context, 'cluster') } },
  { pattern: 'health/checks/local-alarms', handlers: { GET: ({ context }) => alarmsCheck(context, 'node') } },
  // Vhosts of a single node never go down on their own.
  { pattern: 'health/checks/virtual-hosts', handlers: { GET: () => OK } },
  { pattern: 'health/checks/port-listener/:port', handlers: { GET: portListener } },
  { pattern: 'health/checks/protocol-listener/:protocol', handlers: { GET: protocolListener } },
  { pattern: 'healthchecks/node', handlers: { GET: () => OK } },
  { pattern: 'aliveness-test/:vhost', handlers: { GET: alivenessTest } },
];
