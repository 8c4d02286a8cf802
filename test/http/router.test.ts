import { describe, expect, it } from 'vitest';
import { propertiesKey, quotePlus } from '../../src/http/format.js';
import { allowHeader, type Route, Router } from '../../src/http/router.js';

const noop = () => ({ status: 200 });
const routes: Route[] = [
  { pattern: 'queues', handlers: { GET: noop } },
  { pattern: 'queues/:vhost/:name', handlers: { GET: noop, PUT: noop, DELETE: noop } },
  { pattern: 'exchanges/:vhost/:name/publish', handlers: { POST: noop } },
];
const router = new Router(routes);

describe('management router', () => {
  it('decodes each path segment once, after splitting: %2F and %2f are a slash in a name', () => {
    expect(router.match('/api/queues/%2F/q1')?.params).toEqual({ vhost: '/', name: 'q1' });
    expect(router.match('/api/queues/%2f/a%20b%3Ec')?.params).toEqual({ vhost: '/', name: 'a b>c' });
    // Go's url.PathEscape leaves ':' alone; the UI's encodeURIComponent escapes it: both name the same connection.
    expect(router.match('/api/queues/%2F/127.0.0.1:41212%20-%3E%20127.0.0.1:5672')?.params.name).toBe('127.0.0.1:41212 -> 127.0.0.1:5672');
    expect(router.match('/api/queues/%2F/%2525')?.params.name).toBe('%25');
  });

  it('accepts a trailing slash, and nothing outside /api', () => {
    expect(router.match('/api/queues/')?.route).toBe(routes[0]);
    expect(router.match('/api/queues')?.route).toBe(routes[0]);
    expect(router.match('/queues')).toBeUndefined();
    expect(router.match('/api/nope')).toBeUndefined();
    expect(router.match('/api/queues/%2F')).toBeUndefined();
    expect(router.match('/api/queues/%E0%A4%A/x')).toBeUndefined();
  });

  it('lists the methods of a route as RabbitMQ does for OPTIONS', () => {
    expect(allowHeader(routes[0])).toBe('HEAD, GET, OPTIONS');
    expect(allowHeader(routes[1])).toBe('HEAD, GET, PUT, DELETE, OPTIONS');
    expect(allowHeader(routes[2])).toBe('POST, OPTIONS');
  });
});

describe('binding properties_key', () => {
  it('is ~ for an empty key without arguments, else the key quoted as quote_plus', () => {
    expect(propertiesKey('', {})).toBe('~');
    expect(propertiesKey('order.created.#', {})).toBe('order.created.%23');
    expect(propertiesKey('a~b c', {})).toBe('a%7Eb+c');
    expect(quotePlus('t q+1')).toBe('t+q%2B1');
    expect(quotePlus('a.%23')).toBe('a.%2523');
  });

  it('appends a stable hash of the arguments', () => {
    const key = propertiesKey('rk', { 'x-match': 'all', a: 1 });
    expect(key).toMatch(/^rk~[A-Za-z0-9_-]+$/);
    expect(propertiesKey('rk', { a: 1, 'x-match': 'all' })).toBe(key);
    expect(propertiesKey('rk', { a: 2, 'x-match': 'all' })).not.toBe(key);
    expect(propertiesKey('', { a: 1 })).toMatch(/^~/);
  });
});
