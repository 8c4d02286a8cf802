/**
 * Policies and operator policies of one vhost, as RabbitMQ 3.10 has them: a
 * name, an unanchored regular expression over queue or exchange names, what
 * kind of object it applies to, a priority and a definition of settings.
 * Exactly one policy (and one operator policy) applies to an object: the
 * highest-priority match. The model only: no I/O.
 */

/** What a policy applies to. 3.10 knows the first three; the queue-type ones arrived in 3.11 and are accepted so later exports import. */
export type PolicyApplyTo = 'queues' | 'exchanges' | 'all' | 'classic_queues' | 'quorum_queues' | 'streams';

export type PolicyKind = 'policy' | 'operator_policy';

/** A policy's settings as JSON values, keyed by RabbitMQ's names (message-ttl, dead-letter-exchange, …). */
export type PolicyDefinition = Readonly<Record<string, unknown>>;

export interface Policy {
  readonly vhost: string;
  readonly name: string;
  readonly pattern: string;
  readonly applyTo: PolicyApplyTo;
  readonly priority: number;
  readonly definition: PolicyDefinition;
  /** The pattern compiled once, unanchored as RabbitMQ's re:run. */
  readonly regex: RegExp;
}

/** What an operator gives to set a policy (the HTTP API's and the definitions file's fields). */
export interface PolicyInput {
  pattern?: unknown;
  applyTo?: unknown;
  priority?: unknown;
  definition?: unknown;
}

/** The object a policy is matched against: a queue (with its x-queue-type) or an exchange. */
export type PolicyTarget = { kind: 'queue'; name: string; queueType: string } | { kind: 'exchange'; name: string };

/** A policy RabbitMQ would refuse; `message` is RabbitMQ's text (the HTTP API prefixes "Validation failed\n\n"). */
export class PolicyValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyValidationError';
  }
}

const APPLY_TO: readonly string[] = ['queues', 'exchanges', 'all', 'classic_queues', 'quorum_queues', 'streams'];

