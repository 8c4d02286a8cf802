import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Consumer } from '../../src/broker/consumer.js';
import { Message, type QueueEntry } from '../../src/broker/message.js';
import { parseExpiration, queueLimits, validateQueueArguments } from '../../src/broker/queue-arguments.js';
import type { Queue } from '../../src/broker/queue.js';
import { VHost } from '../../src/broker/vhost.js';
import { AmqpError } from '../../src/protocol/errors.js';
import type { FieldTable } from '../../src/protocol/field-table.js';
import { type BasicProperties, encodeProperties } from '../../src/protocol/methods.generated.js';

const owner = {};

// The queue's TTL and x-expires timers run on a fake clock (the other tests set none).
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function declare(vhost: VHost, name: string, args: FieldTable): Queue {
  return vhost.declareQueue(name, false, { durable: false, exclusive: false, autoDelete: false, arguments: args }, owner);
}

function publish(vhost: VHost, queue: string, body: string, properties: BasicProperties = {}): readonly Queue[] {
  return vhost.publish(new Message('', queue, encodeProperties(properties), Buffer.from(body), Buffer.byteLength(body)));
}

/** basic.get until empty (no-ack); bodies, and the reason of each message's newest x-death. */
function drain(queue: Queue): { body: string; death?: unknown }[] {
  const out: { body: string; death?: unknown }[] = [];
  for (let entry = queue.get(true); entry; entry = queue.get(true)) {
    const message = entry.message as Message;
    const deaths = message.properties.headers?.['x-death'] as FieldTable[] | undefined;
    out.push(deaths === undefined ? { body: (message.body as Buffer).toString() } : { body: (message.body as Buffer).toString(), death: deaths[0]?.['reason'] });
  }
  return out;
}

function replyText(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AmqpError) return `${error.replyCode} ${error.replyText}`;
    throw error;
  }
  throw new Error('expected an AmqpError');
}

/** A consumer with a prefetch window it never acks. */
function windowed(prefetch: number): Consumer & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    tag: 'c',
    noAck: false,
    exclusive: false,
    priority: 0,
    bodies,
    canAccept: () => bodies.length < prefetch,
    deliver: (_q: Queue, _e: QueueEntry, message: Message) => bodies.push((message.body as Buffer).toString()),
    cancelledByBroker: () => {},
  };
}

