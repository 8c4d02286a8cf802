// The Prometheus endpoint: `promtool check metrics` on a scrape of each endpoint, a real Prometheus server that
// scrapes Warren and answers the RabbitMQ-Overview dashboard's join query, and the names, types, HELP texts and
// labels of the dashboard's metrics compared with a private RabbitMQ 3.10.8 node running rabbitmq_prometheus
// (and with the recorded scrapes in ../shared/research/prometheus-samples when no node can run).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channel, confirmChannel, connect, waitUntil } from './support/amqp.js';
import { gate, label, rabbitmqDependency, type Dependency } from './support/deps.js';
import { freePort, freePorts } from './support/ports.js';
import { removeDir, stopGroup, trackDir, trackGroup } from './support/procs.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';
import { startWarren, type WarrenProcess } from './support/warren.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const SAMPLES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/research/prometheus-samples');

function prometheusDependency(): Dependency {
  const missing = [PROMETHEUS, PROMTOOL].filter((bin) => !fs.existsSync(bin));
  return {
    name: 'prometheus',
    missing: missing.length === 0 ? null : `${missing.join(' and ')} missing (Debian package prometheus; run scripts/install-test-deps.sh)`,
  };
}

/** One metric family of an exposition: its TYPE, HELP, and the label names of its samples. */
interface ParsedFamily {
  type?: string;
  help?: string;
  labelSets: Set<string>;
  samples: { labels: Record<string, string>; value: number }[];
}

function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const family = (name: string): ParsedFamily => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { labelSets: new Set(), samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    let m = /^# (TYPE|HELP) (\S+) ?(.*)$/.exec(line);
    if (m !== null) {
      if (m[1] === 'TYPE') family(m[2] as string).type = m[3];
      else family(m[2] as string).help = m[3];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    const f = family(m[1] as string);
    f.labelSets.add(Object.keys(labels).sort().join(','));
    f.samples.push({ labels, value: Number(m[3]) });
  }
  return families;
}

/** promtool's verdict on an exposition: exit code and its complaints. */
function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

