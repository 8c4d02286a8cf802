import { describe, expect, it } from 'vitest';
import { Decimal, TypedValue, type FieldTable } from '../../../src/protocol/field-table.js';
import {
  HeadersRouter,
  fieldValuesEqual,
  headersMatch,
  validateHeadersBindingArgs,
} from '../../../src/broker/exchanges/headers.js';

interface Q {
  name: string;
}
const q = (name: string): Q => ({ name });

// [description, binding args, message headers, matches?]
const cases: [string, FieldTable, FieldTable | undefined, boolean][] = [
  // x-match = all (default)
  ['all: every key equal', { 'x-match': 'all', a: 1, b: 'x' }, { a: 1, b: 'x' }, true],
  ['all is the default', { a: 1, b: 'x' }, { a: 1, b: 'x', c: true }, true],
  ['all: extra message headers are fine', { a: 1 }, { a: 1, z: 'zz' }, true],
  ['all: one key missing', { a: 1, b: 'x' }, { a: 1 }, false],
  ['all: one value differs', { a: 1, b: 'x' }, { a: 1, b: 'y' }, false],
  ['all: no headers at all', { a: 1 }, undefined, false],
  ['all: empty headers', { a: 1 }, {}, false],
  ['all with no matching keys matches every message', { 'x-match': 'all' }, { a: 1 }, true],
  ['empty args match every message', {}, {}, true],
  ['empty args match a message without headers', {}, undefined, true],
  // x-match = any
  ['any: one key equal', { 'x-match': 'any', a: 1, b: 'x' }, { b: 'x' }, true],
  ['any: none equal', { 'x-match': 'any', a: 1, b: 'x' }, { a: 2, b: 'y' }, false],
  ['any: none present', { 'x-match': 'any', a: 1 }, { c: 1 }, false],
  ['any: no headers', { 'x-match': 'any', a: 1 }, undefined, false],
  ['any with no matching keys matches nothing', { 'x-match': 'any' }, { a: 1 }, false],
  ['any with only x- keys matches nothing', { 'x-match': 'any', 'x-a': 1 }, { 'x-a': 1 }, false],
  // x- keys are ignored by all/any, counted by *-with-x
  ['all ignores x- binding keys', { 'x-match': 'all', 'x-trace': 'on', a: 1 }, { a: 1 }, true],
  ['all with only x- keys matches all', { 'x-trace': 'on' }, {}, true],
  ['all-with-x requires x- keys', { 'x-match': 'all-with-x', 'x-trace': 'on', a: 1 }, { a: 1 }, false],
  ['all-with-x: x- keys present', { 'x-match': 'all-with-x', 'x-trace': 'on', a: 1 }, { a: 1, 'x-trace': 'on' }, true],
  ['any-with-x: only the x- key matches', { 'x-match': 'any-with-x', 'x-trace': 'on', a: 1 }, { 'x-trace': 'on' }, true],
  ['any: the x- key alone does not match', { 'x-match': 'any', 'x-trace': 'on', a: 1 }, { 'x-trace': 'on' }, false],
  ['x-match itself is never matched, even with-x', { 'x-match': 'all-with-x', a: 1 }, { a: 1 }, true],
  ['any-with-x with only x-match matches nothing', { 'x-match': 'any-with-x' }, { 'x-match': 'any-with-x' }, false],
  // void binding value: presence only
  ['void matches presence (any value)', { a: null }, { a: 'anything' }, true],
  ['void matches a void header', { a: null }, { a: null }, true],
  ['void does not match absence', { a: null }, { b: 1 }, false],
  ['any: void present', { 'x-match': 'any', a: null, b: 2 }, { a: 0 }, true],
  ['void header does not equal a non-void binding value', { a: 1 }, { a: null }, false],
  // type classes
  ['int vs string: no match', { a: 1 }, { a: '1' }, false],
  ['string vs int: no match', { a: '1' }, { a: 1 }, false],
  ['bool vs int: no match', { a: true }, { a: 1 }, false],
  ['false vs 0: no match', { a: false }, { a: 0 }, false],
  ['bool equal', { a: false }, { a: false }, true],
  ['bigint vs number: numeric equality', { a: 5n }, { a: 5 }, true],
  ['number vs bigint: numeric inequality', { a: 5 }, { a: 6n }, false],
  ['int vs float of equal value (Erlang ==)', { a: 2 }, { a: 2.0 }, true],
  ['float vs float', { a: 1.5 }, { a: 1.25 }, false],
  ['string vs byte array with the same bytes (both binaries)', { a: 'abc' }, { a: Buffer.from('abc') }, true],
  ['buffers by bytes', { a: Buffer.from([1, 2, 3]) }, { a: Buffer.from([1, 2, 3]) }, true],
  ['buffers differ', { a: Buffer.from([1, 2, 3]) }, { a: Buffer.from([1, 2, 4]) }, false],
  ['string case-sensitive', { a: 'X' }, { a: 'x' }, false],
  ['typed value vs plain value', { a: new TypedValue('f', 1.5) }, { a: 1.5 }, true],
  ['typed byte vs plain int (types ignored, Erlang ==)', { a: 5 }, { a: new TypedValue('b', 5) }, true],
  ['typed void binding value matches on presence', { a: new TypedValue('V', null) }, { a: 7 }, true],
  ['decimal equal', { a: new Decimal(2, 314) }, { a: new Decimal(2, 314) }, true],
  ['decimal different scale', { a: new Decimal(2, 314) }, { a: new Decimal(1, 314) }, false],
  ['decimal vs number', { a: new Decimal(0, 3) }, { a: 3 }, false],
  ['timestamp equal', { a: new Date(1_700_000_000_000) }, { a: new Date(1_700_000_000_000) }, true],
  ['Date vs decoded timestamp (integer seconds)', { a: new Date(1_700_000_000_000) }, { a: 1_700_000_000 }, true],
  ['timestamp differs', { a: new Date(1_700_000_000_000) }, { a: new Date(1_700_000_001_000) }, false],
  // nested values
  ['nested table equal', { a: { b: 1, c: ['x', 2] } }, { a: { c: ['x', 2], b: 1 } }, true],
  ['nested table value differs', { a: { b: 1 } }, { a: { b: 2 } }, false],
  ['nested table extra key', { a: { b: 1 } }, { a: { b: 1, c: 1 } }, false],
  ['nested table vs string', { a: { b: 1 } }, { a: 'b' }, false],
  ['array equal', { a: [1, 'two', [3]] }, { a: [1, 'two', [3]] }, true],
  ['array order matters', { a: [1, 2] }, { a: [2, 1] }, false],
  ['array length differs', { a: [1, 2] }, { a: [1, 2, 3] }, false],
  ['nested type mismatch', { a: [1] }, { a: ['1'] }, false],
  ['empty array vs empty table', { a: [] }, { a: {} }, false],
];