type Check = (value: unknown) => boolean;
const integerAtLeast =
  (min: number): Check =>
  (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min;
const oneOf =
  (...allowed: unknown[]): Check =>
  (value) =>
    allowed.includes(value);
const isString: Check = (value) => typeof value === 'string';
const anything: Check = () => true;

/**
 * The keys a policy may set and how RabbitMQ 3.10.8 checks them, with the
 * end of its refusal text ("<<\"abc\">> is not a valid message TTL").
 * Keys that do nothing in Warren (queue-mode, ha-*, stream and quorum
 * settings) are accepted so that exported definitions import unchanged.
 */
const POLICY_KEYS: ReadonlyMap<string, [Check, string]> = new Map([
  ['message-ttl', [integerAtLeast(0), 'is not a valid message TTL']],
  ['expires', [integerAtLeast(1), 'is not a valid queue expiry']],
  ['max-length', [integerAtLeast(0), 'is not a valid maximum length']],
  ['max-length-bytes', [integerAtLeast(0), 'is not a valid maximum length in bytes']],
  ['max-in-memory-length', [integerAtLeast(0), 'is not a valid maximum memory in bytes']],
  ['max-in-memory-bytes', [integerAtLeast(0), 'is not a valid maximum memory in bytes']],
  ['delivery-limit', [integerAtLeast(0), 'is not a valid delivery limit']],
  ['overflow', [oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'), 'is not a valid overflow value']],
  ['dead-letter-exchange', [isString, 'is not a valid dead letter exchange name']],
  ['dead-letter-routing-key', [isString, 'is not a valid dead letter routing key']],
  ['dead-letter-strategy', [oneOf('at-most-once', 'at-least-once'), 'is not a valid dead letter strategy']],
  ['alternate-exchange', [isString, 'is not a valid alternate exchange name']],
  ['queue-mode', [oneOf('default', 'lazy'), 'is not a valid queue-mode value']],
  ['queue-version', [oneOf(1, 2), 'is not a valid queue-version value']],
  ['queue-leader-locator', [oneOf('client-local', 'random', 'least-leaders'), 'is not a valid queue leader locator value']],
  ['initial-cluster-size', [integerAtLeast(0), 'is not a valid cluster size']],
  ['max-age', [(value) => typeof value === 'string' && /^\d+(Y|M|D|h|m|s)$/.test(value), 'is not a valid max age']],
  ['stream-max-segment-size-bytes', [integerAtLeast(0), 'is not a valid segment size']],
  ['queue-master-locator', [oneOf('min-masters', 'client-local', 'random'), 'invalid queue-master-locator value']],
  // Classic mirroring: checked together by checkMirroring.
  ['ha-mode', [anything, '']],
  ['ha-params', [anything, '']],
  ['ha-sync-mode', [anything, '']],
  ['ha-sync-batch-size', [anything, '']],
  ['ha-promote-on-shutdown', [anything, '']],
  ['ha-promote-on-failure', [anything, '']],
]);

/** Operator policies may only cap numbers (RabbitMQ's operator_policy_validator keys). */
const OPERATOR_POLICY_KEYS: readonly string[] = [
  'expires',
  'message-ttl',
  'max-length',
  'max-length-bytes',
  'max-in-memory-length',
  'max-in-memory-bytes',
  'delivery-limit',
];

/**
 * Checks a policy as RabbitMQ does and returns it ready to match. Throws
 * PolicyValidationError with RabbitMQ's text.
 */
export function validatePolicy(kind: PolicyKind, vhost: string, name: string, input: PolicyInput): Policy {
  if (input.pattern === undefined) throw new PolicyValidationError('[{key_missing,pattern}]');
  if (input.definition === undefined) throw new PolicyValidationError('[{key_missing,definition}]');
  const priority = input.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isFinite(priority)) {
    throw new PolicyValidationError(`priority should be a number, actually was ${erlangTerm(priority)}`);
  }
  const applyTo = input.applyTo ?? 'all';
  if (typeof applyTo !== 'string' || !APPLY_TO.includes(applyTo)) {
    const shown = typeof applyTo === 'string' ? applyTo : erlangTerm(applyTo);
    throw new PolicyValidationError(`apply-to '${shown}' unrecognised; should be 'queues', 'exchanges' or 'all'`);
  }
  if (typeof input.pattern !== 'string') {
    throw new PolicyValidationError(`pattern should be a string, actually was ${erlangTerm(input.pattern)}`);
  }
  const regex = compilePattern(input.pattern);
  const definition = validateDefinition(kind, input.definition);
  return { vhost, name, pattern: input.pattern, applyTo: applyTo as PolicyApplyTo, priority, definition, regex };
}

function validateDefinition(kind: PolicyKind, value: unknown): PolicyDefinition {
  const definition = definitionObject(value);
  if (definition === undefined) throw new PolicyValidationError(`definition must be a dictionary: ${erlangTerm(value)}`);
  // RabbitMQ reads the definition as a map: keys in term order.
  const keys = Object.keys(definition).sort();
  if (keys.length === 0) throw new PolicyValidationError('no policy provided');
  const unknown: string[] = [];
  for (const key of keys) {
    const rule = POLICY_KEYS.get(key);
    if (rule === undefined || (kind === 'operator_policy' && !OPERATOR_POLICY_KEYS.includes(key))) {
      unknown.push(key);
      continue;
    }
    const [check, refusal] = rule;
    if (!check(definition[key])) throw new PolicyValidationError(`${erlangTerm(definition[key])} ${refusal}`);
  }
  if (kind === 'policy') checkMirroring(definition);
  if (unknown.length > 0) {
    const terms = unknown.map((key) => `{${erlangTerm(key)},${erlangTerm(definition[key])}}`);
    throw new PolicyValidationError(`[${terms.join(',')}] are not recognised policy settings`);
  }
  const sorted: Record<string, unknown> = {};
  for (const key of keys) sorted[key] = definition[key];
  return sorted;
}

/**
 * Classic mirroring (ha-*) has no effect in Warren but is checked as RabbitMQ
 * 3.10.8 checks it (texts measured with rabbitmqctl set_policy), so a
 * definition one refuses the other refuses too.
 */
function checkMirroring(definition: Record<string, unknown>): void {
  const mode = definition['ha-mode'];
  const params = definition['ha-params'];
  const fail = (text: string) => new PolicyValidationError(text);
  if (mode === undefined) {
    if (Object.keys(definition).some((key) => key.startsWith('ha-'))) {
      throw fail('ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown');
    }
  } else if (mode === 'all') {
    if (params !== undefined) throw fail('ha-mode="all" does not take parameters');
  } else if (mode === 'exactly') {
    if (!(typeof params === 'number' && Number.isInteger(params) && params > 0)) {
      throw fail(`ha-mode="exactly" takes an integer, ${params === undefined ? 'none' : erlangTerm(params)} given`);
    }
  } else if (mode === 'nodes') {
    if (!Array.isArray(params)) throw fail(`ha-mode="nodes" takes a list, ${params === undefined ? 'none' : erlangTerm(params)} given`);
    if (!params.every((node) => typeof node === 'string')) throw fail(`ha-mode="nodes" takes a list of strings, ${erlangTerm(params)} was not a string`);
  } else {
    throw fail(`${erlangTerm(mode)} is not a valid ha-mode value`);
  }
  const syncMode = definition['ha-sync-mode'];
  if (syncMode !== undefined && syncMode !== 'manual' && syncMode !== 'automatic') {
    throw fail(`ha-sync-mode must be "manual" or "automatic", got ${erlangTerm(syncMode)}`);
  }
  const batch = definition['ha-sync-batch-size'];
  if (batch !== undefined && !(typeof batch === 'number' && Number.isInteger(batch) && batch > 0)) {
    throw fail(`ha-sync-batch-size takes an integer greater than 0, ${erlangTerm(batch)} given`);
  }
  for (const key of ['ha-promote-on-shutdown', 'ha-promote-on-failure']) {
    const value = definition[key];
    if (value !== undefined && value !== 'always' && value !== 'when-synced') {
      throw fail(`${key} must be "always" or "when-synced", got ${erlangTerm(value)}`);
    }
  }
}

/** A definition as an object; `rabbitmqctl export_definitions` writes operator policies' as [[key, value], …]. */
function definitionObject(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) {
    if (!value.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string')) return undefined;
    return Object.fromEntries(value as [string, unknown][]);
  }
  if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  return undefined;
}

/**
 * A policy pattern (PCRE, as RabbitMQ's re:run) as a JavaScript RegExp.
 * The PCRE syntax JavaScript lacks is translated: \A, \Z and \z anchors,
 * \Q…\E literals, leading (?i)/(?m)/(?s) options, (?P<name>…) groups,
 * possessive quantifiers (as greedy ones). A pattern that does not compile
 * is refused, with PCRE's text for the common mistakes, rather than mis-matched.
 */
export function compilePattern(pattern: string): RegExp {
  let source = '';
  let flags = '';
  let i = 0;
  const options = /^\(\?([ims]+)\)/.exec(pattern);
  if (options !== null) {
    flags = [...new Set(options[1])].join('');
    i = options[0].length;
  }
  /** Open groups' positions; whether we are inside [...]; whether the last token may be repeated. */
  const open: number[] = [];
  let inClass = false;
  let repeatable = false;
  let afterQuantifier = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw invalidPattern('\\ at end of pattern', pattern.length);
      const next = pattern[i + 1];
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = pattern.slice(i + 2, end < 0 ? pattern.length : end);
        source += literal.replace(/[\\^$.*+?()[\]{}|\/-]/g, '\\$&');
        i = end < 0 ? pattern.length : end + 2;
        repeatable = literal.length > 0 || repeatable;
        afterQuantifier = false;
        continue;
      }
      if (!inClass && next === 'A') source += '^';
      else if (!inClass && (next === 'Z' || next === 'z')) source += '$';
      else source += c + next;
      i += 2;
      repeatable = true;
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      source += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      source += c;
      // A ] right after [ or [^ is a literal member in PCRE (JavaScript reads [] as an empty class).
      if (pattern[i + 1] === '^') source += pattern[++i];
      if (pattern[i + 1] === ']') {
        source += '\\]';
        i++;
      }
      i++;
      repeatable = true;
      afterQuantifier = false;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)))) {
      if (afterQuantifier && c === '+') {
        // Possessive: PCRE never backtracks into it; greedy matches the same names here.
        i++;
        afterQuantifier = false;
        continue;
      }
      if (afterQuantifier && c === '?') {
        source += c;
        i++;
        afterQuantifier = false;
        continue;
      }
      if (!repeatable) throw invalidPattern('nothing to repeat', i);
      const quantifier = c === '{' ? (/^\{\d+(,\d*)?\}/.exec(pattern.slice(i)) as RegExpExecArray)[0] : c;
      const bounds = /^\{(\d+),(\d+)\}$/.exec(quantifier);
      if (bounds !== null && Number(bounds[1]) > Number(bounds[2])) {
        throw invalidPattern('numbers out of order in {} quantifier', i + quantifier.length - 1);
      }
      source += quantifier;
      i += quantifier.length;
      repeatable = false;
      afterQuantifier = true;
      continue;
    }
    afterQuantifier = false;
    if (c === '(') {
      open.push(i);
      if (pattern.startsWith('(?P<', i)) {
        source += '(?<';
        i += 4;
      } else if (pattern.startsWith('(?P=', i)) {
        const end = pattern.indexOf(')', i);
        if (end < 0) throw invalidPattern('missing )', pattern.length);
        source += `\\k<${pattern.slice(i + 4, end)}>`;
        open.pop();
        i = end + 1;
        repeatable = true;
        continue;
      } else if (pattern[i + 1] === '?') {
        // (?:…), (?=…), (?!…), (?<=…), (?<name>…): the ? opens the group, it repeats nothing.
        source += '(?';
        i += 2;
      } else {
        source += c;
        i++;
      }
      repeatable = false;
      continue;
    }
    if (c === ')') {
      if (open.pop() === undefined) throw invalidPattern('unmatched parentheses', i);
      source += c;
      i++;
      repeatable = true;
      continue;
    }
    source += c;
    i++;
    repeatable = c !== '|' && c !== '^';
  }
  if (inClass) throw invalidPattern('missing terminating ] for character class', pattern.length);
  if (open.length > 0) throw invalidPattern('missing )', pattern.length);
  try {
    return new RegExp(source, flags);
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    throw invalidPattern(reason, 0);
  }
}

