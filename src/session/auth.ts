import type { Broker } from '../broker/broker.js';
import { checkPassword, type User } from '../broker/access/users.js';
import { AmqpError } from '../protocol/errors.js';
import { decodeTable } from '../protocol/field-table.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { PeerCertificate } from './tls-session.js';

/** Credentials from a connection.start-ok response, by SASL mechanism. */
export function parseCredentials(mechanism: string, response: Buffer): { username: string; password: string } {
  if (mechanism === 'PLAIN') {
    // authzid NUL authcid NUL password
    const parts = response.toString('utf8').split('\u0000');
    if (parts.length !== 3) throw refused(mechanism);
    return { username: parts[1], password: parts[2] };
  }
  if (mechanism === 'AMQPLAIN') {
    // A field table without its length prefix.
    const framed = Buffer.allocUnsafe(response.length + 4);
    framed.writeUInt32BE(response.length, 0);
    response.copy(framed, 4);
    const table = decodeTable(framed, 0).table;
    return { username: String(table.LOGIN ?? ''), password: String(table.PASSWORD ?? '') };
  }
  throw unknownMechanism(mechanism);
}

export interface LoginRules {
  /** Mechanisms offered in connection.start, in order. */
  readonly mechanisms: readonly string[];
  /** Users who may log in only on a loopback address. */
  readonly loopbackUsers: readonly string[];
  /** What EXTERNAL logs in as: the client certificate subject's distinguished name, or its common name. */
  readonly certificateLoginFrom: 'distinguished_name' | 'common_name';
}

/** The mechanisms a connection is offered: EXTERNAL only over TLS (as RabbitMQ, also to a client without a certificate). */
export function offeredMechanisms(rules: LoginRules, overTls: boolean): readonly string[] {
  return overTls ? rules.mechanisms : rules.mechanisms.filter((mechanism) => mechanism !== 'EXTERNAL');
}

/**
 * Checks a connection.start-ok. Throws RabbitMQ's 403 for any refusal (the
 * client is not told why); `onRefused` gets the reason for the log.
 * EXTERNAL logs in as the user the verified client certificate names, without a password.
 */
export function authenticate(
  broker: Broker,
  rules: LoginRules,
  offered: readonly string[],
  mechanism: string,
  response: Buffer,
  localIsLoopback: boolean,
  peerCertificate: PeerCertificate | undefined,
  onRefused: (reason: string) => void,
): User {
  if (!offered.includes(mechanism)) throw unknownMechanism(mechanism);
  let username = '';
  try {
    let user: User | undefined;
    if (mechanism === 'EXTERNAL') {
      if (peerCertificate === undefined) throw refusedBecause(mechanism, 'no verified client certificate');
      username = certificateUsername(peerCertificate, rules.certificateLoginFrom);
      if (username === '') throw refusedBecause(mechanism, `the client certificate ${peerCertificate.subject} has no common name`);
      user = broker.users.get(username);
      if (user === undefined) throw refusedBecause(mechanism, `user '${username}' - invalid credentials`);
    } else {
      const credentials = parseCredentials(mechanism, response);
      username = credentials.username;
      user = broker.users.get(username);
      if (user === undefined) throw refusedBecause(mechanism, `user '${username}' - invalid credentials`);
      if (!checkPassword(user, credentials.password)) throw refusedBecause(mechanism, `user '${username}' - invalid credentials`);
    }
    // Decided on the address the connection arrived on, as RabbitMQ does.
    if (rules.loopbackUsers.includes(username) && !localIsLoopback) {
      throw refusedBecause(mechanism, `user '${username}' can only connect via localhost`);
    }
    broker.logins.succeeded++;
    return user;
  } catch (error) {
    broker.logins.failed++;
    if (error instanceof LoginRefused) onRefused(`${mechanism} login refused: ${error.reason}`);
    throw error instanceof LoginRefused ? error.amqpError : error;
  }
}

/** RabbitMQ's rabbit_ssl:peer_cert_auth_name: the DN, or the CNs joined with commas. */
function certificateUsername(certificate: PeerCertificate, from: LoginRules['certificateLoginFrom']): string {
  return from === 'distinguished_name' ? certificate.subject : certificate.commonNames.join(',');
}

class LoginRefused extends Error {
  constructor(
    readonly reason: string,
    readonly amqpError: AmqpError,
  ) {
    super(reason);
  }
}

function refusedBecause(mechanism: string, reason: string): LoginRefused {
  return new LoginRefused(reason, refused(mechanism));
}

function unknownMechanism(mechanism: string): AmqpError {
  return AmqpError.connection(ReplyCode.COMMAND_INVALID, `unknown authentication mechanism '${mechanism}'`);
}

function refused(mechanism: string): AmqpError {
  return AmqpError.connection(
    ReplyCode.ACCESS_REFUSED,
    `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
  );
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
