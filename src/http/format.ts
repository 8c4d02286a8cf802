import { createHash } from 'node:crypto';
import { canonicalTable } from '../broker/field-values.js';
import { Decimal, type FieldTable, type FieldValue, TypedValue } from '../protocol/field-table.js';
import type { BasicProperties } from '../protocol/methods.generated.js';
import { badRequest } from './router.js';

/** A field table as RabbitMQ's JSON shows it: tables as objects, long strings as text, timestamps as seconds. */
export function tableToJson(table: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: FieldValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (value instanceof Decimal) return value.value / 10 ** value.scale;
  if (value instanceof TypedValue) return valueToJson(value.value);
  if (Array.isArray(value)) return value.map(valueToJson);
  return tableToJson(value);
}

/** A JSON object given as `arguments` or `headers`: JSON values are field values already. */
export function jsonToTable(value: unknown, key: string): FieldTable {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${key} must be an object`);
  return value as FieldTable;
}

const PROPERTY_NAMES: [keyof BasicProperties, string][] = [
  ['contentType', 'content_type'],
  ['contentEncoding', 'content_encoding'],
  ['headers', 'headers'],
  ['deliveryMode', 'delivery_mode'],
  ['priority', 'priority'],
  ['correlationId', 'correlation_id'],
  ['replyTo', 'reply_to'],
  ['expiration', 'expiration'],
  ['messageId', 'message_id'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['userId', 'user_id'],
  ['appId', 'app_id'],
  ['clusterId', 'cluster_id'],
];

/** The numeric properties and the largest value their AMQP type holds (octets; a 64-bit timestamp, as far as JSON numbers are exact). */
const NUMERIC_LIMITS = { deliveryMode: 255, priority: 255, timestamp: Number.MAX_SAFE_INTEGER };

/** Basic properties under RabbitMQ's JSON names (delivery_mode, headers…). */
export function propertiesToJson(properties: BasicProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, name] of PROPERTY_NAMES) {
    const value = properties[field];
    if (value === undefined) continue;
    out[name] = field === 'headers' ? tableToJson(value as FieldTable) : value;
  }
  return out;
}

/** The `properties` object of a publish: unknown names are ignored, as RabbitMQ does; a wrong type is a 400. */
export function jsonToProperties(json: unknown): BasicProperties {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return {};
  const given = json as Record<string, unknown>;
  const properties: Record<string, unknown> = {};
  for (const [field, name] of PROPERTY_NAMES) {
    const value = given[name];
    if (value === undefined || value === null) continue;
    if (field === 'headers') properties.headers = jsonToTable(value, 'headers');
    else if (field in NUMERIC_LIMITS) {
      const limit = NUMERIC_LIMITS[field as keyof typeof NUMERIC_LIMITS];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > limit) {
        throw badRequest(`${name} must be an integer from 0 to ${limit}`);
      }
      properties[field] = value;
    } else {
      if (typeof value !== 'string') throw badRequest(`${name} must be a string`);
      properties[field] = value;
    }
  }
  return properties as BasicProperties;
}

/**
 * quote_plus as RabbitMQ's rabbit_http_util has it: letters, digits and
 * `.-~_` stay, a space becomes `+`, every other UTF-8 byte `%XX`.
 */
export function quotePlus(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-~_]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A binding's `properties_key`, which names it in URLs: `~` for an empty key
 * without arguments; else the quoted key (a `~` in it as `%7E`), and with
 * arguments `~` and a hash of them (opaque to clients: RabbitMQ's differs).
 */
export function propertiesKey(routingKey: string, args: FieldTable): string {
  const hasArguments = Object.keys(args).length > 0;
  if (routingKey === '' && !hasArguments) return '~';
  const key = quotePlus(routingKey).replaceAll('~', '%7E');
  if (!hasArguments) return key;
  const hash = createHash('sha256').update(canonicalTable(args)).digest().subarray(0, 4);
  return `${key}~${hash.toString('base64url')}`;
}
