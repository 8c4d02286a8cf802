import { preconditionFailed } from '../protocol/errors.js';
import type { FieldTable } from '../protocol/field-table.js';
import { encodeProperties } from '../protocol/methods.generated.js';
import { rabbitTypeName, stringValue } from './field-values.js';
import { HEADERS_FLAG, hasProperty, Message } from './message.js';

// The keys as they sit in an encoded table (shortstr: length octet, bytes).
const CC_KEY = Buffer.from('\u0002CC', 'latin1');
const BCC_KEY = Buffer.from('\u0003BCC', 'latin1');

/** A message with CC/BCC headers: the extra routing keys, and the message as it is delivered (without BCC). */
export interface SenderSelected {
  message: Message;
  keys: string[];
}

/**
 * RabbitMQ's sender-selected distribution: arrays of strings in the CC and
 * BCC headers are routing keys the message is routed with as well, and the
 * BCC header is removed before anyone sees it. Null when there are none;
 * a CC or BCC that is not an array gets RabbitMQ's 406. The property bytes
 * are searched for the keys first, so other messages are not decoded.
 */
export function senderSelected(message: Message): SenderSelected | null {
  const raw = message.rawProperties;
  if (!hasProperty(raw, HEADERS_FLAG)) return null;
  if (raw.indexOf(CC_KEY) < 0 && raw.indexOf(BCC_KEY) < 0) return null;
  const properties = message.properties;
  const headers = properties.headers;
  if (headers === undefined || (headers['CC'] === undefined && headers['BCC'] === undefined)) return null;
  const keys = [...routes(headers, 'CC'), ...routes(headers, 'BCC')];
  if (headers['BCC'] === undefined) return { message, keys };
  const delivered = { ...headers };
  delete delivered['BCC'];
  const stripped = new Message(message.exchange, message.routingKey, encodeProperties({ ...properties, headers: delivered }), message.body, message.bodySize);
  return { message: stripped, keys };
}

function routes(headers: FieldTable, name: 'CC' | 'BCC'): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw preconditionFailed(`invalid message: {unacceptable_type_in_header,"${name}",${rabbitTypeName(value)}}`);
  const keys: string[] = [];
  for (const route of value) {
    const key = stringValue(route);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}
