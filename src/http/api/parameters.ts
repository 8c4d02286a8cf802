import { isAdministrator, isPolicymaker } from '../auth.js';
import { type ApiReply, type ApiRequest, objectNotFound, type Route } from '../router.js';
import { notAuthorisedObject, requireAdministrator, visibleVhostOf } from './common.js';

/**
 * Endpoints of RabbitMQ features Warren does not have (runtime parameters
 * such as federation upstreams, global parameters, limits, feature flags):
 * empty lists, and 404 for one named object, behind RabbitMQ's rules of who
 * may ask. Operator policies, the one parameter component Warren has, are
 * under /api/operator-policies.
 */

const none = (): ApiReply => ({ status: 200, body: [] });

function policymaker(request: ApiRequest): void {
  if (!isPolicymaker(request.user)) throw notAuthorisedObject();
  if (request.params.vhost !== undefined) visibleVhostOf(request, request.params.vhost);
}

function vhostVisible(request: ApiRequest): void {
  if (request.params.vhost !== undefined) visibleVhostOf(request, request.params.vhost);
}

const guarded =
  (check: (request: ApiRequest) => void, answer: () => ApiReply) =>
  (request: ApiRequest): ApiReply => {
    check(request);
    return answer();
  };

/** Global parameters: administrators only, refused with the object wording (measured). */
function administrator(request: ApiRequest): void {
  if (!isAdministrator(request.user)) throw notAuthorisedObject();
}

const missing = (): ApiReply => {
  throw objectNotFound();
};

export const parameterRoutes: Route[] = [
  { pattern: 'parameters', handlers: { GET: guarded(policymaker, none) } },
  { pattern: 'parameters/:component', handlers: { GET: guarded(policymaker, none) } },
  { pattern: 'parameters/:component/:vhost', handlers: { GET: guarded(policymaker, none) } },
  { pattern: 'parameters/:component/:vhost/:name', handlers: { GET: guarded(policymaker, missing) } },
  { pattern: 'global-parameters', handlers: { GET: guarded(administrator, none) } },
  { pattern: 'global-parameters/:name', handlers: { GET: guarded(administrator, missing) } },
  { pattern: 'vhost-limits', handlers: { GET: guarded(vhostVisible, none) } },
  { pattern: 'vhost-limits/:vhost', handlers: { GET: guarded(vhostVisible, none) } },
  { pattern: 'user-limits', handlers: { GET: guarded(vhostVisible, none) } },
  { pattern: 'feature-flags', handlers: { GET: guarded(requireAdministrator, none) } },
];
