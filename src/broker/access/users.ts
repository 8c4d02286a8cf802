import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** RabbitMQ's names for the password hashing schemes Warren reads. */
export const SHA256 = 'rabbit_password_hashing_sha256';
export const SHA512 = 'rabbit_password_hashing_sha512';
export type HashingAlgorithm = typeof SHA256 | typeof SHA512;

export interface User {
  readonly name: string;
  /** base64(salt4 ‖ H(salt4 ‖ utf8 password)); '' means no password login. */
  readonly passwordHash: string;
  readonly hashingAlgorithm: HashingAlgorithm;
  readonly tags: readonly string[];
}

const SALT_BYTES = 4;

function digest(algorithm: HashingAlgorithm, salt: Buffer, password: string): Buffer {
  return createHash(algorithm === SHA512 ? 'sha512' : 'sha256').update(salt).update(password, 'utf8').digest();
}

/** RabbitMQ's stored form of a password, with `salt` (4 bytes) or a random one. */
export function hashPassword(password: string, algorithm: HashingAlgorithm = SHA256, salt: Buffer = randomBytes(SALT_BYTES)): string {
  return Buffer.concat([salt, digest(algorithm, salt, password)]).toString('base64');
}

/** Whether `password` is the one `user`'s hash was made from. A user without a hash never matches. */
export function checkPassword(user: User, password: string): boolean {
  if (user.passwordHash === '') return false;
  const stored = Buffer.from(user.passwordHash, 'base64');
  if (stored.length <= SALT_BYTES) return false;
  const expected = digest(user.hashingAlgorithm, stored.subarray(0, SALT_BYTES), password);
  const actual = stored.subarray(SALT_BYTES);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hashing_algorithm value from a definitions file: missing means sha256, as in older RabbitMQ exports. */
export function parseHashingAlgorithm(value: unknown): HashingAlgorithm {
  if (value === undefined || value === null || value === '' || value === SHA256) return SHA256;
  if (value === SHA512) return SHA512;
  throw new Error(`unsupported hashing_algorithm '${String(value)}'`);
}

/** Tags as RabbitMQ accepts them: "a,b" or ["a", "b"]; stored as a list without blanks. */
export function parseTags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return list.map((tag) => tag.trim()).filter((tag) => tag !== '');
}

/** Whether a stored hash is valid base64 of more than a salt (RabbitMQ refuses others: not_base64). */
export function isValidPasswordHash(hash: string): boolean {
  if (hash === '') return true;
  return /^[A-Za-z0-9+/]+={0,2}$/.test(hash) && hash.length % 4 === 0 && Buffer.from(hash, 'base64').length > SALT_BYTES;
}
