// The frame fuzzer's engine, shared by interop/fuzz.test.ts (bounded, in CI) and
// scripts/fuzz.ts (`npm run fuzz`, any number of cases). One Warren runs as a
// child process; many raw connections send generated cases (fuzz-cases.ts) in
// parallel while one healthy amqplib client keeps doing round trips. Checked:
// the broker never exits; every case gets the answer its `expect` asks for,
// within 5 s of its last byte; every frame the broker sends fits the frame_max
// negotiated with that client; the healthy client never fails and keeps making
// progress; the log has no error-level line; RSS comes back near its start.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { type FuzzCase, FUZZ_QUEUES, generateCase, wellFramed } from './fuzz-cases.js';
import { removeDir, stopGroup, Tail, trackDir, trackGroup } from './procs.js';
import { startRabbitMQ } from './rabbitmq.js';
import { FRAME_METHOD, PROTOCOL_HEADER, RawAmqp, m, type Frame } from './raw-amqp.js';
import { ROOT, WARREN_NODE_FLAGS, ensureWarrenBuilt } from './warren.js';

/** A bad connection must be closed within this long after its last byte. */
export const CLOSE_WITHIN_MS = 5_000;
/**
 * After broken framing the broker cannot read a close-ok, so it must close the
 * socket right after its connection.close instead of waiting (Warren's close-ok
 * wait is 3 s); this bound leaves room for a loaded 2-core machine (the fuzzer's
 * own event loop has been seen to stall for up to a second there).
 */
export const BROKEN_FRAMING_CLOSE_MS = 2_000;
/**
 * RSS after the run (its queues purged, then a short idle) may exceed RSS before
 * it by this much. Measured on this branch with the broker in a process where
 * gc() could be called: over 20,000 cases the JS heap in use after a GC stays
 * flat (7 -> 9 MB) while RSS settles 40-70 MB above its start and stays there
 * (freed native memory the allocator keeps for reuse: socket buffers, frames up
 * to 128 KiB), so RSS cannot come all the way back. 96 MB leaves room for that
 * plateau and still fails a leak of ~1.5 KB per case in the 20,000-case run
 * (~100 bytes per case in a 1,000,000-case run).
 */
export const RSS_SLACK_MB = 96;
/** How long RSS may take to come back within RSS_SLACK_MB of its start once the run is over. */
const RSS_RETURN_MS = 40_000;
/** The healthy client's round trip must complete within this long. */
const HEALTHY_ROUND_TRIP_MS = 5_000;
/** Idle time after the run, and again after purging its queues, before RSS is read (TTL dead-lettering happens meanwhile). */
const IDLE_AFTER_MS = 2_000;
/** Cases finished just before a broker exit that are named as suspects with those in flight. */
const RECENT_SUSPECTS = 32;
const SERVER_REPLY_CODES = new Set([200, 311, 312, 313, 320, 402, 403, 404, 405, 406, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

// ---- the broker ---------------------------------------------------------------

export interface LogLine {
  level: number;
  msg: string;
  peer?: string;
  line: string;
}

export interface FuzzBroker {
  port: number;
  url: string;
  pid: number;
  /** Error-level (pino >= 50) lines seen so far. */
  errorLines: LogLine[];
  /** Every log line of a peer (host:port) kept for replay diagnostics, when `keepLines`. */
  lines: LogLine[];
  stderr: Tail;
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  rssMb(): number;
  /** CPU seconds (user + system) the broker used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** A /proc file of the broker; empty once it is gone (its 'exit' event may not have come yet). */
function readProc(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

export async function startFuzzBroker(opts: { keepLines?: boolean; args?: string[] } = {}): Promise<FuzzBroker> {
  ensureWarrenBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-fuzz-'));
  trackDir(dataDir);
  const child: ChildProcess = spawn(
    process.execPath,
    // The flags the warren bin runs Node with: the RSS bound is about the broker as shipped.
    [...WARREN_NODE_FLAGS, path.join(ROOT, 'dist', 'cli.js'), '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'info', ...(opts.args ?? [])],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test', WARREN_MANAGEMENT_PORT: '-1', WARREN_METRICS_PORT: '-1' } },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn Warren');
  trackGroup(pid);
  const stderr = new Tail(20_000);
  child.stderr?.on('data', (d: Buffer) => stderr.push(d));
  const broker: FuzzBroker = {
    port: 0,
    url: '',
    pid,
    errorLines: [],
    lines: [],
    stderr,
    exit: undefined,
    rssMb: () => {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status'));
      return kb ? Number(kb[1]) / 1024 : NaN;
    },
    cpuSeconds: () => {
      // /proc/<pid>/stat fields 14 and 15 (utime, stime) in clock ticks (100 per second on Linux).
      const fields = readProc(pid, 'stat').replace(/^.*\) /, '').split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: async () => {
      await stopGroup(child, 5_000);
      removeDir(dataDir);
    },
  };
  child.once('exit', (code, signal) => {
    broker.exit = { code, signal, at: Date.now() };
  });
  let pending = '';
  let resolveListening: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (resolveListening = resolve));
  child.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let rec: { level?: number; msg?: string; port?: number; peer?: string };
      try {
        rec = JSON.parse(line);
      } catch {
        stderr.push(`${line}\n`); // not a log record: kept with stderr for diagnostics
        continue;
      }
      if (rec.msg === 'listening' && typeof rec.port === 'number') resolveListening(rec.port);
      const entry: LogLine = { level: rec.level ?? 0, msg: rec.msg ?? '', line, ...(rec.peer ? { peer: rec.peer } : {}) };
      if (entry.level >= 50 && broker.errorLines.length < 50) broker.errorLines.push(entry);
      if (opts.keepLines) broker.lines.push(entry);
    }
  });
  const port = await Promise.race([
    listening,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`Warren did not listen within 20 s\n${stderr}`)), 20_000)),
    new Promise<never>((_, reject) => child.once('exit', () => reject(new Error(`Warren exited before listening\n${stderr}`)))),
  ]).catch(async (e) => {
    await broker.stop();
    throw e;
  });
  broker.port = port;
  broker.url = `amqp://guest:guest@127.0.0.1:${port}`;
  return broker;
}

