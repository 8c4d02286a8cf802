import { describe, expect, it } from 'vitest';
import { AmqpError } from '../../src/protocol/errors.js';
import { decodeTable, decodeTableBuffer, encodeTable, type FieldTable, MAX_ARGUMENT_NESTING, scanTable } from '../../src/protocol/field-table.js';
import { type BasicProperties, decodeProperties, encodeProperties } from '../../src/protocol/methods.generated.js';
import { basicPropertiesDecode } from '../../src/protocol/property-check.js';
import { ReplyCode } from '../../src/protocol/reply-codes.js';

const ALL: Required<BasicProperties> = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: { 'x-death': [{ count: 2, queue: 'q', time: 1 }], n: 5, s: 'é', b: true, big: 2n ** 60n, d: 1.5, x: Buffer.from('xy'), nested: { deep: [null, [1, 'a']] } },
  deliveryMode: 2,
  priority: 9,
  correlationId: 'corr-1',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-1',
  timestamp: 1_700_000_123,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-test',
  clusterId: 'c1',
};

function decodes(raw: Buffer): boolean {
  try {
    decodeProperties(raw);
    return true;
  } catch {
    return false;
  }
}

/** A table nested `levels` deep: {a: {a: … {}}}. */
function nestedTable(levels: number): Buffer {
  // Level i starts at 7i: its length (everything after it), key "a", type F; the innermost table is empty.
  const table = Buffer.alloc(7 * levels + 4);
  for (let i = 0; i < levels; i++) {
    table.writeUInt32BE(7 * (levels - i), 7 * i);
    table[7 * i + 4] = 1;
    table[7 * i + 5] = 0x61;
    table[7 * i + 6] = 0x46;
  }
  return table;
}

/** Properties with only the headers flag and this raw table. */
const withHeaders = (table: Buffer) => Buffer.concat([Buffer.from([0x20, 0x00]), table]);

describe('the property check at the content header', () => {
  it("refuses a headers table with a field of unknown type 'Z', which decodeProperties cannot read", () => {
    const raw = withHeaders(Buffer.from([0, 0, 0, 3, 1, 0x61, 0x5a]));
    expect(decodes(raw)).toBe(false);
    expect(basicPropertiesDecode(raw)).toBe(false);
  });

  it('accepts all 14 properties, and nothing after them', () => {
    const raw = encodeProperties(ALL);
    expect(basicPropertiesDecode(raw)).toBe(true);
    expect(basicPropertiesDecode(Buffer.concat([raw, Buffer.from([0])]))).toBe(false);
  });

  it('agrees with decodeProperties on every truncation and on every byte changed to 0x00, 0xff, Z, F, A, +1 or -1', () => {
    const samples = [encodeProperties(ALL), encodeProperties({ headers: ALL.headers }), encodeProperties({ contentType: 'a', headers: { t: { u: ['v'] } }, priority: 1 })];
    let checked = 0;
    for (const raw of samples) {
      for (let cut = 0; cut <= raw.length; cut++) {
        const b = raw.subarray(0, cut);
        expect(basicPropertiesDecode(b), `cut at ${cut}`).toBe(decodes(b));
        checked++;
      }
      for (let at = 0; at < raw.length; at++) {
        for (const value of [0x00, 0xff, 0x5a, 0x46, 0x41, (raw[at]! + 1) & 0xff, (raw[at]! + 255) & 0xff]) {
          const b = Buffer.from(raw);
          b[at] = value;
          expect(basicPropertiesDecode(b), `byte ${at} = 0x${value.toString(16)}`).toBe(decodes(b));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('refuses continuation flag words that set flags, accepts empty ones', () => {
    expect(basicPropertiesDecode(Buffer.from([0x00, 0x01, 0x00, 0x00]))).toBe(true);
    expect(basicPropertiesDecode(Buffer.from([0x00, 0x01, 0x80, 0x00]))).toBe(false);
    expect(basicPropertiesDecode(Buffer.from([0x00, 0x01]))).toBe(false);
  });
});

describe('deeply nested field tables', () => {
  it('are scanned without recursion, 200,000 levels deep', () => {
    const table = nestedTable(200_000);
    expect(scanTable(table, 0, table.length)).toBe(table.length);
    expect(basicPropertiesDecode(withHeaders(table))).toBe(true);
  });

  it('are decoded and encoded again without recursion (RabbitMQ takes 15,000 levels; 100,000 here)', () => {
    const raw = nestedTable(100_000);
    const table = decodeTableBuffer(raw);
    let depth = 0;
    for (let t: FieldTable = table; t.a !== undefined; t = t.a as FieldTable) depth++;
    expect(depth).toBe(100_000);
    expect(encodeTable(table).equals(raw)).toBe(true);
    const props = decodeProperties(withHeaders(raw));
    expect(encodeProperties(props).equals(withHeaders(raw))).toBe(true);
  });

  it('a deep array of arrays round-trips too', () => {
    let value: unknown[] = [];
    const root = value;
    for (let i = 0; i < 50_000; i++) {
      const inner: unknown[] = [];
      value.push(inner, i);
      value = inner;
    }
    const encoded = encodeTable({ root } as FieldTable);
    expect(scanTable(encoded, 0, encoded.length)).toBe(encoded.length);
    expect(encodeTable(decodeTableBuffer(encoded)).equals(encoded)).toBe(true);
    expect((decodeTableBuffer(encoded).root as unknown[])[1]).toBe(0);
    expect(root.length).toBe(2);
  });
});

describe('tables in method arguments', () => {
  // A table with `levels` tables nested inside it.
  const table = nestedTable;

  it(`nest up to MAX_ARGUMENT_NESTING (${MAX_ARGUMENT_NESTING}) levels; deeper is refused with 502 SYNTAX_ERROR, not a stack overflow`, () => {
    expect(() => decodeTable(table(MAX_ARGUMENT_NESTING), 0, MAX_ARGUMENT_NESTING)).not.toThrow();
    const deeper = table(MAX_ARGUMENT_NESTING + 1);
    let error: unknown;
    try {
      decodeTable(deeper, 0, MAX_ARGUMENT_NESTING);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AmqpError);
    expect((error as AmqpError).replyCode).toBe(ReplyCode.SYNTAX_ERROR);
    expect((error as AmqpError).message).toBe(`SYNTAX_ERROR - field table: tables and arrays nested more than ${MAX_ARGUMENT_NESTING} levels deep`);
    // Message headers are not limited.
    expect(() => decodeTable(table(15_000))).not.toThrow();
  });
});