describe('queue arguments', () => {
  it('are checked with RabbitMQ\'s reply texts', () => {
    const check = (args: FieldTable) => replyText(() => validateQueueArguments('q', '/', args));
    expect(check({ 'x-message-ttl': -5 })).toBe("406 PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-5}");
    expect(check({ 'x-message-ttl': 'soon' })).toBe(`406 PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "expected integer, got longstr"`);
    expect(check({ 'x-expires': 0 })).toBe("406 PRECONDITION_FAILED - invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}");
    expect(check({ 'x-max-length-bytes': 2.5 })).toBe(`406 PRECONDITION_FAILED - invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': "expected integer, got double"`);
    expect(check({ 'x-dead-letter-routing-key': 'k' })).toBe(
      "406 PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined",
    );
    expect(check({ 'x-overflow': 'drop-tail' })).toBe("406 PRECONDITION_FAILED - invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow");
    expect(() => validateQueueArguments('q', '/', { 'x-message-ttl': 0, 'x-max-length': 0, 'x-expires': 1, 'x-overflow': 'reject-publish-dlx' })).not.toThrow();
  });

  it('give the limits, with unset (or unusable) ones as -1', () => {
    const unset = { deadLetterExchange: undefined, deadLetterRoutingKey: undefined, deliveryLimit: -1 };
    expect(queueLimits({})).toEqual({ messageTtl: -1, maxLength: -1, maxLengthBytes: -1, overflow: 'drop-head', expires: -1, maxPriority: -1, singleActiveConsumer: false, ...unset });
    expect(queueLimits({ 'x-message-ttl': 0, 'x-max-length': 3, 'x-overflow': 'reject-publish', 'x-expires': BigInt(5) })).toEqual({
      ...unset,
      messageTtl: 0,
      maxLength: 3,
      maxLengthBytes: -1,
      overflow: 'reject-publish',
      expires: 5,
      maxPriority: -1,
      singleActiveConsumer: false,
    });
  });

  it('read an expiration as RabbitMQ does', () => {
    expect(parseExpiration('0')).toBe(0);
    expect(parseExpiration('1500')).toBe(1500);
    expect(replyText(() => parseExpiration('soon'))).toBe("406 PRECONDITION_FAILED - invalid expiration 'soon': no_integer");
    expect(replyText(() => parseExpiration('-3'))).toBe("406 PRECONDITION_FAILED - invalid expiration '-3': {value_negative,-3}");
    expect(replyText(() => parseExpiration('10s'))).toBe(`406 PRECONDITION_FAILED - invalid expiration '10s': {leftover_string,"s"}`);
  });

  it('accept TTLs and expiry up to RabbitMQ\'s ten years, and refuse longer ones with its texts', () => {
    expect(parseExpiration('2592000000')).toBe(2_592_000_000);
    expect(parseExpiration('315360000000')).toBe(315_360_000_000);
    expect(parseExpiration('+42')).toBe(42);
    expect(parseExpiration('0042')).toBe(42);
    expect(parseExpiration('-0')).toBe(0);
    expect(replyText(() => parseExpiration('315360000001'))).toBe("406 PRECONDITION_FAILED - invalid expiration '315360000001': {value_too_large,315360000001}");
    // Erlang's ~p breaks a term that would reach column 79.
    expect(replyText(() => parseExpiration('100000000000000000'))).toBe(
      "406 PRECONDITION_FAILED - invalid expiration '100000000000000000': {value_too_large,100000000000000000}",
    );
    expect(replyText(() => parseExpiration('99999999999999999999'))).toBe(
      `406 PRECONDITION_FAILED - invalid expiration '99999999999999999999': {value_too_large,\n${' '.repeat(44)}99999999999999999999}`,
    );
    expect(replyText(() => parseExpiration('-1000000000000000000'))).toBe(
      `406 PRECONDITION_FAILED - invalid expiration '-1000000000000000000': {value_negative,\n${' '.repeat(44)}-1000000000000000000}`,
    );
    const check = (args: FieldTable) => replyText(() => validateQueueArguments('q', '/', args));
    expect(() => validateQueueArguments('q', '/', { 'x-message-ttl': 315_360_000_000, 'x-expires': BigInt(315_360_000_000) })).not.toThrow();
    expect(check({ 'x-message-ttl': 315_360_000_001 })).toBe("406 PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,315360000001}");
    expect(check({ 'x-expires': BigInt('9223372036854775807') })).toBe(
      "406 PRECONDITION_FAILED - invalid arg 'x-expires' for queue 'q' in vhost '/': {value_too_large,9223372036854775807}",
    );
  });
});

describe('message TTL', () => {
  it('expires messages on a timer, without a consumer or a get, and dead-letters them', () => {
    const vhost = new VHost('/');
    const dead = declare(vhost, 'dead', {});
    const source = declare(vhost, 'source', { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' });
    publish(vhost, 'source', 'a');
    vi.advanceTimersByTime(500);
    publish(vhost, 'source', 'b');
    vi.advanceTimersByTime(600);
    expect([source.messageCount, dead.messageCount]).toEqual([1, 1]);
    vi.advanceTimersByTime(500);
    expect([source.messageCount, dead.messageCount]).toEqual([0, 2]);
    expect(drain(dead)).toEqual([
      { body: 'a', death: 'expired' },
      { body: 'b', death: 'expired' },
    ]);
  });

  it('takes the lower of the queue TTL and the expiration, and expires only at the head', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-message-ttl': 10_000 });
    publish(vhost, 'q', 'long', { expiration: '60000' });
    publish(vhost, 'q', 'short', { expiration: '100' });
    vi.advanceTimersByTime(5_000);
    expect(queue.messageCount).toBe(2);
    vi.advanceTimersByTime(5_001);
    // 'long' went at 10 s (the queue's TTL); 'short' was overdue behind it and goes with it.
    expect(queue.messageCount).toBe(0);
  });

  it('a message with an expiration behind a head without one expires on time once that head is taken', () => {
    const vhost = new VHost('/');
    const dead = declare(vhost, 'dead', {});
    const queue = declare(vhost, 'q', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' });
    publish(vhost, 'q', 'plain');
    publish(vhost, 'q', 'short', { expiration: '100' });
    vi.advanceTimersByTime(200);
    expect(queue.messageCount).toBe(2);
    expect(((queue.get(true)?.message as Message).body as Buffer).toString()).toBe('plain');
    // No other touch of the queue: its timer sends 'short' on.
    vi.advanceTimersByTime(1);
    expect([queue.messageCount, drain(dead)]).toEqual([0, [{ body: 'short', death: 'expired' }]]);
  });

  it('delivers a TTL 0 message to a consumer with room, and drops it otherwise', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-message-ttl': 0 });
    const consumer = windowed(1);
    vhost.consume(queue, consumer);
    publish(vhost, 'q', 'taken');
    publish(vhost, 'q', 'dropped');
    expect(consumer.bodies).toEqual(['taken']);
    expect(queue.messageCount).toBe(0);
  });

  it('keeps the original expiry for a requeued message', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-message-ttl': 1000 });
    publish(vhost, 'q', 'a');
    const entry = queue.get(false) as QueueEntry;
    vi.advanceTimersByTime(1500);
    queue.requeue([entry]);
    expect(queue.messageCount).toBe(0);
  });
});

