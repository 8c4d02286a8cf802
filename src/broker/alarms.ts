import { type Failable, reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';

/** A connection that blocks its publishers while a resource alarm is in effect. */
export interface AlarmListener extends Partial<Failable> {
  alarmsChanged(reason: string | null): void;
}

/**
 * RabbitMQ's resource alarms: while disk or memory runs low, connections that
 * publish are blocked (connection.blocked, and their sockets are no longer
 * read); consumers go on, so that queues drain.
 */
export class Alarms {
  private readonly active = new Set<'disk' | 'memory'>();
  private readonly listeners = new Set<AlarmListener>();

  constructor(private readonly reportError: UnexpectedErrorReporter = reportToStderr) {}

  /** RabbitMQ's reason text for connection.blocked, or null when no alarm is in effect. */
  get reason(): string | null {
    if (this.active.has('disk')) return 'low on disk';
    if (this.active.has('memory')) return 'low on memory';
    return null;
  }

  set(resource: 'disk' | 'memory', on: boolean): void {
    const before = this.reason;
    if (on) this.active.add(resource);
    else this.active.delete(resource);
    const after = this.reason;
    if (after === before) return;
    for (const listener of this.listeners) {
      try {
        listener.alarmsChanged(after);
      } catch (error) {
        // That listener (a connection) closes; the others still hear of the alarm.
        if (listener.fail !== undefined) listener.fail(error);
        else this.reportError(error, 'alarm listener', { alarm: after });
      }
    }
  }

  isSet(resource: 'disk' | 'memory'): boolean {
    return this.active.has(resource);
  }

  listen(listener: AlarmListener): void {
    this.listeners.add(listener);
  }

  unlisten(listener: AlarmListener): void {
    this.listeners.delete(listener);
  }
}
