import { describe, expect, it } from 'vitest';
import { BrokerStats, DepthRates, MessageStats } from '../../src/broker/stats.js';
import { CHANNEL_GROUPS, churnRatesJson, depthJson, details, EXCHANGE_GROUPS, messageStatsField, messageStatsJson, QUEUE_GROUPS, statsDisabled } from '../../src/http/api/stats-json.js';

describe('message_stats JSON', () => {
  it('shows nothing for counters that never moved', () => {
    const stats = new MessageStats();
    expect(messageStatsJson(stats, QUEUE_GROUPS)).toBeUndefined();
    expect(messageStatsField(stats, CHANNEL_GROUPS)).toEqual({});
  });

  it('shows a group once one of its counters moved, each counter with {rate}, in name order', () => {
    const stats = new MessageStats();
    stats.publish = 3;
    expect(messageStatsJson(stats, QUEUE_GROUPS)).toEqual({ publish: 3, publish_details: { rate: 0 } });
    expect(Object.keys(messageStatsJson(stats, CHANNEL_GROUPS) ?? {})).toEqual([
      'confirm', 'confirm_details', 'drop_unroutable', 'drop_unroutable_details', 'publish', 'publish_details', 'return_unroutable', 'return_unroutable_details',
    ]);
    stats.get_empty = 1;
    const json = messageStatsJson(stats, QUEUE_GROUPS) ?? {};
    expect(Object.keys(json).filter((k) => !k.endsWith('_details'))).toEqual(['ack', 'deliver', 'deliver_get', 'deliver_no_ack', 'get', 'get_empty', 'get_no_ack', 'publish', 'redeliver']);
  });

  it('reads deliver_get and the rates of the last sample, to one decimal', () => {
    const stats = new MessageStats();
    stats.sample(1_000);
    stats.deliver = 7;
    stats.get = 3;
    stats.publish_in = 1;
    stats.sample(4_000);
    expect(messageStatsJson(stats, QUEUE_GROUPS)).toMatchObject({ deliver_get: 10, deliver_get_details: { rate: 3.3 }, deliver_details: { rate: 2.3 } });
    expect(messageStatsJson(stats, EXCHANGE_GROUPS)).toEqual({ publish_in: 1, publish_in_details: { rate: 0.3 } });
    expect(details(5)).toEqual({ rate: 5 });
  });

  it('churn_rates: the counters and their rates between samples', () => {
    const stats = new BrokerStats();
    stats.sample(1_000);
    stats.connectionsOpened = 2;
    stats.queuesDeclared = 10;
    stats.sample(6_000);
    expect(churnRatesJson(stats)).toEqual({
      channel_closed: 0, channel_closed_details: { rate: 0 },
      channel_created: 0, channel_created_details: { rate: 0 },
      connection_closed: 0, connection_closed_details: { rate: 0 },
      connection_created: 2, connection_created_details: { rate: 0.4 },
      queue_created: 0, queue_created_details: { rate: 0 },
      queue_declared: 10, queue_declared_details: { rate: 2 },
      queue_deleted: 0, queue_deleted_details: { rate: 0 },
    });
  });

  it('depths with their rates, or without them', () => {
    const rates = new DepthRates();
    rates.sample(0, 0, 1_000);
    rates.sample(25, 5, 6_000);
    expect(depthJson(25, 5, rates)).toEqual({
      messages: 30, messages_details: { rate: 6 },
      messages_ready: 25, messages_ready_details: { rate: 5 },
      messages_unacknowledged: 5, messages_unacknowledged_details: { rate: 1 },
    });
    expect(depthJson(25, 5, undefined)).toEqual({ messages: 30, messages_ready: 25, messages_unacknowledged: 5 });
  });

  it('disable_stats=true only', () => {
    expect(statsDisabled(new URLSearchParams('disable_stats=true'))).toBe(true);
    expect(statsDisabled(new URLSearchParams('disable_stats=false&msg_rates_age=60&msg_rates_incr=5'))).toBe(false);
  });
});
