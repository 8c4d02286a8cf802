import { api, ApiError, html, notify, onAction, render, session } from '../lib.js';

/** The export is fetched with the session's credentials and saved from a Blob, so no password goes into a URL. */
async function download(file) {
  const response = await fetch(`/api/definitions?download=${encodeURIComponent(file)}`, {
    headers: { authorization: session.authorization ?? '' }, credentials: 'omit', cache: 'no-store',
  });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = file;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function definitionsPage(main) {
  const date = new Date().toISOString().slice(0, 10);
  render(main, html`
    <h1>Definitions</h1>
    <p class="muted">Users, virtual hosts, permissions, policies, queues, exchanges and bindings, in RabbitMQ's definitions format.</p>
    <h2>Export</h2>
    <div class="panel">
      <label for="d-file">File name</label><input id="d-file" value="warren-definitions-${date}.json">
      <span></span><div><button type="button" data-action="download">Download definitions</button></div>
    </div>
    <h2>Import</h2>
    <form class="panel" id="upload">
      <label for="d-upload">Definitions file</label><input id="d-upload" name="file" type="file" accept=".json,application/json" required>
      <div class="actions"><button type="submit">Upload definitions</button></div>
    </form>
    <p class="muted">An import adds to what exists: nothing is deleted.</p>`);
  onAction(main, 'download', async () => {
    try {
      await download(main.querySelector('#d-file').value || 'definitions.json');
    } catch (error) {
      notify(error.message, true);
    }
  });
  main.querySelector('#upload').addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = main.querySelector('#d-upload').files[0];
    if (!file) return;
    let definitions;
    try {
      definitions = JSON.parse(await file.text());
    } catch {
      notify(`${file.name} is not JSON`, true);
      return;
    }
    try {
      await api('POST', '/api/definitions', definitions);
      notify(`Imported ${file.name}`);
    } catch (error) {
      if (!error.loggedOut) notify(error.message, true);
    }
  });
}
