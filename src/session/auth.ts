import type { Broker, User } from '../broker/broker.js';
import { AmqpError } from '../protocol/errors.js';
import { decodeTable } from '../protocol/field-table.js';
import { ReplyCode } from '../protocol/reply-codes.js';

export const MECHANISMS = 'PLAIN AMQPLAIN';

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
  throw AmqpError.connection(ReplyCode.COMMAND_INVALID, `unknown authentication mechanism '${mechanism}'`);
}

export function authenticate(broker: Broker, mechanism: string, response: Buffer, remoteIsLoopback: boolean): User {
  const { username, password } = parseCredentials(mechanism, response);
  const user = broker.users.get(username);
  if (user === undefined || user.password !== password) throw refused(mechanism);
  if (user.loopbackOnly && !remoteIsLoopback) {
    throw AmqpError.connection(ReplyCode.ACCESS_REFUSED, `user '${username}' can only connect via localhost`);
  }
  return user;
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
