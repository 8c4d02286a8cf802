import type { DeadLetterReason } from './dead-letter.js';
import { reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';

// Message statistics: plain integer fields on the objects the hot path already touches (channel, queue,
// exchange, vhost, broker), incremented in place: no Map lookup, no allocation, no timer per message. The
// edges (management API, Prometheus) read them; a sampler turns them into RabbitMQ's `*_details.rate` every 5 s.

/** The counters of RabbitMQ's `message_stats`, by their RabbitMQ names. */
export const MESSAGE_STAT_NAMES = [
  'publish',
  'publish_in',
  'publish_out',
  'confirm',
  'deliver',
  'deliver_no_ack',
  'get',
  'get_no_ack',
  'get_empty',
  'ack',
  'redeliver',
  'drop_unroutable',
  'return_unroutable',
] as const;

export type MessageStatName = (typeof MESSAGE_STAT_NAMES)[number];

/**
 * One object's message counters. Which ones move depends on the object, as in RabbitMQ: a channel and a vhost
 * count publish, confirm, deliveries, gets, acks and unroutables; a queue publish (messages enqueued),
 * deliveries, gets and acks; an exchange publish_in (published to it) and publish_out (routed on from it).
 */
export class MessageStats {
  publish = 0;
  publish_in = 0;
  publish_out = 0;
  confirm = 0;
  deliver = 0;
  deliver_no_ack = 0;
  get = 0;
  get_no_ack = 0;
  get_empty = 0;
  ack = 0;
  redeliver = 0;
  drop_unroutable = 0;
  return_unroutable = 0;
  /** Per second over the last sampling period, by MESSAGE_STAT_NAMES index; null until sampled twice. */
  rates: Float64Array | null = null;
  /** The counters at the last sample, by MESSAGE_STAT_NAMES index. */
  private sampled: Float64Array | null = null;
  /**
   * When the last sample was taken; NaN before the first. Not -1: a field that starts as a small integer and later
   * holds a fractional time changes the object's hidden class at the first sample, which deoptimizes every
   * optimized function on the hot path that counts into one of these objects (issue 13: latency tail).
   */
  private sampledAt = NaN;

  /** RabbitMQ's deliver_get: every message handed out, by consume or get, with or without ack. */
  get deliver_get(): number {
    return this.deliver + this.deliver_no_ack + this.get + this.get_no_ack;
  }

  /** The rate of one counter per second over the last sampling period (0 before two samples). */
  rate(name: MessageStatName | 'deliver_get'): number {
    const rates = this.rates;
    if (rates === null) return 0;
    if (name === 'deliver_get') return rates[DELIVER] + rates[DELIVER_NO_ACK] + rates[GET] + rates[GET_NO_ACK];
    return rates[STAT_INDEX[name]];
  }

  /** Records the counters at `now` (ms) and computes the rates since the previous sample. */
  sample(now: number): void {
    const values = this as unknown as Record<MessageStatName, number>;
    let sampled = this.sampled;
    if (sampled === null) {
      // While nothing was ever counted (an idle queue, say) the sample is all zeros and the rates are 0: that needs
      // no arrays, which cost about 500 bytes per counter set (issue 13: RSS per idle queue). sampledAt still marks
      // that zero sample, so the first counts get their rate against it, as they would against a zero-filled array.
      let counted = false;
      for (let i = 0; i < MESSAGE_STAT_NAMES.length; i++) if (values[MESSAGE_STAT_NAMES[i]] !== 0) counted = true;
      if (!counted) {
        this.sampledAt = now;
        return;
      }
      sampled = this.sampled = new Float64Array(MESSAGE_STAT_NAMES.length);
    }
    if (!Number.isNaN(this.sampledAt)) {
      const seconds = (now - this.sampledAt) / 1000;
      if (seconds <= 0) return;
      const rates = (this.rates ??= new Float64Array(MESSAGE_STAT_NAMES.length));
      for (let i = 0; i < MESSAGE_STAT_NAMES.length; i++) rates[i] = (values[MESSAGE_STAT_NAMES[i]] - sampled[i]) / seconds;
    }
    for (let i = 0; i < MESSAGE_STAT_NAMES.length; i++) sampled[i] = values[MESSAGE_STAT_NAMES[i]];
    this.sampledAt = now;
  }
}

const STAT_INDEX = Object.fromEntries(MESSAGE_STAT_NAMES.map((name, i) => [name, i])) as Record<MessageStatName, number>;
const DELIVER = STAT_INDEX.deliver;
const DELIVER_NO_ACK = STAT_INDEX.deliver_no_ack;
const GET = STAT_INDEX.get;
const GET_NO_ACK = STAT_INDEX.get_no_ack;

/** Why a message was dead-lettered (RabbitMQ's reasons; delivery_limit comes from quorum queues only). */
export type DeadLetterCause = DeadLetterReason;

/**
 * The node's totals: message counters over every vhost (RabbitMQ's overview and `rabbitmq_global_*`), plus what
 * only the node counts: churn, confirms asked for, routing outcomes and dead letters.
 */
export class BrokerStats extends MessageStats {
  /** Messages published on channels in confirm mode (rabbitmq_global_messages_received_confirm_total). */
  publish_confirm = 0;
  /** Messages that reached at least one queue (rabbitmq_global_messages_routed_total). */
  routed = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  channelsOpened = 0;
  channelsClosed = 0;
  queuesDeclared = 0;
  queuesCreated = 0;
  queuesDeleted = 0;
  /**
   * Dead letters by cause and by whether their queue had a dead-letter exchange that exists
   * (RabbitMQ's dead_letter_strategy at_most_once) or not (disabled: the message is dropped).
   */
  readonly deadLettered: Record<DeadLetterCause, { at_most_once: number; disabled: number }> = {
    expired: { at_most_once: 0, disabled: 0 },
    rejected: { at_most_once: 0, disabled: 0 },
    maxlen: { at_most_once: 0, disabled: 0 },
    delivery_limit: { at_most_once: 0, disabled: 0 },
  };
  /** Opened and closed connections and channels, declared, created and deleted queues per second (RabbitMQ's churn_rates). */
  readonly churnRates = { connectionsOpened: 0, connectionsClosed: 0, channelsOpened: 0, channelsClosed: 0, queuesDeclared: 0, queuesCreated: 0, queuesDeleted: 0 };
  private readonly sampledChurn = { ...this.churnRates };
  /** NaN before the first sample (see MessageStats.sampledAt). */
  private churnSampledAt = NaN;

  override sample(now: number): void {
    super.sample(now);
    const seconds = (now - this.churnSampledAt) / 1000;
    if (seconds <= 0) return;
    const rates = this.churnRates;
    const sampled = this.sampledChurn;
    for (const name of Object.keys(rates) as (keyof typeof rates)[]) {
      if (!Number.isNaN(this.churnSampledAt)) rates[name] = (this[name] - sampled[name]) / seconds;
      sampled[name] = this[name];
    }
    this.churnSampledAt = now;
  }
}

/**
 * A queue's depth (ready and unacknowledged messages) per second over the last sampling period (RabbitMQ's
 * messages_ready_details and messages_unacknowledged_details), from the depths the sampler reads.
 */
export class DepthRates {
  ready = 0;
  unacked = 0;
  private sampledReady = 0;
  private sampledUnacked = 0;
  private sampledAt = 0;

  sample(ready: number, unacked: number, now: number): void {
    const seconds = (now - this.sampledAt) / 1000;
    if (this.sampledAt !== 0 && seconds > 0) {
      this.ready = (ready - this.sampledReady) / seconds;
      this.unacked = (unacked - this.sampledUnacked) / seconds;
    }
    this.sampledReady = ready;
    this.sampledUnacked = unacked;
    this.sampledAt = now;
  }
}

/** Every 5 s, as RabbitMQ's management agent (collect_statistics_interval). */
export const SAMPLE_INTERVAL_MS = 5_000;

/**
 * Calls `sampleAll` with the time (ms) now and every SAMPLE_INTERVAL_MS (an unref'd timer: it never keeps the
 * process alive); it samples every counter set that lives. An error it throws goes to `reportError` (a timer has
 * no caller to take it) and the next tick samples again. Returns the function that stops it.
 */
export function startStatsSampler(
  sampleAll: (now: number) => void,
  reportError: UnexpectedErrorReporter = reportToStderr,
  intervalMs = SAMPLE_INTERVAL_MS,
): () => void {
  const tick = (): void => {
    try {
      sampleAll(performance.now());
    } catch (error) {
      reportError(error, 'sampling message statistics');
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
