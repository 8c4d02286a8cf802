// `warren ctl <verb> [args]`: rabbitmqctl's verbs, output shapes and exit codes, as a client of the management
// HTTP API (the broker is found by --url, not by an Erlang node name).
import fs from 'node:fs';
import { type Answer, apiPath, request, type Target, Unreachable } from './client.js';
import { jsonList, type Row, table } from './output.js';

/** sysexits codes, as rabbitmqctl uses them (measured against RabbitMQ 3.10.8). */
export const EXIT = { ok: 0, usage: 64, dataError: 65, noUser: 67, unavailable: 69, software: 70, noPermission: 77 } as const;

export interface CtlIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

/** A failure with the exit code and the text rabbitmqctl gives for it. */
class CtlError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Options {
  vhost: string;
  quiet: boolean;
  silent: boolean;
  tableHeaders: boolean;
  formatter: 'table' | 'json';
  timeoutSeconds?: number;
  priority?: string;
  applyTo?: string;
  ifEmpty: boolean;
  ifUnused: boolean;
  help: boolean;
}

interface Context {
  target: Target;
  options: Options;
  args: string[];
  io: CtlIo;
  /** An informational line ("Listing queues for vhost / ..."): on stdout, left out with --quiet or --silent. */
  info: (line: string) => void;
}

/** How one list verb reads the API and turns each object into rabbitmqctl's columns. */
interface ListVerb {
  header: (o: Options) => string;
  path: (o: Options) => string;
  columns: readonly string[];
  defaults: readonly string[];
  row: (item: Record<string, unknown>) => Row;
  /** What an unknown vhost gets: no rows and exit 0, or rabbitmqctl's "does not exist" and 65 (permissions, policies). */
  unknownVhost: 'empty' | 'error' | 'not-per-vhost';
}

type Item = Record<string, unknown>;
const field = (item: Item, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Item | undefined)?.[k], item);

