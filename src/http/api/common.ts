import { Access } from '../../broker/access/permissions.js';
import type { DefinitionsJournal } from '../../broker/definitions.js';
import type { VHost } from '../../broker/vhost.js';
import { AmqpError } from '../../protocol/errors.js';
import { checkVhostAccess, isAdministrator, isMonitor, isPolicymaker } from '../auth.js';
import { type ApiContext, type ApiReply, type ApiRequest, badRequest, HttpError, objectNotFound } from '../router.js';
import { applyColumns, applyListQuery, byVhostAndName, type ListItem } from '../list-query.js';

/**
 * The owner the management API acts as in broker operations that check
 * exclusive queues: another connection's exclusive queue is locked to it,
 * as it is to RabbitMQ's management plugin.
 */
export const HTTP_OWNER: object = Object.freeze({ owner: 'management' });

/**
 * Answers a write once what it changed is on disk, as a channel holds its
 * declare-ok: a 201 for a durable queue means it survives a crash.
 */
export async function whenStored(owner: { readonly definitions: DefinitionsJournal | null }, reply: ApiReply): Promise<ApiReply> {
  const journal = owner.definitions;
  if (journal !== null && journal.pending) await new Promise<void>((resolve) => journal.whenStored({ definitionsStored: resolve }));
  return reply;
}

/** The vhost named in the path, or the generic 404. */
export function vhostOf(context: ApiContext, name: string): VHost {
  const vhost = context.broker.vhost(name);
  if (vhost === undefined) throw objectNotFound();
  return vhost;
}

/**
 * The vhost named in the path for an operation in it (declare, delete,
 * publish, get): 401 without access; when missing, `whenMissing` (RabbitMQ
 * answers a PUT with `vhost_not_found`, a publish or get with an access
 * refusal, everything else with the generic 404; measured).
 */
export function vhostForAction(request: ApiRequest, name: string, whenMissing: () => HttpError = objectNotFound): VHost {
  const vhost = request.context.broker.vhost(name);
  if (vhost === undefined) throw whenMissing();
  requireVhostAccess(request, name);
  return vhost;
}

export const vhostNotFound = (): HttpError => new HttpError(404, 'not_found', 'vhost_not_found');
export const vhostAccessRefused = (): HttpError => new HttpError(401, 'not_authorised', 'Access refused.');

/**
 * A broker refusal of an operation RabbitMQ's plugin performs over an AMQP
 * channel (publish, get): a 400 whose reason is the AMQP code and text.
 */
export function channelRefusal(error: unknown): unknown {
  return error instanceof AmqpError ? badRequest(`${error.replyCode} ${error.replyText}`) : error;
}

export function requireVhostAccess(request: ApiRequest, vhost: string): void {
  // An administrator passes RabbitMQ's HTTP check, then its AMQP connection to the vhost is refused (measured).
  if (isAdministrator(request.user) && !request.context.broker.permissions.hasAccess(request.user.name, vhost)) throw vhostAccessRefused();
  const refusal = checkVhostAccess(request.context.broker, request.user, vhost);
  if (refusal !== undefined) throw new HttpError(refusal.status, refusal.body?.error ?? '', refusal.body?.reason ?? '');
}

/** The AMQP permission checks a channel of this user in this vhost makes (RabbitMQ's plugin acts over such a channel). */
export function accessOf(request: ApiRequest, vhost: string): Access {
  return new Access(request.context.broker.permissions, request.user.name, vhost);
}

/** The 401 of a route for administrators only (users, permissions, vhost changes, definitions). */
export function requireAdministrator(request: ApiRequest): void {
  if (!isAdministrator(request.user)) throw new HttpError(401, 'not_authorised', 'Not administrator user');
}

/** The 401 of a route for monitoring users (nodes). */
export function requireMonitor(request: ApiRequest): void {
  if (!isMonitor(request.user)) throw new HttpError(401, 'not_authorised', 'Not monitor user');
}

