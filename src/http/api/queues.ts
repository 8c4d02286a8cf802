import { AmqpError } from '../../protocol/errors.js';
import { effectiveDefinition } from '../../broker/access/policies.js';
import type { Message, QueueEntry } from '../../broker/message.js';
import type { Queue } from '../../broker/queue.js';
import { StreamQueue } from '../../broker/queues/stream.js';
import type { VHost } from '../../broker/vhost.js';
import { propertiesToJson, tableToJson, jsonToTable } from '../format.js';
import type { ListItem } from '../list-query.js';
import { type ApiContext, type ApiReply, type ApiRequest, badRequest, objectNotFound, HttpError, type Route } from '../router.js';
import { queueBindings } from './bindings.js';
import { accessOf, visibleVhostOf, bodyObject, booleanField, requireKeys, HTTP_OWNER, listReply, objectReply, whenStored, channelRefusal, vhostAccessRefused, vhostForAction, vhostNotFound, vhostsIn } from './common.js';
import { consumerItems } from './connections.js';
import { depthJson, messageStatsField, QUEUE_GROUPS, statsDisabled } from './stats-json.js';

/** A queue's fields: its settings, depths with their rates and message_stats (byte counts are left out); its record alone when `withStats` is false. */
export function queueJson(queue: Queue, context: ApiContext, withStats = true): ListItem {
  if (!withStats) return queueRecordJson(queue, context);
  const exclusiveConsumer = queue.hasExclusiveConsumer() ? queue.consumers[0].tag : null;
  const activeConsumer = queue.limits.singleActiveConsumer && queue.consumers.length > 0 ? queue.consumers[0].tag : null;
  if (queue.type === 'quorum') {
    // RabbitMQ's fields for a quorum queue: its members (this node alone) instead of exclusive_consumer_tag, and
    // single_active_consumer_ctag rather than _tag.
    const node = context.nodeName;
    const { exclusive_consumer_tag: _exclusive, single_active_consumer_tag: _active, ...common } = classicQueueJson(queue, context, null, null);
    return { ...common, type: 'quorum', leader: node, members: [node], online: [node], single_active_consumer_ctag: activeConsumer };
  }
  if (queue.type === 'stream') {
    // A stream's members are this node alone too; its messages are those its log retains.
    const node = context.nodeName;
    const { exclusive_consumer_tag: _exclusive, single_active_consumer_tag: _active, ...common } = classicQueueJson(queue, context, null, null);
    return { ...common, type: 'stream', leader: node, members: [node], online: [node] };
  }
  return classicQueueJson(queue, context, exclusiveConsumer, activeConsumer);
}

/** With disable_stats=true RabbitMQ answers from the queue's record alone: no depths, consumers or policies (measured). */
function queueRecordJson(queue: Queue, context: ApiContext): ListItem {
  return {
    name: queue.name,
    vhost: queue.vhost,
    type: queue.type === 'quorum' || queue.type === 'stream' ? queue.type : 'classic',
    durable: queue.options.durable,
    auto_delete: queue.options.autoDelete,
    exclusive: queue.options.exclusive,
    arguments: tableToJson(queue.options.arguments),
    node: context.nodeName,
    state: 'running',
  };
}

function classicQueueJson(queue: Queue, context: ApiContext, exclusiveConsumer: string | null, activeConsumer: string | null): ListItem {
  return {
    ...queueRecordJson(queue, context),
    policy: queue.policy?.name ?? null,
    operator_policy: queue.operatorPolicy?.name ?? null,
    effective_policy_definition: { ...effectiveDefinition(queue.policy, queue.operatorPolicy) },
    consumers: queue.consumerCount,
    exclusive_consumer_tag: exclusiveConsumer,
    single_active_consumer_tag: activeConsumer,
    ...depthJson(queue.messageCount, queue.unackedCount, queue.depthRates),
    ...messageStatsField(queue.stats, QUEUE_GROUPS),
  };
}

