import { HttpError } from './router.js';

/** RabbitMQ's largest page (rabbit_mgmt_util: ?MAX_PAGE_SIZE). */
export const MAX_PAGE_SIZE = 500;
const DEFAULT_PAGE_SIZE = 100;

export type ListItem = Record<string, unknown>;

export interface Page {
  filtered_count: number;
  item_count: number;
  items: ListItem[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

/**
 * The query parameters every list endpoint takes, applied as RabbitMQ does:
 * `sort` (a dotted path) and `sort_reverse`; pagination when `page` is present
 * (`page_size` up to 500, `name` a case-insensitive substring or, with
 * `use_regex=true`, regex filter); `columns` last (a dotted column keeps its
 * whole top-level key). Without `page` the answer is the plain array and
 * `name` is ignored. Throws HttpError with RabbitMQ's 400 texts.
 */
export function applyListQuery(items: ListItem[], query: URLSearchParams): ListItem[] | Page {
  const sort = query.get('sort');
  const reverse = query.get('sort_reverse') === 'true';
  const columns = parseColumns(query.get('columns'));
  if (sort !== null && sort !== '') sortBy(items, sort.split('.'));
  if (reverse) items.reverse();
  if (!query.has('page')) return columns === undefined ? items : items.map((item) => pick(item, columns));

  const page = parsePositiveInteger(query.get('page'));
  const pageSizeText = query.get('page_size');
  const pageSize = pageSizeText === null ? DEFAULT_PAGE_SIZE : parsePositiveInteger(pageSizeText);
  if (page === undefined || pageSize === undefined) {
    throw new HttpError(400, 'bad_request', 'Pagination parameters are invalid');
  }
  if (page < 1 || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    // RabbitMQ names the size as given: "undefined" when the request had none.
    throw new HttpError(
      400,
      'invalid_pagination_parameters',
      `Invalid pagination parameters: page number ${page}, page size ${pageSizeText === null ? 'undefined' : pageSize}`,
    );
  }
  const filtered = filterByName(items, query.get('name') ?? '', query.get('use_regex') === 'true');
  const pageCount = Math.ceil(filtered.length / pageSize);
  if (filtered.length > 0 && page > pageCount) {
    throw new HttpError(
      400,
      'page_out_of_range',
      `Page out of range, page: ${page} page size: ${pageSize}, len: ${filtered.length}`,
    );
  }
  const slice = filtered.slice((page - 1) * pageSize, page * pageSize);
  return {
    filtered_count: filtered.length,
    item_count: slice.length,
    items: columns === undefined ? slice : slice.map((item) => pick(item, columns)),
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: items.length,
  };
}

/** `columns` on a single object (GET /api/overview?columns=…, as rabbitmqadmin's `show overview` sends it). */
export function applyColumns(item: ListItem, query: URLSearchParams): ListItem {
  const columns = parseColumns(query.get('columns'));
  return columns === undefined ? item : pick(item, columns);
}

/** RabbitMQ's default order of listed objects: by vhost, then name, compared byte-wise. */
export function byVhostAndName(a: ListItem, b: ListItem): number {
  return compareValues(a.vhost, b.vhost) || compareValues(a.name, b.name);
}

/** Integers only; undefined for anything else ("abc", "1.5", ""). Zero and negatives pass, to be refused by range. */
function parsePositiveInteger(text: string | null): number | undefined {
  if (text === null || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

function parseColumns(text: string | null): Set<string> | undefined {
  if (text === null || text === '') return undefined;
  return new Set(text.split(',').map((column) => column.split('.')[0]));
}

function pick(item: ListItem, columns: Set<string>): ListItem {
  const out: ListItem = {};
  for (const key of Object.keys(item)) if (columns.has(key)) out[key] = item[key];
  return out;
}

function filterByName(items: ListItem[], name: string, useRegex: boolean): ListItem[] {
  if (name === '') return items;
  let test: (value: string) => boolean;
  if (useRegex) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(name, 'i');
    } catch {
      throw new HttpError(400, 'bad_request', `invalid regular expression: ${name}`);
    }
    test = (value) => pattern.test(value);
  } else {
    const needle = name.toLowerCase();
    test = (value) => value.toLowerCase().includes(needle);
  }
  return items.filter((item) => typeof item.name === 'string' && test(item.name));
}

function sortBy(items: ListItem[], path: string[]): void {
  const at = (item: ListItem): unknown => {
    let value: unknown = item;
    for (const key of path) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  };
  // Array.prototype.sort is stable: equal keys keep the default (vhost, name) order.
  items.sort((a, b) => compareValues(at(a), at(b)));
}

/** Missing values first, then numbers (numerically), then strings (byte-wise, as Erlang binaries). */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown): number => (typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return (a as number) - (b as number);
  if (ra === 2) return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string));
  return 0;
}
