import { describe, expect, it } from 'vitest';
import { MultipartError, multipartBoundary, parseMultipart } from '../../src/http/multipart.js';

/** A body as Chromium sends a form with a file input and a hidden field. */
function form(boundary: string, parts: { headers: string[]; data: string }[], preamble = ''): Buffer {
  let text = preamble;
  for (const part of parts) text += `--${boundary}\r\n${part.headers.join('\r\n')}\r\n\r\n${part.data}\r\n`;
  return Buffer.from(`${text}--${boundary}--\r\n`);
}

describe('multipart/form-data', () => {
  it('reads the boundary, quoted or not, and nothing from other content types', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----WebKitFormBoundaryAbC')).toBe('----WebKitFormBoundaryAbC');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b;c"')).toBe('a b;c');
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary(undefined)).toBeUndefined();
    expect(() => multipartBoundary('multipart/form-data')).toThrow(MultipartError);
  });

  it('splits a browser upload into named parts with their file names and exact bytes', () => {
    const json = '{"queues":[],\r\n"note":"--not a boundary"}';
    const body = form('XyZ', [
      { headers: ['Content-Disposition: form-data; name="file"; filename="defs \\"1\\".json"', 'Content-Type: application/json'], data: json },
      { headers: ['Content-Disposition: form-data; name="redirect"'], data: '../#/import-succeeded' },
    ]);
    const parts = parseMultipart(body, 'XyZ');
    expect(parts.map((p) => p.name)).toEqual(['file', 'redirect']);
    expect(parts[0].filename).toBe('defs "1".json');
    expect(parts[0].data.toString()).toBe(json);
    expect(parts[1].filename).toBeUndefined();
    expect(parts[1].data.toString()).toBe('../#/import-succeeded');
  });

  it('ignores a preamble and keeps binary data and empty parts', () => {
    const binary = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x2d, 0x2d]);
    const body = Buffer.concat([
      Buffer.from('ignored preamble\r\n--b\r\nContent-Disposition: form-data; name=bin\r\n\r\n'),
      binary,
      Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="empty"\r\n\r\n\r\n--b--'),
    ]);
    const parts = parseMultipart(body, 'b');
    expect(parts[0]).toMatchObject({ name: 'bin' });
    expect(parts[0].data.equals(binary)).toBe(true);
    expect(parts[1].data.length).toBe(0);
  });

  it('refuses bodies that are not well formed', () => {
    expect(() => parseMultipart(Buffer.from('{"a":1}'), 'b')).toThrow(MultipartError);
    expect(() => parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="f"\r\n\r\ndata without end'), 'b')).toThrow(MultipartError);
    expect(() => parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="f"'), 'b')).toThrow(MultipartError);
    expect(() => parseMultipart(Buffer.from('--bX'), 'b')).toThrow(MultipartError);
  });
});
