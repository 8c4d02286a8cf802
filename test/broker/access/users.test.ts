import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword, parseHashingAlgorithm, parseTags, SHA256, SHA512, type User } from '../../../src/broker/access/users.js';

function user(passwordHash: string, hashingAlgorithm: User['hashingAlgorithm'] = SHA256): User {
  return { name: 'u', passwordHash, hashingAlgorithm, tags: [] };
}

describe('password hashes (rabbit_password_hashing_sha256, operations.md 2.2)', () => {
  it('makes the documented vector: salt 908DC60A, password test12', () => {
    expect(hashPassword('test12', SHA256, Buffer.from('908DC60A', 'hex'))).toBe('kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR');
  });

  it("verifies the docs' guest hash and the one a live RabbitMQ 3.10 exported", () => {
    expect(checkPassword(user('9/1i+jKFRpbTRV1PtRnzFFYibT3cEpP92JeZ8YKGtflf4e/u'), 'guest')).toBe(true);
    expect(checkPassword(user('lWgYbyI/cg6ApTMALnxsetnttc4Wrv2kHBVeVRJImTYBUYtt'), 'guest')).toBe(true);
    expect(checkPassword(user('lWgYbyI/cg6ApTMALnxsetnttc4Wrv2kHBVeVRJImTYBUYtt'), 'guesT')).toBe(false);
  });

  it('sha512 hashes are 68 bytes and verify', () => {
    const hash = hashPassword('s3cret', SHA512);
    expect(Buffer.from(hash, 'base64')).toHaveLength(68);
    expect(checkPassword(user(hash, SHA512), 's3cret')).toBe(true);
    expect(checkPassword(user(hash, SHA256), 's3cret')).toBe(false);
  });

  it('an empty hash refuses every password, the empty one included', () => {
    expect(checkPassword(user(''), '')).toBe(false);
    expect(checkPassword(user(''), 'x')).toBe(false);
  });

  it('a random salt each time, and UTF-8 passwords', () => {
    expect(hashPassword('p')).not.toBe(hashPassword('p'));
    expect(checkPassword(user(hashPassword('pässwörd')), 'pässwörd')).toBe(true);
  });

  it('a missing hashing_algorithm means sha256; unknown ones are refused', () => {
    expect(parseHashingAlgorithm(undefined)).toBe(SHA256);
    expect(parseHashingAlgorithm(SHA512)).toBe(SHA512);
    expect(() => parseHashingAlgorithm('rabbit_password_hashing_md4')).toThrow(/unsupported/);
  });

  it('tags as "a,b" or ["a","b"]', () => {
    expect(parseTags('administrator, monitoring')).toEqual(['administrator', 'monitoring']);
    expect(parseTags(['management'])).toEqual(['management']);
    expect(parseTags('')).toEqual([]);
  });
});
