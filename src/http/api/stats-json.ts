import type { BrokerStats, MessageStatName, MessageStats } from '../../broker/stats.js';
import type { ListItem } from '../list-query.js';

// RabbitMQ 3.10's statistics fields, read at request time from the counters and the sampler's rates. RabbitMQ
// keeps its counters in groups (one table each) and shows a group once one of its counters moved: a queue that was
// only published to shows `publish` alone, a consuming channel the delivery group without `publish`.

type StatKey = MessageStatName | 'deliver_get';
type StatGroup = readonly StatKey[];

/** Published on a channel (its `fine_stats`). */
const PUBLISH_GROUP: StatGroup = ['confirm', 'drop_unroutable', 'publish', 'return_unroutable'];
/** Handed out and settled (its `deliver_get` stats). */
const DELIVER_GROUP: StatGroup = ['ack', 'deliver', 'deliver_get', 'deliver_no_ack', 'get', 'get_empty', 'get_no_ack', 'redeliver'];

export const QUEUE_GROUPS: readonly StatGroup[] = [['publish'], DELIVER_GROUP];
export const EXCHANGE_GROUPS: readonly StatGroup[] = [['publish_in'], ['publish_out']];
/** A channel, a vhost and the overview. */
export const CHANNEL_GROUPS: readonly StatGroup[] = [PUBLISH_GROUP, DELIVER_GROUP];

/** `{"rate": x}`: per second, to one decimal as RabbitMQ prints it. */
export function details(rate: number): { rate: number } {
  return { rate: Math.round(rate * 10) / 10 };
}

/** The counters of the groups that moved with their `_details`, in name order; undefined when none did. */
export function messageStatsJson(stats: MessageStats, groups: readonly StatGroup[]): ListItem | undefined {
  const keys: StatKey[] = [];
  for (const group of groups) if (group.some((key) => stats[key] > 0)) keys.push(...group);
  if (keys.length === 0) return undefined;
  keys.sort();
  const json: ListItem = {};
  for (const key of keys) {
    json[key] = stats[key];
    json[`${key}_details`] = details(stats.rate(key));
  }
  return json;
}

/** `{ message_stats }` when it has counters (to spread into an object), else nothing. */
export function messageStatsField(stats: MessageStats, groups: readonly StatGroup[]): ListItem {
  const json = messageStatsJson(stats, groups);
  return json === undefined ? {} : { message_stats: json };
}

const CHURN_FIELDS = [
  ['channel_closed', 'channelsClosed'],
  ['channel_created', 'channelsOpened'],
  ['connection_closed', 'connectionsClosed'],
  ['connection_created', 'connectionsOpened'],
  ['queue_created', 'queuesCreated'],
  ['queue_declared', 'queuesDeclared'],
  ['queue_deleted', 'queuesDeleted'],
] as const;

/** The overview's churn_rates: the node's churn counters and their rates. */
export function churnRatesJson(stats: BrokerStats): ListItem {
  const json: ListItem = {};
  for (const [key, counter] of CHURN_FIELDS) {
    json[key] = stats[counter];
    json[`${key}_details`] = details(stats.churnRates[counter]);
  }
  return json;
}

/** The depth fields of a queue, a vhost or the overview's queue_totals, with their rates when `rates` is given. */
export function depthJson(ready: number, unacked: number, rates: { ready: number; unacked: number } | undefined): ListItem {
  if (rates === undefined) return { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked };
  return {
    messages: ready + unacked,
    messages_details: details(rates.ready + rates.unacked),
    messages_ready: ready,
    messages_ready_details: details(rates.ready),
    messages_unacknowledged: unacked,
    messages_unacknowledged_details: details(rates.unacked),
  };
}

/**
 * `disable_stats=true` leaves the statistics out (RabbitMQ answers from its object tables alone); the `*_age`,
 * `*_incr` and `*_msg_rates_*` range parameters are accepted and ignored: the rates are the last 5 s sample's.
 */
export function statsDisabled(query: URLSearchParams): boolean {
  return query.get('disable_stats') === 'true';
}
