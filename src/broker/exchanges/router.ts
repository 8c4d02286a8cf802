import type { FieldTable } from '../../protocol/field-table.js';

/**
 * Matching logic of one exchange. Generic over the destination type T (a queue
 * or an exchange); routers never look inside a destination and compare them
 * only by identity (===).
 */
export interface Router<T> {
  /** Called when a binding (destination, bindingKey, args) is added. The Exchange dedups identical bindings before calling. */
  bind(destination: T, bindingKey: string, args: FieldTable): void;
  /** Called when such a binding is removed. */
  unbind(destination: T, bindingKey: string, args: FieldTable): void;
  /**
   * Appends every destination matched by the message to `out`. Duplicates are allowed (the caller dedups), so no Set per call.
   * `message` is the message itself, for routers that read more than the key and headers (x-consistent-hash).
   */
  route(routingKey: string, headers: FieldTable | undefined, out: T[], message?: RoutedMessage): void;
}

/** What a router may read of a message besides the routing key it is routed with: its first routing key and encoded properties. */
export interface RoutedMessage {
  readonly routingKey: string;
  readonly rawProperties: Buffer;
}

export type ExchangeType = RoutingType | 'x-delayed-message';

/** The types that route by themselves: an x-delayed-message exchange routes as one of these (its x-delayed-type). */
export type RoutingType = 'direct' | 'fanout' | 'topic' | 'headers' | 'x-consistent-hash';

/** Removes the first occurrence of `item` from `list` in place. Returns whether one was found. */
export function removeOne<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** Appends every element of `src` to `out` (no spread: lists can be long). */
export function appendAll<T>(out: T[], src: readonly T[]): void {
  for (let i = 0; i < src.length; i++) out.push(src[i]!);
}