const LISTS: Record<string, ListVerb> = {
  list_queues: {
    header: (o) => `Timeout: ${(o.timeoutSeconds ?? 60).toFixed(1)} seconds ...\nListing queues for vhost ${o.vhost} ...`,
    path: (o) => apiPath('queues', o.vhost),
    columns: ['arguments', 'auto_delete', 'consumer_capacity', 'consumer_utilisation', 'consumers', 'disk_reads', 'disk_writes', 'durable', 'exclusive', 'exclusive_consumer_pid', 'exclusive_consumer_tag', 'head_message_timestamp', 'leader', 'members', 'memory', 'message_bytes', 'message_bytes_persistent', 'message_bytes_ram', 'message_bytes_ready', 'message_bytes_unacknowledged', 'messages', 'messages_persistent', 'messages_ram', 'messages_ready', 'messages_ready_ram', 'messages_unacknowledged', 'messages_unacknowledged_ram', 'name', 'online', 'owner_pid', 'pid', 'policy', 'slave_pids', 'state', 'synchronised_slave_pids', 'type'],
    defaults: ['name', 'messages'],
    row: (q) => ({
      ...q,
      exclusive_consumer_pid: field(q, 'exclusive_consumer_tag') === undefined ? '' : undefined,
      owner_pid: field(q, 'owner_pid_details', 'name') ?? '',
      pid: q.node,
      leader: q.node,
      members: [q.node],
      online: [q.node],
      slave_pids: '',
      synchronised_slave_pids: '',
      policy: q.policy ?? '',
    }),
    unknownVhost: 'empty',
  },
  list_exchanges: {
    header: (o) => `Listing exchanges for vhost ${o.vhost} ...`,
    path: (o) => apiPath('exchanges', o.vhost),
    columns: ['arguments', 'auto_delete', 'durable', 'internal', 'name', 'policy', 'type'],
    defaults: ['name', 'type'],
    row: (x) => ({ ...x, policy: x.policy ?? '' }),
    unknownVhost: 'empty',
  },
  list_bindings: {
    header: (o) => `Listing bindings for vhost ${o.vhost}...`,
    path: (o) => apiPath('bindings', o.vhost),
    columns: ['arguments', 'destination_kind', 'destination_name', 'routing_key', 'source_kind', 'source_name'],
    defaults: ['source_name', 'source_kind', 'destination_name', 'destination_kind', 'routing_key', 'arguments'],
    row: (b) => ({ source_name: b.source, source_kind: 'exchange', destination_name: b.destination, destination_kind: b.destination_type, routing_key: b.routing_key, arguments: b.arguments }),
    unknownVhost: 'empty',
  },
  list_connections: {
    header: () => 'Listing connections ...',
    path: () => apiPath('connections'),
    columns: ['auth_mechanism', 'channel_max', 'channels', 'client_properties', 'connected_at', 'frame_max', 'host', 'name', 'peer_cert_issuer', 'peer_cert_subject', 'peer_cert_validity', 'peer_host', 'peer_port', 'pid', 'port', 'protocol', 'recv_cnt', 'recv_oct', 'send_cnt', 'send_oct', 'send_pend', 'ssl', 'ssl_cipher', 'ssl_hash', 'ssl_key_exchange', 'ssl_protocol', 'state', 'timeout', 'user', 'vhost'],
    defaults: ['user', 'peer_host', 'peer_port', 'state'],
    // Warren has no Erlang pids: a connection's name is its identifier (close_connection takes it).
    row: (c) => ({ ...c, pid: c.name, protocol: c.protocol === 'AMQP 0-9-1' ? '{0,9,1}' : c.protocol }),
    unknownVhost: 'not-per-vhost',
  },
  list_channels: {
    header: () => 'Listing channels ...',
    path: () => apiPath('channels'),
    columns: ['acks_uncommitted', 'confirm', 'connection', 'consumer_count', 'global_prefetch_count', 'messages_unacknowledged', 'messages_uncommitted', 'messages_unconfirmed', 'name', 'number', 'pid', 'prefetch_count', 'transactional', 'user', 'vhost'],
    defaults: ['pid', 'user', 'consumer_count', 'messages_unacknowledged'],
    row: (c) => ({ ...c, pid: c.name, connection: field(c, 'connection_details', 'name') }),
    unknownVhost: 'not-per-vhost',
  },
  list_consumers: {
    header: (o) => `Listing consumers in vhost ${o.vhost} ...`,
    path: (o) => apiPath('consumers', o.vhost),
    columns: ['ack_required', 'active', 'activity_status', 'arguments', 'channel_pid', 'consumer_tag', 'prefetch_count', 'queue_name'],
    defaults: ['queue_name', 'channel_pid', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'arguments'],
    row: (c) => ({ ...c, queue_name: field(c, 'queue', 'name'), channel_pid: field(c, 'channel_details', 'name') }),
    unknownVhost: 'empty',
  },
  list_users: {
    header: () => 'Listing users ...',
    path: () => apiPath('users'),
    columns: ['user', 'tags'],
    defaults: ['user', 'tags'],
    row: (u) => ({ user: u.name, tags: u.tags }),
    unknownVhost: 'not-per-vhost',
  },
  list_vhosts: {
    header: () => 'Listing vhosts ...',
    path: () => apiPath('vhosts'),
    columns: ['cluster_state', 'default_queue_type', 'description', 'name', 'tags', 'tracing'],
    defaults: ['name'],
    row: (v) => ({
      ...v,
      default_queue_type: v.default_queue_type ?? 'undefined',
      cluster_state: Object.entries((v.cluster_state ?? {}) as Item).map(([node, state]) => `{'${node}', ${String(state)}}`),
    }),
    unknownVhost: 'not-per-vhost',
  },
  list_permissions: {
    header: (o) => `Listing permissions for vhost "${o.vhost}" ...`,
    path: (o) => apiPath('vhosts', o.vhost, 'permissions'),
    columns: ['user', 'configure', 'write', 'read'],
    defaults: ['user', 'configure', 'write', 'read'],
    row: (p) => p,
    unknownVhost: 'error',
  },
  list_policies: {
    header: (o) => `Listing policies for vhost "${o.vhost}" ...`,
    path: (o) => apiPath('policies', o.vhost),
    columns: ['vhost', 'name', 'pattern', 'apply-to', 'definition', 'priority'],
    defaults: ['vhost', 'name', 'pattern', 'apply-to', 'definition', 'priority'],
    row: (p) => ({ ...p, definition: JSON.stringify(p.definition) }),
    unknownVhost: 'error',
  },
};

