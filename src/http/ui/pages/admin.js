import { api, attempt, html, link, ListView, onAction, onSubmit, parseJsonField, render, seg, session, vhostNames, vhostOptions } from '../lib.js';

const TABS = { users: 'Users', vhosts: 'Virtual hosts', permissions: 'Permissions', policies: 'Policies' };

export async function adminPage(main, tab = 'users') {
  if (!TABS[tab]) tab = 'users';
  render(main, html`
    <h1>Admin</h1>
    <nav class="tabs">${Object.entries(TABS).map(([key, label]) => html`<a href="${link('admin', key)}" class="${key === tab ? 'active' : ''}">${label}</a>`)}</nav>
    <div id="tab"></div>`);
  const element = main.querySelector('#tab');
  if (tab === 'users') await usersTab(element);
  else if (tab === 'vhosts') await vhostsTab(element);
  else if (tab === 'permissions') await permissionsTab(element);
  else await policiesTab(element);
}

async function confirmDelete(what, path, list) {
  if (!confirm(`Delete ${what}?`)) return;
  await attempt(() => api('DELETE', path).then(() => list.load()), `Deleted ${what}`);
}

async function usersTab(element) {
  render(element, html`<div id="list"></div>
    <h2>Add or update a user</h2>
    <form class="panel" id="user">
      <label for="u-name">Username</label><input id="u-name" name="name" required autocomplete="off">
      <label for="u-password">Password</label><input id="u-password" name="password" type="password" autocomplete="new-password" placeholder="empty: no password login">
      <label for="u-tags">Tags</label><input id="u-tags" name="tags" placeholder="administrator, monitoring, policymaker, management">
      <div class="actions"><button type="submit">Save user</button></div>
    </form>`);
  const list = new ListView(element.querySelector('#list'), {
    path: () => '/api/users',
    noun: 'users',
    columns: ['name', 'tags', 'hashing_algorithm'],
    head: html`<tr><th>Name</th><th>Tags</th><th>Password hash</th><th></th></tr>`,
    row: (u) => html`<tr><td>${u.name}</td><td>${[u.tags].flat().join(', ')}</td><td>${u.hashing_algorithm}</td>
      <td>${u.name === session.user?.name ? '' : html`<button type="button" class="danger" data-action="delete" data-name="${u.name}">Delete</button>`}</td></tr>`,
  });
  onSubmit(element.querySelector('#user'), async (v) => {
    const body = { tags: v.tags };
    if (v.password !== '') body.password = v.password;
    await api('PUT', `/api/users/${seg(v.name)}`, body);
    await list.load();
  }, 'User saved');
  onAction(element, 'delete', (button) => confirmDelete(`user ${button.dataset.name}`, `/api/users/${seg(button.dataset.name)}`, list));
  await list.load();
}

async function vhostsTab(element) {
  render(element, html`<div id="list"></div>
    <h2>Add a virtual host</h2>
    <form class="panel" id="vhost-form">
      <label for="v-name">Name</label><input id="v-name" name="name" required>
      <label for="v-description">Description</label><input id="v-description" name="description">
      <label for="v-tags">Tags</label><input id="v-tags" name="tags">
      <label for="v-type">Default queue type</label><select id="v-type" name="default_queue_type"><option value="">classic</option><option>quorum</option></select>
      <div class="actions"><button type="submit">Add virtual host</button></div>
    </form>`);
  const list = new ListView(element.querySelector('#list'), {
    path: () => '/api/vhosts',
    noun: 'virtual hosts',
    columns: ['name', 'description', 'tags', 'default_queue_type', 'messages_ready', 'messages_unacknowledged'],
    head: html`<tr><th>Name</th><th>Description</th><th>Tags</th><th>Default queue type</th><th class="num">Ready</th><th class="num">Unacked</th><th></th></tr>`,
    row: (v) => html`<tr><td>${v.name}</td><td>${v.description}</td><td>${(v.tags ?? []).join(', ')}</td><td>${v.default_queue_type}</td>
      <td class="num">${v.messages_ready}</td><td class="num">${v.messages_unacknowledged}</td>
      <td><button type="button" class="danger" data-action="delete" data-name="${v.name}">Delete</button></td></tr>`,
  });
  onSubmit(element.querySelector('#vhost-form'), async (v) => {
    const body = { description: v.description, tags: v.tags };
    if (v.default_queue_type !== '') body.default_queue_type = v.default_queue_type;
    await api('PUT', `/api/vhosts/${seg(v.name)}`, body);
    await list.load();
  }, 'Virtual host added');
  onAction(element, 'delete', (button) => confirmDelete(`virtual host ${button.dataset.name} and everything in it`, `/api/vhosts/${seg(button.dataset.name)}`, list));
  await list.load();
}

