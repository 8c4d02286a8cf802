import { api, attempt, html, link, ListView, onAction, onSubmit, parseJsonField, render, seg, session, vhostNames, vhostOptions } from '../lib.js';
import { bind, bindingRows, publish, publishForm, unbind } from './messages.js';

function features(x) {
  return [x.durable && 'durable', x.auto_delete && 'auto-delete', x.internal && 'internal', ...Object.keys(x.arguments ?? {})].filter(Boolean).join(', ');
}

export async function exchangesPage(main) {
  const vhosts = await vhostNames();
  render(main, html`
    <h1>Exchanges</h1>
    <div id="list"></div>
    <h2>Add an exchange</h2>
    <form class="panel" id="declare">
      <label for="x-vhost">Vhost</label><select id="x-vhost" name="vhost">${vhostOptions(vhosts, session.vhost || '/')}</select>
      <label for="x-name">Name</label><input id="x-name" name="name" required>
      <label for="x-type">Type</label><select id="x-type" name="type">${['direct', 'fanout', 'topic', 'headers', 'x-consistent-hash'].map((t) => html`<option>${t}</option>`)}</select>
      <label for="x-durable">Durable</label><input id="x-durable" name="durable" type="checkbox" checked>
      <label for="x-auto-delete">Auto-delete</label><input id="x-auto-delete" name="auto_delete" type="checkbox">
      <label for="x-internal">Internal</label><input id="x-internal" name="internal" type="checkbox">
      <label for="x-arguments">Arguments (JSON)</label><textarea id="x-arguments" name="arguments" placeholder='{"alternate-exchange": "unrouted"}'></textarea>
      <div class="actions"><button type="submit">Add exchange</button></div>
    </form>`);
  const list = new ListView(main.querySelector('#list'), {
    path: () => (session.vhost === '' ? '/api/exchanges' : `/api/exchanges/${seg(session.vhost)}`),
    noun: 'exchanges',
    columns: ['name', 'vhost', 'type', 'durable', 'auto_delete', 'internal', 'arguments', 'policy'],
    head: html`<tr><th>Vhost</th><th>Name</th><th>Type</th><th>Features</th><th>Policy</th></tr>`,
    row: (x) => html`<tr><td>${x.vhost}</td><td><a href="${link('exchange', x.vhost, x.name === '' ? 'amq.default' : x.name)}">${x.name === '' ? '(AMQP default)' : x.name}</a></td>
      <td>${x.type}</td><td>${features(x)}</td><td>${x.policy ?? ''}</td></tr>`,
  });
  onSubmit(main.querySelector('#declare'), async (v) => {
    await api('PUT', `/api/exchanges/${seg(v.vhost)}/${seg(v.name)}`, {
      type: v.type, durable: v.durable, auto_delete: v.auto_delete, internal: v.internal, arguments: parseJsonField(v.arguments, 'Arguments'),
    });
    await list.load();
  }, 'Exchange added');
  await list.load();
}

export async function exchangePage(main, vhost, name) {
  const path = `/api/exchanges/${seg(vhost)}/${seg(name)}`;
  const exchange = await api('GET', path);
  const isDefault = exchange.name === '';
  render(main, html`
    <h1>Exchange ${isDefault ? '(AMQP default)' : exchange.name} <span class="muted">in ${vhost}</span></h1>
    <dl class="props">
      <dt>Type</dt><dd>${exchange.type}</dd><dt>Features</dt><dd>${features(exchange)}</dd>
      <dt>Policy</dt><dd>${exchange.policy ?? ''}</dd><dt>Arguments</dt><dd><code>${JSON.stringify(exchange.arguments ?? {})}</code></dd>
    </dl>
    <h2>Bindings from this exchange</h2><div id="bindings"></div>
    ${isDefault ? '' : html`
      <h2>Add a binding from this exchange</h2>
      <form class="panel" id="bind">
        <label for="b-type">To</label><select id="b-type" name="destination_type"><option value="queue">queue</option><option value="exchange">exchange</option></select>
        <label for="b-destination">Name</label><input id="b-destination" name="destination" required>
        <label for="b-key">Routing key</label><input id="b-key" name="routing_key">
        <label for="b-arguments">Arguments (JSON)</label><textarea id="b-arguments" name="arguments"></textarea>
        <div class="actions"><button type="submit">Bind</button></div>
      </form>`}
    <h2>Publish a message</h2>${publishForm('publish')}
    ${isDefault || exchange.name.startsWith('amq.') ? '' : html`<h2>Delete</h2><button type="button" class="danger" data-action="delete">Delete exchange</button>`}`);
  const showBindings = async () => {
    const bindings = await api('GET', `${path}/bindings/source`);
    render(main.querySelector('#bindings'), html`<table><thead><tr><th>To</th><th>Type</th><th>Routing key</th><th>Arguments</th><th></th></tr></thead>
      <tbody>${bindings.length ? bindingRows(bindings, 'source') : html`<tr><td colspan="5" class="muted">No bindings</td></tr>`}</tbody></table>`);
  };
  const bindForm = main.querySelector('#bind');
  if (bindForm) {
    onSubmit(bindForm, async (v) => {
      await bind(vhost, exchange.name, v.destination_type, v.destination, v);
      await showBindings();
    }, 'Binding added');
  }
  onAction(main, 'unbind', (button) => attempt(() => unbind(vhost, button).then(showBindings), 'Binding removed'));
  onSubmit(main.querySelector('#publish'), (v) => publish(vhost, exchange.name, v), 'Message published');
  onAction(main, 'delete', async () => {
    if (!confirm(`Delete exchange ${exchange.name}?`)) return;
    if (await attempt(() => api('DELETE', path).then(() => true), 'Exchange deleted')) location.hash = '#/exchanges';
  });
  await showBindings();
}
