import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { Message } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import { VHost } from '../../src/broker/vhost.js';
import { encodeProperties } from '../../src/protocol/methods.generated.js';
import { amqpError } from './helpers.js';

const owner = {};
const other = {};
const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
const exchangeOptions = { durable: false, autoDelete: false, internal: false, arguments: {} };

function publish(vhost: VHost, exchange: string, routingKey: string, headers?: Record<string, string | number>): string[] {
  const properties = encodeProperties(headers === undefined ? {} : { headers });
  const routed = vhost.publish(new Message(exchange, routingKey, properties, Buffer.from('x'), 1));
  return routed.map((q) => q.name).sort();
}

function consumer(tag: string, exclusive = false): Consumer & { cancelled: boolean } {
  return {
    tag,
    noAck: true,
    exclusive,
    priority: 0,
    cancelled: false,
    canAccept: () => true,
    deliver: () => {},
    cancelledByBroker(this: { cancelled: boolean }, _q: Queue) {
      this.cancelled = true;
    },
  };
}

describe('VHost', () => {
  it('routes through the default exchange by queue name', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q1', false, plain, owner);
    expect(publish(vhost, '', 'q1')).toEqual(['q1']);
    expect(publish(vhost, '', 'missing')).toEqual([]);
    expect(vhost.queues.get('q1')?.messageCount).toBe(1);
  });

  it('routes each message once to a queue bound several ways, and through exchange-to-exchange bindings', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q1', false, plain, owner);
    vhost.declareQueue('q2', false, plain, owner);
    vhost.declareExchange('t', 'topic', false, exchangeOptions);
    vhost.declareExchange('f', 'fanout', false, exchangeOptions);
    vhost.bindQueue('q1', 't', 'a.*', {}, owner);
    vhost.bindQueue('q1', 't', '#', {}, owner);
    vhost.bindExchange('f', 't', 'a.b', {});
    vhost.bindQueue('q2', 'f', '', {}, owner);
    vhost.bindQueue('q1', 'f', '', {}, owner);
    expect(publish(vhost, 't', 'a.b')).toEqual(['q1', 'q2']);
    expect(vhost.queues.get('q1')?.messageCount).toBe(1);
    expect(publish(vhost, 't', 'z')).toEqual(['q1']);
  });

  it('survives a cycle of exchange-to-exchange bindings', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, plain, owner);
    vhost.declareExchange('e1', 'fanout', false, exchangeOptions);
    vhost.declareExchange('e2', 'fanout', false, exchangeOptions);
    vhost.bindExchange('e2', 'e1', '', {});
    vhost.bindExchange('e1', 'e2', '', {});
    vhost.bindQueue('q', 'e2', '', {}, owner);
    expect(publish(vhost, 'e1', 'k')).toEqual(['q']);
  });

  it('sends what an exchange cannot route to its alternate exchange, also behind an exchange-to-exchange binding, without looping', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('matched', false, plain, owner);
    vhost.declareQueue('fallback', false, plain, owner);
    vhost.declareExchange('ae', 'fanout', false, exchangeOptions);
    vhost.declareExchange('inner', 'direct', false, { ...exchangeOptions, arguments: { 'alternate-exchange': 'ae' } });
    vhost.declareExchange('outer', 'fanout', false, exchangeOptions);
    vhost.bindExchange('inner', 'outer', '', {});
    vhost.bindQueue('matched', 'inner', 'k', {}, owner);
    vhost.bindQueue('fallback', 'ae', '', {}, owner);
    expect(publish(vhost, 'inner', 'k')).toEqual(['matched']);
    expect(publish(vhost, 'inner', 'other')).toEqual(['fallback']);
    expect(publish(vhost, 'outer', 'other')).toEqual(['fallback']);
    vhost.declareExchange('a', 'direct', false, { ...exchangeOptions, arguments: { 'alternate-exchange': 'b' } });
    vhost.declareExchange('b', 'direct', false, { ...exchangeOptions, arguments: { 'alternate-exchange': 'a' } });
    expect(publish(vhost, 'a', 'nowhere')).toEqual([]);
  });

  it('routes by headers', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, plain, owner);
    vhost.bindQueue('q', 'amq.headers', '', { 'x-match': 'any', a: 1, b: 'two' }, owner);
    expect(publish(vhost, 'amq.headers', '', { b: 'two' })).toEqual(['q']);
    expect(publish(vhost, 'amq.headers', '', { b: 'three' })).toEqual([]);
    expect(publish(vhost, 'amq.headers', '')).toEqual([]);
  });

  it('answers errors with RabbitMQ codes and texts', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, plain, owner);
    expect(amqpError(() => publish(vhost, 'nope', 'k'))).toEqual({ scope: 'channel', code: 404, text: "NOT_FOUND - no exchange 'nope' in vhost '/'" });
    expect(amqpError(() => vhost.declareQueue('missing', true, plain, owner)).code).toBe(404);
    expect(amqpError(() => vhost.declareExchange('amq.foo', 'direct', false, exchangeOptions)).code).toBe(403);
    expect(amqpError(() => vhost.declareExchange('x', 'nonsense', false, exchangeOptions))).toMatchObject({ scope: 'connection', code: 503 });
    expect(amqpError(() => vhost.declareQueue('q', false, { ...plain, durable: true }, owner))).toEqual({
      scope: 'channel',
      code: 406,
      text: "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
    });
    expect(amqpError(() => vhost.bindQueue('q', '', 'k', {}, owner)).code).toBe(403);
    expect(amqpError(() => vhost.bindQueue('q', 'missing', 'k', {}, owner)).code).toBe(404);
    expect(amqpError(() => vhost.bindQueue('q', 'amq.headers', '', { 'x-match': 'some' }, owner)).code).toBe(406);
  });

  it('looks an amq.* exchange up before refusing the name, as RabbitMQ; the type is checked first', () => {
    const vhost = new VHost('/');
    const durable = { ...exchangeOptions, durable: true };
    expect(vhost.declareExchange('amq.topic', 'topic', false, durable).name).toBe('amq.topic');
    expect(vhost.declareExchange('amq.direct', 'direct', false, { ...durable, arguments: { 'x-anything': 1 } }).name).toBe('amq.direct');
    expect(vhost.declareExchange('amq.rabbitmq.trace', 'topic', false, { ...durable, internal: true }).options.internal).toBe(true);
    expect(amqpError(() => vhost.declareExchange('amq.direct', 'direct', false, exchangeOptions))).toEqual({
      scope: 'channel',
      code: 406,
      text: "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct' in vhost '/': received 'false' but current is 'true'",
    });
    expect(amqpError(() => vhost.declareExchange('amq.direct', 'fanout', false, durable)).text).toBe(
      "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'amq.direct' in vhost '/': received 'fanout' but current is 'direct'",
    );
    expect(amqpError(() => vhost.declareExchange('amq.new', 'direct', false, durable))).toEqual({
      scope: 'channel',
      code: 403,
      text: "ACCESS_REFUSED - exchange name 'amq.new' contains reserved prefix 'amq.*'",
    });
    for (const name of ['amq.new', 'amq.topic', '']) {
      expect(amqpError(() => vhost.declareExchange(name, 'bogus', false, durable))).toEqual({
        scope: 'connection',
        code: 503,
        text: "COMMAND_INVALID - unknown exchange type 'bogus'",
      });
    }
  });

  it('compares only alternate-exchange among an exchange\'s arguments on redeclare', () => {
    const vhost = new VHost('/');
    vhost.declareExchange('x', 'direct', false, { ...exchangeOptions, arguments: { 'alternate-exchange': 'a', 'x-other': 1 } });
    expect(() => vhost.declareExchange('x', 'direct', false, { ...exchangeOptions, arguments: { 'alternate-exchange': 'a', 'x-other': 2 } })).not.toThrow();
    expect(amqpError(() => vhost.declareExchange('x', 'direct', false, { ...exchangeOptions, arguments: { 'alternate-exchange': 'b' } })).text).toBe(
      "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'x' in vhost '/': received 'b' but current is 'a'",
    );
  });

  it('keeps exclusive queues to their connection and deletes them with it', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('mine', false, { ...plain, exclusive: true }, owner);
    expect(amqpError(() => vhost.declareQueue('mine', true, plain, other)).code).toBe(405);
    expect(amqpError(() => vhost.purgeQueue('mine', other)).code).toBe(405);
    vhost.ownerClosed(other);
    expect(vhost.queues.has('mine')).toBe(true);
    vhost.ownerClosed(owner);
    expect(vhost.queues.has('mine')).toBe(false);
  });

  it('deletes an auto-delete queue with its last consumer and tells remaining consumers when a queue goes', () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('auto', false, { ...plain, autoDelete: true }, owner);
    const c1 = consumer('c1');
    const c2 = consumer('c2');
    vhost.consume(queue, c1);
    vhost.consume(queue, c2);
    vhost.cancel(queue, c1);
    expect(vhost.queues.has('auto')).toBe(true);
    vhost.cancel(queue, c2);
    expect(vhost.queues.has('auto')).toBe(false);

    const kept = vhost.declareQueue('kept', false, plain, owner);
    const c3 = consumer('c3');
    vhost.consume(kept, c3);
    expect(vhost.deleteQueue('kept', false, false, owner)).toBe(0);
    expect(c3.cancelled).toBe(true);
  });

  it('refuses a second consumer on a queue with an exclusive consumer', () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('q', false, plain, owner);
    vhost.consume(queue, consumer('c1', true));
    expect(amqpError(() => vhost.consume(queue, consumer('c2'))).code).toBe(403);
  });

  it('deletes an auto-delete exchange with its last binding, and honours if-unused and if-empty', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, plain, owner);
    vhost.declareExchange('ad', 'direct', false, { ...exchangeOptions, autoDelete: true });
    vhost.bindQueue('q', 'ad', 'k', {}, owner);
    expect(amqpError(() => vhost.deleteExchange('ad', true)).code).toBe(406);
    vhost.unbindQueue('q', 'ad', 'k', {}, owner);
    expect(vhost.exchanges.has('ad')).toBe(false);

    publish(vhost, '', 'q');
    expect(amqpError(() => vhost.deleteQueue('q', false, true, owner)).code).toBe(406);
    expect(vhost.deleteQueue('q', false, false, owner)).toBe(1);
    expect(vhost.deleteQueue('q', false, false, owner)).toBe(0);
  });

  it('removes a deleted queue from the exchanges that routed to it', () => {
    const vhost = new VHost('/');
    vhost.declareQueue('q', false, plain, owner);
    vhost.bindQueue('q', 'amq.fanout', '', {}, owner);
    expect(publish(vhost, 'amq.fanout', '')).toEqual(['q']);
    vhost.deleteQueue('q', false, false, owner);
    expect(publish(vhost, 'amq.fanout', '')).toEqual([]);
    expect(vhost.exchanges.get('amq.fanout')?.bindings.size).toBe(0);
  });
});
