import { describe, expect, it } from 'vitest';
import { Access, compilePattern, PermissionTable } from '../../../src/broker/access/permissions.js';
import { AmqpError } from '../../../src/protocol/errors.js';

describe('permission patterns (PCRE, unanchored, as RabbitMQ)', () => {
  it('match anywhere in the name unless anchored', () => {
    expect(compilePattern('lim').test('xlim.q')).toBe(true);
    expect(compilePattern('^lim').test('xlim.q')).toBe(false);
    expect(compilePattern('.*').test('')).toBe(true);
  });

  it("'' means ^$: only the empty name", () => {
    expect(compilePattern('').test('q')).toBe(false);
    expect(compilePattern('').test('')).toBe(true);
  });

  it('translate \\A, \\Z and \\z, but not inside a character class', () => {
    expect(compilePattern('\\Aapp\\.').test('app.q')).toBe(true);
    expect(compilePattern('\\Aapp\\.').test('my.app.q')).toBe(false);
    expect(compilePattern('q\\Z').test('q\n')).toBe(true);
    expect(compilePattern('q\\z').test('q\n')).toBe(false);
    expect(compilePattern('^[\\A]$').test('A')).toBe(true);
  });

  it('keep PCRE escapes that Unicode mode refuses (\\-)', () => {
    expect(compilePattern('^my\\-app').test('my-app.q')).toBe(true);
  });

  it('refuse what JavaScript cannot compile instead of mis-matching', () => {
    expect(() => compilePattern('(?i)abc')).toThrow(/invalid regular expression/);
    expect(() => compilePattern('a++')).toThrow(/invalid regular expression/);
    expect(() => compilePattern('(?>a)')).toThrow(/invalid regular expression/);
    expect(() => compilePattern('[')).toThrow(/invalid regular expression/);
  });
});

describe('PermissionTable and Access', () => {
  function table(): PermissionTable {
    const t = new PermissionTable();
    t.set({ user: 'limited', vhost: '/', configure: '^lim\\.', write: '^lim\\.', read: '^(lim\\.|amq\\.default$)' });
    return t;
  }

  function refusal(fn: () => void): string {
    try {
      fn();
    } catch (error) {
      return `${(error as AmqpError).replyCode} ${(error as AmqpError).replyText}`;
    }
    return 'allowed';
  }

  it('allow what matches and refuse the rest with RabbitMQ texts', () => {
    const access = new Access(table(), 'limited', '/');
    expect(refusal(() => access.check('configure', 'queue', 'lim.q'))).toBe('allowed');
    expect(refusal(() => access.check('configure', 'queue', 'other'))).toBe(
      "403 ACCESS_REFUSED - access to queue 'other' in vhost '/' refused for user 'limited'",
    );
    expect(refusal(() => access.check('write', 'exchange', ''))).toBe(
      "403 ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'limited'",
    );
    expect(refusal(() => access.check('read', 'exchange', ''))).toBe('allowed');
  });

  it('no permission record for the vhost refuses everything', () => {
    const t = table();
    expect(t.hasAccess('limited', 'other')).toBe(false);
    expect(refusal(() => new Access(t, 'limited', 'other').check('read', 'queue', 'lim.q'))).toMatch(/^403 /);
  });

  it('topic permissions: none for an exchange passes every key; {username} and {vhost} are substituted', () => {
    const t = table();
    t.setTopic({ user: 'limited', vhost: '/', exchange: 'lim.topic', write: '^{username}\\.', read: '^{vhost}' });
    const access = new Access(t, 'limited', '/');
    expect(refusal(() => access.checkTopic('write', 'lim.topic', 'limited.x'))).toBe('allowed');
    expect(refusal(() => access.checkTopic('write', 'lim.topic', 'denied.x'))).toBe(
      "403 ACCESS_REFUSED - access to topic 'denied.x' in exchange 'lim.topic' in vhost '/' refused for user 'limited'",
    );
    expect(refusal(() => access.checkTopic('read', 'lim.topic', '/a'))).toBe('allowed');
    expect(refusal(() => access.checkTopic('write', 'amq.topic', 'anything'))).toBe('allowed');
    expect(t.restrictsTopic('limited', '/', 'lim.topic')).toBe(true);
    expect(t.restrictsTopic('limited', '/', 'amq.topic')).toBe(false);
  });

  it('a change applies at once and bumps the version; a bad pattern changes nothing', () => {
    const t = table();
    const access = new Access(t, 'limited', '/');
    const before = t.version;
    t.set({ user: 'limited', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    expect(t.version).toBeGreaterThan(before);
    expect(refusal(() => access.check('configure', 'queue', 'other'))).toBe('allowed');
    expect(() => t.set({ user: 'limited', vhost: '/', configure: '(?i)x', write: '', read: '' })).toThrow();
    expect(t.get('limited', '/')?.configure).toBe('.*');
    t.setTopic({ user: 'limited', vhost: '/', exchange: 'x', write: '^a', read: '^a' });
    expect(t.clear('limited', '/')).toBe(true);
    expect(t.hasAccess('limited', '/')).toBe(false);
    expect(t.restrictsTopic('limited', '/', 'x')).toBe(true);
    t.forget((user) => user === 'limited');
    expect(t.restrictsTopic('limited', '/', 'x')).toBe(false);
    expect(t.hasAccess('limited', '/')).toBe(false);
  });
});
