import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  compilePattern,
  effectiveDefinition,
  erlangTerm,
  type PolicyInput,
  type PolicyKind,
  PolicyTable,
  PolicyValidationError,
  validatePolicy,
} from '../../../src/broker/access/policies.js';
import { Broker } from '../../../src/broker/broker.js';
import { exportDefinitions, importDefinitions } from '../../../src/broker/definitions.js';
import { Message } from '../../../src/broker/message.js';
import { queueLimits } from '../../../src/broker/queue-arguments.js';
import type { Queue } from '../../../src/broker/queue.js';
import { VHost } from '../../../src/broker/vhost.js';
import type { FieldTable } from '../../../src/protocol/field-table.js';
import { encodeProperties } from '../../../src/protocol/methods.generated.js';

const owner = {};

function policy(name: string, fields: PolicyInput, kind: PolicyKind = 'policy') {
  return validatePolicy(kind, '/', name, fields);
}

/** RabbitMQ's refusal text for a policy, or 'ok'. */
function refusal(definition: unknown, extra: Partial<PolicyInput> = {}, kind: PolicyKind = 'policy'): string {
  try {
    validatePolicy(kind, '/', 'p', { pattern: '^a', definition, ...extra });
    return 'ok';
  } catch (error) {
    if (error instanceof PolicyValidationError) return error.message;
    throw error;
  }
}

function declare(vhost: VHost, name: string, args: FieldTable = {}): Queue {
  return vhost.declareQueue(name, false, { durable: false, exclusive: false, autoDelete: false, arguments: args }, owner);
}

function publish(vhost: VHost, exchange: string, routingKey: string, body: string): readonly Queue[] {
  return vhost.publish(new Message(exchange, routingKey, encodeProperties({}), Buffer.from(body), Buffer.byteLength(body)));
}

function bodies(queue: Queue): string[] {
  const out: string[] = [];
  for (let entry = queue.get(true); entry; entry = queue.get(true)) out.push(((entry.message as Message).body as Buffer).toString());
  return out;
}