/** Verbs whose only arguments are columns: the rest take fixed positional arguments. */
const USAGE: Record<string, string> = {
  list_queues: 'list_queues [--vhost <vhost>] [--no-table-headers] [<column>, ...] [--timeout <timeout>]',
  list_exchanges: 'list_exchanges [--vhost <vhost>] [--no-table-headers] [<column> ...]',
  list_bindings: 'list_bindings [--vhost <vhost>] [--no-table-headers] [<column> ...]',
  list_connections: 'list_connections [--no-table-headers] [<column> ...]',
  list_channels: 'list_channels [--no-table-headers] [<column> ...]',
  list_consumers: 'list_consumers [--vhost <vhost>] [--no-table-headers] [<column> ...]',
  list_users: 'list_users [--no-table-headers]',
  list_vhosts: 'list_vhosts [--no-table-headers] [<column> ...]',
  list_permissions: 'list_permissions [--vhost <vhost>] [--no-table-headers]',
  list_policies: 'list_policies [--vhost <vhost>] [--no-table-headers]',
  add_user: 'add_user <username> <password>',
  delete_user: 'delete_user <username>',
  change_password: 'change_password <username> <password>',
  set_user_tags: 'set_user_tags <username> <tag> [...]',
  add_vhost: 'add_vhost <vhost> [--description <description>] [--tags "<tag1>,<tag2>,<...>"] [--default-queue-type <quorum|classic>]',
  delete_vhost: 'delete_vhost <vhost>',
  set_permissions: 'set_permissions [--vhost <vhost>] <username> <conf> <write> <read>',
  clear_permissions: 'clear_permissions [--vhost <vhost>] <username>',
  set_policy: 'set_policy [--vhost <vhost>] [--priority <priority>] [--apply-to <apply-to>] <name> <pattern> <definition>',
  clear_policy: 'clear_policy [--vhost <vhost>] <name>',
  export_definitions: 'export_definitions <file_path | "-">',
  import_definitions: 'import_definitions <file_path | "-">',
  close_connection: 'close_connection <connection name> <explanation>',
  purge_queue: 'purge_queue [--vhost <vhost>] <queue>',
  delete_queue: 'delete_queue [--vhost <vhost>] <queue_name> [--if-empty|-e] [--if-unused|-u]',
  status: 'status',
  await_startup: 'await_startup [--timeout <seconds>]',
};

const GENERAL_USAGE =
  'warren ctl [--url <url>] [--username <user>] [--password <password>] [--quiet] [--formatter json] <command> [<command options>]\n\n' +
  'Talks to a Warren (or RabbitMQ) management HTTP API. --url defaults to http://127.0.0.1:15672 (env WARREN_CTL_URL),\n' +
  '--username and --password to guest (env WARREN_CTL_USERNAME, WARREN_CTL_PASSWORD).\n\nCommands:\n\n' +
  Object.values(USAGE)
    .map((u) => `   ${u}\n`)
    .join('');

/** Positional argument counts [min, max] of the verbs that are not lists. */
const ARITY: Record<string, [number, number]> = {
  add_user: [2, 2],
  delete_user: [1, 1],
  change_password: [2, 2],
  set_user_tags: [1, Infinity],
  add_vhost: [1, 1],
  delete_vhost: [1, 1],
  set_permissions: [4, 4],
  clear_permissions: [1, 1],
  set_policy: [3, 3],
  clear_policy: [1, 1],
  export_definitions: [1, 1],
  import_definitions: [0, 1],
  close_connection: [2, 2],
  purge_queue: [1, 1],
  delete_queue: [1, 1],
  status: [0, 0],
  await_startup: [0, 0],
  list_users: [0, 0],
  list_permissions: [0, 0],
  list_policies: [0, 0],
};

/** Flags that take a value, by every name they have. */
const VALUE_FLAGS: Record<string, string> = {
  '-p': 'vhost',
  '--vhost': 'vhost',
  '--formatter': 'formatter',
  '--url': 'url',
  '--username': 'username',
  '--password': 'password',
  '-t': 'timeout',
  '--timeout': 'timeout',
  '--priority': 'priority',
  '--apply-to': 'applyTo',
  '-n': 'node',
  '--node': 'node',
  '--description': 'description',
  '--tags': 'tags',
  '--default-queue-type': 'defaultQueueType',
  '--format': 'format',
};
const SWITCHES: Record<string, string> = {
  '-q': 'quiet',
  '--quiet': 'quiet',
  '-s': 'silent',
  '--silent': 'silent',
  '--no-table-headers': 'noTableHeaders',
  '-e': 'ifEmpty',
  '--if-empty': 'ifEmpty',
  '-u': 'ifUnused',
  '--if-unused': 'ifUnused',
  '-?': 'help',
  '-h': 'help',
  '--help': 'help',
  '-l': 'longnames',
  '--longnames': 'longnames',
};