function queueOf(request: ApiRequest): Queue {
  const queue = visibleVhostOf(request, request.params.vhost).queues.get(request.params.name);
  if (queue === undefined) throw objectNotFound();
  return queue;
}

function listQueues(request: ApiRequest): ApiReply {
  return listReply(
    vhostsIn(request).flatMap((vhost) => [...vhost.queues.values()].map((q) => queueJson(q, request.context, !statsDisabled(request.query)))),
    request,
  );
}

/** PUT: queue.declare with the body's settings (HTTP defaults: not durable, not auto-delete); 201 when new, 204 when it was there. */
function declare(request: ApiRequest): Promise<ApiReply> {
  const vhost = vhostForAction(request, request.params.vhost, vhostNotFound);
  const name = request.params.name;
  const body = bodyObject(request);
  const existed = vhost.queues.has(name);
  const queue = vhost.declareQueue(
    name,
    false,
    {
      durable: booleanField(body, 'durable', false),
      exclusive: false,
      autoDelete: booleanField(body, 'auto_delete', false),
      arguments: jsonToTable(body.arguments, 'arguments'),
    },
    HTTP_OWNER,
    accessOf(request, vhost.name),
  );
  const stored = whenStored(vhost, { status: existed ? 204 : 201 });
  // A new stream answers once its log is open, as over AMQP: it takes messages from then on.
  return queue instanceof StreamQueue ? queue.opened.then(() => stored) : stored;
}

function remove(request: ApiRequest): Promise<ApiReply> {
  const vhost = vhostForAction(request, request.params.vhost);
  if (!vhost.queues.has(request.params.name)) throw objectNotFound();
  accessOf(request, vhost.name).check('configure', 'queue', request.params.name);
  const query = request.query;
  vhost.deleteQueue(request.params.name, query.get('if-unused') === 'true', query.get('if-empty') === 'true', HTTP_OWNER);
  return whenStored(vhost, { status: 204 });
}

function purge(request: ApiRequest): ApiReply {
  const vhost = vhostForAction(request, request.params.vhost);
  if (!vhost.queues.has(request.params.name)) throw objectNotFound();
  accessOf(request, vhost.name).check('read', 'queue', request.params.name);
  vhost.purgeQueue(request.params.name, HTTP_OWNER);
  return { status: 204 };
}

const ACKMODES = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'];
const GET_KEYS = ['ackmode', 'count', 'encoding'];

/**
 * POST …/get: basic.get `count` times, then settle them all as `ackmode`
 * says (requeued ones go back to their places, marked redelivered; rejected
 * ones are dead-lettered), as RabbitMQ's management plugin does.
 */
async function getMessages(request: ApiRequest): Promise<ApiReply> {
  const vhost = vhostForAction(request, request.params.vhost, vhostAccessRefused);
  const body = bodyObject(request);
  requireKeys(body, GET_KEYS);
  const ackmode = String(body.ackmode);
  // RabbitMQ 3.10 answers an unknown ackmode with a 500 (it does not check it); a 400 says what is wrong.
  if (!ACKMODES.includes(ackmode)) throw badRequest(`unknown ackmode '${ackmode}'`);
  const encoding = body.encoding;
  if (encoding !== 'auto' && encoding !== 'base64') throw badRequest('Unsupported encoding. Please use auto or base64.');
  const count = Number(body.count);
  if (!Number.isInteger(count)) throw badRequest('count must be an integer');
  const truncate = body.truncate === undefined || body.truncate === null ? undefined : Number(body.truncate);
  if (truncate !== undefined && !(Number.isInteger(truncate) && truncate >= 0)) throw badRequest('truncate must be a non-negative integer');

  const queue = vhost.queues.get(request.params.name);
  if (queue === undefined) throw new HttpError(404, 'not_found', `NOT_FOUND - no queue '${request.params.name}' in vhost '${vhost.name}'`);
  try {
    accessOf(request, vhost.name).check('read', 'queue', queue.name);
  } catch (error) {
    // RabbitMQ's plugin answers a refused basic.get with 401 and the channel's text (measured).
    if (error instanceof AmqpError) throw new HttpError(401, 'not_authorised', error.replyText);
    throw error;
  }
  try {
    vhost.queueFor(queue.name, HTTP_OWNER); // another connection's exclusive queue is locked
  } catch (error) {
    throw channelRefusal(error);
  }
  const taken: QueueEntry[] = [];
  const answers: ListItem[] = [];
  for (let i = 0; i < count; i++) {
    const entry = await takeHead(queue);
    if (entry === undefined) break;
    taken.push(entry);
    answers.push(messageJson(entry, queue.messageCount, encoding, truncate));
  }
  settleTaken(vhost, queue, taken, ackmode);
  return { status: 200, body: answers };
}

