/**
 * The topic workload of the bindings scale curve (bench/scale.ts) and its
 * micro-benchmark (bench/routing.bench.ts): one catch-all binding, and extra
 * bindings that share words and wildcards with the published keys but never
 * match them, so every message is routed to exactly one queue and only the
 * matching work grows with the number of bindings.
 */

/** Distinct published keys: more than Warren's 1,000-key route cache, so every publish walks the trie. */
export const ROUTING_KEYS = 5000;

export const CATCH_ALL_PATTERN = '*.orders.#';

/** The i-th published routing key. */
export const routingKey = (i: number): string => `r${i % 10}.orders.k${i % ROUTING_KEYS}.created`;

/** The i-th extra binding key: never matches a published key. */
export function extraPattern(i: number): string {
  switch (i % 5) {
    case 0:
      return `r${i % 10}.orders.x${i}.created`;
    case 1:
      return `*.orders.x${i}.#`;
    case 2:
      return `#.x${i}`;
    case 3:
      return `r${i % 10}.*.x${i}`;
    default:
      return `x${i}.#`;
  }
}