describe('length limits', () => {
  it('drop-head drops the oldest and dead-letters them with reason maxlen', () => {
    const vhost = new VHost('/');
    const dead = declare(vhost, 'dead', {});
    const queue = declare(vhost, 'q', { 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' });
    for (const body of ['1', '2', '3', '4']) publish(vhost, 'q', body);
    expect(drain(queue)).toEqual([{ body: '3' }, { body: '4' }]);
    expect(drain(dead)).toEqual([
      { body: '1', death: 'maxlen' },
      { body: '2', death: 'maxlen' },
    ]);
  });

  it('counts ready messages only: unacked ones leave room', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-max-length': 1 });
    const consumer = windowed(2);
    vhost.consume(queue, consumer);
    for (const body of ['1', '2', '3', '4']) publish(vhost, 'q', body);
    expect(consumer.bodies).toEqual(['1', '2']);
    expect(drain(queue)).toEqual([{ body: '4' }]);
  });

  it('reject-publish turns messages away from a full queue, and says so for the confirm', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-max-length-bytes': 5, 'x-overflow': 'reject-publish' });
    expect(publish(vhost, 'q', 'abc').length).toBe(1);
    expect(vhost.refused).toBe(false);
    expect(publish(vhost, 'q', 'def').length).toBe(0);
    expect(vhost.refused).toBe(true);
    expect(publish(vhost, 'q', 'gh').length).toBe(1);
    expect(vhost.refused).toBe(false);
    expect(drain(queue)).toEqual([{ body: 'abc' }, { body: 'gh' }]);
  });

  it('reject-publish on one of several queues keeps the message in the others', () => {
    const vhost = new VHost('/');
    vhost.declareExchange('fan', 'fanout', false, { durable: false, autoDelete: false, internal: false, arguments: {} });
    const full = declare(vhost, 'full', { 'x-max-length': 0, 'x-overflow': 'reject-publish' });
    const open = declare(vhost, 'open', {});
    vhost.bindQueue('full', 'fan', '', {}, owner);
    vhost.bindQueue('open', 'fan', '', {}, owner);
    const routed = vhost.publish(new Message('fan', '', encodeProperties({}), Buffer.from('m'), 1));
    expect(routed.map((q) => q.name)).toEqual(['open']);
    expect(vhost.refused).toBe(true);
    expect([full.messageCount, open.messageCount]).toEqual([0, 1]);
  });

  it('a drop-head queue dead-lettering into itself does not loop', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-max-length': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'q' });
    for (const body of ['1', '2', '3']) publish(vhost, 'q', body);
    expect(drain(queue)).toEqual([{ body: '3' }]);
  });
});

