// Bunny (ruby-bunny 2.19, Debian) against RabbitMQ and against Warren.
import { expect } from 'vitest';
import { runRuby } from './support/clients.js';
import { compareBrokers, RABBITMQ_CAPABILITIES, scenario } from './support/compare.js';
import { bunnyDependency } from './support/deps.js';

const scenarios = [
  scenario({
    name: 'session start, tune negotiation (server default / asked), capabilities, channel open/close',
    run: (url, id) => runRuby('bunny_scenarios.rb', ['session', url, id]),
    check(r) {
      expect(r).toEqual({
        default: { heartbeat: 60, frame_max: 131072, channel_max: 2047, open: true, status: 'open' },
        server_property_keys: ['capabilities', 'cluster_name', 'copyright', 'information', 'platform', 'product', 'version'],
        capabilities: RABBITMQ_CAPABILITIES,
        channel: { number: 1, open: true },
        channel_after_close: { open: false, closed: true },
        closed: true,
        asked: { heartbeat: 10, frame_max: 8192, channel_max: 64 },
      });
    },
  }),
  scenario({
    name: 'queue/exchange declare, bind, publish with properties, basic.get (pop), ack, purge, delete',
    run: (url, id) => runRuby('bunny_scenarios.rb', ['publish-get', url, id]),
    check(r) {
      expect(r).toEqual({
        declared: { name: true, message_count: 0, consumer_count: 0 },
        message_count: 2,
        get: {
          delivery_tag: 1, redelivered: false, exchange: 'ID.x', routing_key: 'k', body: 'hello bunny',
          props: {
            content_type: 'text/plain', content_encoding: 'utf-8',
            // amq-protocol's field-array encoder drops `false` (client side, same on both brokers)
            headers: { s: 'str', i: 7, neg: -1, big: 2 ** 40, f: 1.5, t: true, list: [1, 'a'], tbl: { x: 1 } },
            delivery_mode: 2, priority: 3, correlation_id: 'c-1', reply_to: 'r.q', expiration: '60000', message_id: 'm-1',
            timestamp: 1700000000, type: 'kind', user_id: 'guest', app_id: 'bunny-app', cluster_id: null,
          },
        },
        get2: {
          delivery_tag: 2, body: 'second',
          props: {
            content_type: 'application/octet-stream', content_encoding: null, headers: null, delivery_mode: 2, priority: 0,
            correlation_id: null, reply_to: null, expiration: null, message_id: null, timestamp: null, type: null, user_id: null,
            app_id: null, cluster_id: null,
          },
        },
        get_empty: [true, true, true],
        purged: 1,
        deleted: 0,
      });
    },
  }),
  scenario({
    name: 'subscribe with manual_ack and prefetch 2',
    run: (url, id) => runRuby('bunny_scenarios.rb', ['subscribe', url, id]),
    check(r) {
      expect(r).toEqual({
        prefetch: 2,
        in_flight_before_ack: 2,
        ready_before_ack: 3,
        consumers: 1,
        after_one_ack: 3,
        log: [0, 1, 2, 3, 4].map((i) => ({ tag: i + 1, body: `m${i}`, seq: i, redelivered: false, consumer_tag: 'bunny-ctag' })),
        ready_after: 0,
        consumers_after: 0,
      });
    },
  }),
  scenario({
    name: 'topic routing: a.*.c, a.#, #.z, exact, #',
    run: (url, id) => runRuby('bunny_scenarios.rb', ['topic', url, id]),
    check(r) {
      expect(r).toEqual({
        routed: {
          star: ['a.b.c', 'a.x.c', 'a..c'],
          hash: ['a.b.c', 'a.x.c', 'a', 'a.b.c.d', 'a..c'],
          hash_z: ['z', 'y.z'],
          exact: ['a.b.c'],
          all: ['a.b.c', 'a.x.c', 'a', 'a.b.c.d', 'z', 'y.z', 'a..c', 'b.c'],
        },
      });
    },
  }),
  scenario({
    name: 'passive declare of a missing queue / exchange → Bunny::NotFound with reply text and ids',
    run: (url, id) => runRuby('bunny_scenarios.rb', ['not-found', url, id]),
    check(r) {
      const queueText = "NOT_FOUND - no queue 'ID.missing' in vhost '/'";
      const exchangeText = "NOT_FOUND - no exchange 'ID.missing-ex' in vhost '/'";
      expect(r).toEqual({
        passive_queue: { exception: 'Bunny::NotFound', message: queueText, reply_code: 404, reply_text: queueText, class_id: 50, method_id: 10 },
        is_channel_level: true,
        channel_open: false,
        passive_exchange: { exception: 'Bunny::NotFound', message: exchangeText, reply_code: 404, reply_text: exchangeText, class_id: 40, method_id: 10 },
        connection_open: true,
      });
    },
  }),
  scenario({
    name: 'publisher confirms: confirm_select, wait_for_confirms, mandatory return 312 NO_ROUTE',
    run: (url, id) => runRuby('bunny_scenarios.rb', ['confirms', url, id]),
    check(r) {
      expect(r).toEqual({
        select_ok: 'confirm.select-ok',
        using_publisher_confirmations: true,
        all_acked: true,
        unconfirmed: 0,
        nacked: 0,
        next_publish_seq_no: 22,
        returned: [{ reply_code: 312, reply_text: 'NO_ROUTE', routing_key: 'nope', body: 'nowhere' }],
        message_count: 20,
        second_batch_acked: true,
        next_publish_seq_no_after: 25,
        message_count_after: 23,
      });
    },
  }),
];

compareBrokers('bunny: RabbitMQ vs Warren', scenarios, { clientDeps: [bunnyDependency()] });
