import { type DefinitionsDocument, exportDefinitions, exportVhostDefinitions, importDefinitions, importVhostDefinitions, type VhostDefinitionsDocument } from '../../broker/definitions.js';
import { isValidPasswordHash } from '../../broker/access/users.js';
import { MultipartError, multipartBoundary, parseMultipart } from '../multipart.js';
import { type ApiReply, type ApiRequest, badRequest, type Route } from '../router.js';
import { requireAdministrator, vhostOf, whenStored } from './common.js';
import { RABBITMQ_VERSION } from './overview.js';

/**
 * GET/POST /api/definitions[/{vhost}] (administrators): the export in the
 * form RabbitMQ's HTTP API writes, and the import of such a document, given
 * as the JSON body or as the `file` part of a form upload (RabbitMQ's UI,
 * which also passes credentials as `?auth=`). Imports add to what exists.
 */

function downloadHeaders(request: ApiRequest): Record<string, string> {
  const file = request.query.get('download');
  return file === null || file === '' ? {} : { 'Content-Disposition': `attachment; filename=${file}` };
}

function exportAll(request: ApiRequest): ApiReply {
  requireAdministrator(request);
  const { broker, productVersion } = request.context;
  const document = exportDefinitions(broker, productVersion);
  const body = {
    rabbit_version: RABBITMQ_VERSION,
    rabbitmq_version: RABBITMQ_VERSION,
    product_name: 'Warren',
    product_version: productVersion,
    users: document.users,
    vhosts: document.vhosts,
    permissions: document.permissions,
    topic_permissions: document.topic_permissions,
    parameters: document.parameters ?? [],
    global_parameters: [],
    policies: document.policies ?? [],
    queues: document.queues,
    exchanges: document.exchanges,
    bindings: document.bindings,
  };
  return { status: 200, body, headers: downloadHeaders(request) };
}

/** One vhost's part; policies and parameters keep their `vhost` key, as RabbitMQ's do (measured). */
function exportVhost(request: ApiRequest): ApiReply {
  requireAdministrator(request);
  const { broker, productVersion } = request.context;
  const vhost = vhostOf(request.context, request.params.vhost).name;
  const document = exportVhostDefinitions(broker, vhost, productVersion);
  const parameters = (exportDefinitions(broker, productVersion).parameters ?? []).filter((p) => p.vhost === vhost);
  const body = {
    rabbit_version: RABBITMQ_VERSION,
    parameters,
    policies: (document.policies ?? []).map((policy) => ({ vhost, ...policy })),
    queues: document.queues ?? [],
    exchanges: document.exchanges ?? [],
    bindings: document.bindings ?? [],
  };
  return { status: 200, body, headers: downloadHeaders(request) };
}

interface Upload {
  document: Record<string, unknown>;
  /** The form's `redirect` field: where RabbitMQ's UI wants the browser sent after the import (303). */
  redirect: string | undefined;
}

/** The uploaded document: the `file` part of a form, or the whole body; RabbitMQ's 400s for what is not a JSON object. */
function upload(request: ApiRequest): Upload {
  let text = request.rawBody;
  let redirect: string | undefined;
  try {
    const boundary = multipartBoundary(request.headers['content-type']);
    if (boundary !== undefined) {
      const parts = parseMultipart(request.rawBody, boundary);
      const file = parts.find((part) => part.name === 'file');
      if (file === undefined) throw badRequest('failed_to_parse_json');
      text = file.data;
      redirect = parts.find((part) => part.name === 'redirect')?.data.toString('utf8');
    }
  } catch (error) {
    if (error instanceof MultipartError) throw badRequest('failed_to_parse_json');
    throw error;
  }
  // An empty body imports nothing (RabbitMQ: 204).
  if (text.length === 0) return { document: {}, redirect };
  let document: unknown;
  try {
    document = JSON.parse(text.toString('utf8'));
  } catch {
    throw badRequest('failed_to_parse_json');
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw badRequest('failed_to_parse_json');
  return { document: document as Record<string, unknown>, redirect };
}

/** 204, or for a form with a redirect field RabbitMQ's 303 to it (measured). */
function imported(redirect: string | undefined): ApiReply {
  return redirect === undefined || redirect === '' ? { status: 204 } : { status: 303, headers: { location: redirect } };
}

function list(document: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const value = document[key];
  return Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => item !== null && typeof item === 'object') : [];
}

/**
 * What RabbitMQ refuses before it imports: a password hash that is not
 * base64, an object in a vhost that neither exists nor is in the document.
 * Anything else it skips or leaves as it is (an existing queue with other
 * arguments, a binding to a missing queue) and answers 204; so does Warren.
 */
function checkDocument(request: ApiRequest, document: Record<string, unknown>): void {
  for (const user of list(document, 'users')) {
    const hash = user.password_hash;
    if (typeof hash === 'string' && !isValidPasswordHash(hash)) throw badRequest(['not_base64', hash]);
  }
  const vhosts = new Set([...request.context.broker.vhosts.keys(), ...list(document, 'vhosts').map((v) => String(v.name))]);
  for (const key of ['permissions', 'topic_permissions', 'policies', 'parameters', 'queues', 'exchanges', 'bindings']) {
    for (const item of list(document, key)) {
      if (item.vhost !== undefined && !vhosts.has(String(item.vhost))) throw badRequest(['no_such_vhost', String(item.vhost)]);
    }
  }
}

/** What an import left out (RabbitMQ answers 204 all the same), so that an operator can see why. */
function logSkipped(request: ApiRequest, skipped: string[]): void {
  if (skipped.length > 0) request.log.warn({ user: request.user.name, skipped }, 'definitions import over HTTP skipped some objects');
}

function importAll(request: ApiRequest): Promise<ApiReply> {
  requireAdministrator(request);
  const { document, redirect } = upload(request);
  checkDocument(request, document);
  const { broker } = request.context;
  const skipped = importDefinitions(broker, { vhosts: [], queues: [], exchanges: [], bindings: [], ...document } as DefinitionsDocument);
  logSkipped(request, skipped);
  return whenStored(broker, imported(redirect));
}

function importVhost(request: ApiRequest): Promise<ApiReply> {
  requireAdministrator(request);
  const vhost = vhostOf(request.context, request.params.vhost);
  const { document, redirect } = upload(request);
  logSkipped(request, importVhostDefinitions(request.context.broker, vhost.name, document as VhostDefinitionsDocument));
  return whenStored(request.context.broker, imported(redirect));
}

export const definitionsRoutes: Route[] = [
  { pattern: 'definitions', queryAuth: true, rawBody: true, handlers: { GET: exportAll, POST: importAll } },
  { pattern: 'definitions/:vhost', queryAuth: true, rawBody: true, handlers: { GET: exportVhost, POST: importVhost } },
];
