/**
 * Shortens a reused scratch array to `length` keeping its backing store.
 * V8 gives an array a new, empty store on `array.length = 0` (and goes through
 * a slow builtin for any `length =`), so a hot path that clears and refills
 * one array per message would allocate per message; pop() does neither.
 */
export function truncate(array: unknown[], length: number): void {
  while (array.length > length) array.pop();
}
