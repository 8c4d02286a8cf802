import { api, html, number, render, session } from '../lib.js';

const POLL_MS = 5000;
/** Ten minutes of 5-second samples. */
const KEEP_SAMPLES = 120;

/** Samples kept while the tab lives, so the charts survive visits to other pages. */
const samples = [];

const DEPTH_SERIES = [
  { key: 'ready', label: 'Ready', color: '#2f5d50' },
  { key: 'unacked', label: 'Unacknowledged', color: '#c98a1b' },
];
const RATE_SERIES = [
  { key: 'publish', label: 'Publish', color: '#2f5d50' },
  { key: 'deliver', label: 'Deliver / get', color: '#3a6ea5' },
  { key: 'ack', label: 'Ack', color: '#c98a1b' },
];

/**
 * Rates per second: message_stats' own `_details.rate` when the broker
 * reports it, else the counters' change since the last sample; null when the
 * broker counts no message statistics (no message_stats, as with
 * disable_stats). A counter that never moved is left out of message_stats: 0.
 */
function rate(stats, previous, key, seconds) {
  if (!stats) return null;
  if (typeof stats[key] !== 'number') return 0;
  const details = stats[`${key}_details`];
  if (details && typeof details.rate === 'number') return details.rate;
  const before = previous?.stats?.[key];
  return typeof before === 'number' && seconds > 0 ? Math.max(0, (stats[key] - before) / seconds) : 0;
}

function sample(overview) {
  const previous = samples[samples.length - 1];
  const at = Date.now();
  const seconds = previous ? (at - previous.at) / 1000 : 0;
  const stats = overview.message_stats;
  samples.push({
    at,
    stats,
    ready: overview.queue_totals?.messages_ready ?? 0,
    unacked: overview.queue_totals?.messages_unacknowledged ?? 0,
    publish: rate(stats, previous, 'publish', seconds),
    deliver: rate(stats, previous, 'deliver_get', seconds),
    ack: rate(stats, previous, 'ack', seconds),
  });
  if (samples.length > KEEP_SAMPLES) samples.shift();
}

/** A line chart of the kept samples, in SVG user units (scaled by CSS). */
function chart(title, series, unit) {
  const width = 600;
  const height = 180;
  const pad = { left: 48, right: 8, top: 10, bottom: 22 };
  const points = samples.filter((s) => series.some((line) => s[line.key] !== null));
  const max = Math.max(1, ...points.flatMap((s) => series.map((line) => s[line.key] ?? 0)));
  const now = Date.now();
  // From the oldest sample kept (at least a minute), so a fresh page is not a sliver at the right edge.
  const span = Math.min(KEEP_SAMPLES * POLL_MS, Math.max(60_000, samples.length ? now - samples[0].at : 0));
  const x = (at) => pad.left + (1 - (now - at) / span) * (width - pad.left - pad.right);
  const y = (value) => pad.top + (1 - value / max) * (height - pad.top - pad.bottom);
  const grid = [0, 0.5, 1].map((f) => html`
    <line x1="${pad.left}" x2="${width - pad.right}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#e3e8e5"/>
    <text x="${pad.left - 6}" y="${y(max * f) + 4}" text-anchor="end" font-size="11" fill="#5c6b66">${formatAxis(max * f)}</text>`);
  const lines = series.map((line) => html`<polyline fill="none" stroke="${line.color}" stroke-width="2" points="${points
    .map((s) => `${x(s.at).toFixed(1)},${y(s[line.key] ?? 0).toFixed(1)}`).join(' ')}"/>`);
  const empty = points.length === 0;
  return html`
    <div class="chart">
      <h2>${title}</h2>
      <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">
        ${grid}
        <text x="${pad.left}" y="${height - 4}" font-size="11" fill="#5c6b66">${span >= 120_000 ? `${Math.round(span / 60000)} min ago` : `${Math.round(span / 1000)} s ago`}</text>
        <text x="${width - pad.right}" y="${height - 4}" font-size="11" fill="#5c6b66" text-anchor="end">now</text>
        ${empty ? html`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#5c6b66">${unit === 'msg/s' ? 'No message statistics reported' : 'Waiting for samples'}</text>` : lines}
      </svg>
      <div class="legend">${series.map((line) => html`<span><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${line.color}"/></svg> ${line.label}</span>`)}<span>${unit}</span></div>
    </div>`;
}

function formatAxis(value) {
  return value >= 1000 ? `${(value / 1000).toFixed(value >= 10000 ? 0 : 1)}k` : value.toFixed(value < 10 && value % 1 !== 0 ? 1 : 0);
}

function card(label, value) {
  return html`<div class="card"><div class="value">${number(value ?? 0)}</div><div class="label">${label}</div></div>`;
}

function isMonitor() {
  const tags = session.user?.tags ?? [];
  return tags.includes('administrator') || tags.includes('monitoring');
}

async function refresh(main, left) {
  const [overview, nodes] = await Promise.all([
    api('GET', '/api/overview'),
    isMonitor() ? api('GET', '/api/nodes') : Promise.resolve(null),
  ]);
  sample(overview);
  if (left()) return;
  const totals = overview.object_totals ?? {};
  const queued = overview.queue_totals ?? {};
  const node = nodes?.[0];
  const alarms = node ? [node.mem_alarm && 'memory', node.disk_free_alarm && 'disk'].filter(Boolean) : [];
  render(main, html`
    <h1>Overview <span class="muted">${overview.product_name} ${overview.product_version} · ${overview.cluster_name}</span></h1>
    <div class="cards" id="totals">
      ${card('Connections', totals.connections)}${card('Channels', totals.channels)}${card('Exchanges', totals.exchanges)}
      ${card('Queues', totals.queues)}${card('Consumers', totals.consumers)}
      ${card('Ready', queued.messages_ready)}${card('Unacked', queued.messages_unacknowledged)}${card('Total messages', queued.messages)}
    </div>
    <div class="charts">
      ${chart('Queued messages', DEPTH_SERIES, 'messages')}
      ${chart('Message rates', RATE_SERIES, 'msg/s')}
    </div>
    ${node ? html`
      <h2>Node ${node.name}</h2>
      <dl class="props" id="alarms">
        <dt>Alarms</dt><dd>${alarms.length ? alarms.map((a) => html`<span class="alarm">${a} alarm</span> `) : html`<span class="ok">none</span>`}</dd>
        <dt>Memory</dt><dd>${number(Math.round(node.mem_used / 1048576))} MiB of ${number(Math.round(node.mem_limit / 1048576))} MiB limit</dd>
        <dt>Disk free limit</dt><dd>${number(Math.round(node.disk_free_limit / 1048576))} MiB</dd>
        <dt>Uptime</dt><dd>${Math.floor(node.uptime / 60000)} min</dd>
      </dl>` : ''}
    ${overview.listeners ? html`
      <h2>Listeners</h2>
      <table id="listeners"><thead><tr><th>Protocol</th><th>Address</th><th class="num">Port</th></tr></thead>
      <tbody>${overview.listeners.map((l) => html`<tr><td>${l.protocol}</td><td>${l.ip_address}</td><td class="num">${l.port}</td></tr>`)}</tbody></table>` : ''}`);
  main.dataset.loaded = 'true';
}

export async function overviewPage(main) {
  let gone = false;
  const left = () => gone;
  await refresh(main, left);
  const timer = setInterval(() => refresh(main, left).catch(() => {}), POLL_MS);
  return () => {
    gone = true;
    clearInterval(timer);
  };
}
