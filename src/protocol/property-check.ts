import { scanTable } from './field-table.js';

// Flag bits of the basic properties that are not short strings: headers (a
// table), delivery-mode and priority (octets), timestamp (64 bits); the bits
// 0x0002 and 0x0001 (continuation) name no property.
const HEADERS = 0x2000;
const DELIVERY_MODE = 0x1000;
const PRIORITY = 0x0800;
const TIMESTAMP = 0x0040;

/**
 * Whether encoded basic properties (from the property flags on, filling
 * `raw`) decode: checked on the hot path when a content header arrives, so
 * that a message that is stored is always one decodeProperties can read
 * later. Walks the bytes without building anything (a headers table
 * included) and accepts exactly what decodeProperties accepts.
 */
export function basicPropertiesDecode(raw: Buffer): boolean {
  const end = raw.length;
  if (end < 2) return false;
  const flags = (raw[0]! << 8) | raw[1]!;
  let p = 2;
  for (let word = flags; (word & 1) !== 0; ) {
    if (p + 2 > end) return false;
    word = (raw[p]! << 8) | raw[p + 1]!;
    p += 2;
    // Continuation words may not set flags: basic has no properties past the first word.
    if ((word & 0xfffe) !== 0) return false;
  }
  // The set flags from the highest (content-type) down, one property each, in order.
  for (let bits = flags & 0xfffc; bits !== 0; ) {
    const flag = 0x8000_0000 >>> Math.clz32(bits);
    bits ^= flag;
    if (flag === HEADERS) {
      p = scanTable(raw, p, end);
      if (p < 0) return false;
    } else if (flag === DELIVERY_MODE || flag === PRIORITY) {
      p += 1;
    } else if (flag === TIMESTAMP) {
      p += 8;
    } else {
      if (p >= end) return false;
      p += 1 + raw[p]!;
    }
    if (p > end) return false;
  }
  return p === end;
}