describe('policy matching', () => {
  it('the pattern is an unanchored regular expression, as RabbitMQ re:run', () => {
    const table = new PolicyTable();
    table.set(policy('p', { pattern: 'ord', definition: { 'max-length': 1 } }));
    expect(table.match({ kind: 'queue', name: 'new-orders.eu', queueType: 'classic' })?.name).toBe('p');
    expect(table.match({ kind: 'queue', name: 'invoices', queueType: 'classic' })).toBeUndefined();
  });

  it('the highest priority applies alone; a tie goes to the first name', () => {
    const table = new PolicyTable();
    table.set(policy('low', { pattern: '.*', priority: 1, definition: { 'max-length': 1 } }));
    table.set(policy('high', { pattern: '^orders', priority: 5, definition: { 'message-ttl': 1 } }));
    table.set(policy('b-tie', { pattern: '^x', priority: 2, definition: { 'max-length': 1 } }));
    table.set(policy('a-tie', { pattern: '^x', priority: 2, definition: { 'max-length': 2 } }));
    expect(table.match({ kind: 'queue', name: 'orders', queueType: 'classic' })?.name).toBe('high');
    expect(table.match({ kind: 'queue', name: 'invoices', queueType: 'classic' })?.name).toBe('low');
    expect(table.match({ kind: 'queue', name: 'x1', queueType: 'classic' })?.name).toBe('a-tie');
    expect(table.list().map((p) => p.name)).toEqual(['high', 'a-tie', 'b-tie', 'low']);
    expect(table.delete('high')).toBe(true);
    expect(table.delete('high')).toBe(false);
    expect(table.match({ kind: 'queue', name: 'orders', queueType: 'classic' })?.name).toBe('low');
  });

  it('apply-to picks queues, exchanges, all, or a queue type', () => {
    const q = { kind: 'queue' as const, name: 'n', queueType: 'classic' };
    const quorum = { kind: 'queue' as const, name: 'n', queueType: 'quorum' };
    const x = { kind: 'exchange' as const, name: 'n' };
    const applies = (applyTo: string) => {
      const table = new PolicyTable();
      table.set(policy('p', { pattern: 'n', applyTo, definition: { 'max-length': 1 } }));
      return [q, quorum, x].map((target) => table.match(target) !== undefined);
    };
    expect(applies('all')).toEqual([true, true, true]);
    expect(applies('queues')).toEqual([true, true, false]);
    expect(applies('exchanges')).toEqual([false, false, true]);
    expect(applies('classic_queues')).toEqual([true, false, false]);
    expect(applies('quorum_queues')).toEqual([false, true, false]);
  });

  it('PCRE syntax JavaScript lacks is translated: anchors, \\Q…\\E, (?i), (?P<name>), possessive quantifiers', () => {
    const matches = (pattern: string, name: string) => compilePattern(pattern).test(name);
    expect([matches('\\Aorders\\Z', 'orders'), matches('\\Aorders\\Z', 'my-orders')]).toEqual([true, false]);
    expect([matches('\\Qa.b\\E', 'a.b'), matches('\\Qa.b\\E', 'axb')]).toEqual([true, false]);
    expect([matches('(?i)^ORD', 'orders'), matches('^ORD', 'orders')]).toEqual([true, false]);
    expect([matches('(?P<x>a)(?P=x)', 'aa'), matches('(?P<x>a)(?P=x)', 'ab')]).toEqual([true, false]);
    expect([matches('^a++b$', 'aab'), matches('^(?:ab)+$', 'abab'), matches('^[]a]+$', ']a')]).toEqual([true, true, true]);
    expect([matches('^(?!amq\\.).*', 'amq.gen-1'), matches('^(?!amq\\.).*', 'orders')]).toEqual([false, true]);
  });

  it("a pattern that does not compile is refused with PCRE's reason and offset (measured on RabbitMQ 3.10.8)", () => {
    const refused = (pattern: string) => refusal({ 'max-length': 1 }, { pattern });
    const prefix = 'pattern should be regular expression but is invalid: ';
    expect(refused('ab(c')).toBe(`${prefix}{"missing )",4}`);
    expect(refused('*')).toBe(`${prefix}{"nothing to repeat",0}`);
    expect(refused('x|*')).toBe(`${prefix}{"nothing to repeat",2}`);
    // Erlang's ~p breaks a term that does not fit in 80 columns.
    expect(refused('a)b')).toBe(`${prefix}{"unmatched parentheses",\n${' '.repeat(54)}1}`);
    expect(refused('a[b')).toBe(`${prefix}{"missing terminating ] for character class",\n${' '.repeat(54)}3}`);
    expect(refused('a\\')).toBe(`${prefix}{"\\\\ at end of pattern",\n${' '.repeat(54)}2}`);
    expect(refused('a{2,1}')).toBe(`${prefix}{"numbers out of order in {} quantifier",\n${' '.repeat(54)}5}`);
  });
});

