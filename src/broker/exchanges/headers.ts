import type { FieldTable, FieldValue } from '../../protocol/field-table.js';
import type { Router } from './router.js';

/** The x-match modes of RabbitMQ's headers exchange (rabbit_exchange_type_headers). */
export type XMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

const X_MATCH_VALUES: ReadonlySet<string> = new Set(['all', 'any', 'all-with-x', 'any-with-x']);

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A plain object that is neither a Buffer, a Date nor an array. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date);
}

/**
 * Strips explicit-type wrappers (TypedValue: own props `type` and `value` only;
 * recognised structurally because this module imports only types from
 * field-table.ts) so values compare as
 * RabbitMQ compares them: by decoded value, not by wire type (it matches with
 * `PV == DV`, ignoring the type tags of top-level fields).
 */
function unwrap(v: unknown): unknown {
  while (isPlainObject(v) && typeof v.type === 'string' && hasOwn(v, 'value') && Object.keys(v).length === 2) {
    v = v.value;
  }
  return v;
}

/** Numeric view of number / bigint / timestamp (Date, whole seconds in AMQP), else undefined. */
function numeric(v: unknown): number | bigint | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof Date) return v.getTime() / 1000;
  return undefined;
}

/**
 * Equality of two field values with RabbitMQ's headers-exchange rule (Erlang
 * `==` on decoded values): numbers compare numerically across integer/float/
 * bigint (and timestamps, which RabbitMQ decodes to integer seconds); strings
 * and byte arrays compare by bytes (both are binaries in RabbitMQ); booleans
 * only with booleans; void only with void; decimals by scale and value;
 * arrays element-wise; tables key-wise, deeply. Different classes never match
 * (1 vs "1", true vs 1).
 */
export function fieldValuesEqual(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  return eq(unwrap(a), unwrap(b));
}

function eq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  const na = numeric(a);
  if (na !== undefined) {
    const nb = numeric(b);
    // Loose == is exactly numeric equality between number and bigint.
    // eslint-disable-next-line eqeqeq
    return nb !== undefined && na == nb;
  }
  if (typeof a === 'string') {
    if (Buffer.isBuffer(b)) return b.equals(Buffer.from(a, 'utf8'));
    return false; // a !== b already
  }
  if (Buffer.isBuffer(a)) {
    if (Buffer.isBuffer(b)) return a.equals(b);
    if (typeof b === 'string') return a.equals(Buffer.from(b, 'utf8'));
    return false;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!eq(unwrap(a[i]), unwrap(b[i]))) return false;
    return true;
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!hasOwn(b, k) || !eq(unwrap(a[k]), unwrap(b[k]))) return false;
    return true;
  }
  return false; // booleans (a !== b), or mismatched classes
}

/** Formats a value roughly like Erlang's ~tp, for error texts. */
function erlangish(v: unknown): string {
  if (typeof v === 'string') return `<<${JSON.stringify(v)}>>`;
  if (Buffer.isBuffer(v)) return `<<${JSON.stringify(v.toString('latin1'))}>>`;
  if (v === null || v === undefined) return 'undefined';
  if (v instanceof Date) return String(Math.floor(v.getTime() / 1000));
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    } catch {
      return String(v);
    }
  }
  return String(v);
}

/** RabbitMQ's names for the field-type octets (rabbit_binary_parser). */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint', i: 'unsignedint',
  l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', x: 'binary', A: 'array', T: 'timestamp',
  F: 'table', V: 'void',
};

/** RabbitMQ's name for the AMQP type a JS value would most likely carry. */
function amqpTypeName(raw: unknown): string {
  if (isPlainObject(raw) && typeof raw.type === 'string' && hasOwn(raw, 'value') && Object.keys(raw).length === 2) {
    return TYPE_NAMES[raw.type] ?? raw.type;
  }
  const v = raw;
  if (v === null || v === undefined) return 'void';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'number') return Number.isInteger(v) ? (v >= -0x80000000 && v <= 0x7fffffff ? 'signedint' : 'long') : 'double';
  if (Buffer.isBuffer(v)) return 'binary';
  if (v instanceof Date) return 'timestamp';
  if (Array.isArray(v)) return 'array';
  if (isPlainObject(v) && hasOwn(v, 'scale') && hasOwn(v, 'value') && Object.keys(v).length === 2) return 'decimal';
  return 'table';
}

/**
 * Validates the x-match argument of a headers-exchange binding, as RabbitMQ's
 * rabbit_exchange_type_headers:validate_binding/2 does. Returns null if the
 * binding is acceptable (x-match absent, or one of all / any / all-with-x /
 * any-with-x), else the error text RabbitMQ sends with 406 PRECONDITION_FAILED.
 */