/** RabbitMQ's is_authorized_policies: an administrator, or a policymaker with access to the vhost. */
export function requirePolicymaker(request: ApiRequest, vhost: string): void {
  const user = request.user;
  if (isAdministrator(user) || (isPolicymaker(user) && request.context.broker.permissions.hasAccess(user.name, vhost))) return;
  throw notAuthorisedObject();
}

export const notAuthorisedObject = (): HttpError => new HttpError(401, 'not_authorised', 'User not authorised to access object');
const notAuthorisedVhost = (): HttpError => new HttpError(401, 'not_authorised', 'User not authorised to access virtual host');

/** Monitoring users and administrators see every vhost; others those they have permissions in. */
function canSeeVhost(request: ApiRequest, vhost: string): boolean {
  return isMonitor(request.user) || request.context.broker.permissions.hasAccess(request.user.name, vhost);
}

/** The vhosts the user sees, in the broker's order. */
export function visibleVhosts(request: ApiRequest): VHost[] {
  return [...request.context.broker.vhosts.values()].filter((vhost) => canSeeVhost(request, vhost.name));
}

/**
 * The vhost named in the path for reading (RabbitMQ's is_authorized_vhost_visible):
 * the generic 404 when missing, 401 when the user may not see it.
 */
export function visibleVhostOf(request: ApiRequest, name: string): VHost {
  const vhost = vhostOf(request.context, name);
  if (!canSeeVhost(request, name)) throw notAuthorisedVhost();
  return vhost;
}

/**
 * Whether a list of queues, exchanges, bindings, consumers or policies shows
 * the vhost's objects: RabbitMQ's filter_vhost shows administrators every
 * vhost and everyone else (monitoring users too) the vhosts they have
 * permissions in (measured).
 */
export function listsVhost(request: ApiRequest, vhost: string): boolean {
  return isAdministrator(request.user) || request.context.broker.permissions.hasAccess(request.user.name, vhost);
}

/** The vhosts a list covers: the one in the path (404 if missing, 401 if not visible), or all; then those the user's lists show. */
export function vhostsIn(request: ApiRequest): VHost[] {
  const name = request.params.vhost;
  const vhosts = name !== undefined ? [visibleVhostOf(request, name)] : [...request.context.broker.vhosts.values()];
  return vhosts.filter((vhost) => listsVhost(request, vhost.name));
}

/** A list endpoint's answer: RabbitMQ's default order, then the list query parameters. */
export function listReply(items: ListItem[], request: ApiRequest): ApiReply {
  items.sort(byVhostAndName);
  return { status: 200, body: applyListQuery(items, request.query) };
}

/** A single object's answer, with `columns` applied. */
export function objectReply(item: ListItem, request: ApiRequest): ApiReply {
  return { status: 200, body: applyColumns(item, request.query) };
}

/** The JSON body as an object (RabbitMQ treats a non-object body as a bad request). */
export function bodyObject(request: ApiRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('not_json');
  return body as Record<string, unknown>;
}

/** A boolean body field; absent means `fallback`. RabbitMQ also accepts "true"/"false" strings (rabbitmqadmin sends them). */
export function booleanField(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw badRequest(`${key} must be a boolean`);
}

/**
 * RabbitMQ's 400 reason for missing body keys: the Erlang term printed with
 * ~p, which puts a list that does not fit on its line one element a line
 * (measured: 66 characters stay on one line, 79 break, as
 * `[{key_missing,properties},\n {key_missing,payload},…]`).
 */
export function requireKeys(body: Record<string, unknown>, required: readonly string[]): void {
  const missing = required.filter((key) => body[key] === undefined).map((key) => `{key_missing,${key}}`);
  if (missing.length === 0) return;
  const oneLine = `[${missing.join(',')}]`;
  throw badRequest(oneLine.length < 79 ? oneLine : `[${missing.join(',\n ')}]`);
}