/** Bounds of the queues cases publish into: a long run keeps no backlog (4 MiB each at most). */
const BOUNDED = { 'x-max-length': 200, 'x-max-length-bytes': 4 * 1024 * 1024 };

/**
 * A private RabbitMQ node in the broker's place, to check the cases'
 * expectations against the reference: no log, exit or memory figures.
 */
async function startRabbitMQUnderFuzz(): Promise<FuzzBroker> {
  const node = await startRabbitMQ();
  return {
    port: node.port,
    url: node.url,
    pid: 0,
    errorLines: [],
    lines: [],
    stderr: new Tail(0),
    exit: undefined,
    rssMb: () => NaN,
    cpuSeconds: () => NaN,
    stop: () => node.stop(),
  };
}

/** The queues cases publish into (fuzz-cases.ts FUZZ_QUEUES). */
async function declareTopology(url: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(FUZZ_QUEUES.sink, { arguments: BOUNDED });
    await ch.assertQueue(FUZZ_QUEUES.dead, { arguments: BOUNDED });
    await ch.assertQueue(FUZZ_QUEUES.ttl, {
      arguments: { ...BOUNDED, 'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': FUZZ_QUEUES.dead },
    });
    await ch.assertQueue(FUZZ_QUEUES.healthy, { arguments: BOUNDED });
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Empties the queues the cases filled, so that RSS after the run is compared without their messages. */
async function purgeTopology(url: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of [FUZZ_QUEUES.sink, FUZZ_QUEUES.ttl, FUZZ_QUEUES.dead]) await ch.purgeQueue(q);
  } finally {
    await conn.close().catch(() => {});
  }
}

// ---- the healthy client ----------------------------------------------------------

export interface HealthyStats {
  roundTrips: number;
  confirms: number;
  /** Longest time without a completed round trip, ms. */
  longestGapMs: number;
  failure: string | undefined;
}

/**
 * One amqplib connection: a consumer on fuzz.healthy, and a confirm channel
 * that publishes one numbered message at a time and waits for both its confirm
 * and its delivery (a round trip). Messages from others (cases that publish
 * into fuzz.healthy) are acked and ignored.
 */
class HealthyClient {
  readonly stats: HealthyStats = { roundTrips: 0, confirms: 0, longestGapMs: 0, failure: undefined };
  private conn: ChannelModel | undefined;
  private running = true;
  private loop: Promise<void> | undefined;
  private waiting: { seq: number; resolve: () => void } | undefined;
  private lastProgress = Date.now();

