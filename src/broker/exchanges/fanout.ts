import type { FieldTable } from '../../protocol/field-table.js';
import { appendAll, removeOne, type Router } from './router.js';

/** Fanout exchange: every bound destination receives every message; keys are ignored. */
export class FanoutRouter<T> implements Router<T> {
  private readonly destinations: T[] = [];

  bind(destination: T, _bindingKey: string, _args: FieldTable): void {
    this.destinations.push(destination);
  }

  unbind(destination: T, _bindingKey: string, _args: FieldTable): void {
    removeOne(this.destinations, destination);
  }

  route(_routingKey: string, _headers: FieldTable | undefined, out: T[]): void {
    appendAll(out, this.destinations);
  }
}