/**
 * RabbitMQ's refusal of a pattern: "pattern should be regular expression but
 * is invalid: {"missing )",4}", with Erlang's ~p line break when the term
 * does not fit in 80 columns (its elements then start under the first one).
 */
function invalidPattern(reason: string, offset: number): PolicyValidationError {
  const prefix = 'pattern should be regular expression but is invalid: ';
  const text = JSON.stringify(reason);
  const flat = `{${text},${offset}}`;
  const term = prefix.length + 1 + flat.length < 80 ? flat : `{${text},\n${' '.repeat(prefix.length + 1)}${offset}}`;
  return new PolicyValidationError(prefix + term);
}

/** How Erlang's ~p prints a JSON value RabbitMQ decoded (strings are binaries: <<"abc">>). */
export function erlangTerm(value: unknown): string {
  if (typeof value === 'string') return erlangBinary(Buffer.from(value, 'utf8'));
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : erlangFloat(value);
  if (typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `[${value.map(erlangTerm).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${erlangTerm(key)} => ${erlangTerm((value as Record<string, unknown>)[key])}`);
    return `#{${entries.join(',')}}`;
  }
  return String(value);
}

/** ~p of a binary: its bytes as Latin-1 text when they all print, else as numbers (RabbitMQ does not mark UTF-8). */
function erlangBinary(bytes: Buffer): string {
  const printable = bytes.every((b) => (b >= 0x20 && b < 0x7f) || b >= 0xa0);
  return printable ? `<<${JSON.stringify(bytes.toString('latin1'))}>>` : `<<${[...bytes].join(',')}>>`;
}