  async start(url: string): Promise<void> {
    const conn = await amqp.connect(url);
    this.conn = conn;
    conn.on('error', (e: Error) => this.fail(`connection error: ${e.message}`));
    conn.on('close', () => this.fail('connection closed'));
    const consumer: Channel = await conn.createChannel();
    consumer.on('error', (e: Error) => this.fail(`consumer channel error: ${e.message}`));
    await consumer.prefetch(50);
    await consumer.consume(FUZZ_QUEUES.healthy, (msg) => {
      if (msg === null) return this.fail('consumer cancelled by the broker');
      consumer.ack(msg);
      const seq = Number(msg.properties.messageId);
      if (this.waiting && this.waiting.seq === seq) this.waiting.resolve();
    });
    const publisher: ConfirmChannel = await conn.createConfirmChannel();
    publisher.on('error', (e: Error) => this.fail(`confirm channel error: ${e.message}`));
    this.lastProgress = Date.now();
    this.loop = this.roundTrips(publisher);
  }

  private fail(why: string): void {
    if (this.running && this.stats.failure === undefined) this.stats.failure = why;
  }

  private async roundTrips(publisher: ConfirmChannel): Promise<void> {
    for (let seq = 1; this.running && this.stats.failure === undefined; seq++) {
      const delivered = new Promise<void>((resolve) => (this.waiting = { seq, resolve }));
      const confirmed = new Promise<void>((resolve, reject) =>
        publisher.publish('', FUZZ_QUEUES.healthy, Buffer.from(`round trip ${seq}`), { messageId: String(seq), headers: { seq } }, (err) =>
          err ? reject(new Error(`publish ${seq} nacked`)) : resolve(),
        ),
      );
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.all([confirmed.then(() => this.stats.confirms++), delivered]),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`round trip ${seq} took over ${HEALTHY_ROUND_TRIP_MS} ms`)), HEALTHY_ROUND_TRIP_MS))),
        ]);
      } catch (e) {
        this.fail((e as Error).message);
        return;
      } finally {
        clearTimeout(timer);
      }
      const now = Date.now();
      this.stats.longestGapMs = Math.max(this.stats.longestGapMs, now - this.lastProgress);
      this.lastProgress = now;
      this.stats.roundTrips++;
    }
  }

  /** Longest gap including the one still open now. */
  currentGapMs(): number {
    return Date.now() - this.lastProgress;
  }

  async stop(): Promise<void> {
    const gap = this.currentGapMs();
    if (this.stats.failure === undefined) this.stats.longestGapMs = Math.max(this.stats.longestGapMs, gap);
    this.running = false;
    this.waiting?.resolve();
    await this.loop;
    await this.conn?.close().catch(() => {});
  }
}

// ---- one case --------------------------------------------------------------------

export interface CaseResult {
  /** How the connection ended up. */
  outcome: 'connection.close' | 'socket-closed' | 'alive' | 'pending' | 'client-closed' | 'no-answer';
  /** connection.close reply code. */
  code?: number;
  text?: string;
  /** channel.close reply codes seen on the way. */
  channelCloses: number[];
  /** Milliseconds from the last byte sent to the close (or to the probe's answer). */
  ms: number;
  violations: string[];
  localPort?: number;
  /** Silent after connection.close: how long the broker kept the socket (Infinity: past the wait). */
  socketKeptMs?: number;
}

/**
 * The channel.open sent after a case that may leave the connection usable; its
 * open-ok proves it is. The negotiated channel_max: a number within the limit
 * that the cases' own channels (1, 2, 7, or past the limit) do not use.
 */
function probeChannel(c: FuzzCase): number {
  return c.channelMax;
}

async function handshakeTo(raw: RawAmqp, c: FuzzCase): Promise<void> {
  if (c.phase === 'pre') return;
  if (c.phase === 'open') {
    await raw.handshake({ frameMax: c.frameMax, channelMax: c.channelMax });
    return;
  }
  raw.write(PROTOCOL_HEADER);
  await raw.expectMethod(10, 10);
  if (c.phase === 'start') return;
  raw.write(m.startOk({ product: 'warren fuzz' }, 'guest', 'guest'));
  await raw.expectMethod(10, 30);
}

function closeArgs(f: Frame): { code: number; text: string } {
  const p = f.payload;
  const len = p.readUInt8(6);
  return { code: p.readUInt16BE(4), text: p.subarray(7, 7 + len).toString('utf8') };
}