describe('headers matching table', () => {
  it.each(cases)('%s', (_desc, args, headers, expected) => {
    expect(headersMatch(args, headers)).toBe(expected);
    const r = new HeadersRouter<Q>();
    const d = q('d');
    r.bind(d, 'ignored-key', args);
    const out: Q[] = [];
    r.route('whatever', headers, out);
    expect(out).toEqual(expected ? [d] : []);
  });
});

describe('fieldValuesEqual', () => {
  it('is symmetric on the table above', () => {
    for (const [, args, headers] of cases) {
      for (const k of Object.keys(args)) {
        if (!headers || !(k in headers)) continue;
        expect(fieldValuesEqual(args[k], headers[k])).toBe(fieldValuesEqual(headers[k], args[k]));
      }
    }
  });
  it('NaN is not equal to itself (as no Erlang float is NaN, nothing should match it)', () => {
    expect(fieldValuesEqual(Number.NaN, Number.NaN)).toBe(false);
  });
});

describe('HeadersRouter', () => {
  it('routes to every matching binding, ignoring the routing key', () => {
    const r = new HeadersRouter<Q>();
    const a = q('a');
    const b = q('b');
    const c = q('c');
    r.bind(a, '', { format: 'pdf' });
    r.bind(b, 'x', { 'x-match': 'any', format: 'pdf', type: 'report' });
    r.bind(c, 'pdf', { format: 'zip' });
    const out: Q[] = [];
    r.route('pdf', { format: 'pdf' }, out);
    expect(out.map((d) => d.name).sort()).toEqual(['a', 'b']);
    const out2: Q[] = [];
    r.route('', { type: 'report' }, out2);
    expect(out2).toEqual([b]);
  });

  it('unbind removes exactly the binding with those args (structurally equal args suffice)', () => {
    const r = new HeadersRouter<Q>();
    const d = q('d');
    r.bind(d, '', { a: 1 });
    r.bind(d, '', { b: 2 });
    r.unbind(d, '', { a: 1 }); // a different but equal object
    const out: Q[] = [];
    r.route('', { a: 1 }, out);
    expect(out).toEqual([]);
    r.route('', { b: 2 }, out);
    expect(out).toEqual([d]);
  });

  it('unbind with args that differ in type (1 vs 1n) or belong to another destination removes nothing', () => {
    const r = new HeadersRouter<Q>();
    const d = q('d');
    r.bind(d, '', { a: 1 });
    r.unbind(d, '', { a: 1n });
    r.unbind(q('other'), '', { a: 1 });
    r.unbind(d, '', { a: 1, b: 2 });
    const out: Q[] = [];
    r.route('', { a: 1 }, out);
    expect(out).toEqual([d]);
  });

  it('unbind removes one of two identical bindings', () => {
    const r = new HeadersRouter<Q>();
    const d = q('d');
    const args = { a: 1 };
    r.bind(d, 'k1', args);
    r.bind(d, 'k2', args);
    r.unbind(d, 'k1', args);
    const out: Q[] = [];
    r.route('', { a: 1 }, out);
    expect(out).toEqual([d]);
  });
});