function usageError(verb: string, message: string, argv: readonly string[], code: number = EXIT.usage): CtlError {
  return new CtlError(code, `Error (argument validation): ${message}\nArguments given:\n\t${argv.join(' ')}\n\nUsage\n\nwarren ctl ${USAGE[verb] ?? verb}`);
}

/** Runs one `warren ctl` command line (the arguments after `ctl`); resolves with the exit code. */
export async function runCtl(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CtlIo): Promise<number> {
  const values: Record<string, string> = {};
  const switches = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS[name] !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) {
        io.stderr(`Error (argument validation): option ${name} needs a value\n`);
        return EXIT.usage;
      }
      values[VALUE_FLAGS[name]] = value;
    } else if (SWITCHES[arg] !== undefined) switches.add(SWITCHES[arg]);
    else if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg) && positional.length === 0) {
      io.stderr(`Error (argument validation): unknown option ${arg}\n\nUsage\n\n${GENERAL_USAGE}`);
      return EXIT.usage;
    } else positional.push(arg);
  }
  const [verb, ...args] = positional;
  if (verb === undefined || verb === 'help') {
    const about = args[0] !== undefined && USAGE[args[0]] !== undefined ? `Usage\n\nwarren ctl ${USAGE[args[0]]}\n` : GENERAL_USAGE;
    (verb === undefined && !switches.has('help') ? io.stderr : io.stdout)(about);
    return verb === undefined && !switches.has('help') ? EXIT.usage : EXIT.ok;
  }
  if (USAGE[verb] === undefined) {
    io.stderr(`\nCommand '${verb}' not found. \n\nUsage\n\n${GENERAL_USAGE}`);
    return EXIT.usage;
  }
  if (switches.has('help')) {
    io.stdout(`Usage\n\nwarren ctl ${USAGE[verb]}\n`);
    return EXIT.ok;
  }
  const formatter = values.formatter ?? 'table';
  if (formatter !== 'table' && formatter !== 'json') {
    io.stderr(`Error (argument validation): formatter ${formatter} is not supported by warren ctl (json, table)\n`);
    return EXIT.usage;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    io.stderr(`Error (argument validation): --timeout must be a positive number of seconds\n`);
    return EXIT.usage;
  }
  const options: Options = {
    vhost: values.vhost ?? '/',
    quiet: switches.has('quiet') || switches.has('silent'),
    silent: switches.has('silent'),
    tableHeaders: !switches.has('silent') && !switches.has('noTableHeaders'),
    formatter,
    timeoutSeconds: timeout,
    priority: values.priority,
    applyTo: values.applyTo,
    ifEmpty: switches.has('ifEmpty'),
    ifUnused: switches.has('ifUnused'),
    help: false,
  };
  const target: Target = {
    url: values.url ?? env.WARREN_CTL_URL ?? 'http://127.0.0.1:15672',
    username: values.username ?? env.WARREN_CTL_USERNAME ?? 'guest',
    password: values.password ?? env.WARREN_CTL_PASSWORD ?? 'guest',
    timeoutMs: (timeout ?? 60) * 1000,
  };
  const context: Context = { target, options, args, io, info: (line) => (options.quiet || formatter === 'json' ? undefined : io.stdout(`${line}\n`)) };
  try {
    const arity = ARITY[verb];
    if (arity !== undefined && args.length < arity[0]) throw usageError(verb, 'not enough arguments.', argv);
    if (arity !== undefined && args.length > arity[1]) throw usageError(verb, 'too many arguments.', argv);
    const list = LISTS[verb];
    if (list !== undefined) return await runList(context, list, verb, argv);
    return await VERBS[verb]!(context, values);
  } catch (error) {
    if (error instanceof CtlError) {
      io.stderr(`${error.message}\n`);
      return error.code;
    }
    if (error instanceof Unreachable) {
      io.stderr(
        `Error: unable to perform an operation on the management API at ${target.url}: ${error.message}\n\n` +
          'Most common reasons for this are:\n\n * Warren is not running, or runs with the management API off or on another port (--url)\n' +
          ' * Something other than Warren answers at that address\n',
      );
      return EXIT.unavailable;
    }
    throw error;
  }
}