export async function runCase(port: number, c: FuzzCase, onLocalPort?: (p: number) => void): Promise<CaseResult> {
  const result: CaseResult = { outcome: 'no-answer', channelCloses: [], ms: 0, violations: [] };
  let raw: RawAmqp;
  try {
    raw = await RawAmqp.connect(port);
  } catch (e) {
    result.violations.push(`could not connect: ${(e as Error).message}`);
    return result;
  }
  result.localPort = raw.socket.localPort;
  if (result.localPort !== undefined) onLocalPort?.(result.localPort);
  try {
    try {
      await handshakeTo(raw, c);
    } catch (e) {
      result.violations.push(`handshake to phase ${c.phase} failed: ${(e as Error).message}`);
      return result;
    }
    // Frames the broker sends after tune-ok must fit the negotiated frame_max.
    const frameMax = c.phase === 'open' ? c.frameMax : 131072;
    let prev = 0;
    for (const at of [...c.splits, c.bytes.length]) {
      raw.write(c.bytes.subarray(prev, at));
      prev = at;
      if (at < c.bytes.length) await new Promise((r) => setImmediate(r));
    }
    const probe = c.expect === 'any' || c.expect === 'survive';
    if (probe) raw.write(m.channelOpen(probeChannel(c)));
    const lastByteAt = Date.now();
    const waitMs = c.expect === 'pending' ? 300 : CLOSE_WITHIN_MS;
    const deadline = lastByteAt + waitMs;
    for (;;) {
      let f: Frame | null;
      try {
        f = await raw.readFrame(Math.max(0, deadline - Date.now()));
      } catch (e) {
        result.violations.push(`broker sent bytes that are not a frame: ${(e as Error).message}`);
        return result;
      }
      if (f === null && !raw.isEnded) {
        // The deadline passed: first take in what already arrived while this process was busy.
        await ioTurn();
        f = raw.isEnded ? null : await raw.readFrame(0).catch(() => null);
      }
      if (f === null) {
        result.ms = Date.now() - lastByteAt;
        result.outcome = raw.isEnded ? 'socket-closed' : c.expect === 'pending' ? 'pending' : 'no-answer';
        break;
      }
      // A content header cannot be split: one whose properties alone pass frame_max (another case's
      // deep headers table, got by this connection) goes out whole, as RabbitMQ sends it.
      if (frameMax !== 0 && f.payload.length + 8 > frameMax && f.type !== 2) {
        result.violations.push(`broker sent a frame of ${f.payload.length + 8} bytes (type ${f.type}, channel ${f.channel}) above the negotiated frame_max ${frameMax}`);
      }
      if (f.type !== FRAME_METHOD || f.payload.length < 4) continue;
      const classId = f.payload.readUInt16BE(0);
      const methodId = f.payload.readUInt16BE(2);
      if (classId === 10 && methodId === 50) {
        const { code, text } = closeArgs(f);
        result.outcome = 'connection.close';
        result.code = code;
        result.text = text;
        result.ms = Date.now() - lastByteAt;
        await afterConnectionClose(raw, c, result);
        break;
      }
      if (classId === 10 && methodId === 51) {
        result.outcome = 'client-closed'; // the case's bytes held a connection.close
        result.ms = Date.now() - lastByteAt;
        break;
      }
      if (classId === 20 && methodId === 40) {
        result.channelCloses.push(closeArgs(f).code);
        checkText(c, closeArgs(f), result);
        raw.write(m.channelCloseOk(f.channel));
        continue;
      }
      if (classId === 20 && methodId === 11 && probe && f.channel === probeChannel(c)) {
        result.outcome = 'alive';
        result.ms = Date.now() - lastByteAt;
        break;
      }
    }
    judge(c, result);
    return result;
  } finally {
    raw.destroy();
  }
}

/** Lets I/O events that are already due (a socket end, data) run before a timeout is judged. */
function ioTurn(): Promise<void> {
  return new Promise((r) => setTimeout(() => setImmediate(r), 0));
}

function checkText(c: FuzzCase, close: { code: number; text: string }, result: CaseResult): void {
  if (!SERVER_REPLY_CODES.has(close.code)) result.violations.push(`reply code ${close.code} is not an AMQP reply code`);
  if (c.declaredBodySize !== undefined && /message size/.test(close.text) && !close.text.includes(c.declaredBodySize.toString())) {
    result.violations.push(`reply text does not print the declared body size ${c.declaredBodySize} exactly: ${JSON.stringify(close.text)}`);
  }
}

