import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { listen } from '../listen.js';
import type { Logger } from '../logger.js';
import { AmqpError } from '../protocol/errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { apiRoutes } from './api/routes.js';
import { ANONYMOUS, authenticateHttp } from './auth.js';
import { allowHeader, type ApiContext, type ApiReply, HttpError, type Method, objectNotFound, type Route, Router } from './router.js';
import { loadStaticFiles, type StaticFile, UI_DIRECTORY } from './static.js';

/** Larger request bodies are refused with 413 (RabbitMQ's management.http.max_body_size is 20 MB). */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

export interface ManagementServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** The HTTPS listener's: its TLS options, the check of a client's certificate (src/tls.ts refusal) and where it goes. */
export interface ManagementTls {
  readonly options: TlsOptions;
  /** Why a client that completed the handshake is turned away, or undefined. */
  refusal(socket: TLSSocket): string | undefined;
}

export interface SecureManagementServer extends ManagementServer {
  /** New HTTPS connections use these certificates; open ones keep theirs. */
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * The management HTTP API on node:http, with RabbitMQ's conventions: routing
 * before authentication (an unknown route is a 404 even without credentials),
 * 405 with an empty body for a method a route lacks, Basic auth with the 401
 * answers of auth.ts, JSON bodies typed `application/json` exactly. Every
 * request is guarded: a handler that throws gets a 500 and an error-level
 * log line, and the server goes on.
 */
export function managementApp(context: ApiContext, logger: Logger, routes: readonly Route[] = apiRoutes): RequestListener {
  const router = new Router(routes);
  const log = logger.child({ component: 'management' });
  const ui = loadStaticFiles();
  if (ui.size === 0) log.warn({ directory: UI_DIRECTORY }, 'web UI files not found; serving the API only');
  return (request, response) => {
    handle(router, ui, context, request, response, log).catch((error: unknown) => {
      log.error({ err: error, method: request.method, url: request.url }, 'management request failed');
      if (!response.headersSent) send(response, { status: 500, body: { error: 'internal_server_error', reason: 'Internal Server Error' } }, false);
      else response.destroy();
    });
  };
}

/** The management API over HTTP on port (0 picks a free one). */
export async function startManagementServer(
  context: ApiContext,
  port: number,
  host: string,
  logger: Logger,
  routes: readonly Route[] = apiRoutes,
): Promise<ManagementServer> {
  return startHttpManagementServer(managementApp(context, logger, routes), port, host, logger);
}

/** The management API over HTTP, serving `app` (see managementApp). */
export function startHttpManagementServer(app: RequestListener, port: number, host: string, logger: Logger): Promise<ManagementServer> {
  return listenManagement(createServer(app), 'http', port, host, logger);
}

/** The management API over HTTPS, serving `app` (the HTTP listener's, so both have one router). */
export async function startSecureManagementServer(
  app: RequestListener,
  tls: ManagementTls,
  port: number,
  host: string,
  logger: Logger,
): Promise<SecureManagementServer> {
  const server = createHttpsServer(tls.options, app);
  // As the amqps listener: a refused certificate and a failed or stalled handshake are logged and the socket closed.
  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let reason: string | undefined;
    try {
      reason = tls.refusal(socket);
    } catch (error) {
      // An unexpected error closes this client only, as on the amqps listener.
      logger.error({ event: 'tls.accept-failed', protocol: 'https', peer, err: error }, 'cannot check an HTTPS client; closing it');
      socket.destroy();
      return;
    }
    if (reason === undefined) return;
    logger.warn({ event: 'tls.refused', protocol: 'https', peer }, `refusing HTTPS client: ${reason}`);
    socket.destroy();
  });
  server.on('tlsClientError', (error, socket) => {
    const peer = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
    logger.warn({ event: 'tls.handshake-failed', protocol: 'https', peer, code: (error as NodeJS.ErrnoException).code }, `HTTPS TLS handshake failed: ${error.message}`);
    socket.destroy();
  });
  const listening = await listenManagement(server, 'https', port, host, logger);
  return { ...listening, setSecureContext: (options) => server.setSecureContext(options) };
}

