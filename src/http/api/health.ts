import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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

/** Seconds in each unit, as RabbitMQ counts them (a month is a twelfth of a 365-day year). */
const UNIT_SECONDS: Record<string, number> = { days: 86_400, weeks: 7 * 86_400, months: (365 / 12) * 86_400, years: 365 * 86_400 };

/**
 * GET /api/health/checks/certificate-expiration/{within}/{unit}: 503 when a certificate of the amqps listener
 * (its certificate file or its CA file: RabbitMQ checks the AMQP listeners only) expires within that time. The
 * files are read on each call, so a reloaded certificate counts.
 */
async function certificateExpiration({ context, params }: ApiRequest): Promise<ApiReply> {
  const unitSeconds = UNIT_SECONDS[params.unit.toLowerCase()];
  if (unitSeconds === undefined) throw badRequest('Time unit not recognised. Supported units: days, weeks, months, years.');
  if (!/^[+-]?\d+$/.test(params.within)) throw badRequest('Invalid expiration value.');
  const files = context.amqpTlsFiles;
  const listener = context.listeners.find((l) => l.protocol === 'amqp/ssl');
  if (files === undefined || listener === undefined) return OK;
  const deadline = Date.now() + Number(params.within) * unitSeconds * 1000;
  const certfileExpiresOn = await expiringCertificates(files.certfile, deadline);
  const cacertfileExpiresOn = files.cacertfile === '' ? [] : await expiringCertificates(files.cacertfile, deadline);
  if (certfileExpiresOn.length === 0 && cacertfileExpiresOn.length === 0) return OK;
  const expired = {
    cacertfile: files.cacertfile === '' ? null : files.cacertfile,
    cacertfile_expires_on: cacertfileExpiresOn,
    certfile: files.certfile,
    certfile_expires_on: certfileExpiresOn,
    interface: listener.host,
    node: context.nodeName,
    port: listener.port,
    protocol: listener.protocol,
  };
  return { status: 503, body: { status: 'failed', reason: 'Certificates expiring', expired: [expired] } };
}

/** The expiry dates of the file's certificates that end before the deadline, as RabbitMQ prints them (UTC). */
async function expiringCertificates(file: string, deadline: number): Promise<string[]> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const dates: string[] = [];
  for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) {
    let validTo: Date;
    try {
      validTo = new Date(new X509Certificate(block).validTo);
    } catch {
      continue;
    }
    if (validTo.getTime() < deadline) dates.push(erlangDateTime(validTo));
  }
  return dates;
}

/** `2026-12-02 7:25:56`: the hour unpadded, as RabbitMQ's check prints it. */
function erlangDateTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} ${date.getUTCHours()}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
}

export const healthRoutes: Route[] = [
  { pattern: 'health/checks/certificate-expiration/:within/:unit', handlers: { GET: certificateExpiration } },
  { pattern: 'health/checks/alarms', handlers: { GET: ({ context }) => alarmsCheck(context, 'cluster') } },
  { pattern: 'health/checks/local-alarms', handlers: { GET: ({ context }) => alarmsCheck(context, 'node') } },
  // Vhosts of a single node never go down on their own.
  { pattern: 'health/checks/virtual-hosts', handlers: { GET: () => OK } },
  { pattern: 'health/checks/port-listener/:port', handlers: { GET: portListener } },
  { pattern: 'health/checks/protocol-listener/:protocol', handlers: { GET: protocolListener } },
  { pattern: 'healthchecks/node', handlers: { GET: () => OK } },
  { pattern: 'aliveness-test/:vhost', handlers: { GET: alivenessTest } },
];
