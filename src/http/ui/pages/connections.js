import { api, attempt, html, ListView, number, onAction, render, seg, session } from '../lib.js';

/** Closing sends the client connection.close 320 CONNECTION_FORCED with the reason given (the API's X-Reason). */
async function closeConnection(name, reason) {
  if (!confirm(`Close connection ${name}?`)) return false;
  const headers = reason ? { 'x-reason': reason } : {};
  return (await attempt(() => api('DELETE', `/api/connections/${seg(name)}`, undefined, headers).then(() => true), `Closed ${name}`)) === true;
}

function inVhost(base) {
  return () => (session.vhost === '' ? base : `/api/vhosts/${seg(session.vhost)}/${base.slice('/api/'.length)}`);
}

function reasonField() {
  return html`<div class="toolbar"><label>Reason sent to closed clients <input id="close-reason" placeholder="Closed via management plugin" size="40"></label></div>`;
}

export async function connectionsPage(main) {
  render(main, html`<h1>Connections</h1>${reasonField()}<div id="list"></div>`);
  const list = new ListView(main.querySelector('#list'), {
    path: inVhost('/api/connections'),
    noun: 'connections',
    columns: ['name', 'user', 'vhost', 'peer_host', 'peer_port', 'state', 'channels', 'protocol', 'ssl', 'client_properties', 'connected_at'],
    head: html`<tr><th>Name</th><th>User</th><th>Vhost</th><th>Client</th><th>State</th><th class="num">Channels</th><th>Protocol</th><th>Connected</th><th></th></tr>`,
    row: (c) => html`<tr>
      <td>${c.name}</td><td>${c.user}</td><td>${c.vhost}</td>
      <td>${c.client_properties?.product ?? ''} ${c.client_properties?.version ?? ''}</td>
      <td>${c.state}</td><td class="num">${number(c.channels)}</td><td>${c.protocol}${c.ssl ? ' (TLS)' : ''}</td>
      <td>${c.connected_at ? new Date(c.connected_at).toLocaleTimeString() : ''}</td>
      <td><button type="button" class="danger" data-action="close" data-name="${c.name}">Close</button></td></tr>`,
  });
  onAction(main, 'close', async (button) => {
    if (await closeConnection(button.dataset.name, main.querySelector('#close-reason').value)) list.load();
  });
  await list.load();
}

export async function channelsPage(main) {
  render(main, html`<h1>Channels</h1>${reasonField()}<div id="list"></div>`);
  const list = new ListView(main.querySelector('#list'), {
    path: inVhost('/api/channels'),
    noun: 'channels',
    columns: ['name', 'number', 'user', 'vhost', 'state', 'confirm', 'transactional', 'prefetch_count', 'consumer_count', 'messages_unacknowledged', 'messages_unconfirmed', 'connection_details'],
    head: html`<tr><th>Channel</th><th>User</th><th>Vhost</th><th>Mode</th><th>State</th><th class="num">Prefetch</th><th class="num">Consumers</th><th class="num">Unacked</th><th class="num">Unconfirmed</th><th></th></tr>`,
    row: (c) => html`<tr>
      <td>${c.name}</td><td>${c.user}</td><td>${c.vhost}</td>
      <td>${[c.confirm && 'confirm', c.transactional && 'tx'].filter(Boolean).join(', ')}</td>
      <td>${c.state}</td><td class="num">${number(c.prefetch_count)}</td><td class="num">${number(c.consumer_count)}</td>
      <td class="num">${number(c.messages_unacknowledged)}</td><td class="num">${number(c.messages_unconfirmed)}</td>
      <td><button type="button" class="danger" data-action="close" data-name="${c.connection_details?.name}" title="AMQP 0-9-1 closes a channel only from its connection's side: this closes the whole connection">Close connection</button></td></tr>`,
  });
  onAction(main, 'close', async (button) => {
    if (await closeConnection(button.dataset.name, main.querySelector('#close-reason').value)) list.load();
  });
  await list.load();
}
