import type { FieldTable, FieldValue } from '../protocol/field-table.js';

/** A canonical text of a field value: equal values give equal text, key order ignored. */
export function canonicalValue(value: FieldValue | undefined): string {
  if (value === null || value === undefined) return 'V';
  if (typeof value === 'string') return `S${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `I${value}` : `D${value}`;
  if (typeof value === 'bigint') return `I${value}`;
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (Buffer.isBuffer(value)) return `x${value.toString('hex')}`;
  if (value instanceof Date) return `T${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(canonicalValue).join(',')}]`;
  if (typeof value === 'object' && 'type' in value && 'value' in value && Object.keys(value).length === 2) {
    return canonicalValue((value as { value: FieldValue }).value);
  }
  return canonicalTable(value as FieldTable);
}

export function canonicalTable(table: FieldTable | undefined): string {
  if (table === undefined) return '{}';
  const keys = Object.keys(table).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalValue(table[k])}`).join(',')}}`;
}

/** How RabbitMQ prints a value in an "inequivalent arg" reply text. */
export function describeValue(value: FieldValue | undefined): string {
  if (value === undefined) return 'none';
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return String(Math.floor(value.getTime() / 1000));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if ('value' in value && 'type' in value) return describeValue((value as { value: FieldValue }).value);
    return canonicalTable(value as FieldTable);
  }
  return String(value);
}

/** A longstr (or byte array) field as text; undefined for other types. */
export function stringValue(value: FieldValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** The names RabbitMQ gives field types in its messages. */
export function rabbitTypeName(value: FieldValue): string {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return 'longstr';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'bigint') return 'long';
  if (typeof value === 'number') return Number.isInteger(value) ? 'signedint' : 'double';
  if (value === null) return 'void';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'timestamp';
  return 'table';
}