/** Erlang prints the shortest float that reads back, always with a fraction or an exponent (1.5, 1.0e21). */
function erlangFloat(value: number): string {
  const text = String(value);
  if (!text.includes('e')) return text.includes('.') ? text : `${text}.0`;
  const [mantissa, exponent] = text.split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${exponent.replace('+', '')}`;
}

/** Whether `policy` may apply to `target` by its apply-to and pattern (not yet by priority). */
export function policyMatches(policy: Policy, target: PolicyTarget): boolean {
  switch (policy.applyTo) {
    case 'all':
      break;
    case 'exchanges':
      if (target.kind !== 'exchange') return false;
      break;
    case 'queues':
      if (target.kind !== 'queue') return false;
      break;
    case 'classic_queues':
      if (target.kind !== 'queue' || target.queueType !== 'classic') return false;
      break;
    case 'quorum_queues':
      if (target.kind !== 'queue' || target.queueType !== 'quorum') return false;
      break;
    case 'streams':
      if (target.kind !== 'queue' || target.queueType !== 'stream') return false;
      break;
  }
  return policy.regex.test(target.name);
}

/**
 * The policies (or the operator policies) of one vhost. Among the policies
 * that match an object the highest priority applies alone. RabbitMQ leaves
 * a tie to the order of its parameter table (hash order: arbitrary); Warren
 * picks the first name in code-point order, so the answer is stable.
 */
export class PolicyTable {
  private readonly byName = new Map<string, Policy>();
  /** Highest priority first, ties by name: the first match is the one that applies. */
  private ordered: Policy[] = [];

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Policy | undefined {
    return this.byName.get(name);
  }

  /** Highest priority first. */
  list(): readonly Policy[] {
    return this.ordered;
  }

  set(policy: Policy): void {
    this.byName.set(policy.name, policy);
    this.sort();
  }

  /** Returns whether there was such a policy. */
  delete(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.sort();
    return true;
  }

  /** The policy that applies to `target`, if any. */
  match(target: PolicyTarget): Policy | undefined {
    for (const policy of this.ordered) if (policyMatches(policy, target)) return policy;
    return undefined;
  }

  private sort(): void {
    this.ordered = [...this.byName.values()].sort(
      (a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }
}

/**
 * The settings a policy and an operator policy give together (RabbitMQ's
 * effective_policy_definition): each key from whichever sets it; where both
 * set a numeric cap (the only keys an operator policy has), the lower.
 */
export function effectiveDefinition(policy: Policy | undefined, operatorPolicy: Policy | undefined): PolicyDefinition | undefined {
  if (operatorPolicy === undefined) return policy?.definition;
  if (policy === undefined) return operatorPolicy.definition;
  const merged: Record<string, unknown> = { ...policy.definition };
  for (const [key, value] of Object.entries(operatorPolicy.definition)) {
    const own = merged[key];
    merged[key] =
      own !== undefined && OPERATOR_POLICY_KEYS.includes(key) && typeof own === 'number' && typeof value === 'number'
        ? Math.min(own, value)
        : value;
  }
  return merged;
}
