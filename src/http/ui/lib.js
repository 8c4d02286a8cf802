// What every page uses: escaping templates, the authenticated API client,
// notices, and the paginated list that keeps pages fast with 10,000 objects.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Markup that is already safe (built by `html`); anything else interpolated is escaped. */
class SafeHtml {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function interpolate(value) {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(interpolate).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** Tagged template: every `${value}` is escaped unless it is itself `html`. */
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += interpolate(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

export function render(element, markup) {
  element.innerHTML = markup.toString();
}

const AUTH_KEY = 'warren.authorization';

export const session = {
  get authorization() { return sessionStorage.getItem(AUTH_KEY); },
  set(user, password) {
    // btoa takes Latin-1 only: encode the UTF-8 bytes of user:password first.
    const bytes = new TextEncoder().encode(`${user}:${password}`);
    sessionStorage.setItem(AUTH_KEY, `Basic ${btoa(String.fromCharCode(...bytes))}`);
  },
  clear() { sessionStorage.removeItem(AUTH_KEY); sessionStorage.removeItem('warren.user'); },
  get user() { return JSON.parse(sessionStorage.getItem('warren.user') ?? 'null'); },
  set user(value) { sessionStorage.setItem('warren.user', JSON.stringify(value)); },
  get vhost() { return sessionStorage.getItem('warren.vhost') ?? ''; },
  set vhost(value) { sessionStorage.setItem('warren.vhost', value); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body && typeof body === 'object' && 'reason' in body ? `${status}: ${typeof body.reason === 'string' ? body.reason : JSON.stringify(body.reason)}` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
    /** The credentials were refused (not merely this operation): the UI has gone back to the login page. */
    this.loggedOut = false;
  }
}

/** Called when the stored credentials no longer work: back to the login page. */
let onUnauthorized = () => {};
export function whenUnauthorized(callback) { onUnauthorized = callback; }

/** One API call with the session's credentials; the parsed JSON (or null), ApiError otherwise. */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: 'omit', cache: 'no-store' };
  const authorization = session.authorization;
  if (authorization !== null) init.headers.authorization = authorization;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed = null;
  if (text !== '') {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  // A refused login carries the Basic challenge (and a user without any management tag may not use the API at
  // all); other 401s refuse one operation ("Not administrator user", "Access refused.") and are shown as errors.
  if (response.status === 401 && (response.headers.has('www-authenticate') || parsed?.reason === 'Not management user')) {
    const error = new ApiError(401, parsed);
    error.loggedOut = true;
    onUnauthorized();
    throw error;
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** A path segment: vhost `/` is `%2F`, as the API expects. */
export const seg = (value) => encodeURIComponent(value);

/** `#/queue/<vhost>/<name>` and the like: links the router decodes. */
export const link = (...parts) => `#/${parts.map(seg).join('/')}`;

let noticeTimer;
export function notify(text, error = false) {
  const notice = document.getElementById('notice');
  notice.textContent = text;
  notice.className = error ? 'error' : '';
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, error ? 8000 : 3000);
}

/** Runs a user action; its failure becomes a notice instead of an unhandled rejection. */
export async function attempt(action, success) {
  try {
    const result = await action();
    if (success) notify(success);
    return result;
  } catch (error) {
    if (!error.loggedOut) notify(error.message, true);
    return undefined;
  }
}

export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    values[element.name] = element.type === 'checkbox' ? element.checked : element.value;
  }
  return values;
}

/** `{"x-max-length": 10}` typed as JSON in a textarea; empty means none. */
export function parseJsonField(text, what) {
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch { /* reported below */ }
  throw new Error(`${what} must be a JSON object`);
}

export function number(value) {
  return typeof value === 'number' ? value.toLocaleString('en') : '';
}

export function vhostOptions(vhosts, selected) {
  return vhosts.map((v) => html`<option value="${v.name}" ${v.name === selected ? html`selected` : ''}>${v.name}</option>`);
}

/** Every vhost the user sees, for the forms' selects (a user rarely has more than a handful). */
export async function vhostNames() {
  const page = await api('GET', '/api/vhosts?page=1&page_size=500&columns=name');
  return page.items;
}

/**
 * A server-side paginated, filtered list: the API does the slicing (`page`,
 * `page_size`, `name`, `use_regex`, `columns`), so the browser only ever
 * holds one page, however many objects there are.
 */
export class ListView {
  /**
   * @param {HTMLElement} element where the list goes
   * @param {{ path: () => string, columns: string[], head: SafeHtml, row: (item) => SafeHtml, noun: string, pageSize?: number, filterable?: boolean, loaded?: (page) => void }} options
   */
  constructor(element, options) {
    this.element = element;
    this.options = options;
    this.page = 1;
    this.pageSize = options.pageSize ?? 50;
    this.filter = '';
    this.regex = false;
    render(element, html`
      <div class="toolbar">
        <input type="search" placeholder="Filter by name" data-role="filter" aria-label="Filter ${options.noun} by name" ${options.filterable === false ? html`hidden` : ''}>
        <label ${options.filterable === false ? html`hidden` : ''}><input type="checkbox" data-role="regex"> regex</label>
        <button type="button" class="plain" data-role="previous">‹ Previous</button>
        <span data-role="position"></span>
        <button type="button" class="plain" data-role="next">Next ›</button>
        <select data-role="size" aria-label="Page size">${[20, 50, 100, 500].map((n) => html`<option ${n === this.pageSize ? html`selected` : ''}>${n}</option>`)}</select>
        <button type="button" class="plain" data-role="refresh">Refresh</button>
        <span class="count" data-role="count"></span>
      </div>
      <table><thead>${options.head}</thead><tbody data-role="rows"></tbody></table>`);
    const part = (role) => element.querySelector(`[data-role="${role}"]`);
    let typing;
    part('filter').addEventListener('input', (event) => {
      clearTimeout(typing);
      typing = setTimeout(() => { this.filter = event.target.value; this.page = 1; this.load(); }, 250);
    });
    part('regex').addEventListener('change', (event) => { this.regex = event.target.checked; this.page = 1; this.load(); });
    part('previous').addEventListener('click', () => { this.page -= 1; this.load(); });
    part('next').addEventListener('click', () => { this.page += 1; this.load(); });
    part('size').addEventListener('change', (event) => { this.pageSize = Number(event.target.value); this.page = 1; this.load(); });
    part('refresh').addEventListener('click', () => this.load());
    this.part = part;
  }

