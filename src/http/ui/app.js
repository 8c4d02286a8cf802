// Warren's web UI: a hash router over one module per page; every page talks
// to the management API with the credentials kept in sessionStorage.
import { api, html, render, session, vhostNames, vhostOptions, whenUnauthorized } from './lib.js';
import { loginPage } from './pages/login.js';
import { overviewPage } from './pages/overview.js';
import { connectionsPage, channelsPage } from './pages/connections.js';
import { exchangesPage, exchangePage } from './pages/exchanges.js';
import { queuesPage, queuePage } from './pages/queues.js';
import { adminPage } from './pages/admin.js';
import { definitionsPage } from './pages/definitions.js';

const PAGES = {
  login: loginPage,
  overview: overviewPage,
  connections: connectionsPage,
  channels: channelsPage,
  exchanges: exchangesPage,
  exchange: exchangePage,
  queues: queuesPage,
  queue: queuePage,
  admin: adminPage,
  definitions: definitionsPage,
};

/** What the page being left must stop (timers), set by the page's function. */
let leaveCurrent = () => {};
/** The page shown: a 401 on the login page itself stays there. */
let shown = null;

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((part) => decodeURIComponent(part));
  const name = parts[0] || 'overview';
  return { name: PAGES[name] ? name : 'overview', args: parts.slice(1) };
}

async function show() {
  leaveCurrent();
  leaveCurrent = () => {};
  // A fresh element per page, so no page's event listeners outlive it.
  const main = document.createElement('main');
  main.id = 'main';
  main.dataset.route = location.hash;
  document.getElementById('main').replaceWith(main);
  let { name, args } = route();
  if (session.authorization === null) name = 'login';
  shown = name;
  const header = document.getElementById('top');
  header.hidden = name === 'login';
  if (name !== 'login') await showSession();
  for (const a of header.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === name || a.dataset.page === `${name}s`);
  document.title = `Warren: ${name}`;
  try {
    leaveCurrent = (await PAGES[name](main, ...args)) ?? (() => {});
  } catch (error) {
    if (error?.loggedOut) return;
    render(main, html`<h1>${error?.status === 404 ? 'Not found' : 'Error'}</h1><p class="muted" id="page-error">${error.message}</p>`);
  }
}

let sessionShown = null;
async function showSession() {
  if (sessionShown === session.authorization) return;
  const user = await api('GET', '/api/whoami').catch(() => null);
  if (user === null) return;
  session.user = user;
  document.getElementById('whoami').textContent = `${user.name}${user.tags.length ? ` (${user.tags.join(', ')})` : ''}`;
  const select = document.getElementById('vhost');
  const vhosts = await vhostNames().catch(() => []);
  render(select, html`<option value="">All</option>${vhostOptions(vhosts, session.vhost)}`);
  sessionShown = session.authorization;
}

whenUnauthorized(() => {
  session.clear();
  sessionShown = null;
  if (shown !== 'login') location.hash = '#/login';
});

document.getElementById('logout').addEventListener('click', () => {
  session.clear();
  sessionShown = null;
  location.hash = '#/login';
});
document.getElementById('vhost').addEventListener('change', (event) => {
  session.vhost = event.target.value;
  show();
});
window.addEventListener('hashchange', show);
show();
