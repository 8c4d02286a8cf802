import { api, attempt, html, link, ListView, number, onAction, onSubmit, parseJsonField, render, seg, session, vhostNames, vhostOptions } from '../lib.js';
import { bind, bindingRows, publish, publishForm, unbind } from './messages.js';

function features(q) {
  return [q.durable && 'durable', q.auto_delete && 'auto-delete', q.exclusive && 'exclusive', ...Object.keys(q.arguments ?? {})].filter(Boolean).join(', ');
}

export async function queuesPage(main) {
  const vhosts = await vhostNames();
  render(main, html`
    <h1>Queues</h1>
    <div id="list"></div>
    <h2>Add a queue</h2>
    <form class="panel" id="declare">
      <label for="q-vhost">Vhost</label><select id="q-vhost" name="vhost">${vhostOptions(vhosts, session.vhost || '/')}</select>
      <label for="q-type">Type</label><select id="q-type" name="type"><option value="classic">classic</option><option value="quorum">quorum</option></select>
      <label for="q-name">Name</label><input id="q-name" name="name" required>
      <label for="q-durable">Durable</label><input id="q-durable" name="durable" type="checkbox" checked>
      <label for="q-auto-delete">Auto-delete</label><input id="q-auto-delete" name="auto_delete" type="checkbox">
      <label for="q-arguments">Arguments (JSON)</label><textarea id="q-arguments" name="arguments" placeholder='{"x-max-length": 1000, "x-message-ttl": 60000}'></textarea>
      <div class="actions"><button type="submit">Add queue</button></div>
    </form>`);
  const list = new ListView(main.querySelector('#list'), {
    path: () => (session.vhost === '' ? '/api/queues' : `/api/queues/${seg(session.vhost)}`),
    noun: 'queues',
    columns: ['name', 'vhost', 'type', 'durable', 'auto_delete', 'exclusive', 'arguments', 'policy', 'state', 'consumers', 'messages_ready', 'messages_unacknowledged', 'messages'],
    head: html`<tr><th>Vhost</th><th>Name</th><th>Type</th><th>Features</th><th>Policy</th><th>State</th><th class="num">Consumers</th><th class="num">Ready</th><th class="num">Unacked</th><th class="num">Total</th></tr>`,
    row: (q) => html`<tr><td>${q.vhost}</td><td><a href="${link('queue', q.vhost, q.name)}">${q.name}</a></td><td>${q.type}</td>
      <td>${features(q)}</td><td>${q.policy ?? ''}</td><td>${q.state}</td><td class="num">${number(q.consumers)}</td>
      <td class="num">${number(q.messages_ready)}</td><td class="num">${number(q.messages_unacknowledged)}</td><td class="num">${number(q.messages)}</td></tr>`,
  });
  onSubmit(main.querySelector('#declare'), async (v) => {
    const args = parseJsonField(v.arguments, 'Arguments');
    if (v.type !== 'classic') args['x-queue-type'] = v.type;
    await api('PUT', `/api/queues/${seg(v.vhost)}/${seg(v.name)}`, { durable: v.durable, auto_delete: v.auto_delete, arguments: args });
    await list.load();
  }, 'Queue added');
  await list.load();
}

function messageView(m, index) {
  return html`<div class="message">
    <h2>Message ${index + 1}</h2>
    <dl class="props">
      <dt>Exchange</dt><dd>${m.exchange || '(AMQP default)'}</dd><dt>Routing key</dt><dd>${m.routing_key}</dd>
      <dt>Redelivered</dt><dd>${m.redelivered ? 'yes' : 'no'}</dd><dt>Remaining in queue</dt><dd>${number(m.message_count)}</dd>
      <dt>Properties</dt><dd><code>${JSON.stringify(m.properties ?? {})}</code></dd>
      <dt>Payload</dt><dd>${number(m.payload_bytes)} bytes, ${m.payload_encoding}<pre class="payload">${m.payload}</pre></dd>
    </dl></div>`;
}