/** Any answer other than the expected ones: unreachable-like for 5xx, no permission for 401, else a data error. */
function unexpected(answer: Answer, target: Target): CtlError {
  if (answer.status === 401) return new CtlError(EXIT.noPermission, `Error:\nAccess refused: user '${target.username}' cannot log in to the management API at ${target.url} (401)`);
  const reason = (answer.body as { reason?: unknown } | undefined)?.reason;
  const text = typeof reason === 'string' ? reason : JSON.stringify(answer.body ?? null);
  return new CtlError(answer.status >= 500 ? EXIT.unavailable : EXIT.software, `Error:\n${text}`);
}

async function call(ctx: Context, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
  const answer = await request(ctx.target, method, path, body, headers);
  if (answer.status === 401) throw unexpected(answer, ctx.target);
  return answer;
}

async function runList(ctx: Context, list: ListVerb, verb: string, argv: readonly string[]): Promise<number> {
  const columns = ctx.args.length === 0 ? list.defaults : ctx.args.flatMap((a) => a.split(',')).map((c) => c.trim()).filter((c) => c !== '');
  const unknown = columns.filter((c) => !list.columns.includes(c));
  if (unknown.length > 0) throw usageError(verb, `Info key(s) ${unknown.join(',')} are not supported`, argv);
  const answer = await call(ctx, 'GET', list.path(ctx.options));
  ctx.info(list.header(ctx.options));
  let items: Item[];
  if (answer.status === 404 && list.unknownVhost === 'empty') items = [];
  else if (answer.status === 404 && list.unknownVhost === 'error') throw new CtlError(EXIT.dataError, `Virtual host '${ctx.options.vhost}' does not exist`);
  else if (answer.status === 200 && Array.isArray(answer.body)) items = answer.body as Item[];
  else throw unexpected(answer, ctx.target);
  const rows = items.map(list.row);
  if (ctx.options.formatter === 'json') ctx.io.stdout(jsonList(columns, rows));
  // rabbitmqctl prints an empty line for a vhost without permissions.
  else if (rows.length === 0 && verb === 'list_permissions') ctx.io.stdout('\n');
  else ctx.io.stdout(table(columns, rows, ctx.options.tableHeaders));
  return EXIT.ok;
}

async function user(ctx: Context, name: string): Promise<Item | undefined> {
  const answer = await call(ctx, 'GET', apiPath('users', name));
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw unexpected(answer, ctx.target);
  return answer.body as Item;
}

const noUser = (name: string): CtlError => new CtlError(EXIT.noUser, `Error:\nUser "${name}" does not exist`);

async function expectStatus(ctx: Context, answer: Promise<Answer>, ok: number[]): Promise<Answer> {
  const a = await answer;
  if (!ok.includes(a.status)) throw unexpected(a, ctx.target);
  return a;
}

/** The API escapes `<`, `>`, `&` and `"` in error reasons for browsers (as RabbitMQ's does); a terminal wants them back. */
function unescapeHtml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

type Verb = (ctx: Context, values: Record<string, string>) => Promise<number>;