async function afterConnectionClose(raw: RawAmqp, c: FuzzCase, result: CaseResult): Promise<void> {
  checkText(c, { code: result.code!, text: result.text! }, result);
  const closeAt = Date.now();
  if (c.expect === 'close-broken') {
    // The broker cannot parse a close-ok any more: it must not wait for one.
    await raw.readAll(BROKEN_FRAMING_CLOSE_MS);
    await ioTurn();
    if (!raw.isEnded) result.violations.push(`socket still open ${BROKEN_FRAMING_CLOSE_MS} ms after connection.close ${result.code} on broken framing`);
    return;
  }
  if (c.onClose === 'hang-up') return;
  if (c.onClose === 'close-ok') {
    raw.write(m.closeOk());
    await raw.readAll(CLOSE_WITHIN_MS);
    await ioTurn();
    // Only a broker that can still read frames can see our close-ok.
    if (!raw.isEnded && wellFramed(c)) result.violations.push(`socket still open ${CLOSE_WITHIN_MS} ms after our connection.close-ok`);
    return;
  }
  // Silent: exercises the broker giving up on its close-ok. Its connection.close
  // already closed the connection; how long it keeps the socket is a figure
  // (Warren: 3 s; RabbitMQ waits longer), not a property.
  const { ended } = await raw.readAll(CLOSE_WITHIN_MS + 1_000);
  result.socketKeptMs = ended ? Date.now() - closeAt : Infinity;
}

function judge(c: FuzzCase, r: CaseResult): void {
  const closed = r.outcome === 'connection.close' || r.outcome === 'socket-closed';
  switch (c.expect) {
    case 'close':
    case 'close-broken':
      if (!closed) r.violations.push(`expected the broker to close the connection within ${CLOSE_WITHIN_MS} ms, got ${r.outcome}`);
      break;
    case 'survive':
      if (r.outcome !== 'alive') r.violations.push(`valid input: expected the connection to stay usable, got ${r.outcome}${r.code ? ` ${r.code} ${r.text}` : ''}`);
      else if (r.channelCloses.length > 0) r.violations.push(`valid input: expected no channel.close, got ${r.channelCloses.join(', ')}`);
      break;
    case 'any':
      if (r.outcome === 'no-answer') r.violations.push(`neither closed nor answered a channel.open within ${CLOSE_WITHIN_MS} ms`);
      break;
    case 'pending':
      break;
  }
}

// ---- the run ---------------------------------------------------------------------

export interface FuzzOptions {
  seed: number;
  /** Cases first .. first+cases-1 (or just `only`). */
  cases: number;
  first?: number;
  concurrency?: number;
  /** Called about every `progressEveryMs` with a one-line status. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
  /** Keep the broker's log lines (replay of one case). */
  keepLines?: boolean;
  /** Run the cases against a private RabbitMQ node instead (to check the cases' expectations). */
  rabbitmq?: boolean;
  /** Kinds (prefixes) generated but not sent, e.g. to go on fuzzing past a known bug; indices stay the same. */
  skipKinds?: string[];
}

export interface CaseFailure {
  case: FuzzCase;
  result: CaseResult;
}

