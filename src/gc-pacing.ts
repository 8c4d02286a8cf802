import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Below this much live JavaScript heap, V8's incremental marking is switched off; above ABOVE_BYTES it is on again.
 *
 * Why: large message bodies are ArrayBuffers outside the JavaScript heap. Their churn (hundreds of MB/s at 256 KiB
 * and above) makes V8 start incremental marking over and over although the heap itself stays at ~10 MB: a full
 * mark-compact every ~2 messages at 16 MiB, every ~80 at 256 KiB, 20–40 % of the broker's CPU. Without incremental
 * marking the same heap is collected by scavenges and only rarely by a (then atomic) mark-compact. An atomic
 * mark-compact's pause grows with the heap, though (seconds at 1 GB, where a backlog lives in memory), so incremental
 * marking comes back once the heap grows past ABOVE_BYTES, and whenever the broker is nearly idle
 * (BUSY_UTILIZATION): V8's memory reducer, which gives the memory of a past burst back while idle, works through
 * incremental marking (without it RSS stayed 150 MB up after a fuzzing run).
 */
export const INCREMENTAL_MARKING_BELOW_BYTES = 24 * 1024 * 1024;
export const INCREMENTAL_MARKING_ABOVE_BYTES = 48 * 1024 * 1024;

/** The share of the last check interval the event loop was busy, from which incremental marking is left off. */
export const BUSY_UTILIZATION = 0.2;

/** How often the heap size is looked at. */
const CHECK_MS = 200;

/**
 * Whether incremental marking should be on, given the live heap, whether it is on now (hysteresis between
 * INCREMENTAL_MARKING_BELOW_BYTES and INCREMENTAL_MARKING_ABOVE_BYTES) and the event loop's recent utilization.
 */
export function wantsIncrementalMarking(usedHeapBytes: number, on: boolean, utilization: number): boolean {
  if (utilization < BUSY_UTILIZATION) return true;
  if (on) return usedHeapBytes > INCREMENTAL_MARKING_BELOW_BYTES;
  return usedHeapBytes > INCREMENTAL_MARKING_ABOVE_BYTES;
}

export interface GcPacing {
  /** Whether incremental marking is on now. */
  readonly incrementalMarking: boolean;
  /** Stops watching and leaves incremental marking on (V8's default). */
  stop(): void;
}

/** The event loop's utilization since the previous call (0 … 1). */
function utilizationSinceLastCall(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

/**
 * A full garbage collection, as node --expose-gc's gc(): the flag set at run time gives a new context the function.
 */
export function fullCollection(): () => void {
  let gc: (() => void) | undefined;
  return () => {
    if (gc === undefined) {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
    gc();
  };
}

/** What startGcPacing looks at and does (tests give their own). */
export interface GcPacingHooks {
  /** The live JavaScript heap, in bytes. */
  usedHeap(): number;
  setFlags(flags: string): void;
  /** The event loop's utilization since the previous call (0 … 1). */
  utilization(): number;
  /** A full garbage collection. */
  collect(): void;
  /** Milliseconds, for spacing collections. */
  now(): number;
  /** Told of an error in a check; pacing then stops and leaves V8's default (the CLI logs it). */
  onError(error: unknown): void;
}

/** An idle spell's full collection comes at most this often (a load that keeps starting and stopping). */
const MIN_COLLECTION_INTERVAL_MS = 10_000;

/**
 * Switches V8's incremental marking off while the broker is busy and its heap small, and on otherwise (see
 * INCREMENTAL_MARKING_BELOW_BYTES). Process-wide: the command-line broker uses it; an embedding application decides
 * for itself.
 */
export function startGcPacing(hooks: Partial<GcPacingHooks> = {}): GcPacing {
  const usedHeap = hooks.usedHeap ?? (() => v8.getHeapStatistics().used_heap_size);
  const setFlags = hooks.setFlags ?? ((flags: string) => v8.setFlagsFromString(flags));
  const utilization = hooks.utilization ?? utilizationSinceLastCall();
  const collect = hooks.collect ?? fullCollection();
  const now = hooks.now ?? Date.now;
  let on = true;
  let collectedAt = -Infinity;
  /** A busy spell ran without incremental marking: its garbage waits for a collection once the broker is idle. */
  let garbageLeft = false;
  const check = (): void => {
    const u = utilization();
    const want = wantsIncrementalMarking(usedHeap(), on, u);
    if (want !== on) {
      on = want;
      setFlags(on ? '--incremental-marking' : '--no-incremental-marking');
      if (!on) garbageLeft = true;
    }
    // The bodies of the busy spell are garbage now, and nothing would collect them while idle.
    if (garbageLeft && u < BUSY_UTILIZATION && now() - collectedAt >= MIN_COLLECTION_INTERVAL_MS) {
      garbageLeft = false;
      collectedAt = now();
      collect();
      // The collection's own time does not make the broker busy: the next interval starts after it.
      utilization();
    }
  };
  const onError = hooks.onError ?? (() => undefined);
  const timer = setInterval(() => {
    try {
      check();
    } catch (error) {
      // Not worth a broker: stop pacing, V8's default behaviour is always safe.
      clearInterval(timer);
      try {
        if (!on) setFlags('--incremental-marking');
      } finally {
        on = true;
        onError(error);
      }
    }
  }, CHECK_MS);
  timer.unref();
  return {
    get incrementalMarking() {
      return on;
    },
    stop() {
      clearInterval(timer);
      if (!on) setFlags('--incremental-marking');
      on = true;
    },
  };
}
