import { describe, expect, it } from 'vitest';
import { Message } from '../../src/broker/message.js';
import { senderSelected } from '../../src/broker/sender-selected.js';
import { AmqpError } from '../../src/protocol/errors.js';
import { type BasicProperties, encodeProperties } from '../../src/protocol/methods.generated.js';

function message(properties: BasicProperties): Message {
  return new Message('x', 'key', encodeProperties(properties), Buffer.from('body'), 4);
}

describe('senderSelected (CC and BCC headers)', () => {
  it('is null without headers, or with headers that name neither', () => {
    expect(senderSelected(message({}))).toBeNull();
    expect(senderSelected(message({ deliveryMode: 2, headers: { Cc: ['a'], 'x-BCC': ['b'] } }))).toBeNull();
  });

  it('gives the CC and BCC keys, and keeps a message without BCC as it is', () => {
    const cc = message({ headers: { CC: ['a', Buffer.from('b')] } });
    const selected = senderSelected(cc);
    expect(selected?.keys).toEqual(['a', 'b']);
    expect(selected?.message).toBe(cc);
  });

  it('removes BCC from the message that is delivered, and nothing else', () => {
    const selected = senderSelected(message({ contentType: 'text/plain', deliveryMode: 2, headers: { CC: ['a'], BCC: ['b', 'c'], n: 1 } }));
    expect(selected?.keys).toEqual(['a', 'b', 'c']);
    expect(selected?.message.properties).toEqual({ contentType: 'text/plain', deliveryMode: 2, headers: { CC: ['a'], n: 1 } });
    expect(selected?.message.routingKey).toBe('key');
  });

  it('answers a CC that is not an array with RabbitMQ\'s 406', () => {
    try {
      senderSelected(message({ headers: { CC: 'a' } }));
      throw new Error('expected a 406');
    } catch (error) {
      expect(error).toBeInstanceOf(AmqpError);
      expect((error as AmqpError).replyText).toBe('PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}');
    }
  });
});