describe('policy validation: RabbitMQ 3.10.8 texts (measured with rabbitmqctl set_policy)', () => {
  it.each([
    [{ 'message-ttl': 'abc' }, '<<"abc">> is not a valid message TTL'],
    [{ 'message-ttl': -1 }, '-1 is not a valid message TTL'],
    [{ 'message-ttl': 1.5 }, '1.5 is not a valid message TTL'],
    [{ expires: 0 }, '0 is not a valid queue expiry'],
    [{ expires: 'x' }, '<<"x">> is not a valid queue expiry'],
    [{ 'max-length': -1 }, '-1 is not a valid maximum length'],
    [{ 'max-length-bytes': -1 }, '-1 is not a valid maximum length in bytes'],
    [{ overflow: 'nope' }, '<<"nope">> is not a valid overflow value'],
    [{ overflow: 1 }, '1 is not a valid overflow value'],
    [{ 'dead-letter-exchange': 1 }, '1 is not a valid dead letter exchange name'],
    [{ 'dead-letter-routing-key': 1 }, '1 is not a valid dead letter routing key'],
    [{ 'delivery-limit': 'x' }, '<<"x">> is not a valid delivery limit'],
    [{ 'alternate-exchange': 1 }, '1 is not a valid alternate exchange name'],
    [{ 'queue-mode': 'x' }, '<<"x">> is not a valid queue-mode value'],
    [{ 'queue-version': 3 }, '3 is not a valid queue-version value'],
    [{ 'dead-letter-strategy': 'x' }, '<<"x">> is not a valid dead letter strategy'],
    [{ 'ha-mode': 'exactly' }, 'ha-mode="exactly" takes an integer, none given'],
    [{ 'ha-mode': 'exactly', 'ha-params': 0 }, 'ha-mode="exactly" takes an integer, 0 given'],
    [{ 'ha-mode': 'all', 'ha-params': 2 }, 'ha-mode="all" does not take parameters'],
    [{ 'ha-mode': 'nodes' }, 'ha-mode="nodes" takes a list, none given'],
    [{ 'ha-mode': 'nodes', 'ha-params': [1] }, 'ha-mode="nodes" takes a list of strings, [1] was not a string'],
    [{ 'ha-mode': 'bogus' }, '<<"bogus">> is not a valid ha-mode value'],
    [{ 'ha-sync-batch-size': 5 }, 'ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown'],
    [{ 'ha-mode': 'all', 'ha-sync-mode': 'x' }, 'ha-sync-mode must be "manual" or "automatic", got <<"x">>'],
    [{ 'ha-mode': 'all', 'ha-sync-batch-size': 0 }, 'ha-sync-batch-size takes an integer greater than 0, 0 given'],
    [{ 'ha-mode': 'all', 'ha-promote-on-failure': 'x' }, 'ha-promote-on-failure must be "always" or "when-synced", got <<"x">>'],
    [{ 'queue-master-locator': 'x' }, '<<"x">> invalid queue-master-locator value'],
    [{ 'message-ttl': true }, 'true is not a valid message TTL'],
    [{ 'dead-letter-exchange': { a: 1 } }, '#{<<"a">> => 1} is not a valid dead letter exchange name'],
    [{ 'message-ttl': 10, 'max-length': -1, zzz: 1 }, '-1 is not a valid maximum length'],
    [{ nonsense: 1 }, '[{<<"nonsense">>,1}] are not recognised policy settings'],
    [{ nonsense: 1, other: 2 }, '[{<<"nonsense">>,1},{<<"other">>,2}] are not recognised policy settings'],
    [{ 'federation-upstream': 'x' }, '[{<<"federation-upstream">>,<<"x">>}] are not recognised policy settings'],
    [{}, 'no policy provided'],
  ])('%j → %s', (definition, text) => {
    expect(refusal(definition)).toBe(text);
  });

  it('accepts the keys Warren ignores, so exported 3.x definitions import', () => {
    expect(refusal({ 'queue-mode': 'lazy', 'ha-mode': 'exactly', 'ha-params': 2, 'ha-sync-mode': 'automatic', 'max-age': '1D' })).toBe('ok');
    expect(refusal({ 'ha-mode': 'nodes', 'ha-params': ['rabbit@a'], 'queue-master-locator': 'min-masters' })).toBe('ok');
    expect(refusal({ 'ha-mode': 'all' })).toBe('ok');
  });

  it('apply-to, priority and pattern', () => {
    expect(refusal({ 'message-ttl': 1 }, { applyTo: 'bogus' })).toBe("apply-to 'bogus' unrecognised; should be 'queues', 'exchanges' or 'all'");
    expect(refusal({ 'message-ttl': 1 }, { priority: 'x' })).toBe('priority should be a number, actually was <<"x">>');
    expect(refusal({ 'message-ttl': 1 }, { pattern: undefined })).toBe('[{key_missing,pattern}]');
  });

  it('operator policies accept only the numeric caps', () => {
    expect(refusal({ overflow: 'drop-head' }, {}, 'operator_policy')).toBe('[{<<"overflow">>,<<"drop-head">>}] are not recognised policy settings');
    expect(refusal({ 'dead-letter-exchange': 'x' }, {}, 'operator_policy')).toBe('[{<<"dead-letter-exchange">>,<<"x">>}] are not recognised policy settings');
    expect(refusal({ 'message-ttl': 'x' }, {}, 'operator_policy')).toBe('<<"x">> is not a valid message TTL');
    expect(refusal({ 'max-in-memory-length': 5, 'delivery-limit': 3, expires: 1000, 'max-length-bytes': 10 }, {}, 'operator_policy')).toBe('ok');
  });

  it('prints values as Erlang terms', () => {
    expect(erlangTerm('é')).toBe('<<"Ã©">>');
    expect(erlangTerm('ā')).toBe('<<196,129>>');
    expect(erlangTerm(2.5e-7)).toBe('2.5e-7');
    expect(erlangTerm(-0.5)).toBe('-0.5');
    expect(erlangTerm([1, 'a'])).toBe('[1,<<"a">>]');
  });
});