export interface FuzzReport {
  seed: number;
  /** 'warren' or 'rabbitmq' */
  broker: string;
  cases: number;
  /** Cases not sent (skipKinds). */
  skipped: number;
  seconds: number;
  closesByCode: Record<string, number>;
  channelClosesByCode: Record<string, number>;
  outcomes: Record<string, number>;
  /** Slowest close after the last byte of a case that had to be closed, ms. */
  slowestCloseMs: number;
  /** Cases that never answered the broker's connection.close: how long the broker kept their socket (ms, longest). */
  silentCases: number;
  longestSocketKeptMs: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPeakMb: number;
  /** CPU seconds used by the broker and by the fuzzer's own process during the run. */
  brokerCpuSeconds: number;
  fuzzerCpuSeconds: number;
  /** Longest event-loop delay of the fuzzer's process (ms): timings are only as good as this. */
  fuzzerLagMs: number;
  healthy: HealthyStats;
  brokerExit: string | undefined;
  errorLines: LogLine[];
  /** Cases whose connection an error-level line names, or that were in flight when the broker exited. */
  suspects: FuzzCase[];
  failures: CaseFailure[];
  failureCount: number;
  failuresByKind: Record<string, number>;
  /** The run's properties that failed, one line each. */
  problems: string[];
  /** Log lines of the run, when keepLines. */
  lines: LogLine[];
  stderr: string;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const concurrency = opts.concurrency ?? 64;
  const first = opts.first ?? 0;
  const skip = opts.skipKinds ?? [];
  const broker = opts.rabbitmq ? await startRabbitMQUnderFuzz() : await startFuzzBroker({ keepLines: opts.keepLines });
  const healthy = new HealthyClient();
  const report: FuzzReport = {
    seed: opts.seed,
    broker: opts.rabbitmq ? 'rabbitmq' : 'warren',
    cases: 0,
    skipped: 0,
    seconds: 0,
    closesByCode: {},
    channelClosesByCode: {},
    outcomes: {},
    slowestCloseMs: 0,
    silentCases: 0,
    longestSocketKeptMs: 0,
    rssBeforeMb: 0,
    rssAfterMb: 0,
    rssPeakMb: 0,
    brokerCpuSeconds: 0,
    fuzzerCpuSeconds: 0,
    fuzzerLagMs: 0,
    healthy: healthy.stats,
    brokerExit: undefined,
    errorLines: [],
    suspects: [],
    failures: [],
    failureCount: 0,
    failuresByKind: {},
    problems: [],
    lines: [],
    stderr: '',
  };
  const byPeer = new Map<string, FuzzCase>();
  const lag = monitorEventLoopDelay({ resolution: 20 });
  const fuzzerCpu = process.cpuUsage();
  let cpuBefore = 0;
  const inFlight = new Set<FuzzCase>();
  /** The last cases finished: a crash on a timer (TTL dead-lettering) comes after its case is done. */
  const recent: FuzzCase[] = [];
  try {
    await declareTopology(broker.url);
    await healthy.start(broker.url);
    await new Promise((r) => setTimeout(r, 500));
    report.rssBeforeMb = broker.rssMb();
    report.rssPeakMb = report.rssBeforeMb;
    cpuBefore = broker.cpuSeconds();
    lag.enable();

    let next = first;
    const end = first + opts.cases;
    let lastProgress = Date.now();
    const progressEvery = opts.progressEveryMs ?? 10_000;
    const worker = async (): Promise<void> => {
      while (next < end && broker.exit === undefined) {
        const c = generateCase(opts.seed, next++);
        if (skip.some((k) => c.kind.startsWith(k))) {
          report.skipped++;
          continue;
        }
        inFlight.add(c);
        const result = await runCase(broker.port, c, (p) => byPeer.set(`127.0.0.1:${p}`, c));
        inFlight.delete(c);
        recent.push(c);
        if (recent.length > RECENT_SUSPECTS) recent.shift();
        // A failure may be the broker going away (its 'exit' event can come a moment
        // after the sockets close): that is reported as the exit, not as this case.
        if (result.violations.length > 0) await new Promise((r) => setTimeout(r, 200));
        if (broker.exit !== undefined) break;
        report.cases++;
        record(report, c, result);
        if (opts.onProgress && Date.now() - lastProgress >= progressEvery) {
          lastProgress = Date.now();
          report.rssPeakMb = Math.max(report.rssPeakMb, broker.rssMb());
          opts.onProgress(progressLine(report, t0, end - first, healthy));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (broker.exit === undefined) {
      // Timers the cases set off (TTL dead-lettering, close timeouts) run meanwhile.
      await new Promise((r) => setTimeout(r, IDLE_AFTER_MS));
      report.rssPeakMb = Math.max(report.rssPeakMb, broker.rssMb());
      if (broker.exit === undefined) await purgeTopology(broker.url);
      await new Promise((r) => setTimeout(r, IDLE_AFTER_MS));
    }
    // V8 gives a burst's heap back to the system only after some idle time (measured: a 258 MB peak from
    // the deep-table cases fell to 134 MB after about 18 s): RSS is read until it is back or the wait is over.
    const rssBound = report.rssBeforeMb + RSS_SLACK_MB;
    for (const until = Date.now() + RSS_RETURN_MS; broker.exit === undefined && broker.rssMb() > rssBound && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    if (broker.exit === undefined) {
      report.rssAfterMb = broker.rssMb();
      report.brokerCpuSeconds = broker.cpuSeconds() - cpuBefore;
    }
    await healthy.stop();
  } finally {
    lag.disable();
    report.fuzzerLagMs = Math.round(lag.max / 1e6);
    const cpu = process.cpuUsage(fuzzerCpu);
    report.fuzzerCpuSeconds = (cpu.user + cpu.system) / 1e6;
    report.seconds = (Date.now() - t0) / 1000;
    // Suspects, surest first: cases whose connection an error-level line names, then
    // (if the broker exited) those in flight, then those just finished.
    report.errorLines = broker.errorLines;
    const suspects = new Set<FuzzCase>();
    for (const l of broker.errorLines) {
      const c = l.peer ? byPeer.get(l.peer) : undefined;
      if (c) suspects.add(c);
    }
    if (broker.exit !== undefined) {
      report.brokerExit = `broker exited (code ${broker.exit.code}, signal ${broker.exit.signal})`;
      for (const c of inFlight) suspects.add(c);
      for (const c of recent.reverse()) suspects.add(c);
    }
    report.suspects = [...suspects];
    report.lines = broker.lines;
    report.stderr = broker.stderr.toString();
    await broker.stop();
  }
  report.problems = problems(report);
  return report;
}

function record(report: FuzzReport, c: FuzzCase, r: CaseResult): void {
  report.outcomes[r.outcome] = (report.outcomes[r.outcome] ?? 0) + 1;
  if (r.outcome === 'connection.close') report.closesByCode[String(r.code)] = (report.closesByCode[String(r.code)] ?? 0) + 1;
  for (const code of r.channelCloses) report.channelClosesByCode[String(code)] = (report.channelClosesByCode[String(code)] ?? 0) + 1;
  if ((c.expect === 'close' || c.expect === 'close-broken') && (r.outcome === 'connection.close' || r.outcome === 'socket-closed')) {
    report.slowestCloseMs = Math.max(report.slowestCloseMs, r.ms);
  }
  if (r.socketKeptMs !== undefined) {
    report.silentCases++;
    report.longestSocketKeptMs = Math.max(report.longestSocketKeptMs, r.socketKeptMs);
  }
  if (r.violations.length > 0) {
    report.failureCount++;
    report.failuresByKind[c.kind] = (report.failuresByKind[c.kind] ?? 0) + 1;
    // The first failure of each kind: one reproduction per distinct problem.
    if (report.failuresByKind[c.kind] === 1) report.failures.push({ case: c, result: r });
  }
}

function problems(r: FuzzReport): string[] {
  const out: string[] = [];
  if (r.brokerExit) out.push(r.brokerExit);
  if (r.failureCount > 0) out.push(`${r.failureCount} case(s) did not get the answer they must`);
  if (r.healthy.failure) out.push(`healthy client failed: ${r.healthy.failure}`);
  else if (r.healthy.roundTrips === 0) out.push('healthy client made no round trip');
  else if (r.healthy.longestGapMs > HEALTHY_ROUND_TRIP_MS) out.push(`healthy client stalled for ${r.healthy.longestGapMs} ms`);
  if (r.errorLines.length > 0) out.push(`${r.errorLines.length} error-level log line(s)`);
  if (!r.brokerExit && !Number.isNaN(r.rssAfterMb) && r.rssAfterMb - r.rssBeforeMb > RSS_SLACK_MB) {
    out.push(`RSS grew from ${r.rssBeforeMb.toFixed(0)} MB to ${r.rssAfterMb.toFixed(0)} MB (more than +${RSS_SLACK_MB} MB)`);
  }
  return out;
}

function progressLine(r: FuzzReport, t0: number, total: number, healthy: HealthyClient): string {
  const s = (Date.now() - t0) / 1000;
  return `fuzz seed ${r.seed}: ${r.cases}/${total} cases in ${s.toFixed(0)} s (${(r.cases / s).toFixed(0)}/s), ${r.failureCount} failing, healthy round trips ${healthy.stats.roundTrips}, RSS peak ${r.rssPeakMb.toFixed(0)} MB`;
}

function counts(rec: Record<string, number>): string {
  const keys = Object.keys(rec).sort();
  return keys.length === 0 ? 'none' : keys.map((k) => `${k}: ${rec[k]}`).join(', ');
}

/** Cases up to this size are printed whole (deep tables and large bodies run to 130 KB). */
const MAX_HEX_BYTES = 16 * 1024;

/** How to look at one case again: its identity, bytes and replay command. */
export function describeCase(c: FuzzCase): string {
  return [
    `case ${c.index} of seed ${c.seed}: ${c.kind} (phase ${c.phase}, expect ${c.expect}, frame_max ${c.frameMax}, channel_max ${c.channelMax}, on close ${c.onClose}${c.splits.length ? `, writes cut at ${c.splits.join(',')}` : ''})`,
    `  bytes (${c.bytes.length}): ${c.bytes.length > MAX_HEX_BYTES ? `${c.bytes.subarray(0, MAX_HEX_BYTES).toString('hex')}… (first ${MAX_HEX_BYTES} bytes; the replay sends them all)` : c.bytes.toString('hex')}`,
    `  replay: npm run fuzz -- --seed ${c.seed} --case ${c.index}`,
  ].join('\n');
}

export function formatSummary(r: FuzzReport): string {
  const lines = [
    `fuzz summary (${r.broker}): seed ${r.seed}, ${r.cases} cases in ${r.seconds.toFixed(1)} s (${(r.cases / Math.max(r.seconds, 0.001)).toFixed(0)}/s)${r.skipped ? `, ${r.skipped} skipped` : ''}`,
    `  connection.close by reply code: ${counts(r.closesByCode)}`,
    `  socket-only closes: ${r.outcomes['socket-closed'] ?? 0}; still usable (probe answered): ${r.outcomes.alive ?? 0}; left mid-frame: ${r.outcomes.pending ?? 0}; client close: ${r.outcomes['client-closed'] ?? 0}; no answer: ${r.outcomes['no-answer'] ?? 0}`,
    `  channel.close by reply code: ${counts(r.channelClosesByCode)}`,
    `  slowest close after a bad case's last byte: ${r.slowestCloseMs} ms; ${r.silentCases} cases left the broker's connection.close unanswered, socket kept at most ${Number.isFinite(r.longestSocketKeptMs) ? `${r.longestSocketKeptMs} ms` : `over ${CLOSE_WITHIN_MS + 1_000} ms`}`,
    `  RSS before ${r.rssBeforeMb.toFixed(1)} MB, after ${r.brokerExit ? '-' : r.rssAfterMb.toFixed(1)} MB (peak seen ${r.rssPeakMb.toFixed(1)} MB, allowed +${RSS_SLACK_MB} MB)`,
    `  CPU: broker ${r.brokerCpuSeconds.toFixed(1)} s, fuzzer ${r.fuzzerCpuSeconds.toFixed(1)} s; fuzzer's longest event-loop delay ${r.fuzzerLagMs} ms`,
    `  healthy client: ${r.healthy.roundTrips} round trips, ${r.healthy.confirms} confirms, longest gap ${r.healthy.longestGapMs} ms${r.healthy.failure ? `, FAILED: ${r.healthy.failure}` : ''}`,
    `  broker: ${r.brokerExit ?? 'running to the end'}; error-level log lines: ${r.errorLines.length}`,
    `  failing cases: ${r.failureCount}${r.failureCount ? ` (${counts(r.failuresByKind)})` : ''}`,
  ];
  if (r.problems.length > 0) lines.push(`PROPERTIES FAILED:`, ...r.problems.map((p) => `  - ${p}`));
  if (r.failures.length > 0) lines.push('first failing case of each kind:');
  for (const f of r.failures) {
    lines.push(describeCase(f.case), `  got: ${f.result.outcome}${f.result.code ? ` ${f.result.code} ${JSON.stringify(f.result.text)}` : ''} after ${f.result.ms} ms`, ...f.result.violations.map((v) => `  violation: ${v}`));
  }
  for (const l of r.errorLines.slice(0, 5)) lines.push(`  error log: ${l.line.slice(0, 600)}`);
  if (r.suspects.length > 0) lines.push(`suspects (named by an error-level line${r.brokerExit ? ', in flight at the exit, or just finished' : ''}; npm run fuzz replays them alone):`);
  for (const c of r.suspects.slice(0, 10)) lines.push(describeCase(c));
  if (r.brokerExit) lines.push(`  broker stderr (tail): ${r.stderr.slice(-1500)}`);
  return lines.join('\n');
}
