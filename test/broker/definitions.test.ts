import { describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { type DefinitionsDocument, exportDefinitions, importDefinitions } from '../../src/broker/definitions.js';

const owner = {};
const durable = { durable: true, exclusive: false, autoDelete: false, arguments: {} };
const exchange = { durable: true, autoDelete: false, internal: false, arguments: {} };

/** A broker with one of each durable object a client can create. */
function populated(): { broker: Broker; serverNamed: string } {
  const broker = new Broker();
  const vhost = broker.putVhost('/');
  for (const type of ['direct', 'fanout', 'topic', 'headers']) vhost.declareExchange(`x.${type}`, type, false, exchange);
  vhost.declareExchange('x.internal', 'topic', false, { ...exchange, internal: true, autoDelete: true, arguments: { 'alternate-exchange': 'x.fanout' } });
  vhost.bindExchange('x.fanout', 'x.direct', 'e2e', {});
  const serverNamed = vhost.declareQueue('', false, durable, owner).name;
  const odd = ['ünïcødé ☃', 'with spaces', 'q'.repeat(255), 'amq-like.but.not'];
  for (const name of odd) vhost.declareQueue(name, false, durable, owner);
  vhost.declareQueue('with-args', false, { ...durable, autoDelete: true, arguments: { 'x-message-ttl': 2_592_000_000, 'x-max-length': 10, 'x-dead-letter-exchange': 'x.fanout', 'x-queue-type': 'classic' } }, owner);
  vhost.bindQueue(serverNamed, 'x.topic', 'a.*.#', {}, owner);
  vhost.bindQueue('ünïcødé ☃', 'x.headers', '', { 'x-match': 'all', k: 'v', n: 1 }, owner);
  vhost.bindQueue('with spaces', 'amq.direct', 'rk', {}, owner);
  return { broker, serverNamed };
}

describe('definitions: restore at start-up', () => {
  it('brings back every durable object a client can create, server-named amq.gen-* queues included', () => {
    const { broker, serverNamed } = populated();
    expect(serverNamed).toMatch(/^amq\.gen-/);
    const document = exportDefinitions(broker, 'test');
    const restored = new Broker();
    expect(importDefinitions(restored, JSON.parse(JSON.stringify(document)) as DefinitionsDocument)).toEqual([]);
    expect(exportDefinitions(restored, 'test')).toEqual(document);
    expect(restored.vhost('/')!.queues.get(serverNamed)?.isStored).toBe(false);
  });

  it('skips a stored object that cannot be restored, says why, and restores the rest', () => {
    const { broker, serverNamed } = populated();
    const document = JSON.parse(JSON.stringify(exportDefinitions(broker, 'test'))) as DefinitionsDocument;
    const good = exportDefinitions(broker, 'test');
    (document.queues as unknown[]).push({ name: 42, vhost: '/', durable: true, auto_delete: false, arguments: {} });
    (document.queues as unknown[]).push({ name: 'elsewhere', vhost: '/nope', durable: true, auto_delete: false, arguments: {} });
    (document.queues as unknown[]).push({ name: 'bad-args', vhost: '/', durable: true, auto_delete: false, arguments: 'x-max-length=1' });
    (document.queues as unknown[]).push(null);
    // A queue stored twice is restored once (an import adds to what exists, as RabbitMQ's does).
    document.queues.push({ ...document.queues[0]! });
    document.exchanges.push({ name: 'x.bogus', vhost: '/', type: 'bogus', durable: true, auto_delete: false, internal: false, arguments: {} });
    document.bindings.push({ source: 'x.missing', vhost: '/', destination: serverNamed, destination_type: 'queue', routing_key: 'k', arguments: {} });
    const restored = new Broker();
    const problems = importDefinitions(restored, document);
    expect(problems).toEqual([
      expect.stringMatching(/^exchange \{"name":"x\.bogus".*: unknown exchange type 'bogus'$/),
      expect.stringMatching(/^queue \{"name":42.*: name is not a string$/),
      expect.stringMatching(/^queue \{"name":"elsewhere".*: unknown vhost '\/nope'$/),
      expect.stringMatching(/^queue \{"name":"bad-args".*: arguments is not a table$/),
      expect.stringMatching(/^queue null: /),
      expect.stringMatching(/^binding \{"source":"x\.missing".*: NOT_FOUND - no exchange 'x\.missing' in vhost '\/'$/),
    ]);
    expect(exportDefinitions(restored, 'test')).toEqual(good);
    expect(importDefinitions(new Broker(), null as unknown as DefinitionsDocument)).toEqual(['the document is not an object']);
  });
});
