/**
 * CRC-32 (IEEE, the zlib polynomial) over a byte range.
 *
 * Uses `zlib.crc32` where the running Node has it (v20.15+, v22.2+), which is
 * several GB/s; otherwise a table-driven fallback in TypeScript.
 */
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, value?: number) => number;

const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Table-driven CRC-32, exported so tests can check it against the native one. */
export function crc32Fallback(data: Uint8Array, start = 0, end = data.length, value = 0): number {
  const t = (table ??= makeTable());
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32 of data[start, end). `value` continues a running CRC: crc32(b, 0, n, crc32(a, 0, m))
 * is the CRC of a followed by b, so a record scattered over several buffers is checked without joining them.
 */
export function crc32(data: Buffer, start: number, end: number, value = 0): number {
  if (native !== undefined) return native(start === 0 && end === data.length ? data : data.subarray(start, end), value) >>> 0;
  return crc32Fallback(data, start, end, value);
}

export const nativeCrc32Available = native !== undefined;
