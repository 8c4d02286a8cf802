import { randomBytes } from 'node:crypto';

/** Server-generated names as RabbitMQ makes them: a prefix and 16 random bytes, base64url. */
export function randomName(prefix: string): string {
  return prefix + randomBytes(16).toString('base64url');
}
