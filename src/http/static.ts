import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The web UI's files (src/http/ui, copied next to the compiled module by
 * `npm run build`), read once into memory: a few small files, served from a
 * fixed table so that no request path ever reaches the file system.
 */
export const UI_DIRECTORY = fileURLToPath(new URL('./ui/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The page loads only its own scripts and styles, so an escaping slip cannot run injected code. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";

export interface StaticFile {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** URL path (`/`, `/app.js`, `/pages/queues.js`) → file; empty when the directory is missing. */
export function loadStaticFiles(directory: string = UI_DIRECTORY): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!fs.existsSync(directory)) return files;
  for (const entry of fs.readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    const contentType = CONTENT_TYPES[path.extname(entry)];
    const fullPath = path.join(directory, entry);
    if (contentType === undefined || !fs.statSync(fullPath).isFile()) continue;
    const body = fs.readFileSync(fullPath);
    const headers: Record<string, string> = {
      'content-type': contentType,
      // Revalidated on every load (a 304 when unchanged), so an upgraded broker never serves a stale UI.
      'cache-control': 'no-cache',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      'x-content-type-options': 'nosniff',
    };
    if (contentType.startsWith('text/html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
    const urlPath = `/${entry.split(path.sep).join('/')}`;
    files.set(urlPath, { body, headers });
    if (urlPath === '/index.html') files.set('/', { body, headers });
  }
  return files;
}
