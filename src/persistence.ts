import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Broker, DefaultAccess } from './broker/broker.js';
import { type DefinitionsDocument, DefinitionsJournal, exportDefinitions, importDefinitions } from './broker/definitions.js';
import { Durability, messageFromLog } from './broker/durability.js';
import { DELAYED_KEY_PREFIX } from './broker/delayed.js';
import { DedupFileStore } from './storage/dedup-store.js';
import { rawPriority } from './broker/message.js';
import type { Queue } from './broker/queue.js';
import { StreamQueue, type StreamLogEvents, type StreamLogHandle, type StreamStore } from './broker/queues/stream.js';
import type { StreamRetention } from './broker/queues/stream-arguments.js';
import { isPersistentQueue } from './broker/vhost.js';
import type { Logger } from './logger.js';
import { DamagedDefinitionsError, readDefinitions, setDamagedDefinitionsAside, writeDefinitions } from './storage/definitions-store.js';
import { acquireLock } from './storage/lock.js';
import { MessageLog, type RecoveredQueue } from './storage/message-log.js';
import { StreamLog } from './storage/stream-log.js';

/** Bodies read back per batch while recovering. */
const RECOVERY_BATCH = 1024;
/** How soon a definitions write that failed (a full disk) is tried again. */
const DEFINITIONS_RETRY_MS = 1_000;

/** What persistence tells the resource monitor about the disk. */
export interface StorageEvents {
  /** The message log cannot write any more: nothing more is confirmed. */
  failed(): void;
  /** The message log waits for space to start writing (true), or has started (false). */
  waitingForSpace(waiting: boolean): void;
}

/** What a node is given at boot besides its data dir. */
export interface BootDefinitions {
  /** Definitions documents to import at every boot, in order (RabbitMQ: load_definitions); none: []. */
  load: readonly DefinitionsDocument[];
  /** The user and vhost a node starts with when it has no definitions and loads none. */
  defaults: DefaultAccess;
}

export interface Persistence {
  /** What of the boot definitions (boot.load) could not be imported, with the reason (each also logged). */
  readonly skipped: readonly string[];
  /** Writes what is pending, closes the log and releases the data directory. */
  close(): Promise<void>;
}

/**
 * Makes a broker durable in `dataDir`: takes the directory's lock, declares
 * the stored definitions, replays the message log into the durable queues,
 * and from then on keeps definitions and the log up to date.
 */
