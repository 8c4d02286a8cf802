import { describe, expect, it } from 'vitest';
import { VHost } from '../../src/broker/vhost.js';
import { queueJson } from '../../src/http/api/queues.js';
import type { ApiContext } from '../../src/http/router.js';

const context = { nodeName: 'warren@host' } as ApiContext;
const durable = { durable: true, exclusive: false, autoDelete: false };

describe('a queue in the management API', () => {
  it("shows a quorum queue's type and RabbitMQ 3.10's fields for it: leader, members, online, single_active_consumer_ctag", () => {
    const vhost = new VHost('/');
    const queue = vhost.declareQueue('q', false, { ...durable, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true } }, {});
    const json = queueJson(queue, context);
    expect(json).toMatchObject({ type: 'quorum', leader: 'warren@host', members: ['warren@host'], online: ['warren@host'], single_active_consumer_ctag: null });
    expect(json).not.toHaveProperty('exclusive_consumer_tag');
    expect(json).not.toHaveProperty('single_active_consumer_tag');
  });

  it('shows a classic queue as before', () => {
    const json = queueJson(new VHost('/').declareQueue('c', false, { ...durable, arguments: {} }, {}), context);
    expect(json).toMatchObject({ type: 'classic', exclusive_consumer_tag: null, single_active_consumer_tag: null });
    expect(json).not.toHaveProperty('leader');
  });
});
