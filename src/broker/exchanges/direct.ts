import type { FieldTable } from '../../protocol/field-table.js';
import { appendAll, removeOne, type Router } from './router.js';

/**
 * Direct exchange: the routing key must equal the binding key exactly.
 * A destination bound twice under one key (different args) is stored twice;
 * unbind removes one of them.
 */
export class DirectRouter<T> implements Router<T> {
  private readonly byKey = new Map<string, T[]>();

  bind(destination: T, bindingKey: string, _args: FieldTable): void {
    const list = this.byKey.get(bindingKey);
    if (list === undefined) this.byKey.set(bindingKey, [destination]);
    else list.push(destination);
  }

  unbind(destination: T, bindingKey: string, _args: FieldTable): void {
    const list = this.byKey.get(bindingKey);
    if (list === undefined) return;
    removeOne(list, destination);
    if (list.length === 0) this.byKey.delete(bindingKey);
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: T[]): void {
    const list = this.byKey.get(routingKey);
    if (list !== undefined) appendAll(out, list);
  }
}
