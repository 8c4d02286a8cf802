// Go's github.com/rabbitmq/amqp091-go (Debian's golang-github-rabbitmq-amqp091-go-dev)
// against RabbitMQ and against Warren.
import { expect } from 'vitest';
import { buildGo, runGo } from './support/clients.js';
import { compareBrokers, RABBITMQ_CAPABILITIES, scenario } from './support/compare.js';
import { goAmqpDependency } from './support/deps.js';

const GO = 'amqp091_scenarios.go';

const scenarios = [
  scenario({
    name: 'connection.tune: proposed and negotiated heartbeat / frame_max / channel_max',
    run: (url) => runGo(GO, ['tune', url]),
    check(r) {
      expect(r).toEqual({
        // the client asks for nothing (zeros): these are the broker's proposals
        proposed: { heartbeat: 60, frameMax: 131072, channelMax: 2047 },
        // amqp.Dial's defaults: heartbeat 10 s, the rest from the broker
        default: { heartbeat: 10, frameMax: 131072, channelMax: 2047 },
        // both sides non-zero: the lower wins
        asked: { heartbeat: 5, frameMax: 8192, channelMax: 16 },
        capabilities: RABBITMQ_CAPABILITIES,
        version: [0, 9],
        locales: ['en_US'],
      });
    },
  }),
  scenario({
    name: 'declare, publish with confirms',
    run: (url, id) => runGo(GO, ['confirms', url, id]),
    check(r) {
      expect(r).toEqual({
        confirms: [
          { tag: 1, ack: true },
          { tag: 2, ack: true },
          { tag: 3, ack: true },
        ],
        messages: 3,
        consumers: 0,
        declared: { name: true, messages: 0 },
      });
    },
  }),
  scenario({
    name: 'confirms: two publishes into a full reject-publish queue get ack(1) then nack(2), never a second ack',
    run: (url, id) => runGo(GO, ['confirms-after-nack', url, id]),
    check(r) {
      const round = [
        { tag: 1, ack: true },
        { tag: 2, ack: false },
      ];
      const v = r as { rounds: { tag: number; ack: boolean }[][]; extra: number };
      expect(v.rounds[0]).toEqual(round);
      expect(v.rounds.slice(1).every((got) => got.length === 2 && got[0]!.ack && !got[1]!.ack)).toBe(true);
      expect(v.extra).toBe(0);
    },
  }),
  scenario({
    name: 'consume with qos 2: window, properties, ack multiple',
    run: (url, id) => runGo(GO, ['consume-qos', url, id]),
    check(r) {
      const v = r as { firstWindow: Array<Record<string, unknown>>; rest: string[]; deletedCount: number };
      expect(v.firstWindow).toHaveLength(2);
      expect(v.firstWindow[0]).toMatchObject({
        body: 'm0', tag: 1, redelivered: false, consumerTag: 'go-consumer', messageId: 'id-0', contentType: 'text/plain', exchange: '',
        headers: { b: true, f: 1.5, i: 0, s: 'x', t: { k: 'v' } },
      });
      expect(v.firstWindow[1]).toMatchObject({ body: 'm1', tag: 2 });
      expect(v.rest).toEqual(['m2', 'm3', 'm4']);
      expect(v.deletedCount).toBe(0);
    },
  }),
  scenario({
    name: 'error reply codes and texts as amqp.Error',
    run: (url, id) => runGo(GO, ['errors', url, id]),
    check(r) {
      const v = r as Record<string, { code: number; reason: string; server: boolean; recover: boolean }>;
      expect(v.passiveMissingQueue).toMatchObject({ code: 404, server: true, recover: true });
      expect(v.passiveMissingQueue!.reason).toMatch(/^NOT_FOUND - no queue '.*\.missing' in vhost '\/'$/);
      expect(v.reservedExchange).toMatchObject({ code: 403, server: true });
      expect(v.reservedExchange!.reason).toMatch(/^ACCESS_REFUSED - exchange name 'amq\..*' contains reserved prefix 'amq\.\*'$/);
      expect(v.redeclareDurable).toMatchObject({ code: 406, server: true });
      expect(v.publishMissingExchange).toMatchObject({ code: 404, server: true });
      expect(v.publishMissingExchange!.reason).toMatch(/^NOT_FOUND - no exchange '.*\.noex' in vhost '\/'$/);
    },
  }),
];

compareBrokers('amqp091-go: RabbitMQ vs Warren', scenarios, {
  clientDeps: [goAmqpDependency()],
  prepare: async () => {
    await buildGo(GO);
  },
  prepareTimeoutMs: 240_000,
});
