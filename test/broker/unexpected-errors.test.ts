import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Alarms } from '../../src/broker/alarms.js';
import type { Consumer } from '../../src/broker/consumer.js';
import { DefinitionsJournal } from '../../src/broker/definitions.js';
import { Durability } from '../../src/broker/durability.js';
import { Message, type QueueEntry } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import { VHost } from '../../src/broker/vhost.js';
import type { MessageLog } from '../../src/storage/message-log.js';

// Each test injects a throwing callback into a path no client method is on the
// stack of (a timer, an I/O callback): the error is reported, the one thing
// involved fails, and the rest goes on. Before, each of these threw out of a
// timer or rejected a promise nobody awaited.

const plain = { durable: false, exclusive: false, autoDelete: false, arguments: {} };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function reporting(): { vhost: VHost; reports: { what: string; message: string; context?: Record<string, unknown> }[] } {
  const reports: { what: string; message: string; context?: Record<string, unknown> }[] = [];
  const vhost = new VHost('/', (error, what, context) => reports.push({ what, message: (error as Error).message, context }));
  return { vhost, reports };
}

function consumer(tag: string, onDeliver: (body: string) => void): Consumer & { failures: unknown[] } {
  const failures: unknown[] = [];
  return {
    tag,
    noAck: true,
    exclusive: false,
    priority: 0,
    failures,
    canAccept: () => true,
    deliver: (_q: Queue, _e: QueueEntry, message: Message) => onDeliver((message.body as Buffer).toString()),
    cancelledByBroker: () => {},
  };
}

function publish(vhost: VHost, queue: string, body: string): void {
  vhost.publish(new Message('', queue, Buffer.alloc(2), Buffer.from(body), body.length));
}

