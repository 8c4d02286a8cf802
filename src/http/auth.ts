import type { Broker } from '../broker/broker.js';
import { checkPassword } from '../broker/access/users.js';
import { isLoopback } from '../session/auth.js';

/**
 * HTTP authentication and authorisation of the management API, in one place:
 * the Authorization header in, the user and its tags (or RabbitMQ's exact
 * 401 answer) out.
 */

export interface ApiUser {
  readonly name: string;
  readonly tags: readonly string[];
}

/** RabbitMQ answers 401 (never 403) to every refusal; only some carry www-authenticate. */
export interface AuthRefusal {
  readonly status: 401;
  /** The JSON body, or undefined for the empty body of a request without credentials. */
  readonly body: { error: string; reason: string } | undefined;
  readonly headers: Record<string, string>;
}

export type AuthResult = { ok: true; user: ApiUser } | { ok: false; refusal: AuthRefusal };

/** Who calls a route that needs no credentials (GET /api/auth): nobody, with no vhost. */
export const ANONYMOUS: ApiUser = { name: '', tags: [] };

/** The tags that let a user use the management API at all (RabbitMQ's "management user"). */
const MANAGEMENT_TAGS = new Set(['management', 'policymaker', 'monitoring', 'administrator']);

const CHALLENGE = { 'www-authenticate': 'Basic realm="RabbitMQ Management"' };

/**
 * `queryAuth` is the `?auth=<base64 user:pass>` parameter, taken when there is
 * no Authorization header on routes that allow it (RabbitMQ's UI downloads
 * and uploads definitions that way, since a browser link carries no header).
 */
export function authenticateHttp(
  broker: Broker,
  loopbackUsers: readonly string[],
  authorization: string | undefined,
  remoteAddress: string | undefined,
  queryAuth: string | null = null,
): AuthResult {
  // An empty Authorization header counts as none, so that ?auth= still applies.
  const header = authorization === undefined || authorization === '' ? undefined : authorization;
  const credentials = basicCredentials(header ?? (queryAuth === null ? undefined : `Basic ${queryAuth}`));
  if (credentials === undefined) return refuse(undefined, CHALLENGE);
  const user = broker.users.get(credentials.username);
  if (user === undefined || !checkPassword(user, credentials.password)) {
    return refuse({ error: 'not_authorized', reason: 'Login failed' }, CHALLENGE);
  }
  if (loopbackUsers.includes(user.name) && !isLoopback(remoteAddress)) {
    return refuse({ error: 'not_authorised', reason: 'User can only log in via localhost' }, CHALLENGE);
  }
  if (!user.tags.some((tag) => MANAGEMENT_TAGS.has(tag))) return refuse({ error: 'not_authorised', reason: 'Not management user' }, {});
  return { ok: true, user: { name: user.name, tags: user.tags } };
}

/** RabbitMQ's is_admin: the administrator tag. */
export function isAdministrator(user: ApiUser): boolean {
  return user.tags.includes('administrator');
}

/** RabbitMQ's is_monitor: monitoring or administrator; such a user sees every vhost, connection and channel. */
export function isMonitor(user: ApiUser): boolean {
  return isAdministrator(user) || user.tags.includes('monitoring');
}

/** RabbitMQ's is_policymaker: policymaker or administrator. */
export function isPolicymaker(user: ApiUser): boolean {
  return isAdministrator(user) || user.tags.includes('policymaker');
}

/** Whether the user may act in the vhost (declare, delete, publish, get); RabbitMQ refuses with 401. */
export function checkVhostAccess(broker: Broker, user: ApiUser, vhost: string): AuthRefusal | undefined {
  if (broker.permissions.hasAccess(user.name, vhost)) return undefined;
  return { status: 401, body: { error: 'not_authorised', reason: 'User not authorised to access virtual host' }, headers: {} };
}

function refuse(body: AuthRefusal['body'], headers: Record<string, string>): AuthResult {
  return { ok: false, refusal: { status: 401, body, headers } };
}

function basicCredentials(authorization: string | undefined): { username: string; password: string } | undefined {
  if (authorization === undefined) return undefined;
  const match = /^basic\s+(\S+)\s*$/i.exec(authorization);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
