// The web UI in a real browser (Debian's chromium-headless-shell driven by
// puppeteer-core) against Warren in this process: log in, every page, declare
// a queue, publish to it and get the message back, close a client's
// connection, definitions out and in, names that need escaping; no page
// error, no console error, no failed request. Then 10,000 queues: the queues
// page shows the first page and the total. The static files' HTTP answers are
// checked without a browser.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChannelModel } from 'amqplib';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../src/index.js';
import { channel, connect, timeout } from './support/amqp.js';
import { chromiumDependency, launchChromium, type RunningBrowser } from './support/browser.js';
import { gate, label } from './support/deps.js';

const STEP_MS = 10_000;
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
/** A name with every character HTML gives meaning to. */
const AWKWARD = `ui <b>&"it's"</b>`;

describe('web UI files over HTTP', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({ managementPort: 0 });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('serves index.html at /, scripts and styles with their types, revalidation by ETag, 404 for unknown files, API unchanged', async () => {
    const base = broker.managementUrl!;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<script type="module" src="/app.js">');
    const again = await fetch(`${base}/index.html`, { headers: { 'if-none-match': index.headers.get('etag')! } });
    expect(again.status).toBe(304);
    for (const [file, type] of [['/app.js', 'text/javascript; charset=utf-8'], ['/pages/queues.js', 'text/javascript; charset=utf-8'], ['/style.css', 'text/css; charset=utf-8']]) {
      const response = await fetch(`${base}${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe(type);
      expect(response.headers.get('x-content-type-options'), file).toBe('nosniff');
    }
    for (const missing of ['/nope.js', '/../package.json', '/%2e%2e/package.json', '/pages/', '/static.ts']) {
      expect((await fetch(`${base}${missing}`)).status, missing).toBe(404);
    }
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${base}/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const api = await fetch(`${base}/api/overview`, { headers: { authorization: GUEST } });
    expect(api.headers.get('content-type')).toBe('application/json');
    expect((await fetch(`${base}/api/nope`)).status).toBe(404);
  });
});

const browserDependency = chromiumDependency();
const skip = gate(browserDependency);

describe.skipIf(skip)(label('web UI in a browser', browserDependency), () => {
  let broker: RunningBroker;
  let chromium: RunningBrowser;
  let page: Page;
  let base: string;
  let downloads: string;
  const problems: string[] = [];
  /** Answers >= 400 the test asks for (a wrong password); anything else is a problem. */
  const expectedFailures: RegExp[] = [];
  const clients: ChannelModel[] = [];

  beforeAll(async () => {
    broker = await startBroker({ managementPort: 0 });
    base = broker.managementUrl!;
    downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-ui-downloads-'));
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.setViewport({ width: 1280, height: 900 });
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
    page.on('console', (message) => {
      // A response >= 400 also logs "Failed to load resource"; the response check below judges those.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
    });
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      const url = `${response.request().method()} ${response.url()}`;
      if (response.status() >= 400 && !expectedFailures.some((expected) => expected.test(url))) problems.push(`HTTP ${response.status()}: ${url}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await chromium?.close();
    await broker?.close();
    if (downloads) fs.rmSync(downloads, { recursive: true, force: true });
  });

  async function visit(hash: string, ready: string): Promise<void> {
    await page.goto(`${base}/#/${hash}`);
    // The new page's element: the one left behind may match `ready` too.
    await page.waitForSelector(`main[data-route="#/${hash}"] ${ready}`);
  }

  const text = (selector: string) => page.$eval(selector, (element) => (element as HTMLElement).innerText);

  async function waitForText(selector: string, expected: string): Promise<void> {
    await page.waitForFunction(
      (s: string, t: string) => [...document.querySelectorAll(s)].some((e) => (e as HTMLElement).innerText.includes(t)),
      { timeout: STEP_MS },
      selector,
      expected,
    );
  }

  async function submit(formSelector: string, fields: Record<string, string>): Promise<void> {
    for (const [name, value] of Object.entries(fields)) {
      await page.$eval(`${formSelector} [name="${name}"]`, (element, v) => {
        (element as HTMLInputElement).value = v as string;
      }, value);
    }
    await page.click(`${formSelector} button[type=submit]`);
  }

  async function api(method: string, url: string): Promise<unknown> {
    const response = await fetch(`${base}${url}`, { method, headers: { authorization: GUEST }, signal: AbortSignal.timeout(STEP_MS) });
    return response.status === 204 || response.status === 201 ? null : response.json();
  }

  it('refuses a wrong password, then logs in and shows the overview with totals, listeners, alarms and charts', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#login');
    expectedFailures.push(/^GET .*\/api\/whoami$/);
    await submit('#login', { username: 'guest', password: 'wrong' });
    await waitForText('#login-error', 'Login failed');
    expectedFailures.pop();
    await submit('#login', { username: 'guest', password: 'guest' });
    await page.waitForSelector('#totals');
    expect(await text('#totals')).toMatch(/Queues/);
    expect(await text('#listeners')).toContain(String(broker.port));
    expect(await text('#alarms')).toContain('none');
    expect(await page.$$eval('.chart > svg', (svgs) => svgs.length)).toBe(2);
    // A fresh node's message_stats is {} (nothing moved yet): the rate chart draws publish, deliver and ack at 0.
    const rates = await page.$$eval('.chart', (charts) => {
      const chart = charts.find((c) => c.querySelector('h2')?.textContent === 'Message rates');
      return { lines: chart?.querySelectorAll('polyline').length, text: (chart as HTMLElement | undefined)?.innerText };
    });
    expect(rates.lines).toBe(3);
    expect(rates.text).not.toContain('No message statistics reported');
    expect(await page.evaluate(() => sessionStorage.getItem('warren.authorization'))).toBe(GUEST);
  }, 30_000);

  it('lists a client connection and its channel, and closes it: amqplib gets 320 with the reason', async () => {
    const client = await connect(broker.url);
    clients.push(client);
    await channel(client);
    const closed = new Promise<Error & { code?: number }>((resolve) => client.on('close', resolve));
    await visit('channels', '#list[data-loaded]');
    expect(await text('#list')).toContain('1 channels');
    await visit('connections', '#list[data-loaded]');
    expect(await text('#list')).toContain('1 connections');
    expect(await text('#list')).toContain('guest');
    await page.type('#close-reason', 'closed from the web UI');
    await page.click('#list [data-action=close]');
    const error = await timeout(closed, STEP_MS, 'the client sees its connection closed');
    expect(error.code).toBe(320);
    expect(error.message).toContain('closed from the web UI');
    await waitForText('#list', '0 connections');
  }, 30_000);

  it('declares an exchange whose name needs escaping, lists it as text, and publishes through it', async () => {
    await visit('exchanges', '#list[data-loaded]');
    expect(await text('#list')).toContain('amq.topic');
    await submit('#declare', { name: AWKWARD });
    await waitForText('#list', AWKWARD);
    // Shown as text: no <b> element came from the name.
    expect(await page.$$eval('#list b', (elements) => elements.length)).toBe(0);
    await page.click(`#list a[href="#/exchange/%2F/${encodeURIComponent(AWKWARD)}"]`);
    await page.waitForSelector('#publish');
    expect(await text('h1')).toContain(AWKWARD);
    await page.select('#b-type', 'exchange');
    await submit('#bind', { destination: 'amq.fanout', routing_key: 'to-fanout' });
    await waitForText('#bindings', 'amq.fanout');
    await page.select('#b-type', 'queue');
    expectedFailures.push(/^POST .*\/q\/ui-routed$/);
    await submit('#bind', { destination: 'ui-routed', routing_key: 'to-queue' });
    await waitForText('#notice', "no queue 'ui-routed' in vhost '/'");
    expectedFailures.pop();
    await api('PUT', '/api/queues/%2F/ui-routed');
    await submit('#bind', { destination: 'ui-routed', routing_key: 'to-queue' });
    await waitForText('#bindings', 'ui-routed');
    expect(await api('GET', `/api/exchanges/%2F/${encodeURIComponent(AWKWARD)}/bindings/source`)).toEqual([
      expect.objectContaining({ destination: 'amq.fanout', destination_type: 'exchange', routing_key: 'to-fanout' }),
      expect.objectContaining({ destination: 'ui-routed', destination_type: 'queue', routing_key: 'to-queue' }),
    ]);
    await submit('#publish', { routing_key: 'to-queue', payload: 'through the exchange' });
    await waitForText('#notice', 'Message published');
    expect(await api('GET', '/api/queues/%2F/ui-routed')).toMatchObject({ messages: 1 });
    await submit('#publish', { routing_key: 'nowhere', payload: 'lost' });
    await waitForText('#notice', 'not routed');
  }, 30_000);

  it('declares a queue, publishes to it, gets the message back, binds, purges and deletes it', async () => {
    await visit('queues', '#list[data-loaded]');
    await submit('#declare', { name: AWKWARD, arguments: '{"x-max-length": 5}' });
    await waitForText('#list', AWKWARD);
    expect(await page.$$eval('#list b', (elements) => elements.length)).toBe(0);
    await page.click(`#list a[href="#/queue/%2F/${encodeURIComponent(AWKWARD)}"]`);
    await page.waitForSelector('#depth');
    expect(await api('GET', `/api/queues/%2F/${encodeURIComponent(AWKWARD)}`)).toMatchObject({ arguments: { 'x-max-length': 5 } });

    await submit('#publish', { payload: 'hello <from> the "UI" & co', headers: '{"x-origin": "ui"}' });
    await waitForText('#depth', '1 ready');
    await page.select('#g-ackmode', 'ack_requeue_false');
    await page.click('#get button[type=submit]');
    await page.waitForSelector('.message .payload');
    expect(await text('.message .payload')).toBe('hello <from> the "UI" & co');
    expect(await text('.message')).toContain('"x-origin":"ui"');
    await waitForText('#depth', '0 ready');

    await submit('#bind', { source: 'amq.direct', routing_key: 'to-ui' });
    await waitForText('#bindings', 'to-ui');
    await page.click('#bindings [data-action=unbind]');
    await page.waitForFunction(() => !document.querySelector('#bindings')?.textContent?.includes('to-ui'));

    await submit('#publish', { payload: 'two' });
    await waitForText('#depth', '1 ready');
    await page.click('[data-action=purge]');
    await waitForText('#depth', '0 ready');
    await page.click('[data-action=delete]');
    await page.waitForFunction(() => location.hash === '#/queues');
    await page.waitForSelector('#list[data-loaded]');
    expect(await text('#list')).not.toContain(AWKWARD);
  }, 40_000);

  it('admin: users, vhosts, permissions and policies pages list and change', async () => {
    await visit('admin/users', '#list[data-loaded]');
    expect(await text('#list')).toContain('guest');
    await submit('#user', { name: 'ui-user', password: 'secret', tags: 'monitoring' });
    await waitForText('#list', 'ui-user');
    await visit('admin/vhosts', '#list[data-loaded]');
    await submit('#vhost-form', { name: 'ui-vhost', description: 'made in the UI' });
    await waitForText('#list', 'made in the UI');
    await visit('admin/permissions', '#list[data-loaded]');
    await page.select('#p-vhost', 'ui-vhost');
    await submit('#permission', { user: 'ui-user', read: '^ui' });
    await waitForText('#list', '^ui');
    await visit('admin/policies', '#list[data-loaded]');
    await submit('#policy', { name: 'ui-policy', pattern: '^ui\\.', definition: '{"max-length": 7}' });
    await waitForText('#list', 'ui-policy');
    expect(await api('GET', '/api/permissions/ui-vhost/ui-user')).toMatchObject({ configure: '.*', write: '.*', read: '^ui' });
    expect(await api('GET', '/api/policies/%2F/ui-policy')).toMatchObject({ pattern: '^ui\\.', definition: { 'max-length': 7 } });
    await page.click('#list [data-action=delete]');
    await waitForText('#list', '0 policies');
  }, 30_000);

  it('exports definitions as a download and imports an uploaded file', async () => {
    await visit('definitions', '#upload');
    await page.$eval('#d-file', (input) => {
      (input as HTMLInputElement).value = 'ui-export.json';
    });
    await page.click('[data-action=download]');
    const exported = path.join(downloads, 'ui-export.json');
    const deadline = Date.now() + STEP_MS;
    while (!fs.existsSync(exported) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100)); // polls a file the browser writes
    const definitions = JSON.parse(fs.readFileSync(exported, 'utf8')) as { users: { name: string }[] };
    expect(definitions.users.map((u) => u.name)).toContain('ui-user');

    const upload = path.join(downloads, 'import.json');
    fs.writeFileSync(upload, JSON.stringify({ queues: [{ name: 'imported-by-ui', vhost: '/', durable: true, auto_delete: false, arguments: {} }] }));
    const input = await page.$('#d-upload');
    await (input as unknown as { uploadFile(file: string): Promise<void> }).uploadFile(upload);
    await page.click('#upload button[type=submit]');
    await waitForText('#notice', 'Imported import.json');
    expect(await api('GET', '/api/queues/%2F/imported-by-ui')).toMatchObject({ name: 'imported-by-ui' });
  }, 30_000);

  it('a missing object shows Not found; a 401 returns to the login page', async () => {
    expectedFailures.push(/\/api\/queues\/%2F\/no-such-queue$/);
    await visit('queue/%2F/no-such-queue', '#page-error');
    expect(await text('h1')).toBe('Not found');
    expectedFailures.pop();
    // Credentials that stop working (the user's password changed elsewhere) lead back to the login page.
    await page.evaluate(() => sessionStorage.setItem('warren.authorization', `Basic ${btoa('guest:stale')}`));
    expectedFailures.push(/\/api\//);
    await page.goto(`${base}/#/exchanges`);
    await page.waitForFunction(() => location.hash === '#/login');
    await page.waitForSelector('#login');
    expectedFailures.pop();
    await submit('#login', { username: 'guest', password: 'guest' });
    await page.waitForSelector('#totals');
  }, 30_000);

  it('a user without the administrator tag stays logged in and sees why an admin page is refused', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login');
    await submit('#login', { username: 'ui-user', password: 'secret' });
    await page.waitForSelector('#totals');
    expect(await text('#whoami')).toBe('ui-user (monitoring)');
    expectedFailures.push(/^GET .*\/api\/users\?/);
    await visit('admin/users', '#list');
    await waitForText('#notice', 'Not administrator user');
    expectedFailures.pop();
    expect(await page.evaluate(() => location.hash)).toBe('#/admin/users');
    await page.click('#logout');
    await page.waitForSelector('#login');
    expect(await page.evaluate(() => sessionStorage.getItem('warren.authorization'))).toBeNull();
    await submit('#login', { username: 'guest', password: 'guest' });
    await page.waitForSelector('#totals');
  }, 30_000);

  it('with 10,000 queues the queues page shows its first page and the total', async () => {
    const client = await connect(broker.url);
    clients.push(client);
    const ch = await channel(client);
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => ch.assertQueue(`bulk-${String(i).padStart(5, '0')}`, { durable: false })));
    const overview = (await api('GET', '/api/overview')) as { object_totals: { queues: number } };
    const total = overview.object_totals.queues;
    expect(total).toBeGreaterThanOrEqual(10_000);
    const started = performance.now();
    await visit('queues', '#list[data-loaded]');
    const elapsed = performance.now() - started;
    console.log(`queues page with ${total} queues: first page shown in ${elapsed.toFixed(0)} ms`);
    expect(await text('#list .count')).toBe(`${total.toLocaleString('en')} queues`);
    expect(await page.$$eval('#list tbody tr', (rows) => rows.length)).toBe(50);
    expect(await text('#list tbody tr:first-child')).toContain('bulk-00000');
    expect(await text('#list [data-role=position]')).toBe(`page 1 of ${Math.ceil(total / 50)}`);
    await page.type('#list [data-role=filter]', 'bulk-0999');
    await waitForText('#list .count', `10 of ${total.toLocaleString('en')} queues`);
    await page.click('#list [data-role=next]').catch(() => {}); // disabled with one page: nothing happens
    expect(await text('#list tbody tr:last-child')).toContain('bulk-09999');
  }, 60_000);

  it('had no page error, console error or failed request', () => {
    expect(problems).toEqual([]);
  });
});
