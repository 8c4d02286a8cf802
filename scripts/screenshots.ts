// Screenshots of the web UI's main pages for docs/ui/ (shown in the README):
// a broker in this process with a few queues, messages and clients, the UI in
// chromium-headless-shell. Takes about half a minute: the overview's charts
// need samples (one per 5 s poll).
//   npm run screenshots [-- <output dir>]
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { launchChromium } from '../interop/support/browser.js';
import { startBroker } from '../src/index.js';

const OUTPUT = path.resolve(process.argv[2] ?? 'docs/ui');
const CHART_SAMPLES = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const broker = await startBroker({ managementPort: 0 });
  const chromium = await launchChromium();
  const clients: amqp.ChannelModel[] = [];
  try {
    const base = broker.managementUrl!;
    const publisher = await amqp.connect(broker.url, { clientProperties: { connection_name: 'orders-service' } });
    const consumer = await amqp.connect(broker.url, { clientProperties: { connection_name: 'billing-worker' } });
    clients.push(publisher, consumer);
    const ch = await publisher.createChannel();
    const queues = ['orders.created', 'orders.shipped', 'billing.invoices', 'emails.outbound', 'audit.log'];
    await ch.assertExchange('orders', 'topic', { durable: true });
    for (const name of queues) {
      await ch.assertQueue(name, { durable: true, arguments: name === 'audit.log' ? { 'x-max-length': 100000 } : {} });
      await ch.bindQueue(name, 'orders', `${name.split('.')[0]}.#`);
    }
    await ch.assertQueue('orders.retry', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const work = await consumer.createChannel();
    await work.prefetch(20);
    await work.consume('billing.invoices', () => {}, { noAck: false });

    const admin = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };
    for (const [user, tags] of [['ops', 'monitoring'], ['orders-service', 'management'], ['billing-worker', '']]) {
      await fetch(`${base}/api/users/${user}`, { method: 'PUT', headers: admin, body: JSON.stringify({ password: 'example', tags }) });
    }

    const page = await chromium.browser.newPage();
    page.setDefaultTimeout(15_000);
    await page.setViewport({ width: 1280, height: 860 });
    await page.goto(`${base}/`);
    await page.waitForSelector('#login');
    await page.type('#username', 'guest');
    await page.type('#password', 'guest');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#totals');
    // Traffic that rises and falls while the overview samples it.
    for (let sample = 0; sample < CHART_SAMPLES; sample++) {
      for (let i = 0; i < 40 + sample * 35; i++) ch.publish('orders', `${queues[i % queues.length]!.split('.')[0]}.event`, Buffer.from(`{"order": ${i}}`));
      if (sample === CHART_SAMPLES - 2) await ch.purgeQueue('emails.outbound');
      await sleep(5_000);
    }
    await page.screenshot({ path: path.join(OUTPUT, 'overview.png') });

    await page.goto(`${base}/#/queues`);
    await page.waitForSelector('main[data-route="#/queues"] #list[data-loaded]');
    await page.screenshot({ path: path.join(OUTPUT, 'queues.png') });

    await page.goto(`${base}/#/queue/%2F/orders.created`);
    await page.waitForSelector('#depth');
    await page.select('#g-ackmode', 'ack_requeue_true');
    await page.click('#get button[type=submit]');
    await page.waitForSelector('.message .payload');
    await page.screenshot({ path: path.join(OUTPUT, 'queue.png'), fullPage: true });

    await page.goto(`${base}/#/admin/users`);
    await page.waitForSelector('main[data-route="#/admin/users"] #list[data-loaded]');
    await page.screenshot({ path: path.join(OUTPUT, 'admin.png') });
    console.log(`screenshots in ${OUTPUT}: overview.png queues.png queue.png admin.png`);
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    await chromium.close();
    await broker.close();
  }
}

await main();
