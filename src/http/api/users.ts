import { randomBytes } from 'node:crypto';
import type { Permission, TopicPermission } from '../../broker/access/permissions.js';
import { hashPassword, isValidPasswordHash, parseHashingAlgorithm, parseTags, SHA256, type User } from '../../broker/access/users.js';
import type { ListItem } from '../list-query.js';
import { type ApiReply, type ApiRequest, badRequest, objectNotFound, type Route } from '../router.js';
import { bodyObject, listReply, objectReply, requireAdministrator, requireKeys, vhostOf, whenStored } from './common.js';

/**
 * Users, permissions and topic permissions (RabbitMQ's rabbit_mgmt_wm_user*,
 * _permission*, _topic_permission*): administrators only, as in RabbitMQ.
 * Every write answers once the definitions are on disk.
 */

export function userJson(user: User): ListItem {
  return { name: user.name, password_hash: user.passwordHash, hashing_algorithm: user.hashingAlgorithm, tags: [...user.tags], limits: {} };
}

function permissionJson(p: Permission): ListItem {
  return { user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read };
}

function topicPermissionJson(p: TopicPermission): ListItem {
  return { user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read };
}

function admin(handler: (request: ApiRequest) => ApiReply | Promise<ApiReply>): (request: ApiRequest) => ApiReply | Promise<ApiReply> {
  return (request) => {
    requireAdministrator(request);
    return handler(request);
  };
}

function userOf(request: ApiRequest): User {
  const user = request.context.broker.users.get(request.params.user);
  if (user === undefined) throw objectNotFound();
  return user;
}

/**
 * PUT /api/users/{name}: `tags` is required (may be ""); `password` is
 * hashed, `password_hash` taken as given (must be base64; "" means no
 * password login); neither keeps an existing user's hash and gives a new
 * user a random one that nobody knows, as RabbitMQ does.
 */
function putUser(request: ApiRequest): Promise<ApiReply> {
  const { broker } = request.context;
  const name = request.params.user;
  const body = bodyObject(request);
  if (body.tags === undefined) throw badRequest('tags_not_present');
  const existing = broker.users.get(name);
  // A plain password is hashed with the node's scheme, whatever hashing_algorithm says (RabbitMQ too: measured).
  let hashingAlgorithm: User['hashingAlgorithm'] = SHA256;
  let passwordHash: string;
  if (typeof body.password === 'string') passwordHash = hashPassword(body.password, hashingAlgorithm);
  else if (body.password_hash !== undefined && body.password_hash !== null) {
    try {
      hashingAlgorithm = parseHashingAlgorithm(body.hashing_algorithm);
    } catch (error) {
      throw badRequest((error as Error).message);
    }
    passwordHash = String(body.password_hash);
    if (!isValidPasswordHash(passwordHash)) throw badRequest(['not_base64', passwordHash]);
  } else {
    hashingAlgorithm = existing?.hashingAlgorithm ?? SHA256;
    passwordHash = existing?.passwordHash ?? hashPassword(randomBytes(24).toString('base64'), hashingAlgorithm);
  }
  broker.putUser({ name, passwordHash, hashingAlgorithm, tags: parseTags(body.tags) });
  return whenStored(broker, { status: existing === undefined ? 201 : 204 });
}

function deleteUser(request: ApiRequest): Promise<ApiReply> {
  const { broker } = request.context;
  if (!broker.deleteUser(request.params.user)) throw objectNotFound();
  return whenStored(broker, { status: 204 });
}

/**
 * POST /api/users/bulk-delete {"users":[…]}: deletes in order and stops at
 * the first name that does not exist, with RabbitMQ's 400 (the ones before
 * it stay deleted, as in RabbitMQ).
 */
async function bulkDelete(request: ApiRequest): Promise<ApiReply> {
  const { broker } = request.context;
  const body = bodyObject(request);
  requireKeys(body, ['users']);
  if (!Array.isArray(body.users)) throw badRequest('users must be a list');
  const missing = body.users.map(String).find((name) => !broker.deleteUser(name));
  await whenStored(broker, { status: 204 });
  if (missing !== undefined) throw badRequest(['no_such_user', missing]);
  return { status: 204 };
}

function permissionOf(request: ApiRequest): Permission {
  vhostOf(request.context, request.params.vhost);
  userOf(request);
  const permission = request.context.broker.permissions.get(request.params.user, request.params.vhost);
  if (permission === undefined) throw objectNotFound();
  return permission;
}

/** A user or vhost that does not exist is a 400 here, not a 404 (measured). */
function requireUserAndVhost(request: ApiRequest): void {
  const { broker } = request.context;
  if (!broker.users.has(request.params.user) || broker.vhost(request.params.vhost) === undefined) throw badRequest('vhost_or_user_not_found');
}

function patternField(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  return value === undefined || value === null ? '' : String(value);
}