export async function queuePage(main, vhost, name) {
  const path = `/api/queues/${seg(vhost)}/${seg(name)}`;
  const show = async () => {
    const queue = await api('GET', path);
    render(main.querySelector('#details'), html`<dl class="props">
      <dt>Type</dt><dd>${queue.type}</dd><dt>Features</dt><dd>${features(queue)}</dd><dt>State</dt><dd>${queue.state}</dd>
      <dt>Policy</dt><dd>${queue.policy ?? ''}</dd><dt>Arguments</dt><dd><code>${JSON.stringify(queue.arguments ?? {})}</code></dd>
      <dt>Consumers</dt><dd>${number(queue.consumers)}</dd>
      <dt>Messages</dt><dd id="depth">${number(queue.messages_ready)} ready, ${number(queue.messages_unacknowledged)} unacknowledged, ${number(queue.messages)} total</dd>
    </dl>`);
    const bindings = await api('GET', `${path}/bindings`);
    render(main.querySelector('#bindings'), html`<table><thead><tr><th>From</th><th>Routing key</th><th>Arguments</th><th></th></tr></thead>
      <tbody>${bindingRows(bindings, 'destination')}</tbody></table>`);
  };
  await api('GET', path);
  render(main, html`
    <h1>Queue ${name} <span class="muted">in ${vhost}</span></h1>
    <div id="details"></div>
    <h2>Bindings</h2><div id="bindings"></div>
    <form class="panel" id="bind">
      <label for="b-source">From exchange</label><input id="b-source" name="source" required>
      <label for="b-key">Routing key</label><input id="b-key" name="routing_key">
      <label for="b-arguments">Arguments (JSON)</label><textarea id="b-arguments" name="arguments"></textarea>
      <div class="actions"><button type="submit">Bind</button></div>
    </form>
    <h2>Publish a message</h2>
    <p class="muted">Through the default exchange, with this queue's name as the routing key.</p>
    ${publishForm('publish')}
    <h2>Get messages</h2>
    <form class="panel" id="get">
      <label for="g-ackmode">Ack mode</label><select id="g-ackmode" name="ackmode">
        <option value="ack_requeue_true">Nack, requeue</option><option value="ack_requeue_false">Ack, remove from the queue</option>
        <option value="reject_requeue_true">Reject, requeue</option><option value="reject_requeue_false">Reject, no requeue</option></select>
      <label for="g-encoding">Encoding</label><select id="g-encoding" name="encoding"><option value="auto">auto (string or base64)</option><option value="base64">base64</option></select>
      <label for="g-count">Messages</label><input id="g-count" name="count" type="number" min="1" value="1">
      <div class="actions"><button type="submit">Get messages</button></div>
    </form>
    <div id="messages"></div>
    <h2>Purge and delete</h2>
    <div class="toolbar"><button type="button" class="danger" data-action="purge">Purge messages</button>
      <button type="button" class="danger" data-action="delete">Delete queue</button></div>`);
  main.querySelector('#publish [name=routing_key]').value = name;
  onSubmit(main.querySelector('#bind'), async (v) => {
    await bind(vhost, v.source, 'queue', name, v);
    await show();
  }, 'Binding added');
  onAction(main, 'unbind', (button) => attempt(() => unbind(vhost, button).then(show), 'Binding removed'));
  onSubmit(main.querySelector('#publish'), async (v) => {
    await publish(vhost, '', v);
    await show();
  }, 'Message published');
  onSubmit(main.querySelector('#get'), async (v) => {
    const messages = await api('POST', `${path}/get`, { count: Number(v.count), ackmode: v.ackmode, encoding: v.encoding, truncate: 50000 });
    render(main.querySelector('#messages'), messages.length ? html`${messages.map(messageView)}` : html`<p class="muted" id="queue-empty">Queue is empty</p>`);
    await show();
  });
  onAction(main, 'purge', async () => {
    if (!confirm(`Purge every message of ${name}?`)) return;
    await attempt(() => api('DELETE', `${path}/contents`).then(show), 'Queue purged');
  });
  onAction(main, 'delete', async () => {
    if (!confirm(`Delete queue ${name}?`)) return;
    if (await attempt(() => api('DELETE', path).then(() => true), 'Queue deleted')) location.hash = '#/queues';
  });
  await show();
}
