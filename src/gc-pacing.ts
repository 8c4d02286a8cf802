import v8 from 'node:v8';

/**
 * Below this much live JavaScript heap, V8's incremental marking is switched off; above ABOVE_BYTES it is on again.
 *
 * Why: large message bodies are ArrayBuffers outside the JavaScript heap. Their churn (hundreds of MB/s at 256 KiB
 * and above) makes V8 start incremental marking over and over although the heap itself stays at ~10 MB: a full
 * mark-compact every ~2 messages at 16 MiB, every ~80 at 256 KiB, 20–40 % of the broker's CPU. Without incremental
 * marking the same heap is collected by scavenges and only rarely by a (then atomic) mark-compact. An atomic
 * mark-compact's pause grows with the heap, though (seconds at 1 GB, where a backlog lives in memory), so incremental
 * marking comes back once the heap grows past ABOVE_BYTES.
 */
export const INCREMENTAL_MARKING_BELOW_BYTES = 24 * 1024 * 1024;
export const INCREMENTAL_MARKING_ABOVE_BYTES = 48 * 1024 * 1024;

/** How often the heap size is looked at. */
const CHECK_MS = 200;

/**
 * Whether incremental marking should be on, given the live heap and whether it is on now (hysteresis between
 * INCREMENTAL_MARKING_BELOW_BYTES and INCREMENTAL_MARKING_ABOVE_BYTES).
 */
export function wantsIncrementalMarking(usedHeapBytes: number, on: boolean): boolean {
  if (on) return usedHeapBytes > INCREMENTAL_MARKING_BELOW_BYTES;
  return usedHeapBytes > INCREMENTAL_MARKING_ABOVE_BYTES;
}

export interface GcPacing {
  /** Whether incremental marking is on now. */
  readonly incrementalMarking: boolean;
  /** Stops watching and leaves incremental marking on (V8's default). */
  stop(): void;
}

/**
 * Switches V8's incremental marking off while the heap is small and on when it is not (see
 * INCREMENTAL_MARKING_BELOW_BYTES). Process-wide: the command-line broker uses it; an embedding application decides
 * for itself. `usedHeap` and `setFlags` are for tests.
 */
export function startGcPacing(
  usedHeap: () => number = () => v8.getHeapStatistics().used_heap_size,
  setFlags: (flags: string) => void = (flags) => v8.setFlagsFromString(flags),
): GcPacing {
  let on = true;
  const check = (): void => {
    const want = wantsIncrementalMarking(usedHeap(), on);
    if (want === on) return;
    on = want;
    setFlags(on ? '--incremental-marking' : '--no-incremental-marking');
  };
  check();
  const timer = setInterval(check, CHECK_MS);
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