  async load() {
    const query = new URLSearchParams({ page: String(this.page), page_size: String(this.pageSize), columns: this.options.columns.join(',') });
    if (this.filter !== '') query.set('name', this.filter);
    if (this.regex) query.set('use_regex', 'true');
    let result;
    try {
      result = await api('GET', `${this.options.path()}?${query}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && this.page > 1) {
        // The list shrank under us: the last page is gone.
        this.page = 1;
        return this.load();
      }
      if (!error.loggedOut) notify(error.message, true);
      return;
    }
    if (!this.element.isConnected) return; // the page was left while loading
    const rows = this.part('rows');
    const columnCount = this.element.querySelectorAll('thead th').length;
    render(rows, result.items.length === 0
      ? html`<tr><td colspan="${columnCount}" class="muted">No ${this.options.noun}</td></tr>`
      : html`${result.items.map((item) => this.options.row(item))}`);
    this.part('position').textContent = `page ${result.page} of ${Math.max(result.page_count, 1)}`;
    this.part('previous').disabled = result.page <= 1;
    this.part('next').disabled = result.page >= result.page_count;
    this.part('count').textContent = result.filtered_count === result.total_count
      ? `${number(result.total_count)} ${this.options.noun}`
      : `${number(result.filtered_count)} of ${number(result.total_count)} ${this.options.noun}`;
    this.element.dataset.loaded = 'true';
    this.options.loaded?.(result);
  }
}

/** Runs `handler(button)` for clicks on `[data-action=name]` inside element. */
export function onAction(element, name, handler) {
  element.addEventListener('click', (event) => {
    const button = event.target.closest(`[data-action="${name}"]`);
    if (button && element.contains(button)) handler(button);
  });
}

/** Handles a form's submit without a page load, with its failure as a notice. */
export function onSubmit(form, handler, success) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(() => handler(formValues(form)), success);
  });
}