async function listenManagement(server: Server | HttpsServer, protocol: 'http' | 'https', port: number, host: string, logger: Logger): Promise<ManagementServer> {
  const log = logger.child({ component: 'management' });
  // A request that is not HTTP (an AMQP client on the wrong port sends "AMQP\0\0\9\1") gets 400 and the socket closes.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('error', (error) => log.error({ err: error, protocol }, 'management listener error'));
  const address = await listen(server, port, host);
  logger.info({ protocol, host: address.address, port: address.port }, 'listening');
  return {
    port: address.port,
    host: address.address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(router: Router, ui: Map<string, StaticFile>, context: ApiContext, request: IncomingMessage, response: ServerResponse, log: Logger): Promise<void> {
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  if (path !== '/api' && !path.startsWith('/api/')) return serveStatic(ui, path, request, response);
  const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
  const body = await readBody(request);
  if (body === 'aborted') return;
  const head = request.method === 'HEAD';

  const match = router.match(path);
  if (match === undefined) return sendError(response, objectNotFound(), head);
  const { route, params } = match;
  if (request.method === 'OPTIONS') return send(response, { status: 200, headers: { allow: allowHeader(route) } }, false);
  const method = (head ? 'GET' : request.method) as Method;
  const handler = route.handlers[method];
  if (handler === undefined) return send(response, { status: 405, headers: { allow: allowHeader(route) } }, head);

  let user = ANONYMOUS;
  if (route.public !== true) {
    const auth = authenticateHttp(
      context.broker,
      context.loopbackUsers,
      request.headers.authorization,
      request.socket.remoteAddress,
      route.queryAuth === true ? query.get('auth') : null,
    );
    if (!auth.ok) return send(response, auth.refusal, head);
    user = auth.user;
  }
  if (body === 'too large') return sendError(response, new HttpError(413, 'bad_request', 'request body too large'), head);
  let json: unknown = route.rawBody === true ? undefined : {};
  if ((method === 'PUT' || method === 'POST') && body.length > 0 && route.rawBody !== true) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(response, new HttpError(400, 'bad_request', 'not_json'), head);
    }
  }

  let reply: ApiReply;
  try {
    reply = await handler({ context, user, params, query, headers: request.headers, body: json, rawBody: body, log });
  } catch (error) {
    if (error instanceof HttpError) return sendError(response, error, head);
    if (error instanceof AmqpError) return sendError(response, fromAmqpError(error), head);
    throw error;
  }
  if (reply.body !== undefined) reply.headers = { 'cache-control': 'no-cache', ...reply.headers };
  send(response, reply, head);
  log.debug({ method: request.method, url, status: reply.status }, 'management request');
}

/** The web UI: public files (the UI logs in through the API), revalidated by ETag. */
function serveStatic(ui: Map<string, StaticFile>, path: string, request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  const head = request.method === 'HEAD';
  const file = ui.get(path);
  if (file === undefined) return sendError(response, objectNotFound(), head);
  if (!head && request.method !== 'GET') return send(response, { status: 405, headers: { allow: 'GET, HEAD' } }, head);
  if (request.headers['if-none-match'] === file.headers.etag) {
    response.writeHead(304, { etag: file.headers.etag, 'cache-control': file.headers['cache-control'] });
    response.end();
    return;
  }
  response.writeHead(200, { ...file.headers, 'content-length': file.body.length });
  response.end(head ? undefined : file.body);
}

/**
 * A broker operation refused what was asked; the API answers as RabbitMQ's
 * does: a missing object is the generic 404, an access refusal a 401, any
 * other refusal (inequivalent, in use, not empty…) a 400 with the AMQP text.
 */
function fromAmqpError(error: AmqpError): HttpError {
  if (error.replyCode === ReplyCode.NOT_FOUND) return objectNotFound();
  if (error.replyCode === ReplyCode.ACCESS_REFUSED) return new HttpError(401, 'not_authorised', 'Access refused.');
  return new HttpError(400, 'bad_request', error.detail);
}

function sendError(response: ServerResponse, error: HttpError, head: boolean): void {
  send(response, { status: error.status, body: { error: error.error, reason: error.reason } }, head);
}

function send(response: ServerResponse, reply: ApiReply, head: boolean): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.body !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.body));
    headers['content-type'] = 'application/json';
  }
  if (reply.status !== 204) headers['content-length'] = payload?.length ?? 0;
  response.writeHead(reply.status, headers);
  response.end(head ? undefined : payload);
}

/**
 * The whole request body; 'too large' past MAX_BODY_BYTES (the rest is
 * drained, not kept); 'aborted' when the client went away mid-body (nobody
 * to answer, and nothing the server did wrong).
 */
function readBody(request: IncomingMessage): Promise<Buffer | 'too large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too large' : Buffer.concat(chunks)));
    request.on('error', () => resolve('aborted'));
  });
}