async function permissionsTab(element) {
  const vhosts = await vhostNames();
  render(element, html`<div id="list"></div>
    <h2>Set permissions</h2>
    <form class="panel" id="permission">
      <label for="p-user">User</label><input id="p-user" name="user" required>
      <label for="p-vhost">Vhost</label><select id="p-vhost" name="vhost">${vhostOptions(vhosts, session.vhost || '/')}</select>
      <label for="p-configure">Configure regexp</label><input id="p-configure" name="configure" value=".*">
      <label for="p-write">Write regexp</label><input id="p-write" name="write" value=".*">
      <label for="p-read">Read regexp</label><input id="p-read" name="read" value=".*">
      <div class="actions"><button type="submit">Set permissions</button></div>
    </form>`);
  const list = new ListView(element.querySelector('#list'), {
    path: () => (session.vhost === '' ? '/api/permissions' : `/api/vhosts/${seg(session.vhost)}/permissions`),
    noun: 'permissions',
    filterable: false,
    columns: ['user', 'vhost', 'configure', 'write', 'read'],
    head: html`<tr><th>User</th><th>Vhost</th><th>Configure</th><th>Write</th><th>Read</th><th></th></tr>`,
    row: (p) => html`<tr><td>${p.user}</td><td>${p.vhost}</td><td><code>${p.configure}</code></td><td><code>${p.write}</code></td><td><code>${p.read}</code></td>
      <td><button type="button" class="danger" data-action="delete" data-user="${p.user}" data-vhost="${p.vhost}">Clear</button></td></tr>`,
  });
  onSubmit(element.querySelector('#permission'), async (v) => {
    await api('PUT', `/api/permissions/${seg(v.vhost)}/${seg(v.user)}`, { configure: v.configure, write: v.write, read: v.read });
    await list.load();
  }, 'Permissions set');
  onAction(element, 'delete', (button) => confirmDelete(`the permissions of ${button.dataset.user} in ${button.dataset.vhost}`,
    `/api/permissions/${seg(button.dataset.vhost)}/${seg(button.dataset.user)}`, list));
  await list.load();
}

async function policiesTab(element) {
  const vhosts = await vhostNames();
  render(element, html`<div id="list"></div>
    <h2>Add or update a policy</h2>
    <form class="panel" id="policy">
      <label for="po-vhost">Vhost</label><select id="po-vhost" name="vhost">${vhostOptions(vhosts, session.vhost || '/')}</select>
      <label for="po-name">Name</label><input id="po-name" name="name" required>
      <label for="po-pattern">Pattern</label><input id="po-pattern" name="pattern" required placeholder="^orders\\.">
      <label for="po-apply">Apply to</label><select id="po-apply" name="apply_to"><option>all</option><option>queues</option><option>exchanges</option></select>
      <label for="po-priority">Priority</label><input id="po-priority" name="priority" type="number" value="0">
      <label for="po-definition">Definition (JSON)</label><textarea id="po-definition" name="definition" required placeholder='{"max-length": 1000}'></textarea>
      <div class="actions"><button type="submit">Save policy</button></div>
    </form>`);
  const list = new ListView(element.querySelector('#list'), {
    path: () => (session.vhost === '' ? '/api/policies' : `/api/policies/${seg(session.vhost)}`),
    noun: 'policies',
    columns: ['vhost', 'name', 'pattern', 'apply-to', 'priority', 'definition'],
    head: html`<tr><th>Vhost</th><th>Name</th><th>Pattern</th><th>Apply to</th><th class="num">Priority</th><th>Definition</th><th></th></tr>`,
    row: (p) => html`<tr><td>${p.vhost}</td><td>${p.name}</td><td><code>${p.pattern}</code></td><td>${p['apply-to']}</td><td class="num">${p.priority}</td>
      <td><code>${JSON.stringify(p.definition)}</code></td>
      <td><button type="button" class="danger" data-action="delete" data-name="${p.name}" data-vhost="${p.vhost}">Delete</button></td></tr>`,
  });
  onSubmit(element.querySelector('#policy'), async (v) => {
    await api('PUT', `/api/policies/${seg(v.vhost)}/${seg(v.name)}`, {
      pattern: v.pattern, 'apply-to': v.apply_to, priority: Number(v.priority), definition: parseJsonField(v.definition, 'Definition'),
    });
    await list.load();
  }, 'Policy saved');
  onAction(element, 'delete', (button) => confirmDelete(`policy ${button.dataset.name}`, `/api/policies/${seg(button.dataset.vhost)}/${seg(button.dataset.name)}`, list));
  await list.load();
}
