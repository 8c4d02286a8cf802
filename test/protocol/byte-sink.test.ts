import { describe, expect, it } from 'vitest';
import { getUInt16, getUInt32, putUInt16, putUInt32, readUInt64At, writeUInt64At } from '../../src/protocol/byte-sink.js';

describe('byte-sink integer stores', () => {
  it('putUInt16 and putUInt32 write what Buffer#writeUInt16BE/writeUInt32BE write, at an offset, touching nothing else', () => {
    for (const v of [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x1234, 0x8000, 0xfffe, 0xffff]) {
      const got = Buffer.alloc(6, 0xaa);
      const want = Buffer.alloc(6, 0xaa);
      putUInt16(got, v, 3);
      want.writeUInt16BE(v, 3);
      expect(got).toEqual(want);
    }
    for (const v of [0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x12345678, 0x7fffffff, 0x80000000, 0xcafebabe, 0xffffffff]) {
      const got = Buffer.alloc(9, 0x55);
      const want = Buffer.alloc(9, 0x55);
      putUInt32(got, v, 5);
      want.writeUInt32BE(v, 5);
      expect(got).toEqual(want);
    }
  });

  it('getUInt16 and getUInt32 read what Buffer#readUInt16BE/readUInt32BE read, unsigned', () => {
    const b = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 0x00]);
    for (let at = 0; at + 2 <= b.length; at++) expect(getUInt16(b, at)).toBe(b.readUInt16BE(at));
    for (let at = 0; at + 4 <= b.length; at++) expect(getUInt32(b, at)).toBe(b.readUInt32BE(at));
    expect(getUInt32(b, 0)).toBe(0xfffe8000);
  });

  it('writeUInt64At writes what writeBigUInt64BE writes up to 2^53 - 1, and readUInt64At reads it back', () => {
    for (const v of [0, 1, 0xffffffff, 0x100000000, 0x1_0000_0001, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
      const got = Buffer.alloc(10, 0x11);
      const want = Buffer.alloc(10, 0x11);
      writeUInt64At(got, v, 1);
      want.writeBigUInt64BE(BigInt(v), 1);
      expect(got).toEqual(want);
      expect(readUInt64At(got, 1)).toBe(v);
    }
  });
});