async function scrape(port: number, route: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${route}`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** The metrics port Warren logged (the "listening" line of protocol http/prometheus). */
async function metricsPortOf(warren: WarrenProcess): Promise<number> {
  let port: number | undefined;
  await waitUntil(
    () => {
      const line = warren.output().split('\n').find((l) => l.includes('"protocol":"http/prometheus"') && l.includes('"msg":"listening"'));
      if (line !== undefined) port = (JSON.parse(line) as { port: number }).port;
      return port !== undefined;
    },
    10_000,
    'the http/prometheus listening log line',
  );
  return port as number;
}

const DETAILED =
  '/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count&family=connection_coarse_metrics' +
  '&family=channel_metrics&family=exchange_names&family=vhost_status';

/**
 * The names the RabbitMQ-Overview dashboard (3.10.8) reads, whose TYPE, HELP and labels must be RabbitMQ's.
 * rabbitmq_channel_messages_published_total is left out: RabbitMQ labels it per exchange too, Warren per channel.
 */
const DASHBOARD_NAMES = [
  'rabbitmq_identity_info',
  'rabbitmq_build_info',
  'rabbitmq_queue_messages_ready',
  'rabbitmq_queue_messages_unacked',
  'rabbitmq_queue_messages',
  'rabbitmq_queue_consumers',
  'rabbitmq_connections',
  'rabbitmq_channels',
  'rabbitmq_consumers',
  'rabbitmq_queues',
  'rabbitmq_connections_opened_total',
  'rabbitmq_connections_closed_total',
  'rabbitmq_channels_opened_total',
  'rabbitmq_channels_closed_total',
  'rabbitmq_queues_declared_total',
  'rabbitmq_queues_created_total',
  'rabbitmq_queues_deleted_total',
  'rabbitmq_global_messages_received_total',
  'rabbitmq_global_messages_received_confirm_total',
  'rabbitmq_global_messages_confirmed_total',
  'rabbitmq_global_messages_routed_total',
  'rabbitmq_global_messages_unroutable_dropped_total',
  'rabbitmq_global_messages_unroutable_returned_total',
  'rabbitmq_global_messages_delivered_total',
  'rabbitmq_global_messages_delivered_consume_auto_ack_total',
  'rabbitmq_global_messages_delivered_consume_manual_ack_total',
  'rabbitmq_global_messages_delivered_get_auto_ack_total',
  'rabbitmq_global_messages_delivered_get_manual_ack_total',
  'rabbitmq_global_messages_get_empty_total',
  'rabbitmq_global_messages_redelivered_total',
  'rabbitmq_global_messages_acknowledged_total',
  'rabbitmq_global_consumers',
  'rabbitmq_global_publishers',
  'rabbitmq_process_resident_memory_bytes',
  'rabbitmq_resident_memory_limit_bytes',
  'rabbitmq_disk_space_available_bytes',
  'rabbitmq_disk_space_available_limit_bytes',
  'rabbitmq_process_open_fds',
  'rabbitmq_process_max_fds',
  'rabbitmq_process_open_tcp_sockets',
  'rabbitmq_process_max_tcp_sockets',
  'rabbitmq_alarms_memory_used_watermark',
  'rabbitmq_alarms_free_disk_space_watermark',
  'rabbitmq_alarms_file_descriptor_limit',
  'rabbitmq_auth_attempts_total',
  'rabbitmq_auth_attempts_succeeded_total',
  'rabbitmq_auth_attempts_failed_total',
  'rabbitmq_channel_consumers',
  'rabbitmq_channel_messages_unacked',
  'rabbitmq_channel_messages_unconfirmed',
  'rabbitmq_connection_incoming_bytes_total',
  'rabbitmq_connection_outgoing_bytes_total',
];

/** What a scrape says about each dashboard name: TYPE, HELP and label names (AMQP-only series). */
function shapeOf(text: string): Record<string, { type?: string; help?: string; labels: string[] }> {
  const families = parseExposition(text);
  const shape: Record<string, { type?: string; help?: string; labels: string[] }> = {};
  for (const name of DASHBOARD_NAMES) {
    const family = families.get(name);
    if (family === undefined) continue;
    // RabbitMQ counts HTTP logins too (protocol="http"); the label names are what matters.
    shape[name] = { type: family.type, help: family.help, labels: [...family.labelSets].sort() };
  }
  return shape;
}

/** The same traffic on either broker: a queue with 3 ready messages, a consumer channel, a confirm publisher. */
async function makeTraffic(url: string, queue: string): Promise<() => Promise<void>> {
  const conn = await connect(url);
  const ch = await confirmChannel(conn);
  await ch.assertQueue(queue, { durable: false });
  for (let i = 0; i < 3; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
  await ch.waitForConfirms();
  const consumer = await channel(conn);
  await consumer.assertQueue(`${queue}.consumed`, { durable: false });
  await consumer.consume(`${queue}.consumed`, () => {}, { noAck: false });
  return async () => {
    await conn.close();
  };
}

const promDep = prometheusDependency();

describe.skipIf(gate(promDep))(label('Prometheus endpoint (Warren)', promDep), () => {
  let warren: WarrenProcess;
  let port: number;
  let stopTraffic: () => Promise<void>;
  const queue = `metrics.depth.${process.pid}`;

  beforeAll(async () => {
    warren = await startWarren({ args: ['--metrics-port', '0'] });
    port = await metricsPortOf(warren);
    stopTraffic = await makeTraffic(warren.url, queue);
  }, 30_000);

  afterAll(async () => {
    await stopTraffic?.();
    await warren?.stop();
  });

  it.each(['/metrics', '/metrics/per-object', DETAILED])('%s passes promtool check metrics (only Node process metrics may be linted)', async (route) => {
    const { status, contentType, text } = await scrape(port, route);
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4');
    expect(text).toContain('rabbitmq_identity_info{');
    const { code, output } = await promtoolCheck(text);
    // 0: clean; 3: lint complaints only (prom-client's nodejs_active_*_total gauges, as RabbitMQ's erlang_* ones).
    expect([0, 3], output).toContain(code);
    expect(output.split('\n').filter((line) => line.startsWith('rabbitmq_'))).toEqual([]);
  });

  it('shows the queue depth per queue, summed in /metrics, and the detailed families asked for', async () => {
    const perObject = parseExposition((await scrape(port, '/metrics/per-object')).text);
    const ready = perObject.get('rabbitmq_queue_messages_ready')?.samples.find((s) => s.labels.queue === queue);
    expect(ready).toEqual({ labels: { vhost: '/', queue }, value: 3 });
    const aggregated = parseExposition((await scrape(port, '/metrics')).text);
    expect(aggregated.get('rabbitmq_queue_messages_ready')?.samples).toEqual([{ labels: {}, value: 3 }]);
    expect(aggregated.get('rabbitmq_global_messages_confirmed_total')?.samples).toEqual([{ labels: { protocol: 'amqp091' }, value: 3 }]);
    const detailed = parseExposition((await scrape(port, `${DETAILED}&vhost=%2F`)).text);
    expect(detailed.get('rabbitmq_detailed_queue_messages_ready')?.samples.find((s) => s.labels.queue === queue)?.value).toBe(3);
    expect(detailed.get('rabbitmq_detailed_vhost_status')?.samples).toEqual([{ labels: { vhost: '/' }, value: 1 }]);
    expect(detailed.has('rabbitmq_queue_messages_ready')).toBe(false);
    expect(detailed.get('rabbitmq_detailed_exchange_name')?.samples.map((s) => s.labels.exchange)).toContain('amq.topic');
    expect((await scrape(port, '/nothing')).status).toBe(404);
  });

  it('escapes quotes, backslashes and newlines in label values (promtool parses the scrape)', async () => {
    const odd = 'odd "quoted" \\ back\nslash';
    const conn = await connect(warren.url);
    try {
      const ch = await channel(conn);
      await ch.assertQueue(odd, { durable: false });
      ch.sendToQueue(odd, Buffer.from('x'));
      await ch.checkQueue(odd);
      const { text } = await scrape(port, '/metrics/per-object');
      expect(text).toContain('queue="odd \\"quoted\\" \\\\ back\\nslash"} 1');
      const { code, output } = await promtoolCheck(text);
      expect([0, 3], output).toContain(code);
      await ch.deleteQueue(odd);
    } finally {
      await conn.close();
    }
  });

  it('a real Prometheus scrapes it and answers the dashboard join query with the queue depth', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-prometheus-'));
    trackDir(dir);
    const [webPort] = await freePorts(1);
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: warren', '    static_configs:', `      - targets: ['127.0.0.1:${port}']`, ''].join('\n'),
    );
    let prometheus: ChildProcess | undefined;
    try {
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${path.join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${webPort}`,
          '--log.level=warn',
        ],
        { detached: true, stdio: 'ignore', cwd: dir },
      );
      if (prometheus.pid !== undefined) trackGroup(prometheus.pid);
      const query = 'sum(rabbitmq_queue_messages_ready * on(instance, job) group_left(rabbitmq_cluster) rabbitmq_identity_info)';
      let answer: string | undefined;
      const deadline = Date.now() + 40_000;
      while (answer === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        try {
          const response = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
          const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
          answer = body.data?.result?.[0]?.value[1];
        } catch {
          // Not up yet.
        }
      }
      expect(answer).toBe('3');
    } finally {
      if (prometheus !== undefined) await stopGroup(prometheus, 5_000);
      removeDir(dir);
    }
  }, 60_000);
});