const VERBS: Record<string, Verb> = {
  async add_user(ctx) {
    const [name, password] = ctx.args as [string, string];
    ctx.info(`Adding user "${name}" ...`);
    if ((await user(ctx, name)) !== undefined) throw new CtlError(EXIT.software, `Error:\nUser "${name}" already exists`);
    await expectStatus(ctx, call(ctx, 'PUT', apiPath('users', name), { password, tags: '' }), [201, 204]);
    ctx.info(`Done. Don't forget to grant the user permissions to some virtual hosts! See 'warren ctl help set_permissions' to learn more.`);
    return EXIT.ok;
  },
  async delete_user(ctx) {
    const [name] = ctx.args as [string];
    ctx.info(`Deleting user "${name}" ...`);
    const answer = await call(ctx, 'DELETE', apiPath('users', name));
    if (answer.status === 404) throw noUser(name);
    if (answer.status !== 204) throw unexpected(answer, ctx.target);
    return EXIT.ok;
  },
  async change_password(ctx) {
    const [name, password] = ctx.args as [string, string];
    ctx.info(`Changing password for user "${name}" ...`);
    const existing = await user(ctx, name);
    if (existing === undefined) throw noUser(name);
    await expectStatus(ctx, call(ctx, 'PUT', apiPath('users', name), { password, tags: existing.tags }), [201, 204]);
    return EXIT.ok;
  },
  async set_user_tags(ctx) {
    const [name, ...tags] = ctx.args as [string, ...string[]];
    ctx.info(`Setting tags for user "${name}" to [${tags.join(', ')}] ...`);
    const existing = await user(ctx, name);
    if (existing === undefined) throw noUser(name);
    // The stored hash goes back unchanged: a PUT without one would take the user's password away.
    const credentials = existing.password_hash === '' ? {} : { password_hash: existing.password_hash, hashing_algorithm: existing.hashing_algorithm };
    await expectStatus(ctx, call(ctx, 'PUT', apiPath('users', name), { ...credentials, tags: tags.join(',') }), [201, 204]);
    return EXIT.ok;
  },
  async add_vhost(ctx, values) {
    const [name] = ctx.args as [string];
    ctx.info(`Adding vhost "${name}" ...`);
    const body: Item = {};
    if (values.description !== undefined) body.description = values.description;
    if (values.tags !== undefined) body.tags = values.tags;
    if (values.defaultQueueType !== undefined) body.default_queue_type = values.defaultQueueType;
    const created = await expectStatus(ctx, call(ctx, 'PUT', apiPath('vhosts', name), body), [201, 204]);
    // The HTTP API grants the creator .* .* .* on a new vhost; rabbitmqctl's add_vhost grants nobody anything.
    if (created.status === 201) await expectStatus(ctx, call(ctx, 'DELETE', apiPath('permissions', name, ctx.target.username)), [204, 404]);
    return EXIT.ok;
  },
  async delete_vhost(ctx) {
    const [name] = ctx.args as [string];
    ctx.info(`Deleting vhost "${name}" ...`);
    const answer = await call(ctx, 'DELETE', apiPath('vhosts', name));
    if (answer.status === 404) throw new CtlError(EXIT.dataError, `Virtual host '${name}' does not exist`);
    if (answer.status !== 204) throw unexpected(answer, ctx.target);
    return EXIT.ok;
  },
  async set_permissions(ctx) {
    const [name, configure, write, read] = ctx.args as [string, string, string, string];
    const vhost = ctx.options.vhost;
    ctx.info(`Setting permissions for user "${name}" in vhost "${vhost}" ...`);
    if ((await call(ctx, 'GET', apiPath('vhosts', vhost))).status === 404) throw new CtlError(EXIT.unavailable, `Error:\nVirtual host ${vhost} does not exist`);
    if ((await user(ctx, name)) === undefined) throw new CtlError(EXIT.noUser, `Error:\nUser ${name} does not exist`);
    await expectStatus(ctx, call(ctx, 'PUT', apiPath('permissions', vhost, name), { configure, write, read }), [201, 204]);
    return EXIT.ok;
  },
  async clear_permissions(ctx) {
    const [name] = ctx.args as [string];
    const vhost = ctx.options.vhost;
    ctx.info(`Clearing permissions for user "${name}" in vhost "${vhost}" ...`);
    if ((await user(ctx, name)) === undefined) throw new CtlError(EXIT.noUser, `Error:\nUser ${name} does not exist`);
    // No permission to clear is no error, as in rabbitmqctl.
    await expectStatus(ctx, call(ctx, 'DELETE', apiPath('permissions', vhost, name)), [204, 404]);
    return EXIT.ok;
  },
  async set_policy(ctx) {
    const [name, pattern, definitionText] = ctx.args as [string, string, string];
    const { vhost, priority, applyTo } = ctx.options;
    ctx.info(`Setting policy "${name}" for pattern "${pattern}" to "${definitionText}" with priority "${priority ?? 0}" for vhost "${vhost}" ...`);
    let definition: unknown;
    try {
      definition = JSON.parse(definitionText);
    } catch {
      throw new CtlError(EXIT.unavailable, 'Error:\nJSON decoding error. Reason: badarg');
    }
    const body: Item = { pattern, definition, priority: Number(priority ?? 0) };
    if (applyTo !== undefined) body['apply-to'] = applyTo;
    const answer = await call(ctx, 'PUT', apiPath('policies', vhost, name), body);
    if (answer.status === 400) {
      const reason = (answer.body as { reason?: unknown } | undefined)?.reason;
      throw new CtlError(EXIT.unavailable, `Error:\n${typeof reason === 'string' ? unescapeHtml(reason) : JSON.stringify(reason)}`);
    }
    if (answer.status === 404) throw new CtlError(EXIT.unavailable, `Error:\nVirtual host ${vhost} does not exist`);
    if (answer.status !== 201 && answer.status !== 204) throw unexpected(answer, ctx.target);
    return EXIT.ok;
  },
  async clear_policy(ctx) {
    const [name] = ctx.args as [string];
    ctx.info(`Clearing policy "${name}" on vhost "${ctx.options.vhost}" ...`);
    const answer = await call(ctx, 'DELETE', apiPath('policies', ctx.options.vhost, name));
    if (answer.status === 404) throw new CtlError(EXIT.unavailable, 'Error:\nParameter does not exist');
    if (answer.status !== 204) throw unexpected(answer, ctx.target);
    return EXIT.ok;
  },
  async export_definitions(ctx) {
    const [file] = ctx.args as [string];
    const answer = await expectStatus(ctx, call(ctx, 'GET', apiPath('definitions')), [200]);
    const text = JSON.stringify(answer.body);
    if (file === '-') {
      ctx.io.stdout(text);
      return EXIT.ok;
    }
    ctx.info(`Exporting definitions in JSON to a file at "${file}" ...`);
    try {
      fs.writeFileSync(file, text);
    } catch (error) {
      throw new CtlError(EXIT.dataError, `Error:\nCannot write to file ${file}: ${(error as Error).message}`);
    }
    return EXIT.ok;
  },
  async import_definitions(ctx) {
    const [file = '-'] = ctx.args;
    let text: string;
    if (file === '-') {
      ctx.info('Importing definitions in JSON from standard input ...');
      text = await ctx.io.readStdin();
    } else {
      if (!fs.existsSync(file)) throw usageError('import_definitions', `Bad argument: File ${file} does not exist`, ['import_definitions', file], EXIT.dataError);
      ctx.info(`Importing definitions in JSON from a file at "${file}" ...`);
      text = fs.readFileSync(file, 'utf8');
    }
    try {
      JSON.parse(text);
    } catch (error) {
      throw new CtlError(EXIT.dataError, `Error:\nFailed to deserialise input (format: JSON) (error: ${(error as Error).message})`);
    }
    const answer = await call(ctx, 'POST', apiPath('definitions'), text);
    if (answer.status === 400) throw new CtlError(EXIT.dataError, `Error:\n${JSON.stringify((answer.body as { reason?: unknown } | undefined)?.reason ?? answer.body)}`);
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 204) throw unexpected(answer, ctx.target);
    ctx.info('Successfully started definition import. This process is asynchronous and can take some time.');
    return EXIT.ok;
  },
  async close_connection(ctx) {
    const [name, reason] = ctx.args as [string, string];
    ctx.info(`Closing connection ${name}, reason: ${reason}...`);
    const answer = await call(ctx, 'DELETE', apiPath('connections', name), undefined, { 'x-reason': reason });
    if (answer.status === 404) throw new CtlError(EXIT.unavailable, `Error:\nConnection ${name} does not exist (list_connections name shows the names)`);
    if (answer.status !== 204) throw unexpected(answer, ctx.target);
    return EXIT.ok;
  },
  async purge_queue(ctx) {
    const [name] = ctx.args as [string];
    ctx.info(`Purging queue '${name}' in vhost '${ctx.options.vhost}' ...`);
    const answer = await call(ctx, 'DELETE', `${apiPath('queues', ctx.options.vhost, name)}/contents`);
    if (answer.status === 404) throw new CtlError(EXIT.unavailable, 'Error:\nnot_found');
    if (answer.status !== 204) throw unexpected(answer, ctx.target);
    return EXIT.ok;
  },
  async delete_queue(ctx) {
    const [name] = ctx.args as [string];
    const { vhost, ifEmpty, ifUnused } = ctx.options;
    const condition = ifEmpty && ifUnused ? ' if queue is empty and unused' : ifEmpty ? ' if queue is empty' : ifUnused ? ' if queue is unused' : '';
    ctx.info(`Deleting queue '${name}' on vhost '${vhost}'${condition} ...`);
    const path = apiPath('queues', vhost, name);
    const found = await call(ctx, 'GET', path);
    if (found.status === 404) throw new CtlError(EXIT.usage, 'Error:\nQueue not found');
    if (found.status !== 200) throw unexpected(found, ctx.target);
    const query = [ifEmpty ? 'if-empty=true' : '', ifUnused ? 'if-unused=true' : ''].filter((q) => q !== '').join('&');
    const answer = await call(ctx, 'DELETE', query === '' ? path : `${path}?${query}`);
    if (answer.status === 400) {
      const reason = ifEmpty && Number((found.body as Item).messages ?? 0) > 0 ? 'Queue is not empty' : 'Queue is in use';
      throw new CtlError(EXIT.usage, `Error:\n${reason}`);
    }
    if (answer.status !== 204) throw unexpected(answer, ctx.target);
    ctx.info(`Queue was successfully deleted with ${Number((found.body as Item).messages_ready ?? (found.body as Item).messages ?? 0)} ready messages`);
    return EXIT.ok;
  },
  async status(ctx) {
    const overview = (await expectStatus(ctx, call(ctx, 'GET', apiPath('overview')), [200])).body as Item;
    const nodes = (await expectStatus(ctx, call(ctx, 'GET', apiPath('nodes')), [200])).body as Item[];
    const node = nodes[0] ?? {};
    if (ctx.options.formatter === 'json') {
      ctx.io.stdout(`${JSON.stringify({ ...node, product_name: overview.product_name, product_version: overview.product_version, listeners: overview.listeners, object_totals: overview.object_totals })}\n`);
      return EXIT.ok;
    }
    ctx.info(`Status of node ${String(overview.node)} ...`);
    const totals = (overview.object_totals ?? {}) as Item;
    const alarms = [node.mem_alarm === true ? 'memory' : '', node.disk_free_alarm === true ? 'disk' : ''].filter((a) => a !== '');
    const listeners = ((overview.listeners ?? []) as Item[]).map((l) => `Interface: ${String(l.ip_address)}, port: ${String(l.port)}, protocol: ${String(l.protocol)}`);
    const gb = (bytes: unknown): string => `${(Number(bytes ?? 0) / 1e9).toFixed(4)} gb`;
    ctx.io.stdout(
      [
        'Runtime',
        '',
        `OS PID: ${String(node.os_pid ?? '')}`,
        `Uptime (seconds): ${Math.floor(Number(node.uptime ?? 0) / 1000)}`,
        `${String(overview.product_name ?? 'Warren')} version: ${String(overview.product_version ?? '')}`,
        `RabbitMQ version: ${String(overview.rabbitmq_version ?? '')}`,
        `Node name: ${String(overview.node)}`,
        '',
        'Alarms',
        '',
        alarms.length === 0 ? '(none)' : alarms.map((a) => `${a} alarm`).join('\n'),
        '',
        'Memory',
        '',
        `Total memory used: ${gb(node.mem_used)}`,
        `Memory high watermark: ${gb(node.mem_limit)}`,
        '',
        'Free Disk Space',
        '',
        `Low free disk space watermark: ${gb(node.disk_free_limit)}`,
        ...(node.disk_free === undefined ? [] : [`Free disk space: ${gb(node.disk_free)}`]),
        '',
        'Totals',
        '',
        `Connection count: ${String(totals.connections ?? 0)}`,
        `Queue count: ${String(totals.queues ?? 0)}`,
        `Virtual host count: ${(await expectStatus(ctx, call(ctx, 'GET', apiPath('vhosts')), [200]).then((a) => (a.body as unknown[]).length))}`,
        '',
        'Listeners',
        '',
        ...listeners,
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
  async await_startup(ctx) {
    // The API answering an authenticated overview is Warren's "started": it opens after recovery.
    const deadline = Date.now() + (ctx.options.timeoutSeconds ?? 300) * 1000;
    for (;;) {
      try {
        const answer = await request({ ...ctx.target, timeoutMs: Math.max(100, Math.min(5_000, deadline - Date.now())) }, 'GET', apiPath('overview'));
        if (answer.status === 200) return EXIT.ok;
        if (answer.status === 401) throw unexpected(answer, ctx.target);
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
      }
      if (Date.now() >= deadline) {
        throw new CtlError(EXIT.unavailable, `Error:\nWarren's management API at ${ctx.target.url} did not answer within ${ctx.options.timeoutSeconds ?? 300} seconds`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  },
};