describe('combining policies with x-arguments', () => {
  it('operator policy and policy: the lower numeric cap', () => {
    const p = policy('p', { pattern: '.', definition: { 'max-length': 10, 'message-ttl': 100, 'dead-letter-exchange': 'dlx' } });
    const op = policy('o', { pattern: '.', definition: { 'max-length': 5, 'message-ttl': 1000, expires: 60000 } }, 'operator_policy');
    expect(effectiveDefinition(p, op)).toEqual({ 'max-length': 5, 'message-ttl': 100, expires: 60000, 'dead-letter-exchange': 'dlx' });
    expect(effectiveDefinition(undefined, op)).toEqual(op.definition);
    expect(effectiveDefinition(p, undefined)).toEqual(p.definition);
  });

  it('the lower value wins for TTL, expiry and lengths; the argument wins for DLX, DLRK and overflow', () => {
    const definition = {
      'message-ttl': 30_000,
      expires: 5_000,
      'max-length': 500,
      'max-length-bytes': 100,
      overflow: 'reject-publish',
      'dead-letter-exchange': 'policy-dlx',
      'dead-letter-routing-key': 'policy-key',
      'delivery-limit': 3,
    };
    const args: FieldTable = {
      'x-message-ttl': 60_000,
      'x-expires': 1_000,
      'x-max-length': 1000,
      'x-overflow': 'drop-head',
      'x-dead-letter-exchange': 'arg-dlx',
      'x-queue-type': 'quorum',
    };
    const limits = queueLimits(args, definition);
    expect(limits).toMatchObject({
      messageTtl: 30_000,
      expires: 1_000,
      maxLength: 500,
      maxLengthBytes: 100,
      overflow: 'drop-head',
      deadLetterExchange: 'arg-dlx',
      deadLetterRoutingKey: 'policy-key',
      deliveryLimit: 3,
    });
    expect(queueLimits({}, definition).overflow).toBe('reject-publish');
    // delivery-limit is a quorum queue's: RabbitMQ's classic queues do not take it.
    expect(queueLimits({}, definition).deliveryLimit).toBe(-1);
    expect(queueLimits({}, undefined)).toMatchObject({ messageTtl: -1, maxLength: -1, deadLetterExchange: undefined });
  });
});