const rmqDep = rabbitmqDependency();

describe.skipIf(gate(promDep))(label('metric names, types, HELP and labels against RabbitMQ 3.10.8', promDep), () => {
  let warren: WarrenProcess;
  let warrenShape: ReturnType<typeof shapeOf>;
  let warrenPerObject: ReturnType<typeof shapeOf>;

  beforeAll(async () => {
    warren = await startWarren({ args: ['--metrics-port', '0'] });
    const port = await metricsPortOf(warren);
    const stop = await makeTraffic(warren.url, 'metrics.shape');
    warrenShape = shapeOf((await scrape(port, '/metrics')).text);
    warrenPerObject = shapeOf((await scrape(port, '/metrics/per-object')).text);
    await stop();
  }, 30_000);

  afterAll(async () => {
    await warren?.stop();
  });

  it('the same as the recorded RabbitMQ 3.10.8 scrapes (prometheus-samples)', () => {
    const recorded = shapeOf(fs.readFileSync(path.join(SAMPLES, 'metrics.txt'), 'utf8'));
    const recordedPerObject = shapeOf(fs.readFileSync(path.join(SAMPLES, 'metrics-per-object.txt'), 'utf8'));
    expect(Object.keys(warrenShape).sort()).toEqual(Object.keys(recorded).sort());
    for (const name of Object.keys(recorded)) {
      const want = recorded[name];
      const have = warrenShape[name];
      expect({ name, type: have?.type, help: have?.help }).toEqual({ name, type: want?.type, help: want?.help });
      // A family with no sample in the recording (e.g. build_info's empty aggregate) says nothing about labels.
      if (want?.labels.length !== 0) expect({ name, labels: have?.labels }).toEqual({ name, labels: want?.labels });
    }
    for (const name of ['rabbitmq_queue_messages_ready', 'rabbitmq_queue_messages', 'rabbitmq_queue_consumers', 'rabbitmq_channel_consumers']) {
      expect({ name, labels: warrenPerObject[name]?.labels }).toEqual({ name, labels: recordedPerObject[name]?.labels });
    }
  });

  describe.skipIf(gate(rmqDep))(label('against a private node with rabbitmq_prometheus', rmqDep), () => {
    let node: RabbitNode;
    let rabbitShape: ReturnType<typeof shapeOf>;
    let rabbitPerObject: ReturnType<typeof shapeOf>;

    beforeAll(async () => {
      const prometheusPort = await freePort();
      node = await startRabbitMQ({
        plugins: ['rabbitmq_prometheus'],
        extraConfig: [`prometheus.tcp.port = ${prometheusPort}`, 'prometheus.tcp.ip = 127.0.0.1'],
      });
      const stop = await makeTraffic(node.url, 'metrics.shape');
      let text = '';
      // The plugin's listener comes up shortly after AMQP.
      const deadline = Date.now() + 20_000;
      while (text === '' && Date.now() < deadline) {
        try {
          text = (await scrape(prometheusPort, '/metrics')).text;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      rabbitShape = shapeOf(text);
      rabbitPerObject = shapeOf((await scrape(prometheusPort, '/metrics/per-object')).text);
      await stop();
    }, 90_000);

    afterAll(async () => {
      await node?.stop();
    });

    it('every dashboard name with the same TYPE, HELP and label names, aggregated and per object', () => {
      expect(Object.keys(warrenShape).sort()).toEqual(Object.keys(rabbitShape).sort());
      for (const name of Object.keys(rabbitShape)) {
        expect({ name, ...warrenShape[name] }).toEqual({ name, ...rabbitShape[name] });
      }
      for (const name of ['rabbitmq_queue_messages_ready', 'rabbitmq_queue_messages_unacked', 'rabbitmq_queue_consumers', 'rabbitmq_channel_consumers']) {
        expect({ name, labels: warrenPerObject[name]?.labels }).toEqual({ name, labels: rabbitPerObject[name]?.labels });
      }
    });
  });
});
