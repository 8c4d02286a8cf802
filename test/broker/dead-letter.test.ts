import { describe, expect, it } from 'vitest';
import { deadLetter } from '../../src/broker/dead-letter.js';
import { Message } from '../../src/broker/message.js';
import { Queue } from '../../src/broker/queue.js';
import { TypedValue, type FieldTable } from '../../src/protocol/field-table.js';
import { encodeProperties } from '../../src/protocol/methods.generated.js';

function queue(name: string, args: FieldTable): Queue {
  return new Queue(name, '/', { durable: false, exclusive: false, autoDelete: false, arguments: args }, null);
}

describe('dead-lettering', () => {
  it('routes by x-dead-letter-routing-key when set, else the original key, and drops the expiration', () => {
    const message = new Message('ex', 'orig.key', encodeProperties({ expiration: '5000', contentType: 'text/plain' }), Buffer.from('b'), 1);
    const plain = deadLetter(queue('q', { 'x-dead-letter-exchange': 'dlx' }), message, 'dlx', 'rejected');
    expect([plain.exchange, plain.routingKey]).toEqual(['dlx', 'orig.key']);
    expect(plain.properties.expiration).toBeUndefined();
    expect(plain.properties.contentType).toBe('text/plain');
    const rekeyed = deadLetter(queue('q', { 'x-dead-letter-routing-key': 'dead' }), message, 'dlx', 'rejected');
    expect(rekeyed.routingKey).toBe('dead');
  });

  it('counts repeated deaths in the same queue in one x-death entry, newest first, and keeps the first death', () => {
    const work = queue('work', {});
    const other = queue('other', {});
    const first = deadLetter(work, new Message('in', 'k', encodeProperties({}), Buffer.from('b'), 1), 'dlx', 'rejected');
    const second = deadLetter(other, first, 'dlx', 'rejected');
    const third = deadLetter(work, second, 'dlx', 'rejected');
    const deaths = third.properties.headers?.['x-death'] as FieldTable[];
    expect(deaths.map((d) => [d.queue, (d.count as TypedValue | number) instanceof TypedValue ? (d.count as TypedValue).value : d.count])).toEqual([
      ['work', 2],
      ['other', 1],
    ]);
    expect(third.properties.headers?.['x-first-death-queue']).toBe('work');
    expect(third.properties.headers?.['x-first-death-exchange']).toBe('in');
  });
});
