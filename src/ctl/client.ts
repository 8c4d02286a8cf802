// The management HTTP API as `warren ctl` calls it: one request at a time, Basic auth, JSON in and out.
// It never imports the broker: everything it knows comes over HTTP, like lavinmqctl.

/** Where the broker's management API is and who asks. */
export interface Target {
  url: string;
  username: string;
  password: string;
  /** Milliseconds one request may take. */
  timeoutMs: number;
}

export interface Answer {
  status: number;
  body: unknown;
}

/** The API could not be reached at all (refused, timed out, not HTTP): rabbitmqctl's "node unreachable". */
export class Unreachable extends Error {}

/** `/api/…` with every segment percent-encoded (the vhost `/` is `%2F`). */
export function apiPath(...segments: string[]): string {
  return `/api/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

export async function request(target: Target, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const url = target.url.replace(/\/+$/, '') + path;
  const authorization = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Unreachable(cause?.code ?? cause?.message ?? (error as Error).message);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text (an error page from something that is not Warren).
  }
  return { status: response.status, body: parsed };
}
