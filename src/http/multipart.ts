/**
 * A multipart/form-data body (RFC 7578), as a browser's file upload form
 * sends it: RabbitMQ's UI posts a definitions file as the part named `file`.
 */

export interface FormPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly data: Buffer;
}

/** A body that is not the multipart/form-data its content type says. */
export class MultipartError extends Error {}

/** The boundary of a `multipart/form-data; boundary=…` content type (quoted or not), or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (match === null) throw new MultipartError('multipart/form-data without a boundary');
  return match[1] ?? match[2];
}

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');

/** The parts of a body, in order; throws MultipartError when the body is not well formed. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  // The preamble before the first delimiter is ignored, as RFC 2046 says.
  let at = body.subarray(0, delimiter.length).equals(delimiter) ? 0 : body.indexOf(nextDelimiter);
  if (at < 0) throw new MultipartError('no boundary in the body');
  if (at > 0) at += CRLF.length;
  const parts: FormPart[] = [];
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // "--": the closing delimiter
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (!body.subarray(at, at + CRLF.length).equals(CRLF)) throw new MultipartError('a boundary not followed by a line end');
    const headersEnd = body.indexOf(HEADERS_END, at);
    // A part without headers starts with the empty line at once.
    const headerText = headersEnd === at ? '' : headersEnd < 0 ? undefined : body.subarray(at + CRLF.length, headersEnd).toString('utf8');
    if (headerText === undefined) throw new MultipartError('a part without the end of its headers');
    const dataStart = headersEnd + HEADERS_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (dataEnd < 0) throw new MultipartError('a part without a closing boundary');
    const disposition = headerText
      .split('\r\n')
      .find((line) => /^content-disposition\s*:/i.test(line));
    if (disposition !== undefined) {
      const name = dispositionParameter(disposition, 'name');
      if (name !== undefined) parts.push({ name, filename: dispositionParameter(disposition, 'filename'), data: body.subarray(dataStart, dataEnd) });
    }
    at = dataEnd + CRLF.length;
  }
}

/** `name="file"` (or unquoted) from a Content-Disposition line; a quoted value may contain `\"`. */
function dispositionParameter(line: string, parameter: string): string | undefined {
  const match = new RegExp(`;\\s*${parameter}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(line);
  if (match === null) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}
