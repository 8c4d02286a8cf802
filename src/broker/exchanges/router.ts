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
  /** Appends every destination matched by the message to `out`. Duplicates are allowed (the caller dedups), so no Set per call. */
  route(routingKey: string, headers: FieldTable | undefined, out: T[]): void;
}

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

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