export function validateHeadersBindingArgs(args: FieldTable): string | null {
  if (!hasOwn(args, 'x-match')) return null;
  const raw: unknown = args['x-match'];
  if (raw === undefined) return null;
  const v = unwrap(raw);
  if (typeof v === 'string') {
    if (X_MATCH_VALUES.has(v)) return null;
    return `Invalid x-match field value ${erlangish(v)}; expected all, any, all-with-x, or any-with-x`;
  }
  return `Invalid x-match field type ${amqpTypeName(raw)} (value ${erlangish(v)}); expected longstr`;
}

/** A binding's arguments reduced to what matching needs. */
export interface CompiledHeadersBinding {
  readonly mode: 'all' | 'any';
  /** Binding keys that take part in matching. */
  readonly keys: readonly string[];
  /** Matching values, unwrapped; null = void = match on presence only. */
  readonly values: readonly unknown[];
}

/** Reduces binding args to their matching form (x-match parsed, ignored keys dropped). */
export function compileHeadersBinding(args: FieldTable): CompiledHeadersBinding {
  const xm = unwrap(hasOwn(args, 'x-match') ? args['x-match'] : undefined);
  // Like RabbitMQ's parse_x_match/1: anything unrecognised means 'all'.
  const withX = xm === 'all-with-x' || xm === 'any-with-x';
  const mode = xm === 'any' || xm === 'any-with-x' ? 'any' : 'all';
  const keys: string[] = [];
  const values: unknown[] = [];
  for (const k of Object.keys(args)) {
    if (k === 'x-match') continue; // never matched, whatever the mode
    if (!withX && k.startsWith('x-')) continue;
    const v = unwrap(args[k]);
    if (v === undefined) continue;
    keys.push(k);
    values.push(v);
  }
  return { mode, keys, values };
}

/** Whether message headers match a compiled binding (RabbitMQ headers_match/2). */
export function headersMatchCompiled(b: CompiledHeadersBinding, headers: FieldTable | undefined): boolean {
  const h = headers ?? {};
  const { keys, values } = b;
  if (b.mode === 'all') {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (!hasOwn(h, k)) return false;
      const dv = unwrap(h[k]);
      if (dv === undefined) return false;
      const pv = values[i];
      if (pv !== null && !eq(pv, dv)) return false;
    }
    return true; // vacuously true with no matching keys
  }
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!hasOwn(h, k)) continue;
    const dv = unwrap(h[k]);
    if (dv === undefined) continue;
    const pv = values[i];
    if (pv === null || eq(pv, dv)) return true;
  }
  return false; // never true with no matching keys
}

/** Convenience: whether `headers` match binding `args`. */
export function headersMatch(args: FieldTable, headers: FieldTable | undefined): boolean {
  return headersMatchCompiled(compileHeadersBinding(args), headers);
}

interface HeadersBinding<T> {
  readonly destination: T;
  readonly args: FieldTable;
  readonly compiled: CompiledHeadersBinding;
}

/**
 * Headers exchange: matches message headers against binding arguments; the
 * routing key is ignored. Linear in the number of bindings, as in RabbitMQ.
 */
export class HeadersRouter<T> implements Router<T> {
  private readonly bindings: HeadersBinding<T>[] = [];

  bind(destination: T, _bindingKey: string, args: FieldTable): void {
    this.bindings.push({ destination, args, compiled: compileHeadersBinding(args) });
  }

  /** Removes one binding of `destination` whose args equal `args` (same object, or structurally identical). */
  unbind(destination: T, _bindingKey: string, args: FieldTable): void {
    const list = this.bindings;
    let idx = -1;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (b.destination === destination && b.args === args) {
        idx = i;
        break;
      }
    }
    if (idx < 0) {
      for (let i = 0; i < list.length; i++) {
        const b = list[i]!;
        if (b.destination === destination && sameArgs(b.args, args)) {
          idx = i;
          break;
        }
      }
    }
    if (idx >= 0) list.splice(idx, 1);
  }

  route(_routingKey: string, headers: FieldTable | undefined, out: T[]): void {
    const list = this.bindings;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (headersMatchCompiled(b.compiled, headers)) out.push(b.destination);
    }
  }
}

/** Strict structural equality of binding argument tables (types must agree: 1 and 1n differ). */
function sameArgs(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ka = Object.keys(ao);
  if (ka.length !== Object.keys(bo).length) return false;
  for (const k of ka) if (!hasOwn(bo, k) || !sameArgs(ao[k], bo[k])) return false;
  return true;
}