describe('validateHeadersBindingArgs', () => {
  it.each([
    [{}],
    [{ a: 1 }],
    [{ 'x-match': 'all' }],
    [{ 'x-match': 'any', a: 1 }],
    [{ 'x-match': 'all-with-x' }],
    [{ 'x-match': 'any-with-x' }],
    [{ 'x-match': new TypedValue('S', 'any') }],
  ] as FieldTable[][])('accepts %j', (args) => {
    expect(validateHeadersBindingArgs(args)).toBeNull();
  });

  it('rejects an unknown x-match string with RabbitMQ\'s text', () => {
    expect(validateHeadersBindingArgs({ 'x-match': 'some' })).toBe(
      'Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x',
    );
  });

  it('is case-sensitive, as RabbitMQ', () => {
    expect(validateHeadersBindingArgs({ 'x-match': 'ALL' })).toMatch(/^Invalid x-match field value/);
  });

  it('rejects a non-string x-match', () => {
    expect(validateHeadersBindingArgs({ 'x-match': 1 })).toBe(
      'Invalid x-match field type signedint (value 1); expected longstr',
    );
    expect(validateHeadersBindingArgs({ 'x-match': true })).toMatch(/^Invalid x-match field type bool/);
    expect(validateHeadersBindingArgs({ 'x-match': null })).toMatch(/^Invalid x-match field type void/);
    expect(validateHeadersBindingArgs({ 'x-match': new TypedValue('b', 1) })).toBe(
      'Invalid x-match field type byte (value 1); expected longstr',
    );
    expect(validateHeadersBindingArgs({ 'x-match': Buffer.from('all') })).toMatch(/^Invalid x-match field type binary/);
  });
});
