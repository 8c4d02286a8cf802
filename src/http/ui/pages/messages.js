// Publishing and binding forms shared by the exchange and queue pages.
import { api, html, parseJsonField, seg } from '../lib.js';

export function publishForm(id) {
  return html`
    <form class="panel" id="${id}">
      <label for="${id}-key">Routing key</label><input id="${id}-key" name="routing_key">
      <label for="${id}-mode">Delivery mode</label>
      <select id="${id}-mode" name="delivery_mode"><option value="1">1 (transient)</option><option value="2">2 (persistent)</option></select>
      <label for="${id}-headers">Headers (JSON)</label><textarea id="${id}-headers" name="headers" placeholder='{"x-trace": "1"}'></textarea>
      <label for="${id}-properties">Properties (JSON)</label><textarea id="${id}-properties" name="properties" placeholder='{"content_type": "text/plain", "expiration": "60000"}'></textarea>
      <label for="${id}-payload">Payload</label><textarea id="${id}-payload" name="payload"></textarea>
      <div class="actions"><button type="submit">Publish message</button></div>
    </form>`;
}

/** POST …/publish; answers whether the message was routed to a queue. */
export async function publish(vhost, exchange, values) {
  const properties = parseJsonField(values.properties, 'Properties');
  const headers = parseJsonField(values.headers, 'Headers');
  if (Object.keys(headers).length > 0) properties.headers = headers;
  properties.delivery_mode = Number(values.delivery_mode);
  const result = await api('POST', `/api/exchanges/${seg(vhost)}/${seg(exchange === '' ? 'amq.default' : exchange)}/publish`, {
    properties,
    routing_key: values.routing_key,
    payload: values.payload,
    payload_encoding: 'string',
  });
  if (!result.routed) throw new Error('Message published, but not routed to any queue');
  return result;
}

export function bindingRows(bindings, side) {
  return bindings.map((b) => html`<tr>
    <td>${side === 'source' ? b.destination : b.source || '(default exchange)'}</td>
    ${side === 'source' ? html`<td>${b.destination_type}</td>` : ''}
    <td>${b.routing_key}</td><td><code>${Object.keys(b.arguments ?? {}).length ? JSON.stringify(b.arguments) : ''}</code></td>
    <td>${b.source === '' ? '' : html`<button type="button" class="danger" data-action="unbind" data-source="${b.source}" data-destination="${b.destination}" data-type="${b.destination_type}" data-key="${b.properties_key}">Unbind</button>`}</td>
  </tr>`);
}

export function unbind(vhost, button) {
  const { source, destination, type, key } = button.dataset;
  return api('DELETE', `/api/bindings/${seg(vhost)}/e/${seg(source)}/${type === 'queue' ? 'q' : 'e'}/${seg(destination)}/${seg(key)}`);
}

export function bind(vhost, source, destinationType, destination, values) {
  return api('POST', `/api/bindings/${seg(vhost)}/e/${seg(source)}/${destinationType === 'queue' ? 'q' : 'e'}/${seg(destination)}`, {
    routing_key: values.routing_key,
    arguments: parseJsonField(values.arguments, 'Arguments'),
  });
}