function putPermission(request: ApiRequest): Promise<ApiReply> {
  const { broker } = request.context;
  const { user, vhost } = request.params;
  requireUserAndVhost(request);
  const body = bodyObject(request);
  requireKeys(body, ['configure', 'write', 'read']);
  const existed = broker.permissions.get(user, vhost) !== undefined;
  try {
    broker.setPermission({ user, vhost, configure: patternField(body, 'configure'), write: patternField(body, 'write'), read: patternField(body, 'read') });
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return whenStored(broker, { status: existed ? 204 : 201 });
}

function deletePermission(request: ApiRequest): Promise<ApiReply> {
  permissionOf(request);
  const { broker } = request.context;
  broker.clearPermission(request.params.user, request.params.vhost);
  return whenStored(broker, { status: 204 });
}

function topicPermissionsOf(request: ApiRequest): TopicPermission[] {
  vhostOf(request.context, request.params.vhost);
  userOf(request);
  const { user, vhost } = request.params;
  return request.context.broker.permissions.allTopic().filter((p) => p.user === user && p.vhost === vhost);
}

function putTopicPermission(request: ApiRequest): Promise<ApiReply> {
  const { broker } = request.context;
  const { user, vhost } = request.params;
  requireUserAndVhost(request);
  const body = bodyObject(request);
  requireKeys(body, ['exchange', 'write', 'read']);
  const exchange = String(body.exchange);
  const existed = broker.permissions.allTopic().some((p) => p.user === user && p.vhost === vhost && p.exchange === exchange);
  try {
    broker.setTopicPermission({ user, vhost, exchange, write: patternField(body, 'write'), read: patternField(body, 'read') });
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return whenStored(broker, { status: existed ? 204 : 201 });
}

function deleteTopicPermission(request: ApiRequest): Promise<ApiReply> {
  const { broker } = request.context;
  const existing = topicPermissionsOf(request);
  const exchange = request.params.exchange;
  if (existing.length === 0 || (exchange !== undefined && !existing.some((p) => p.exchange === exchange))) throw objectNotFound();
  broker.clearTopicPermission(request.params.user, request.params.vhost, exchange);
  return whenStored(broker, { status: 204 });
}

const allPermissions = (request: ApiRequest): ListItem[] => request.context.broker.permissions.all().map(permissionJson);
const allTopicPermissions = (request: ApiRequest): ListItem[] => request.context.broker.permissions.allTopic().map(topicPermissionJson);

export const userRoutes: Route[] = [
  { pattern: 'users', handlers: { GET: admin((request) => listReply([...request.context.broker.users.values()].map(userJson), request)) } },
  {
    pattern: 'users/without-permissions',
    handlers: {
      GET: admin((request) => {
        const { broker } = request.context;
        const withPermissions = new Set(broker.permissions.all().map((p) => p.user));
        const users = [...broker.users.values()].filter((u) => !withPermissions.has(u.name));
        return listReply(users.map(userJson), request);
      }),
    },
  },
  { pattern: 'users/bulk-delete', handlers: { POST: admin(bulkDelete) } },
  {
    pattern: 'users/:user',
    handlers: { GET: admin((request) => objectReply(userJson(userOf(request)), request)), PUT: admin(putUser), DELETE: admin(deleteUser) },
  },
  {
    pattern: 'users/:user/permissions',
    handlers: {
      GET: admin((request) => {
        const user = userOf(request).name;
        return listReply(allPermissions(request).filter((p) => p.user === user), request);
      }),
    },
  },
  {
    pattern: 'users/:user/topic-permissions',
    handlers: {
      GET: admin((request) => {
        const user = userOf(request).name;
        return listReply(allTopicPermissions(request).filter((p) => p.user === user), request);
      }),
    },
  },
  {
    pattern: 'vhosts/:vhost/permissions',
    handlers: {
      GET: admin((request) => {
        const vhost = vhostOf(request.context, request.params.vhost).name;
        return listReply(allPermissions(request).filter((p) => p.vhost === vhost), request);
      }),
    },
  },
  {
    pattern: 'vhosts/:vhost/topic-permissions',
    handlers: {
      GET: admin((request) => {
        const vhost = vhostOf(request.context, request.params.vhost).name;
        return listReply(allTopicPermissions(request).filter((p) => p.vhost === vhost), request);
      }),
    },
  },
  { pattern: 'permissions', handlers: { GET: admin((request) => listReply(allPermissions(request), request)) } },
  {
    pattern: 'permissions/:vhost/:user',
    handlers: {
      GET: admin((request) => objectReply(permissionJson(permissionOf(request)), request)),
      PUT: admin(putPermission),
      DELETE: admin(deletePermission),
    },
  },
  { pattern: 'topic-permissions', handlers: { GET: admin((request) => listReply(allTopicPermissions(request), request)) } },
  {
    pattern: 'topic-permissions/:vhost/:user',
    handlers: {
      GET: admin((request) => {
        const found = topicPermissionsOf(request);
        if (found.length === 0) throw objectNotFound();
        return listReply(found.map(topicPermissionJson), request);
      }),
      PUT: admin(putTopicPermission),
      DELETE: admin(deleteTopicPermission),
    },
  },
  { pattern: 'topic-permissions/:vhost/:user/:exchange', handlers: { DELETE: admin(deleteTopicPermission) } },
];
