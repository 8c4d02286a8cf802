import { describe, expect, it } from 'vitest';
import { AmqpError } from '../../src/protocol/errors.js';
import { encodeProperties } from '../../src/protocol/methods.generated.js';
import { ReplyCode } from '../../src/protocol/reply-codes.js';
import { PublishContent } from '../../src/session/content.js';

/** A chunk with a content header payload for `properties` and `bodySize` at `at`, junk around it. */
function headerIn(properties: Buffer, bodySize: number, at = 5): { chunk: Buffer; start: number; end: number } {
  const payload = Buffer.alloc(12 + properties.length);
  payload.writeUInt16BE(60, 0);
  payload.writeUInt32BE(bodySize, 8);
  properties.copy(payload, 12);
  // Buffer.alloc: memory of its own, not a slice of the pool the copies may come from.
  const chunk = Buffer.alloc(at + payload.length + 3, 0xee);
  payload.copy(chunk, at);
  return { chunk, start: at, end: at + payload.length };
}

function header(content: PublishContent, properties: Buffer, at?: number): Buffer {
  const { chunk, start, end } = headerIn(properties, 1, at);
  content.start('', 'q', false);
  content.header(chunk, start, end, 1 << 20);
  const raw = content.rawProperties!;
  expect(raw.buffer === chunk.buffer && raw.length > 0).toBe(false);
  content.body(Buffer.from('x'));
  content.takeBody();
  return raw;
}

describe('PublishContent properties', () => {
  it('repeated properties share one validated buffer; other ones get their own', () => {
    const content = new PublishContent();
    const a = encodeProperties({ contentType: 'text/plain', deliveryMode: 2, headers: { k: 1 } });
    const b = encodeProperties({ contentType: 'text/plain', deliveryMode: 1 });
    const first = header(content, a);
    expect(first).toEqual(a);
    expect(header(content, a, 9)).toBe(first);
    const other = header(content, b);
    expect(other).toEqual(b);
    expect(other).not.toBe(first);
    const again = header(content, a);
    expect(again).toEqual(a);
    expect(again).not.toBe(first);
  });

  it('properties that do not decode are refused even right after valid ones of the same length', () => {
    const content = new PublishContent();
    const valid = encodeProperties({ contentType: 'ab' });
    header(content, valid);
    const invalid = Buffer.from(valid);
    invalid[2] = 200; // the content-type shortstr now runs past the end
    const { chunk, start, end } = headerIn(invalid, 1);
    content.start('', 'q', false);
    let error: unknown;
    try {
      content.header(chunk, start, end, 1 << 20);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AmqpError);
    expect((error as AmqpError).replyCode).toBe(ReplyCode.INTERNAL_ERROR);
    // And the valid ones are still taken afterwards.
    const fresh = new PublishContent();
    expect(header(fresh, valid)).toEqual(valid);
  });
});
