import { Alarms } from './alarms.js';
import { reportToStderr, type UnexpectedErrorReporter } from './unexpected.js';
import { VHost } from './vhost.js';

export interface User {
  readonly name: string;
  readonly password: string;
  /** RabbitMQ's guest may log in from loopback addresses only. */
  readonly loopbackOnly: boolean;
  readonly vhosts: readonly string[];
}

/** The broker model: vhosts and users. No sockets, no files. */
export class Broker {
  /** Errors raised in timers and I/O callbacks of the model; the server points this at its log. */
  reportError: UnexpectedErrorReporter = reportToStderr;
  /** What the model's parts report through (it follows reportError when that is replaced). */
  readonly report: UnexpectedErrorReporter = (error, what, context) => this.reportError(error, what, context);
  readonly vhosts = new Map<string, VHost>();
  readonly users = new Map<string, User>();
  readonly alarms = new Alarms(this.report);

  constructor() {
    this.vhosts.set('/', new VHost('/', this.report));
    this.users.set('guest', { name: 'guest', password: 'guest', loopbackOnly: true, vhosts: ['/'] });
  }

  vhost(name: string): VHost | undefined {
    return this.vhosts.get(name);
  }

  /** Stops the queues' timers: nothing changes the model after the broker closed. */
  stop(): void {
    for (const vhost of this.vhosts.values()) vhost.stop();
  }
}
