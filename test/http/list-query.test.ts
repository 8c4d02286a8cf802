import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/http/router.js';
import { applyListQuery, byVhostAndName, type ListItem, type Page } from '../../src/http/list-query.js';

const queues = (): ListItem[] => [
  { name: 'orders', vhost: '/', messages: 154, message_stats: { publish: 3 } },
  { name: 'Work', vhost: '/', messages: 3, message_stats: { publish: 10 } },
  { name: 'aliveness-test', vhost: '/', messages: 0 },
];

function run(query: string, items = queues()): ListItem[] | Page {
  return applyListQuery(items, new URLSearchParams(query));
}

function refusal(query: string): { status: number; error: string; reason: unknown } {
  try {
    run(query);
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, error: error.error, reason: error.reason };
    throw error;
  }
  throw new Error(`no error for ${query}`);
}

describe('list query parameters', () => {
  it('returns the plain array without page, name ignored', () => {
    expect((run('name=ord') as ListItem[]).map((q) => q.name)).toEqual(['orders', 'Work', 'aliveness-test']);
  });

  it('columns keep top-level keys; a dotted column keeps its whole object', () => {
    expect(run('columns=name,message_stats.publish')).toEqual([
      { name: 'orders', message_stats: { publish: 3 } },
      { name: 'Work', message_stats: { publish: 10 } },
      { name: 'aliveness-test' },
    ]);
  });

  it('sorts by a dotted path, numbers numerically, and reverses', () => {
    expect((run('sort=messages') as ListItem[]).map((q) => q.name)).toEqual(['aliveness-test', 'Work', 'orders']);
    expect((run('sort=message_stats.publish&sort_reverse=true') as ListItem[]).map((q) => q.name)).toEqual([
      'Work',
      'orders',
      'aliveness-test',
    ]);
  });

  it('sorts names byte-wise (upper case first), as Erlang binaries compare', () => {
    expect((run('sort=name') as ListItem[]).map((q) => q.name)).toEqual(['Work', 'aliveness-test', 'orders']);
    const items = [
      { vhost: 'b', name: 'a' },
      { vhost: 'a', name: 'pg' },
      { vhost: 'a', name: 'PG' },
    ];
    expect(items.sort(byVhostAndName)).toEqual([
      { vhost: 'a', name: 'PG' },
      { vhost: 'a', name: 'pg' },
      { vhost: 'b', name: 'a' },
    ]);
  });

  it('paginates when page is present, with the counts RabbitMQ returns', () => {
    expect(run('page=2&page_size=1&columns=name')).toEqual({
      filtered_count: 3,
      item_count: 1,
      items: [{ name: 'Work' }],
      page: 2,
      page_count: 3,
      page_size: 1,
      total_count: 3,
    });
    expect((run('page=1') as Page).page_size).toBe(100);
  });

  it('filters by name: case-insensitive substring, or regex with use_regex=true', () => {
    expect((run('page=1&name=WOR') as Page).items.map((q) => q.name)).toEqual(['Work']);
    expect((run('page=1&name=^a.*t$&use_regex=true') as Page).items.map((q) => q.name)).toEqual(['aliveness-test']);
    // Without use_regex, regex characters are literal.
    expect((run('page=1&name=^a') as Page).filtered_count).toBe(0);
    const page = run('page=1&page_size=1&name=r') as Page;
    expect([page.filtered_count, page.total_count, page.page_count]).toEqual([2, 3, 2]);
  });

  it('an empty filtered list is page 1 of 0, not out of range', () => {
    expect(run('page=1&name=nothing')).toMatchObject({ filtered_count: 0, item_count: 0, items: [], page_count: 0 });
  });

  it("answers RabbitMQ's 400s for bad pagination", () => {
    expect(refusal('page=9&page_size=1')).toEqual({
      status: 400,
      error: 'page_out_of_range',
      reason: 'Page out of range, page: 9 page size: 1, len: 3',
    });
    expect(refusal('page=1&page_size=501')).toEqual({
      status: 400,
      error: 'invalid_pagination_parameters',
      reason: 'Invalid pagination parameters: page number 1, page size 501',
    });
    expect(refusal('page=0')).toEqual({
      status: 400,
      error: 'invalid_pagination_parameters',
      reason: 'Invalid pagination parameters: page number 0, page size undefined',
    });
    expect(refusal('page=abc')).toEqual({ status: 400, error: 'bad_request', reason: 'Pagination parameters are invalid' });
    expect(refusal('page=1&page_size=x')).toEqual({ status: 400, error: 'bad_request', reason: 'Pagination parameters are invalid' });
    expect(refusal('page=1&name=(&use_regex=true')).toMatchObject({ status: 400, error: 'bad_request' });
  });

  it('500 is the largest page size', () => {
    expect((run('page=1&page_size=500') as Page).page_size).toBe(500);
  });
});
