// php-amqplib (Debian's php-amqplib 3.5, AMQPStreamConnection) against RabbitMQ and against Warren.
import { expect } from 'vitest';
import { runPhp } from './support/clients.js';
import { compareBrokers, scenario } from './support/compare.js';
import { phpAmqplibDependency } from './support/deps.js';

// php-amqplib returns server-properties fields as [type, value]
const CAPABILITIES = Object.fromEntries(
  [
    'authentication_failure_close', 'basic.nack', 'connection.blocked', 'consumer_cancel_notify', 'consumer_priorities',
    'direct_reply_to', 'exchange_exchange_bindings', 'per_consumer_qos', 'publisher_confirms',
  ].map((k) => [k, ['t', 1]]),
);
const session = {
  connected: true,
  heartbeat: 10,
  server_property_keys: ['capabilities', 'cluster_name', 'copyright', 'information', 'platform', 'product', 'version'],
  capabilities: CAPABILITIES,
  channel_id: 1,
  closed: true,
};
const channelException = 'PhpAmqpLib\\Exception\\AMQPProtocolChannelException';

const scenarios = [
  scenario({
    name: 'connect with AMQPLAIN (the default) and PLAIN, heartbeat 10, server properties',
    run: (url, id) => runPhp('phpamqplib_scenarios.php', ['session', url, id]),
    check(r) {
      expect(r).toEqual({ AMQPLAIN: session, PLAIN: session });
    },
  }),
  scenario({
    name: 'declare, bind, publish with properties + AMQPTable headers, basic_get, basic_consume with qos 2 and ack',
    run: (url, id) => runPhp('phpamqplib_scenarios.php', ['publish-consume', url, id]),
    check(r) {
      expect(r).toEqual({
        declared: { name: true, message_count: 0, consumer_count: 0 },
        message_count: 6,
        get: {
          delivery_tag: 1, redelivered: false, exchange: 'ID.x', routing_key: 'k', message_count: 5, body: 'hello php',
          props: {
            content_type: 'text/plain', content_encoding: 'utf-8', delivery_mode: 2, priority: 3, correlation_id: 'c-1',
            reply_to: 'r.q', expiration: '60000', message_id: 'm-1', timestamp: 1700000000, type: 'kind', user_id: 'guest',
            app_id: 'php-app', cluster_id: null,
            headers: { s: 'str', i: 7, neg: -1, big: 2 ** 40, t: true, list: [1, 'a', false], tbl: { x: 1 } },
          },
        },
        consumer_tag: 'php-ctag',
        in_flight_before_ack: 2,
        while_consuming: { ready: 3, consumers: 1 },
        after_one_ack: 3,
        consumed: [0, 1, 2, 3, 4].map((i) => ({ tag: i + 2, body: `m${i}`, redelivered: false, consumer_tag: 'php-ctag', seq: i })),
        get_empty: true,
        deleted: 0,
      });
    },
  }),
  scenario({
    name: 'headers exchange: x-match all/any and typed values in AMQPTable binding arguments',
    run: (url, id) => runPhp('phpamqplib_scenarios.php', ['headers', url, id]),
    check(r) {
      expect(r).toEqual({
        routed: {
          all_pdf_report: ['pdf_report', 'pdf_report_extra'],
          any_pdf_or_log: ['pdf_report', 'pdf_report_extra', 'pdf_only', 'log_zip'],
          // header values match by type too: the string '3' does not match the integer 3
          int_level: ['level_3'],
          // no arguments = x-match all over nothing: everything
          no_args: ['pdf_report', 'pdf_report_extra', 'pdf_only', 'log_zip', 'zip_report', 'level_3', 'level_3_string', 'no_headers', 'fence'],
        },
      });
    },
  }),
  scenario({
    name: 'confirm_select + wait_for_pending_acks; mandatory return 312 NO_ROUTE with wait_for_pending_acks_returns',
    run: (url, id) => runPhp('phpamqplib_scenarios.php', ['confirms', url, id]),
    check(r) {
      expect(r).toEqual({
        acked_first: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `c${i}`),
        nacked_first: [],
        acked_second: ['last', 'nowhere', 'routed'],
        returned: [{ reply_code: 312, reply_text: 'NO_ROUTE', exchange: 'ID.cx', routing_key: 'nope', body: 'nowhere' }],
        message_count: 12,
      });
    },
  }),
  scenario({
    name: 'channel errors: AMQPProtocolChannelException 404 with text and method signature',
    run: (url, id) => runPhp('phpamqplib_scenarios.php', ['channel-error', url, id]),
    check(r) {
      expect(r).toEqual({
        passive_queue: { exception: channelException, code: 404, message: "NOT_FOUND - no queue 'ID.missing' in vhost '/'", method_sig: [50, 10] },
        channel_is_open: false,
        passive_exchange: { exception: channelException, code: 404, message: "NOT_FOUND - no exchange 'ID.missing-ex' in vhost '/'", method_sig: [40, 10] },
        get_missing: { exception: channelException, code: 404, message: "NOT_FOUND - no queue 'ID.missing' in vhost '/'", method_sig: [60, 70] },
        connection_open: true,
      });
    },
  }),
];

compareBrokers('php-amqplib: RabbitMQ vs Warren', scenarios, { clientDeps: [phpAmqplibDependency()] });