/** The head entry, counted as unacked; waits while it is read back from the log. */
async function takeHead(queue: Queue): Promise<QueueEntry | undefined> {
  for (;;) {
    if (queue.deleted) return undefined;
    const entry = queue.get(false);
    if (entry !== null) return entry;
    await new Promise<void>((resolve) => queue.waitForPageIn({ pagedIn: resolve }));
  }
}

function settleTaken(vhost: VHost, queue: Queue, taken: QueueEntry[], ackmode: string): void {
  if (taken.length === 0) return;
  if (ackmode === 'ack_requeue_true' || ackmode === 'reject_requeue_true') {
    queue.requeue(taken);
    return;
  }
  for (const entry of taken) {
    queue.settle(entry);
    if (ackmode === 'reject_requeue_false') vhost.deadLetter(queue, entry.message as Message, 'rejected');
  }
}

function messageJson(entry: QueueEntry, remaining: number, encoding: 'auto' | 'base64', truncate: number | undefined): ListItem {
  const message = entry.message as Message;
  const body = Buffer.isBuffer(message.body) ? message.body : Buffer.concat(message.body as Buffer[]);
  const payload = truncate === undefined ? body : body.subarray(0, truncate);
  const text = encoding === 'auto' ? utf8Text(payload) : undefined;
  const properties = propertiesToJson(message.properties);
  return {
    payload_bytes: message.bodySize,
    redelivered: entry.redelivered,
    exchange: message.exchange,
    routing_key: message.routingKey,
    message_count: remaining,
    // RabbitMQ writes no properties as [] (an empty Erlang proplist).
    properties: Object.keys(properties).length === 0 ? [] : properties,
    payload: text ?? payload.toString('base64'),
    payload_encoding: text === undefined ? 'base64' : 'string',
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8Text(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export const queueRoutes: Route[] = [
  { pattern: 'queues', handlers: { GET: listQueues } },
  { pattern: 'queues/:vhost', handlers: { GET: listQueues } },
  {
    pattern: 'queues/:vhost/:name',
    handlers: {
      GET: (request) => {
        const queue = queueOf(request);
        if (statsDisabled(request.query)) return objectReply(queueRecordJson(queue, request.context), request);
        const consumers = consumerItems(request.context).filter((c) => {
          const q = c.queue as { name: string; vhost: string };
          return q.name === queue.name && q.vhost === queue.vhost;
        });
        return objectReply({ ...queueJson(queue, request.context, !statsDisabled(request.query)), consumer_details: consumers, incoming: [], deliveries: [] }, request);
      },
      PUT: declare,
      DELETE: remove,
    },
  },
  { pattern: 'queues/:vhost/:name/contents', handlers: { DELETE: purge } },
  { pattern: 'queues/:vhost/:name/get', handlers: { POST: getMessages } },
  { pattern: 'queues/:vhost/:name/bindings', handlers: { GET: (request) => listReply(queueBindings(queueOf(request)), request) } },
];
