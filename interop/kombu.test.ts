// kombu (Celery's transport: python3-kombu 5.2 over py-amqp) against RabbitMQ and against Warren.
import { expect } from 'vitest';
import { runKombu } from './support/clients.js';
import { compareBrokers, scenario } from './support/compare.js';
import { kombuDependency } from './support/deps.js';

const json = { content_type: 'application/json', content_encoding: 'utf-8', delivery_mode: 2, redelivered: false };

const scenarios = [
  scenario({
    name: 'direct/topic/fanout exchanges, Queue bindings, Producer.publish json with headers/priority/expiration',
    run: (url, id) => runKombu('kombu_scenarios.py', ['routing', url, id]),
    check(r) {
      expect(r).toEqual({
        received: {
          d_red: [
            {
              ...json, exchange: 'ID.direct', routing_key: 'red', payload: { n: 1, colour: 'red' },
              headers: { task: 'tasks.add', id: 't-1', retries: 0 }, priority: 5, expiration: '60000',
            },
          ],
          d_blue: [{ ...json, exchange: 'ID.direct', routing_key: 'blue', payload: [1, 'two', null, true], headers: {}, priority: 0, expiration: null }],
          t_star: [{ ...json, exchange: 'ID.topic', routing_key: 'stock.acme.nyse', payload: { sym: 'ACME' }, headers: {}, priority: 0, expiration: null }],
          t_hash: ['stock.acme.nyse', 'stock.beta.lse', 'stock'].map((rk, i) => ({
            ...json, exchange: 'ID.topic', routing_key: rk, payload: { sym: ['ACME', 'BETA', 'X'][i] }, headers: {}, priority: 0, expiration: null,
          })),
          f_1: [{ ...json, exchange: 'ID.fanout', routing_key: 'whatever', payload: 'broadcast', headers: {}, priority: 0, expiration: '30500' }],
          f_2: [{ ...json, exchange: 'ID.fanout', routing_key: 'whatever', payload: 'broadcast', headers: {}, priority: 0, expiration: '30500' }],
        },
      });
    },
  }),
  scenario({
    name: 'Consumer with prefetch_count=2 and manual ack',
    run: (url, id) => runKombu('kombu_scenarios.py', ['consumer-prefetch', url, id]),
    check(r) {
      expect(r).toEqual({
        in_flight_before_ack: 2,
        ready_before_ack: 3,
        consumers_while_consuming: 1,
        after_one_ack: 3,
        seen: [0, 1, 2, 3, 4].map((i) => ({ body: { i }, seq: i, redelivered: false })),
        tags: [1, 2, 3, 4, 5],
        ready_after: 0,
        consumers_after: 0,
      });
    },
  }),
  scenario({
    name: 'SimpleQueue put/get/qsize/clear, Celery-style queue_arguments {x-expires: 60000}',
    run: (url, id) => runKombu('kombu_scenarios.py', ['simple-queue', url, id]),
    check(r) {
      // Warren may accept x-expires without implementing expiry: only the declare and the message flow are asserted.
      expect(r).toEqual({
        qsize_after_put: 3,
        got: [
          { payload: { hello: 'kombu' }, headers: {}, priority: 0, content_type: 'application/json' },
          { payload: 'second', headers: { h: 1 }, priority: 0, content_type: 'application/json' },
          { payload: [1, 2, 3], headers: {}, priority: 9, content_type: 'application/json' },
        ],
        empty: 'Empty',
        qsize_after_get: 0,
        cleared: 2,
        qsize_after_clear: 0,
        simple_deleted: 0,
        celery_declare: { returned_name_is_ours: true },
        celery_redeclare: { message_count: 0, consumer_count: 0 },
        celery_message: { payload: { task: 'add', args: [2, 2] }, headers: { task: 'tasks.add' } },
        celery_deleted: 0,
      });
    },
  }),
  scenario({
    name: 'channel error: passive declare of a missing queue / exchange → amqp.exceptions.NotFound 404',
    run: (url, id) => runKombu('kombu_scenarios.py', ['channel-error', url, id]),
    check(r) {
      expect(r).toEqual({
        passive_queue: {
          exception: 'amqp.exceptions.NotFound',
          code: 404,
          reply_code: 404,
          reply_text: "NOT_FOUND - no queue 'ID.missing' in vhost '/'",
          method_name: 'Queue.declare',
          is_channel_error: true,
          is_connection_error: false,
          str: "Queue.declare: (404) NOT_FOUND - no queue 'ID.missing' in vhost '/'",
        },
        // py-amqp reopens a channel the broker closed
        channel_is_open: true,
        passive_exchange: { exception: 'NotFound', code: 404, reply_text: "NOT_FOUND - no exchange 'ID.missing-ex' in vhost '/'", method_name: 'Exchange.declare' },
        connection_usable: true,
      });
    },
  }),
  scenario({
    name: 'heartbeat negotiation (heartbeat=10 / 0 / 120) and heartbeat_check',
    run: (url, id) => runKombu('kombu_scenarios.py', ['heartbeat', url, id]),
    check(r) {
      expect(r).toEqual({
        asked_10: { kombu_heartbeat: 10, negotiated: 10, server_heartbeat: 60, frame_max: 131072, channel_max: 2047 },
        heartbeat_check_errors: [],
        still_connected: true,
        asked_0: { negotiated: 0, server_heartbeat: 60 },
        asked_120: { negotiated: 60 },
      });
    },
  }),
];

compareBrokers('kombu: RabbitMQ vs Warren', scenarios, { clientDeps: [kombuDependency()] });