export async function openPersistence(
  broker: Broker,
  dataDir: string,
  logger: Logger,
  version: string,
  storage: StorageEvents,
  boot: BootDefinitions,
): Promise<Persistence> {
  const lock = await acquireLock(dataDir);
  try {
    const started = performance.now();
    // Before any queue or exchange is declared, so that durable ones find their deduplication caches.
    broker.deduplicationStore = new DedupFileStore(join(dataDir, 'dedup'), (file, error) =>
      logger.error({ event: 'storage.dedup-write-failed', file, err: error }, `cannot write or remove a deduplication cache file; new entries are kept in memory only: ${error.message}`),
    );
    for (const vhost of broker.vhosts.values()) vhost.deduplicationStore = broker.deduplicationStore;
    // Before the definitions too: the streams they declare open their logs.
    const streamFiles = new StreamFiles(join(dataDir, 'streams'), logger);
    broker.streamStore = streamFiles;
    for (const vhost of broker.vhosts.values()) vhost.streamStore = streamFiles;
    const document = await readStoredDefinitions(dataDir, logger);
    // As RabbitMQ: a fresh node makes the default user and vhost unless it loads definitions. A data dir
    // from before Warren stored users had guest on / implied: it gets them too, before its objects go in.
    if (document === undefined ? boot.load.length === 0 : document.users === undefined) broker.provisionDefaults(boot.defaults);
    if (document !== undefined) {
      for (const problem of importDefinitions(broker, document)) {
        logger.error({ event: 'definitions.skipped' }, `stored definition not restored, skipped: ${problem}`);
      }
    }
    const skipped: string[] = [];
    for (const load of boot.load) {
      for (const problem of importDefinitions(broker, load)) {
        logger.warn({ event: 'definitions.skipped' }, problem);
        skipped.push(problem);
      }
    }
    let durability: Durability | undefined;
    const { log, recovered } = await MessageLog.open({
      dir: join(dataDir, 'messages'),
      onDurable: (upTo) => durability?.onDurable(upTo),
      onError: (error) => {
        logger.error({ event: 'storage.failed', err: error }, `message log write failed; persistent messages are no longer confirmed: ${error.message}`);
        storage.failed();
      },
      onNoSpace: (error) => {
        logger.error({ event: 'storage.no-space', err: error }, `no space to write the message log; publishers are blocked until there is: ${error.message}`);
        storage.waitingForSpace(true);
      },
      onWritable: () => {
        logger.info({ event: 'storage.writable' }, 'the message log is written again');
        storage.waitingForSpace(false);
      },
      log: logger,
      priorityOf: (record, start, end) => rawPriority(record, start, end) ?? 0,
    });
    durability = new Durability(
      log,
      recovered.nextMsgId,
      (queue, error) =>
        logger.error(
          { event: 'storage.read-failed', queue: queue.name, vhost: queue.vhost, err: error },
          `cannot read stored messages back: ${(error as Error).message}`,
        ),
      broker.report,
    );
    broker.durability = durability;
    for (const vhost of broker.vhosts.values()) {
      vhost.durability = durability;
      for (const queue of vhost.queues.values()) {
        if (isPersistentQueue(queue)) queue.attachStorage(durability, vhost.storeKey(queue.name));
      }
      for (const exchange of vhost.exchanges.values()) {
        exchange.delayed?.attachStorage(durability, vhost.delayedStoreKey(exchange.name));
      }
    }
    let messages = 0;
    for (const [key, stored] of recovered.queues) {
      if (key.startsWith(DELAYED_KEY_PREFIX)) {
        await restoreDelayed(broker, log, key, stored, logger);
        continue;
      }
      const queue = queueForKey(broker, key, logger);
      if (queue === undefined) continue;
      try {
        await restoreMessages(log, queue, stored);
        messages += stored.length;
      } catch (error) {
        // One queue's messages that cannot be read back do not keep the others (or the broker) down.
        logger.error(
          { event: 'storage.queue-skipped', vhost: queue.vhost, queue: queue.name, err: error },
          `stored messages of queue '${queue.name}' not restored (${queue.messageCount} of ${stored.length} came back): ${(error as Error).message}`,
        );
      }
    }
    // Streams are open (their logs recovered) before any client connects.
    const streams = streamQueues(broker);
    await Promise.all(streams.map((stream) => stream.opened));
    const saver = new DefinitionsSaver(broker, dataDir, version, logger);
    broker.definitions = saver.journal;
    for (const vhost of broker.vhosts.values()) vhost.definitions = saver.journal;
    // Store what recovery made of the definitions, without making clients wait for it:
    // nothing they were promised depends on this write, and on a full disk it waits for space.
    saver.schedule();
    logger.info(
      { event: 'storage.recovered', dataDir, messages, queues: recovered.queues.size, ...recovered.stats, totalMs: Math.round(performance.now() - started) },
      `recovered ${messages} messages in ${recovered.queues.size} queues and ${streams.length} streams`,
    );
    return {
      skipped,
      async close() {
        await saver.close();
        await Promise.all(streamQueues(broker).map((stream) => stream.closeLog()));
        await log.close();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

function streamQueues(broker: Broker): StreamQueue[] {
  const streams: StreamQueue[] = [];
  for (const vhost of broker.vhosts.values()) {
    for (const queue of vhost.queues.values()) if (queue instanceof StreamQueue) streams.push(queue);
  }
  return streams;
}

/**
 * The logs of the streams: one directory each under `<data dir>/streams`,
 * named from the vhost and queue (readable characters, then a hash of both,
 * so that any name maps to one safe, distinct directory). A stream deleted
 * and declared again under its name opens once the old files are gone.
 */
class StreamFiles implements StreamStore {
  private readonly removing = new Map<string, Promise<void>>();

  constructor(
    private readonly root: string,
    private readonly logger: Logger,
  ) {}

  dirOf(vhost: string, queue: string): string {
    const readable = `${vhost}_${queue}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
    const hash = createHash('sha256').update(vhost).update('\u0000').update(queue).digest('hex').slice(0, 20);
    return join(this.root, `${readable}-${hash}`);
  }

  async open(vhost: string, queue: string, retention: StreamRetention, events: StreamLogEvents): Promise<StreamLogHandle> {
    const dir = this.dirOf(vhost, queue);
    await this.removing.get(dir);
    return StreamLog.open({
      dir,
      maxSegmentBytes: retention.maxSegmentBytes,
      maxBytes: retention.maxBytes,
      maxAgeMs: retention.maxAgeMs,
      onDurable: events.onDurable,
      onError: (error) =>
        this.logger.error({ event: 'storage.stream-failed', vhost, queue, err: error }, `stream log write failed; the stream takes no more messages: ${error.message}`),
      log: this.logger,
    });
  }

  remove(vhost: string, queue: string, log: StreamLogHandle): Promise<void> {
    const dir = this.dirOf(vhost, queue);
    const removed = log.destroy().finally(() => {
      if (this.removing.get(dir) === removed) this.removing.delete(dir);
    });
    this.removing.set(dir, removed);
    return removed;
  }
}

/**
 * The stored definitions. A file that does not parse is set aside (kept for a
 * human to repair) and the broker starts without it: the durable queues of the
 * message log still come back, with their messages, as plain durable queues.
 */
async function readStoredDefinitions(dataDir: string, logger: Logger): Promise<DefinitionsDocument | undefined> {
  try {
    return (await readDefinitions(dataDir)) as DefinitionsDocument | undefined;
  } catch (error) {
    if (!(error instanceof DamagedDefinitionsError)) throw error;
    const aside = await setDamagedDefinitionsAside(dataDir);
    logger.error(
      { event: 'definitions.damaged', keptAs: aside, err: error },
      `${error.message}; kept as ${aside}, starting without its exchanges, bindings and queue arguments`,
    );
    return undefined;
  }
}

/**
 * The pending messages of a durable x-delayed-message exchange go back into
 * its delay index (overdue ones are routed at once); those of an exchange that
 * is gone (deleted, or not durable) are discarded from the log.
 */
async function restoreDelayed(broker: Broker, log: MessageLog, key: string, stored: RecoveredQueue, logger: Logger): Promise<void> {
  const rest = key.slice(DELAYED_KEY_PREFIX.length);
  const separator = rest.indexOf('\u0000');
  const vhostName = rest.slice(0, separator);
  const exchangeName = rest.slice(separator + 1);
  const delayed = broker.vhost(vhostName)?.exchanges.get(exchangeName)?.delayed ?? null;
  if (delayed === null) {
    log.appendQueueDeleted(key);
    return;
  }
  try {
    await delayed.restore(log, stored);
  } catch (error) {
    logger.error(
      { event: 'storage.delayed-skipped', vhost: vhostName, exchange: exchangeName, err: error },
      `delayed messages of exchange '${exchangeName}' not restored: ${(error as Error).message}`,
    );
  }
}

/** The queue a log key names; a durable queue the definitions missed is declared again. */
function queueForKey(broker: Broker, key: string, logger: Logger): Queue | undefined {
  const separator = key.indexOf('\u0000');
  const vhostName = key.slice(0, separator);
  const queueName = key.slice(separator + 1);
  const vhost = broker.vhost(vhostName);
  if (vhost === undefined) {
    logger.error({ event: 'storage.orphan', vhost: vhostName, queue: queueName }, 'stored messages for an unknown vhost are skipped');
    return undefined;
  }
  const existing = vhost.queues.get(queueName);
  if (existing !== undefined) return existing;
  logger.warn({ event: 'storage.orphan', vhost: vhostName, queue: queueName }, 'stored messages for a queue missing from the definitions: declaring it');
  return vhost.createQueue(queueName, { durable: true, exclusive: false, autoDelete: false, arguments: {} }, null);
}

/** Puts recovered messages back in their queue: the head in memory, the rest left paged out in the log. */
async function restoreMessages(log: MessageLog, queue: Queue, stored: RecoveredQueue): Promise<void> {
  let start = 0;
  while (start < stored.length && !queue.wantsPagedRestore) {
    const end = Math.min(stored.length, start + RECOVERY_BATCH);
    const positions = [];
    for (let i = start; i < end; i++) positions.push(stored.position(i));
    const records = await log.readMessages(positions);
    for (let i = start; i < end; i++) {
      const record = records[i - start];
      const position = positions[i - start];
      const message = messageFromLog(record, position);
      queue.restore(record.msgId, position.segment, position.offset, position.length, record.body.length, message, stored.redelivered(i), stored.priority(i));
    }
    start = end;
  }
  for (let i = start; i < stored.length; i++) {
    queue.restore(
      stored.msgId(i),
      stored.segment(i),
      stored.offset(i),
      stored.recordLength(i),
      stored.bodySize(i),
      null,
      stored.redelivered(i),
      stored.priority(i),
    );
  }
}

/** Writes the definitions document after changes, one write at a time, coalescing bursts. */
class DefinitionsSaver {
  private writing: Promise<void> | undefined;
  private dirty = false;
  /** The last write failed (a full disk): it is tried again on a timer, logged once. */
  private failing = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  readonly journal: DefinitionsJournal;

  constructor(
    private readonly broker: Broker,
    private readonly dataDir: string,
    private readonly version: string,
    private readonly logger: Logger,
  ) {
    this.journal = new DefinitionsJournal(() => this.schedule(), broker.report);
  }

  schedule(): void {
    this.dirty = true;
    if (this.writing === undefined) this.writing = this.writeLoop();
  }

  /** Writes what is pending (once more if writes are failing) and stops retrying. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.dirty && this.writing === undefined) this.writing = this.writeLoop();
    while (this.writing !== undefined) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    // Let the rest of this turn's changes land in the same write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.dirty) {
        this.dirty = false;
        const version = this.journal.current;
        await writeDefinitions(this.dataDir, exportDefinitions(this.broker, this.version));
        this.journal.stored(version);
        if (this.failing) {
          this.failing = false;
          this.logger.info({ event: 'definitions.written' }, 'definitions written again');
        }
      }
    } catch (error) {
      this.dirty = true;
      if (!this.failing) {
        this.failing = true;
        this.logger.error({ event: 'definitions.write-failed', err: error }, `cannot write definitions, retrying: ${(error as Error).message}`);
      }
      if (!this.closed) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (this.writing === undefined) this.writing = this.writeLoop();
        }, DEFINITIONS_RETRY_MS).unref();
      }
    } finally {
      this.writing = undefined;
    }
  }
}
