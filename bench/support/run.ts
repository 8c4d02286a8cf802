// What the bench scripts that drive brokers share: a main run to an exit
// code with its processes cleaned up, shell answers for the report, medians.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { startWarren, type WarrenProcess } from '../../interop/support/warren.js';

/** Runs `main` to its exit code (1 if it throws, logged), always runs `cleanup` (it stops the brokers), then exits. */
export async function exitAfter(main: () => Promise<number>, cleanup: () => Promise<void>, log: (msg: string) => void): Promise<never> {
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await cleanup();
  }
  process.exit(code);
}

/** Exit codes for the signals a bench stops on (128 + the signal's number). */
const SIGNAL_EXIT_CODES = [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const;

/**
 * On SIGINT, SIGTERM or SIGHUP: log it, tell `onSignal` (a run in progress stops writing its report), run
 * `cleanup` (it stops the brokers and load generators) and exit with 128 + the signal's number.
 */
export function stopOnSignals(cleanup: () => Promise<void>, log: (msg: string) => void, onSignal: (signal: string) => void = () => {}): void {
  for (const [signal, code] of SIGNAL_EXIT_CODES) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      onSignal(signal);
      void cleanup().finally(() => process.exit(code));
    });
  }
}

/** Runs `main` on a Warren process of its own (default configuration) and stops it after; a failure is printed and sets exit code 1. */
export function runOnWarren(main: (warren: WarrenProcess) => Promise<void>): void {
  void (async () => {
    const warren = await startWarren();
    try {
      await main(warren);
    } finally {
      await warren.stop();
    }
  })().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/** A command's trimmed output for a report, '' if it fails or takes over 15 s. */
export function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 }).trim();
  } catch {
    return '';
  }
}

/** The median of the finite figures (rounds that failed are null), null if there are none. */
export function median(values: readonly (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** The Erlang/OTP version RabbitMQ runs on, for a report's conditions. */
export function otpVersion(): string {
  try {
    const rel = fs.readdirSync('/usr/lib/erlang/releases').filter((d) => /^\d+$/.test(d)).sort().at(-1);
    if (rel) return fs.readFileSync(`/usr/lib/erlang/releases/${rel}/OTP_VERSION`, 'utf8').trim();
  } catch {
    // fall through
  }
  return sh('dpkg-query', ['-W', '-f', '${Version}', 'erlang-base']) || 'unknown';
}