describe('setting, changing and clearing a policy takes effect at once', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a queue declared after the policy has its limits; one declared before gets them when it is set', () => {
    const vhost = new VHost('/');
    const before = declare(vhost, 'orders.1');
    vhost.setPolicy('cap', { pattern: '^orders\\.', applyTo: 'queues', definition: { 'max-length': 2 } });
    const after = declare(vhost, 'orders.2');
    const other = declare(vhost, 'invoices');
    expect([before.limits.maxLength, after.limits.maxLength, other.limits.maxLength]).toEqual([2, 2, -1]);
    expect(before.policy?.name).toBe('cap');
    expect(vhost.clearPolicy('cap')).toBe(true);
    expect([before.limits.maxLength, after.limits.maxLength]).toEqual([-1, -1]);
    expect(before.policy).toBeUndefined();
  });

  it('a shorter max-length drops the head at once, dead-lettered to the policy DLX', () => {
    const vhost = new VHost('/');
    const q = declare(vhost, 'work');
    const dead = declare(vhost, 'dead');
    for (const body of ['a', 'b', 'c', 'd']) publish(vhost, '', 'work', body);
    vhost.setPolicy('cap', { pattern: '^work$', definition: { 'max-length': 1, 'dead-letter-exchange': '', 'dead-letter-routing-key': 'dead' } });
    expect(bodies(q)).toEqual(['d']);
    expect(bodies(dead)).toEqual(['a', 'b', 'c']);
  });

  it('changing a policy replaces its settings; an x-argument below the policy wins', () => {
    const vhost = new VHost('/');
    const plain = declare(vhost, 'a');
    const capped = declare(vhost, 'b', { 'x-max-length': 3 });
    vhost.setPolicy('p', { pattern: '.*', definition: { 'max-length': 10 } });
    expect([plain.limits.maxLength, capped.limits.maxLength]).toEqual([10, 3]);
    vhost.setPolicy('p', { pattern: '.*', definition: { 'max-length': 1 } });
    expect([plain.limits.maxLength, capped.limits.maxLength]).toEqual([1, 1]);
  });

  it('a message-ttl policy expires new messages and dead-letters them to the policy DLX', () => {
    const vhost = new VHost('/');
    const q = declare(vhost, 'ttl');
    const dead = declare(vhost, 'dead');
    vhost.setPolicy('ttl', { pattern: '^ttl$', definition: { 'message-ttl': 100, 'dead-letter-exchange': '', 'dead-letter-routing-key': 'dead' } });
    publish(vhost, '', 'ttl', 'm');
    vi.advanceTimersByTime(150);
    expect(q.messageCount).toBe(0);
    expect(bodies(dead)).toEqual(['m']);
  });

  it('an expires policy deletes an unused queue; clearing it stops the clock', () => {
    const vhost = new VHost('/');
    declare(vhost, 'short');
    declare(vhost, 'kept');
    vhost.setPolicy('gone', { pattern: '^short$', definition: { expires: 1000 } });
    vhost.setPolicy('kept', { pattern: '^kept$', definition: { expires: 1000 } });
    vhost.clearPolicy('kept');
    vi.advanceTimersByTime(1500);
    expect([...vhost.queues.keys()]).toEqual(['kept']);
  });

  it('an operator policy caps the policy; clearing it restores the policy value', () => {
    const vhost = new VHost('/');
    const q = declare(vhost, 'q');
    vhost.setPolicy('p', { pattern: '.*', definition: { 'max-length': 10 } });
    vhost.setOperatorPolicy('o', { pattern: '.*', definition: { 'max-length': 4 } });
    expect(q.limits.maxLength).toBe(4);
    expect(q.operatorPolicy?.name).toBe('o');
    vhost.clearOperatorPolicy('o');
    expect(q.limits.maxLength).toBe(10);
  });

  it('an alternate-exchange policy takes effect on existing exchanges; the argument wins', () => {
    const vhost = new VHost('/');
    const plain = vhost.declareExchange('x1', 'direct', false, { durable: false, autoDelete: false, internal: false, arguments: {} });
    const withArg = vhost.declareExchange('x2', 'direct', false, { durable: false, autoDelete: false, internal: false, arguments: { 'alternate-exchange': 'arg-ae' } });
    vhost.setPolicy('ae', { pattern: '^x', applyTo: 'exchanges', definition: { 'alternate-exchange': 'ae' } });
    expect([plain.alternate, withArg.alternate]).toEqual(['ae', 'arg-ae']);
    vhost.declareExchange('ae', 'fanout', false, { durable: false, autoDelete: false, internal: false, arguments: {} });
    const caught = declare(vhost, 'caught');
    vhost.bindQueue('caught', 'ae', '', {}, owner);
    publish(vhost, 'x1', 'nowhere', 'm');
    expect(bodies(caught)).toEqual(['m']);
    vhost.clearPolicy('ae');
    expect(plain.alternate).toBeUndefined();
  });

  it('a refused policy changes nothing', () => {
    const vhost = new VHost('/');
    const q = declare(vhost, 'q');
    expect(() => vhost.setPolicy('p', { pattern: '.*', definition: { 'max-length': -1 } })).toThrow(PolicyValidationError);
    expect(vhost.policies.size).toBe(0);
    expect(q.limits.maxLength).toBe(-1);
  });
});

