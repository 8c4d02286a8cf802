import { api, ApiError, html, render, session } from '../lib.js';

/** HTTP Basic through a form: the credentials are checked with /api/whoami, then kept for the session. */
export function loginPage(main) {
  render(main, html`
    <section class="login">
      <h1>Warren</h1>
      <form class="panel" id="login">
        <label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus>
        <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
        <span class="error" id="login-error" role="alert"></span>
        <div class="actions"><button type="submit">Log in</button></div>
      </form>
    </section>`);
  const form = main.querySelector('#login');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = main.querySelector('#login-error');
    error.textContent = '';
    session.set(form.username.value, form.password.value);
    try {
      await api('GET', '/api/whoami');
      location.hash = '#/overview';
    } catch (failure) {
      session.clear();
      error.textContent = `Login failed: ${failure instanceof ApiError && failure.body?.reason ? failure.body.reason : failure.message}`;
    }
  });
}
