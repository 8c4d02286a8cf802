// Run one table of scenarios against a private RabbitMQ node (the reference)
// and against Warren, and compare: each scenario's own assertions run on both
// answers, and Warren's answer must equal RabbitMQ's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dependency, gate, label, rabbitmqDependency } from './deps.js';
import { trackDir } from './procs.js';
import { startRabbitMQ, type RabbitNode } from './rabbitmq.js';
import { startWarren, type WarrenProcess } from './warren.js';

// INTEROP_RECORD=<dir>: write RabbitMQ's answers there as JSON (one file per
// suite), to read what exactly the reference broker sent.
const recorded = new Map<string, Record<string, unknown>>();
function record(suite: string, name: string, result: unknown): void {
  const dir = process.env.INTEROP_RECORD;
  if (!dir) return;
  const all = recorded.get(suite) ?? {};
  all[name] = result;
  recorded.set(suite, all);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${suite.replace(/[^a-z0-9]+/gi, '-')}.json`), JSON.stringify(all, null, 2));
}

/** The capabilities RabbitMQ 3.10 announces in connection.start (all true), which Warren must announce too. */
export const RABBITMQ_CAPABILITIES = {
  authentication_failure_close: true,
  'basic.nack': true,
  'connection.blocked': true,
  consumer_cancel_notify: true,
  consumer_priorities: true,
  direct_reply_to: true,
  exchange_exchange_bindings: true,
  per_consumer_qos: true,
  publisher_confirms: true,
};

export interface Scenario<R = unknown> {
  name: string;
  /** Run against a broker; `id` is unique per scenario per run, the same for both brokers. */
  run(url: string, id: string): Promise<R>;
  /** Direct assertions of the expected answer (so a test fails even if both brokers agree on a wrong answer). */
  check(result: R): void;
  timeoutMs?: number;
}

export function scenario<R>(s: Scenario<R>): Scenario<unknown> {
  return s as Scenario<unknown>;
}

export interface ComparisonOptions {
  /** Client-side dependencies (pika, go...) both sides need. */
  clientDeps?: Dependency[];
  /** Runs once before the scenarios (e.g. building a Go client), bounded by its timeout. */
  prepare?: () => Promise<void>;
  prepareTimeoutMs?: number;
  /**
   * Users, vhosts and permissions both brokers start with: RabbitMQ imports
   * it at boot (load_definitions), Warren starts on a data dir holding it.
   */
  definitions?: object;
  /** Plugins the RabbitMQ node enables (Warren has their behaviour built in). */
  plugins?: string[];
}

/** A temp data dir (removed at exit) whose definitions.json is `definitions`. */
function dataDirWith(definitions: object): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-data-'));
  trackDir(dir);
  fs.writeFileSync(path.join(dir, 'definitions.json'), JSON.stringify(definitions));
  return dir;
}

export function compareBrokers(title: string, scenarios: Scenario[], opts: ComparisonOptions = {}): void {
  const rabbitDep = rabbitmqDependency();
  const clientDeps = opts.clientDeps ?? [];
  const clientsMissing = clientDeps.map((d) => gate(d)).some(Boolean);
  const rabbitMissing = gate(rabbitDep);
  const ids = new Map(scenarios.map((s) => [s.name, `${s.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${crypto.randomBytes(3).toString('hex')}`]));
  const reference = new Map<string, unknown>();

  describe(title, () => {
    if (opts.prepare && !clientsMissing) beforeAll(opts.prepare, opts.prepareTimeoutMs ?? 60_000);

    describe.skipIf(clientsMissing || rabbitMissing)(label('RabbitMQ (reference)', ...clientDeps, rabbitDep), () => {
      let rabbit: RabbitNode | undefined;
      beforeAll(async () => {
        rabbit = await startRabbitMQ({ definitions: opts.definitions, plugins: opts.plugins });
        console.log(`[interop] ${title}: private RabbitMQ ${rabbit.nodeName} on 127.0.0.1:${rabbit.port} started in ${rabbit.startMs} ms`);
      }, 90_000);
      afterAll(async () => {
        await rabbit?.stop();
      }, 30_000);
      for (const s of scenarios) {
        it(
          s.name,
          async () => {
            if (!rabbit) throw new Error('RabbitMQ did not start');
            const result = await s.run(rabbit.url, ids.get(s.name)!);
            reference.set(s.name, result);
            record(title, s.name, result);
            s.check(result);
          },
          s.timeoutMs,
        );
      }
    });

    describe.skipIf(clientsMissing)(label('Warren', ...clientDeps), () => {
      let warren: WarrenProcess | undefined;
      beforeAll(async () => {
        warren = await startWarren({ dataDir: opts.definitions === undefined ? undefined : dataDirWith(opts.definitions) });
      }, 150_000);
      afterAll(async () => {
        await warren?.stop();
      }, 30_000);
      for (const s of scenarios) {
        it(
          s.name,
          async () => {
            if (!warren) throw new Error('Warren did not start');
            const result = await s.run(warren.url, ids.get(s.name)!);
            s.check(result);
            if (reference.has(s.name)) expect(result, 'Warren must answer exactly as RabbitMQ did').toEqual(reference.get(s.name));
          },
          s.timeoutMs,
        );
      }
    });
  });
}
