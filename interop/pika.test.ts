// pika (python3-pika, Debian) against RabbitMQ and against Warren.
import { expect } from 'vitest';
import { runPika } from './support/clients.js';
import { compareBrokers, RABBITMQ_CAPABILITIES, scenario } from './support/compare.js';
import { pikaDependency } from './support/deps.js';

const nullProps = {
  app_id: null, cluster_id: null, content_encoding: null, content_type: null, correlation_id: null, delivery_mode: null,
  expiration: null, headers: null, message_id: null, priority: null, reply_to: null, timestamp: null, type: null, user_id: null,
};

const scenarios = [
  scenario({
    name: 'publish with properties, basic.get, consume, ack, queue.declare counts',
    run: (url, id) => runPika('pika_scenarios.py', ['publish-consume', url, id]),
    check(r) {
      expect(r).toEqual({
        declared: { message_count: 0, consumer_count: 0 },
        counts_after_publish: { message_count: 3, consumer_count: 0 },
        get: {
          delivery_tag: 1, redelivered: false, exchange: '', routing_key: true, message_count: 2, body: 'hello pika',
          props: {
            app_id: 'pika-app', cluster_id: null, content_encoding: 'utf-8', content_type: 'text/plain', correlation_id: 'c-1',
            delivery_mode: 2, expiration: '60000', message_id: 'm-1', priority: 3, reply_to: 'r.q', timestamp: 1700000000,
            type: 'kind', user_id: 'guest',
            headers: {
              s: 'str', i: 7, neg: -1, big: 2 ** 40, dec: { decimal: '1.25' }, bytes: { bytes: '00ff' }, t: true, n: null,
              list: [1, 'a', false], tbl: { x: 1 },
            },
          },
        },
        consumed: [
          { tag: 2, redelivered: false, body: 'second', props: nullProps },
          { tag: 3, redelivered: false, body: 'third', props: nullProps },
        ],
        consumer_tag: 'pika-ctag',
        with_consumer: { message_count: 0, consumer_count: 1 },
        get_empty: true,
        purged: 0,
        deleted: 0,
      });
    },
  }),
  scenario({
    name: 'channel errors as pika reports them (ChannelClosedByBroker code and text)',
    run: (url, id) => runPika('pika_scenarios.py', ['channel-error', url, id]),
    check(r) {
      const v = r as Record<string, { reply_code: number; reply_text: string; exception?: string }>;
      expect(v.passive_queue).toMatchObject({ exception: 'ChannelClosedByBroker', reply_code: 404 });
      expect(v.passive_queue!.reply_text).toMatch(/^NOT_FOUND - no queue '.*\.missing' in vhost '\/'$/);
      expect(v.passive_exchange!.reply_code).toBe(404);
      expect(v.passive_exchange!.reply_text).toMatch(/^NOT_FOUND - no exchange '.*\.missing-ex' in vhost '\/'$/);
      expect(v.get_missing!.reply_code).toBe(404);
      expect(v.channel_is_closed).toBe(true);
      expect(v.connection_open).toBe(true);
    },
  }),
  scenario({
    name: 'connection.tune: heartbeat / frame_max / channel_max negotiation, capabilities',
    run: (url, id) => runPika('pika_scenarios.py', ['tune', url, id]),
    check(r) {
      expect(r).toEqual({
        server_default: { heartbeat: 60, frame_max: 131072, channel_max: 2047 },
        heartbeat_callback: { server_proposed: 60, negotiated: 7 },
        client_asks: { heartbeat: 0, frame_max: 8192, channel_max: 64 },
        capabilities: RABBITMQ_CAPABILITIES,
        server_property_keys: ['capabilities', 'cluster_name', 'copyright', 'information', 'platform', 'product', 'version'],
      });
    },
  }),
];

compareBrokers('pika: RabbitMQ vs Warren', scenarios, { clientDeps: [pikaDependency()] });