describe('policies in definitions', () => {
  it('export in the HTTP form (operator policies as operator_policy parameters) and import back', () => {
    const broker = new Broker();
    const vhost = broker.putVhost('/');
    vhost.setPolicy('ttl-policy', { pattern: '^orders\\.', applyTo: 'queues', priority: 1, definition: { 'message-ttl': 30000, 'max-length': 500, 'dead-letter-exchange': 'dlx' } });
    vhost.setOperatorPolicy('cap', { pattern: '.*', definition: { 'max-length': 100 } });
    const document = exportDefinitions(broker, 'test');
    expect(document.policies).toEqual([
      { vhost: '/', name: 'ttl-policy', pattern: '^orders\\.', 'apply-to': 'queues', definition: { 'dead-letter-exchange': 'dlx', 'max-length': 500, 'message-ttl': 30000 }, priority: 1 },
    ]);
    expect(document.parameters).toEqual([
      { vhost: '/', component: 'operator_policy', name: 'cap', value: { pattern: '.*', definition: { 'max-length': 100 }, priority: 0, 'apply-to': 'all' } },
    ]);
    const restored = new Broker();
    expect(importDefinitions(restored, JSON.parse(JSON.stringify(document)))).toEqual([]);
    expect(exportDefinitions(restored, 'test')).toEqual(document);
  });

  it("imports rabbitmqctl's form (operator policy definitions as pairs) and reports what it cannot", () => {
    const broker = new Broker();
    broker.putVhost('/');
    const problems = importDefinitions(broker, {
      vhosts: [],
      queues: [{ name: 'orders.eu', vhost: '/', durable: true, auto_delete: false, arguments: {} }],
      exchanges: [],
      bindings: [],
      policies: [
        { vhost: '/', name: 'ha', pattern: '.*', 'apply-to': 'all', definition: { 'ha-mode': 'all', 'queue-mode': 'lazy' }, priority: 0 },
        { vhost: '/', name: 'bad', pattern: '.*', 'apply-to': 'all', definition: { 'message-ttl': -5 }, priority: 0 },
        { vhost: 'missing', name: 'elsewhere', pattern: '.*', 'apply-to': 'all', definition: { 'message-ttl': 5 }, priority: 0 },
      ],
      parameters: [
        { vhost: '/', component: 'operator_policy', name: 'o1', value: { 'apply-to': 'all', definition: [['max-length', 5]], pattern: '^orders', priority: 0 } },
        { vhost: '/', component: 'federation-upstream', name: 'up', value: { uri: 'amqp://' } },
      ],
    });
    expect(problems).toEqual([
      "policy 'bad' in vhost '/': -5 is not a valid message TTL",
      "policy 'elsewhere' in vhost 'missing': no vhost 'missing'",
      "parameter 'up' (federation-upstream) in vhost '/': component 'federation-upstream' is not supported",
    ]);
    const queue = broker.vhost('/')?.queues.get('orders.eu') as Queue;
    expect(queue.policy?.name).toBe('ha');
    expect(queue.limits.maxLength).toBe(5);
  });
});
