import type { IncomingHttpHeaders } from 'node:http';
import type { Broker } from '../broker/broker.js';
import type { Logger } from '../logger.js';
import type { Connection } from '../session/connection.js';
import type { ApiUser } from './auth.js';

/** An answer with RabbitMQ's error body: `{"error":…,"reason":…}`. Handlers throw it; the server writes it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: unknown,
  ) {
    super(`${status} ${error}: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`);
  }
}

/** RabbitMQ's answer for an unknown object and an unknown route alike. */
export function objectNotFound(): HttpError {
  return new HttpError(404, 'Object Not Found', 'Not Found');
}

export function badRequest(reason: unknown): HttpError {
  return new HttpError(400, 'bad_request', reason);
}

/** A listener of this node, as overview and the listener health checks report it. */

export interface Listener {
  /** What it speaks: `amqp` (and, as they come, `amqps`, `http`…). */
  readonly protocol: string;
  /** The address it is bound to, as the socket reports it (`::` or `0.0.0.0` for all addresses). */
  readonly host: string;
  readonly port: number;
  /** RabbitMQ's socket_opts in /api/overview, for the TLS listeners (their files and verification). */
  readonly socketOpts?: Record<string, unknown>;
}

/** What the API reads and acts on: the broker model, the live AMQP connections, the node's identity. */
export interface ApiContext {
  readonly broker: Broker;
  readonly connections: ReadonlySet<Connection>;
  readonly listeners: Listener[];
  /** `warren@<host>`, used wherever RabbitMQ names its node. */
  readonly nodeName: string;
  readonly clusterName: string;
  readonly productVersion: string;
  readonly startedAt: number;
  /** The memory alarm's threshold in bytes and the disk alarm's in free bytes. */
  readonly memoryLimit: number;
  readonly diskFreeLimit: number;
  /** Users who may log in from loopback addresses only, over HTTP as over AMQP. */
  readonly loopbackUsers: readonly string[];
  /** The amqps listener's certificate and CA files (re-read by the certificate-expiration check), when it runs. */
  readonly amqpTlsFiles?: { readonly certfile: string; readonly cacertfile: string };
}

export interface ApiRequest {
  readonly context: ApiContext;
  readonly user: ApiUser;
  /** Percent-decoded path parameters, in the order of the route's `:name` segments. */
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The JSON body of a PUT or POST ({} when empty; undefined on `rawBody` routes). */
  readonly body: unknown;
  /** The body as received (what `rawBody` routes parse themselves). */
  readonly rawBody: Buffer;
  /** The management server's log. */
  readonly log: Logger;
}

/** A handler's answer: a status and, unless empty, a JSON body. */
export interface ApiReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: ApiRequest) => ApiReply | Promise<ApiReply>;

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface Route {
  /** Segments after /api; `:name` captures one segment. */
  readonly pattern: string;
  readonly handlers: Partial<Record<Method, Handler>>;
  /** Answered without credentials (GET /api/auth, which the UI calls before login). */
  readonly public?: boolean;
  /** Credentials may come as `?auth=<base64 user:pass>` (RabbitMQ's definitions download and upload). */
  readonly queryAuth?: boolean;
  /** The handler parses the body itself (definitions: JSON or a multipart upload, with RabbitMQ's own error for bad JSON). */
  readonly rawBody?: boolean;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

interface CompiledRoute {
  route: Route;
  segments: string[];
}

/** Matches `/api/...` paths against the routes; the first match wins, so literal routes go before captures. */
export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.pattern.split('/').filter((s) => s !== '') }));
  }

  /**
   * `rawPath` is the request path as sent (before the query). Segments are
   * percent-decoded one by one, after splitting, so `%2F` (or `%2f`) is a
   * slash inside a name. A trailing slash is ignored. Returns undefined for
   * an unknown route or a segment that is not valid percent-encoding.
   */
  match(rawPath: string): RouteMatch | undefined {
    const raw = rawPath.split('/');
    if (raw[0] !== '' || raw[1] !== 'api') return undefined;
    const parts = raw.slice(2);
    if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
    let decoded: string[];
    try {
      decoded = parts.map((part) => decodeURIComponent(part));
    } catch {
      return undefined;
    }
    for (const { route, segments } of this.compiled) {
      if (segments.length !== decoded.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        if (segment.startsWith(':')) params[segment.slice(1)] = decoded[i];
        else if (segment !== decoded[i]) {
          matched = false;
          break;
        }
      }
      if (matched) return { route, params };
    }
    return undefined;
  }
}

/** The `allow` header of OPTIONS, as RabbitMQ writes it: HEAD with GET, the route's methods, then OPTIONS. */
export function allowHeader(route: Route): string {
  const methods = (['GET', 'PUT', 'POST', 'DELETE'] as const).filter((m) => route.handlers[m] !== undefined);
  return [...(route.handlers.GET !== undefined ? ['HEAD'] : []), ...methods, 'OPTIONS'].join(', ');
}
