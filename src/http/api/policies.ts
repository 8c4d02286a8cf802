import { type Policy, PolicyValidationError } from '../../broker/access/policies.js';
import { policyDocument } from '../../broker/policy-definitions.js';
import type { VHost } from '../../broker/vhost.js';
import type { ListItem } from '../list-query.js';
import { type ApiReply, type ApiRequest, badRequest, objectNotFound, type Route } from '../router.js';
import { bodyObject, requireKeys, listReply, objectReply, requireAdministrator, requirePolicymaker, vhostNotFound, vhostOf, vhostsIn, whenStored } from './common.js';

/**
 * Policies and operator policies (RabbitMQ's rabbit_mgmt_wm_policy*,
 * _operator_polic*). Lists show what the user's vhosts have; one policy is
 * read and written by administrators and by policymakers with access to its
 * vhost, one operator policy by administrators only.
 */

type Kind = 'policies' | 'operator-policies';

export function policyJson(policy: Policy): ListItem {
  return { ...policyDocument(policy) };
}

const tableOf = (vhost: VHost, kind: Kind) => (kind === 'policies' ? vhost.policies : vhost.operatorPolicies);

function authorise(request: ApiRequest, kind: Kind): void {
  if (kind === 'policies') requirePolicymaker(request, request.params.vhost);
  else requireAdministrator(request);
}

/** RabbitMQ writes the validation text into HTML-escaped JSON (`<<"abc">>` as `&lt;&lt;"abc"&gt;&gt;`). */
function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function put(request: ApiRequest, kind: Kind): Promise<ApiReply> {
  authorise(request, kind);
  const vhost = request.context.broker.vhost(request.params.vhost);
  if (vhost === undefined) throw vhostNotFound();
  const body = bodyObject(request);
  // Missing keys are refused before validation, without its prefix (measured).
  requireKeys(body, ['pattern', 'definition']);
  const name = request.params.name;
  const existed = tableOf(vhost, kind).get(name) !== undefined;
  const input = { pattern: body.pattern, applyTo: body['apply-to'], priority: body.priority, definition: body.definition };
  try {
    if (kind === 'policies') vhost.setPolicy(name, input);
    else vhost.setOperatorPolicy(name, input);
  } catch (error) {
    if (error instanceof PolicyValidationError) throw badRequest(`Validation failed\n\n${escapeHtml(error.message)}\n`);
    throw error;
  }
  return whenStored(vhost, { status: existed ? 204 : 201 });
}

function policyOf(request: ApiRequest, kind: Kind): { vhost: VHost; policy: Policy } {
  authorise(request, kind);
  const vhost = vhostOf(request.context, request.params.vhost);
  const policy = tableOf(vhost, kind).get(request.params.name);
  if (policy === undefined) throw objectNotFound();
  return { vhost, policy };
}

function routesFor(kind: Kind): Route[] {
  const list = (request: ApiRequest): ApiReply => listReply(vhostsIn(request).flatMap((v) => tableOf(v, kind).list().map(policyJson)), request);
  return [
    { pattern: kind, handlers: { GET: list } },
    { pattern: `${kind}/:vhost`, handlers: { GET: list } },
    {
      pattern: `${kind}/:vhost/:name`,
      handlers: {
        GET: (request) => objectReply(policyJson(policyOf(request, kind).policy), request),
        PUT: (request) => put(request, kind),
        DELETE: (request) => {
          const { vhost } = policyOf(request, kind);
          if (kind === 'policies') vhost.clearPolicy(request.params.name);
          else vhost.clearOperatorPolicy(request.params.name);
          return whenStored(vhost, { status: 204 });
        },
      },
    },
  ];
}

export const policyRoutes: Route[] = [...routesFor('policies'), ...routesFor('operator-policies')];
