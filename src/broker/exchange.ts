import type { FieldTable } from '../protocol/field-table.js';
import { effectiveDefinition, type Policy } from './access/policies.js';
import type { DeduplicationCache } from './dedup.js';
import type { DelayedMessages } from './delayed.js';
import { createRouter, delayedType } from './exchanges/index.js';
import { stringValue } from './field-values.js';
import type { ExchangeType, Router, RoutingType } from './exchanges/router.js';
import type { Queue } from './queue.js';
import { MessageStats } from './stats.js';

export type Destination = Queue | Exchange;

export interface Binding {
  readonly source: Exchange;
  readonly destination: Destination;
  readonly bindingKey: string;
  readonly args: FieldTable;
  /** Identity of the binding within its source: destination, key and arguments. */
  readonly id: string;
}

export interface ExchangeOptions {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export class Exchange {
  readonly router: Router<Destination>;
  /** Bindings whose source is this exchange, by id. */
  readonly bindings = new Map<string, Binding>();
  /** Bindings whose destination is this exchange (exchange-to-exchange). */
  readonly incoming = new Set<Binding>();
  /** Last publish this exchange was visited by; stops cycles of e2e bindings. */
  routeMark = 0;
  /** Where messages this exchange cannot route go instead: the alternate-exchange argument, else its policy's. */
  alternate: string | undefined;
  /** The policy and the operator policy that apply to this exchange (the vhost sets them). */
  policy: Policy | undefined = undefined;
  operatorPolicy: Policy | undefined = undefined;
  /** publish_in (published to it) and publish_out (routed on to a queue). */
  readonly stats = new MessageStats();
  /** x-message-deduplication: the cache of the deduplication header values it routed (the vhost sets it). */
  deduplication: DeduplicationCache | null = null;
  /** How it routes: its type, or for x-delayed-message its x-delayed-type. */
  readonly routingType: RoutingType;
  /** x-delayed-message: its pending delayed messages (the vhost sets it). */
  delayed: DelayedMessages | null = null;

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly type: ExchangeType,
    readonly options: ExchangeOptions,
  ) {
    this.router = createRouter<Destination>(type, options.arguments);
    this.routingType = type === 'x-delayed-message' ? (delayedType(options.arguments) as RoutingType) : type;
    this.alternate = stringValue(options.arguments['alternate-exchange']);
  }

  /** The policies that apply changed; the alternate-exchange argument still wins over a policy's (RabbitMQ's get_arg). */
  applyPolicies(policy: Policy | undefined, operatorPolicy: Policy | undefined): void {
    this.policy = policy;
    this.operatorPolicy = operatorPolicy;
    const fromPolicy = effectiveDefinition(policy, operatorPolicy)?.['alternate-exchange'];
    this.alternate = stringValue(this.options.arguments['alternate-exchange']) ?? (typeof fromPolicy === 'string' ? fromPolicy : undefined);
  }
}

export function isExchange(destination: Destination): destination is Exchange {
  return destination instanceof Exchange;
}
