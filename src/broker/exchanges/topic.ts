import type { FieldTable } from '../../protocol/field-table.js';
import { appendAll, removeOne, type Router } from './router.js';

/**
 * Splits a routing or binding key into words the way RabbitMQ does
 * (rabbit_db_topic_exchange:split_topic_key/1): the empty key has ZERO words,
 * any other key is split on every '.', so empty words are words
 * ("a..b" -> ["a", "", "b"], "." -> ["", ""], "a." -> ["a", ""]).
 */
export function splitTopicKey(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

class TopicNode<T> {
  /** Literal-word edges. */
  children: Map<string, TopicNode<T>> | null = null;
  /** The '*' edge (exactly one word). */
  star: TopicNode<T> | null = null;
  /** The '#' edge (zero or more words). */
  hash: TopicNode<T> | null = null;
  /** Destinations bound with a pattern ending at this node (one entry per binding). */
  readonly bindings: T[] = [];
  /**
   * seen[i] === epoch of the current match: this node was already visited at
   * word position i. Prevents exponential work on patterns like "#.#.#.#" and
   * means each node's bindings are emitted at most once per match.
   */
  readonly seen: number[] = [];

  constructor(
    readonly parent: TopicNode<T> | null,
    readonly word: string,
  ) {}

  isEmpty(): boolean {
    return (
      this.bindings.length === 0 &&
      this.star === null &&
      this.hash === null &&
      (this.children === null || this.children.size === 0)
    );
  }

  child(word: string): TopicNode<T> | null {
    if (word === '*') return this.star;
    if (word === '#') return this.hash;
    return this.children?.get(word) ?? null;
  }

  childOrCreate(word: string): TopicNode<T> {
    const existing = this.child(word);
    if (existing !== null) return existing;
    const node = new TopicNode<T>(this, word);
    if (word === '*') this.star = node;
    else if (word === '#') this.hash = node;
    else (this.children ??= new Map()).set(word, node);
    return node;
  }

  removeChild(word: string): void {
    if (word === '*') this.star = null;
    else if (word === '#') this.hash = null;
    else this.children?.delete(word);
  }
}

/** Default number of routing keys whose match result is cached. */
export const TOPIC_CACHE_SIZE = 1000;

/**
 * Topic exchange with RabbitMQ semantics: binding keys are '.'-separated
 * patterns where '*' matches exactly one word and '#' matches zero or more.
 * Patterns live in a trie with separate '*' and '#' edges; results are cached
 * per routing key (FIFO eviction, cleared on every bind/unbind), so a repeated
 * key costs one Map lookup.
 */
export class TopicRouter<T> implements Router<T> {
  private readonly root = new TopicNode<T>(null, '');
  private readonly cache = new Map<string, T[]>();
  private epoch = 0;
  // Per-match state, kept in fields to avoid closures on the hot path.
  private words: string[] = [];
  private acc: T[] = [];

  constructor(private readonly cacheSize: number = TOPIC_CACHE_SIZE) {}

  bind(destination: T, bindingKey: string, _args: FieldTable): void {
    let node = this.root;
    for (const w of splitTopicKey(bindingKey)) node = node.childOrCreate(w);
    node.bindings.push(destination);
    this.cache.clear();
  }

  unbind(destination: T, bindingKey: string, _args: FieldTable): void {
    let node: TopicNode<T> | null = this.root;
    for (const w of splitTopicKey(bindingKey)) {
      node = node.child(w);
      if (node === null) return;
    }
    if (!removeOne(node.bindings, destination)) return;
    this.cache.clear();
    // Prune the now-empty tail of the path.
    while (node.parent !== null && node.isEmpty()) {
      node.parent.removeChild(node.word);
      node = node.parent;
    }
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: T[]): void {
    let result = this.cache.get(routingKey);
    if (result === undefined) {
      result = this.match(routingKey);
      if (this.cacheSize > 0) {
        if (this.cache.size >= this.cacheSize) {
          // Evict the oldest entry (Map iterates in insertion order).
          this.cache.delete(this.cache.keys().next().value as string);
        }
        this.cache.set(routingKey, result);
      }
    }
    appendAll(out, result);
  }

  /** Number of cached routing keys (for tests and diagnostics). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  private match(routingKey: string): T[] {
    this.words = splitTopicKey(routingKey);
    this.acc = [];
    this.epoch++; // a double: exact far beyond any realistic number of misses
    this.visit(this.root, 0);
    const found = this.acc;
    this.acc = [];
    this.words = [];
    if (found.length < 2) return found;
    // Same destination via several patterns: dedup once here, not per route.
    return Array.from(new Set(found));
  }

  /** Mirrors rabbit_db_topic_exchange:trie_match/5 with (node, position) memoisation. */
  private visit(node: TopicNode<T>, i: number): void {
    if (node.seen[i] === this.epoch) return;
    node.seen[i] = this.epoch;
    const words = this.words;
    const n = words.length;
    if (i === n) {
      appendAll(this.acc, node.bindings);
      if (node.hash !== null) this.visit(node.hash, n);
      return;
    }
    const literal = node.children?.get(words[i]!);
    if (literal !== undefined) this.visit(literal, i + 1);
    if (node.star !== null) this.visit(node.star, i + 1);
    const hash = node.hash;
    if (hash !== null) for (let j = i; j <= n; j++) this.visit(hash, j);
  }
}