describe('x-expires', () => {
  it('deletes a queue unused for that long; a get or a redeclare restarts the clock, a consumer stops it', () => {
    const vhost = new VHost('/');
    const args = { 'x-expires': 1000 };
    const queue = declare(vhost, 'q', args);
    vi.advanceTimersByTime(800);
    queue.get(true);
    vi.advanceTimersByTime(800);
    declare(vhost, 'q', args);
    vi.advanceTimersByTime(800);
    expect(vhost.queues.has('q')).toBe(true);
    const consumer = windowed(1);
    vhost.consume(queue, consumer);
    vi.advanceTimersByTime(5_000);
    expect(vhost.queues.has('q')).toBe(true);
    vhost.cancel(queue, consumer);
    vi.advanceTimersByTime(999);
    expect(vhost.queues.has('q')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(vhost.queues.has('q')).toBe(false);
  });

  it('fires no timer once the vhost stopped', () => {
    const vhost = new VHost('/');
    declare(vhost, 'q', { 'x-expires': 1000 });
    vhost.stop();
    vi.advanceTimersByTime(5_000);
    expect(vhost.queues.has('q')).toBe(true);
  });
});

describe('timers past 2^31-1 ms (Node fires longer ones at once)', () => {
  const thirtyDays = 2_592_000_000;

  it('x-expires of 30 days keeps the queue for 30 days, then deletes it', () => {
    const vhost = new VHost('/');
    declare(vhost, 'q', { 'x-expires': thirtyDays });
    vi.advanceTimersByTime(60_000);
    expect(vhost.queues.has('q')).toBe(true);
    vi.advanceTimersByTime(thirtyDays - 60_001);
    expect(vhost.queues.has('q')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(vhost.queues.has('q')).toBe(false);
  });

  it('x-message-ttl and expiration of 30 days keep the message that long, with a timer that does not spin', () => {
    const vhost = new VHost('/');
    const byQueue = declare(vhost, 'ttl', { 'x-message-ttl': thirtyDays });
    const byMessage = declare(vhost, 'plain', {});
    publish(vhost, 'ttl', 'a');
    publish(vhost, 'plain', 'b', { expiration: String(thirtyDays) });
    const armed = vi.spyOn(globalThis, 'setTimeout');
    vi.advanceTimersByTime(10_000);
    expect(armed).not.toHaveBeenCalled();
    expect([byQueue.messageCount, byMessage.messageCount]).toEqual([1, 1]);
    vi.advanceTimersByTime(thirtyDays - 10_001);
    expect([byQueue.messageCount, byMessage.messageCount]).toEqual([1, 1]);
    vi.advanceTimersByTime(1);
    expect([byQueue.messageCount, byMessage.messageCount]).toEqual([0, 0]);
    armed.mockRestore();
  });

  it('a ten-year expiration is kept', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', {});
    publish(vhost, 'q', 'a', { expiration: '315360000000' });
    const armed = vi.spyOn(globalThis, 'setTimeout');
    vi.advanceTimersByTime(10_000);
    // Checked first: a timer firing every ms would make the long advance below take hours.
    expect(armed).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5 * thirtyDays);
    expect(queue.messageCount).toBe(1);
    expect(armed.mock.calls.length).toBeLessThan(10);
    armed.mockRestore();
  });
});

describe('x-max-priority', () => {
  it('delivers higher priorities first, caps priorities at the maximum, and requeues into the right band', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-max-priority': 3 });
    const sent: [string, number | undefined][] = [['a', undefined], ['b', 2], ['c', 200], ['d', 3], ['e', 2]];
    for (const [body, priority] of sent) publish(vhost, 'q', body, priority === undefined ? {} : { priority });
    const first = queue.get(false) as QueueEntry;
    expect((first.message?.body as Buffer).toString()).toBe('c');
    queue.requeue([first]);
    const consumer = windowed(10);
    vhost.consume(queue, consumer);
    queue.dispatch();
    expect(consumer.bodies).toEqual(['c', 'd', 'b', 'e', 'a']);
  });

  it('leaves a queue without it in plain FIFO order', () => {
    const vhost = new VHost('/');
    declare(vhost, 'q', {});
    publish(vhost, 'q', 'low', { priority: 1 });
    publish(vhost, 'q', 'high', { priority: 9 });
    expect(drain(vhost.queues.get('q') as Queue).map((m) => m.body)).toEqual(['low', 'high']);
  });
});

describe('x-single-active-consumer', () => {
  it('gives every message to the first subscriber, whatever the priorities, and moves on when it leaves', () => {
    const vhost = new VHost('/');
    const queue = declare(vhost, 'q', { 'x-single-active-consumer': true });
    const first = windowed(2);
    const second = { ...windowed(10), priority: 5 };
    vhost.consume(queue, first);
    vhost.consume(queue, second);
    for (const body of ['1', '2', '3']) publish(vhost, 'q', body);
    queue.dispatch();
    // The active consumer's window is full: the third waits rather than going to the other consumer.
    expect([first.bodies, second.bodies, queue.messageCount]).toEqual([['1', '2'], [], 1]);
    vhost.cancel(queue, first);
    queue.dispatch();
    expect(second.bodies).toEqual(['3']);
  });
});