describe('errors raised in timers and callbacks', () => {
  it('a consumer whose deliver throws during a TTL-driven dispatch is unsubscribed and failed; the queue serves the others', () => {
    const { vhost, reports } = reporting();
    vhost.declareQueue('source', false, { ...plain, arguments: { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dest' } }, {});
    const dest = vhost.declareQueue('dest', false, plain, {});
    const failing = consumer('failing', () => {
      throw new Error('injected deliver failure');
    });
    failing.failed = (_queue, error) => failing.failures.push(error);
    const got: string[] = [];
    vhost.consume(dest, failing);
    vhost.consume(dest, consumer('healthy', (body) => got.push(body)));
    publish(vhost, 'source', 'first');
    publish(vhost, 'source', 'second');
    publish(vhost, 'source', 'third');
    expect(() => vi.advanceTimersByTime(100)).not.toThrow();
    expect(failing.failures.map((e) => (e as Error).message)).toEqual(['injected deliver failure']);
    expect(dest.consumers.map((c) => c.tag)).toEqual(['healthy']);
    // The failing consumer took 'first' (at-most-once, no-ack); the others reach the healthy one.
    expect(got).toEqual(['second', 'third']);
    expect(reports).toEqual([]);
    publish(vhost, 'dest', 'later');
    expect(got).toEqual(['second', 'third', 'later']);
  });

  it('a message whose dead-lettering fails is reported; the messages behind it still expire on time', () => {
    const { vhost, reports } = reporting();
    const source = vhost.declareQueue('source', false, { ...plain, arguments: { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dest' } }, {});
    const dest = vhost.declareQueue('dest', false, plain, {});
    const deadLetter = vhost.deadLetter.bind(vhost);
    vhost.deadLetter = (queue, message, reason) => {
      if ((message.body as Buffer).toString() === 'poison') throw new Error('cannot dead-letter');
      deadLetter(queue, message, reason);
    };
    publish(vhost, 'source', 'poison');
    vi.advanceTimersByTime(50);
    publish(vhost, 'source', 'fine');
    expect(() => vi.advanceTimersByTime(50)).not.toThrow();
    expect(reports).toEqual([{ what: 'message expiry', message: 'cannot dead-letter', context: { vhost: '/', queue: 'source' } }]);
    vi.advanceTimersByTime(50);
    expect([source.messageCount, dest.messageCount]).toEqual([0, 1]);
  });

  it('without a failed() of its own, the consumer\'s error is reported with the queue', () => {
    const { vhost, reports } = reporting();
    const queue = vhost.declareQueue('q', false, { ...plain, arguments: { 'x-message-ttl': 50 } }, {});
    vhost.consume(queue, consumer('c', () => {
      throw new Error('boom');
    }));
    publish(vhost, 'q', 'x');
    expect(reports).toEqual([{ what: "delivery to consumer 'c'", message: 'boom', context: { vhost: '/', queue: 'q' } }]);
    expect(queue.consumerCount).toBe(0);
  });

  it('a failure while x-expires deletes a queue is reported, and the queue is gone', () => {
    const { vhost, reports } = reporting();
    vhost.declareQueue('q', false, { ...plain, durable: true, arguments: { 'x-expires': 1000 } }, {});
    vhost.definitions = new DefinitionsJournal(() => {
      throw new Error('definitions writer down');
    });
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    expect(reports).toEqual([{ what: 'queue expiry (x-expires)', message: 'definitions writer down', context: { vhost: '/', queue: 'q' } }]);
    expect(vhost.queues.has('q')).toBe(false);
    vhost.definitions = null;
    vhost.declareQueue('other', false, plain, {});
    publish(vhost, 'other', 'still served');
    expect(vhost.queues.get('other')!.messageCount).toBe(1);
  });

  it('a throwing alarm listener: a connection is failed, anything else reported; the other listeners still hear', () => {
    const reports: string[] = [];
    const alarms = new Alarms((error, what) => reports.push(`${what}: ${(error as Error).message}`));
    const heard: (string | null)[] = [];
    const failed: unknown[] = [];
    alarms.listen({
      alarmsChanged: () => {
        throw new Error('listener broke');
      },
    });
    alarms.listen({
      alarmsChanged: () => {
        throw new Error('connection broke');
      },
      fail: (error) => failed.push(error),
    });
    alarms.listen({ alarmsChanged: (reason) => heard.push(reason) });
    expect(() => alarms.set('memory', true)).not.toThrow();
    expect(heard).toEqual(['low on memory']);
    expect(reports).toEqual(['alarm listener: listener broke']);
    expect(failed.map((e) => (e as Error).message)).toEqual(['connection broke']);
  });

  it('a throwing durability waiter (confirms after a group commit) is dropped and reported; the others are told', () => {
    const reports: string[] = [];
    const durability = new Durability({} as MessageLog, 1, () => {}, (error, what) => reports.push(`${what}: ${(error as Error).message}`));
    const told: number[] = [];
    const failing = {
      onDurable: () => {
        throw new Error('waiter broke');
      },
    };
    durability.wait(failing);
    durability.wait({ onDurable: (upTo) => told.push(upTo) });
    expect(() => durability.onDurable(7)).not.toThrow();
    durability.onDurable(8);
    expect(told).toEqual([7, 8]);
    expect(reports).toEqual(['publisher confirms after a group commit: waiter broke']);
  });

  it('a throwing definitions waiter is reported; the others get their reply', () => {
    const reports: string[] = [];
    const journal = new DefinitionsJournal(() => {}, (error, what) => reports.push(`${what}: ${(error as Error).message}`));
    journal.changed();
    const stored: string[] = [];
    journal.whenStored({
      definitionsStored: () => {
        throw new Error('waiter broke');
      },
    });
    journal.whenStored({ definitionsStored: () => stored.push('second') });
    expect(() => journal.stored(1)).not.toThrow();
    expect(stored).toEqual(['second']);
    expect(reports).toEqual(['reply held for the definitions write: waiter broke']);
  });

  it('a page-in whose waiter throws, or whose read fails, fails alone; the queue reads on', async () => {
    vi.useRealTimers();
    const { vhost, reports } = reporting();
    const readFailures: unknown[] = [];
    let reads = 0;
    const stored = new Message('', 'q', Buffer.alloc(2), Buffer.from('paged'), 5);
    const durability = {
      log: { appendSettle: () => 0, appendDelivered: () => 0 },
      watermarkMoved: () => {},
      pageInFailed: (_queue: Queue, error: unknown) => readFailures.push(error),
      loadMessages: () => (++reads === 1 ? Promise.reject(new Error('read failed')) : Promise.resolve({ messages: [stored, stored], error: undefined })),
    } as unknown as Durability;
    const queue = vhost.declareQueue('q', false, plain, {});
    queue.attachStorage(durability, '/\u0000q');
    queue.restore(1, 0, 0, 10, 5, null, false, 0);
    queue.restore(2, 0, 10, 10, 5, null, false, 0);
    expect(queue.get(true)).toBeNull();
    await vi.waitFor(() => expect(readFailures).toHaveLength(1));
    queue.waitForPageIn({
      pagedIn: () => {
        throw new Error('waiter broke');
      },
    });
    await vi.waitFor(() => expect(reports).toHaveLength(1));
    expect(reports[0]).toMatchObject({ what: 'page-in waiter', message: 'waiter broke' });
    expect(queue.get(true)?.message).toBe(stored);
    expect(queue.messageCount).toBe(1);
  });
});
