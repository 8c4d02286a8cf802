/**
 * An error no caller can take: raised in a timer or an I/O callback (TTL
 * expiry, queue expiry, a page-in read, a group commit, an alarm, a
 * definitions write). The broker reports it (the server logs it at error
 * level with its stack) and goes on; what it was doing fails alone.
 */
export type UnexpectedErrorReporter = (error: unknown, what: string, context?: Record<string, unknown>) => void;

/** Until the server installs its logger (the model on its own, in tests): standard error. */
export const reportToStderr: UnexpectedErrorReporter = (error, what, context) => {
  console.error(`warren: ${what} failed`, context ?? {}, error);
};

/** A party that can be failed on its own (a connection): it closes itself and logs why. */
export interface Failable {
  fail(error: unknown): void;
}
