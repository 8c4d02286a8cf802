// Warren's one typed Config, and the one function that builds it from its sources:
// defaults ← config file (rabbitmq.conf format) ← environment (WARREN_…) ← flags.
import fs from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { ConfigError, parseConfFile, parseInformationUnit } from './config-file.js';
import { LOG_FORMATS, type LogFormat } from './logger.js';

export { ConfigError } from './config-file.js';

/** Everything Warren can be configured with. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: string;
  /** json lines, pretty lines, or auto: pretty when stdout is a terminal (RabbitMQ: log.console.formatter). */
  logFormat: LogFormat;
  /** Heartbeat interval proposed to clients, seconds (RabbitMQ: 60). */
  heartbeat: number;
  /** Largest frame, bytes (RabbitMQ: 131072). */
  frameMax: number;
  /** Highest channel number (RabbitMQ: 2047). */
  channelMax: number;
  /** Largest message body, bytes (RabbitMQ 3.10: 128 MiB). */
  maxMessageSize: number;
  /** Free disk bytes below which publishers are blocked (RabbitMQ: disk_free_limit, 50 MB). */
  diskFreeLimit: number;
  /** Share of the machine's memory above which publishers are blocked (RabbitMQ: vm_memory_high_watermark, 0.4). */
  memoryHighWatermark: number;
  /** A definitions file (RabbitMQ's JSON format) imported at boot; '' for none (RabbitMQ: load_definitions). */
  loadDefinitions: string;
  /** The user created on a fresh node that loads no definitions (RabbitMQ: default_user, default_pass, default_user_tags). */
  defaultUser: string;
  defaultPass: string;
  defaultUserTags: string[];
  /** The vhost created on a fresh node that loads no definitions, with full permissions for the default user. */
  defaultVhost: string;
  /** Users who may log in from loopback addresses only (RabbitMQ: loopback_users, default [guest]). */
  loopbackUsers: string[];
  /** SASL mechanisms offered, in order (RabbitMQ: auth_mechanisms). */
  authMechanisms: string[];
  /** Port of the management HTTP API (RabbitMQ: management.tcp.port, 15672); 0 picks a free one, -1 turns it off. */
  managementPort: number;
  /** Prometheus endpoint port (RabbitMQ: prometheus.tcp.port, 15692); 0 picks a free one, -1 turns it off. */
  metricsPort: number;
  /** The amqps port (RabbitMQ: listeners.ssl.default); the TLS listener starts only when tlsCert is given. */
  tlsPort: number;
  /** PEM files of the server's certificate, its key ('' for the same file as tlsCert) and the CAs client certificates are verified against. */
  tlsCert: string;
  tlsKey: string;
  tlsCa: string;
  /** The key's passphrase (RabbitMQ: ssl_options.password). */
  tlsKeyPassphrase: string;
  /** `peer`: ask clients for a certificate and verify one that is given; `none`: do not ask (RabbitMQ: ssl_options.verify). */
  tlsVerify: 'none' | 'peer';
  /** With tlsVerify peer: a client without a certificate is refused (RabbitMQ: ssl_options.fail_if_no_peer_cert). */
  tlsFailIfNoPeerCert: boolean;
  /** Most intermediate CAs between a client certificate and a trusted CA (RabbitMQ: ssl_options.depth; Erlang's default 10). */
  tlsDepth: number;
  /** TLS versions accepted: tlsv1.2 and/or tlsv1.3 (RabbitMQ: ssl_options.versions.N). */
  tlsVersions: string[];
  /** OpenSSL cipher names, in order of preference; empty for Node's defaults (RabbitMQ: ssl_options.ciphers.N). */
  tlsCiphers: string[];
  /** Longest a TLS handshake may take, ms (RabbitMQ: ssl_handshake_timeout, 5000). */
  tlsHandshakeTimeout: number;
  /** What EXTERNAL logs in as: the certificate subject's distinguished name or its common name (RabbitMQ: ssl_cert_login_from). */
  sslCertLoginFrom: 'distinguished_name' | 'common_name';
  /**
   * Port of the management API over HTTPS (RabbitMQ: management.ssl.port, 15671); -1 turns it off. It listens when
   * the management API is on and a certificate is configured (managementTls.tlsCert, or tlsCert).
   */
  managementTlsPort: number;
  /**
   * The HTTPS listener's own TLS settings (RabbitMQ: management.ssl.*); the certificate, key, CA, versions and ciphers
   * not given are the amqps listener's, verify is none unless given.
   */
  managementTls: ManagementTlsSettings;
}

/** The TLS settings of a listener, as the amqps one has them in Config. */
export const LISTENER_TLS_KEYS = [
  'tlsCert',
  'tlsKey',
  'tlsCa',
  'tlsKeyPassphrase',
  'tlsVerify',
  'tlsFailIfNoPeerCert',
  'tlsDepth',
  'tlsVersions',
  'tlsCiphers',
] as const satisfies readonly (keyof Config)[];
export type ManagementTlsSettings = Partial<Pick<Config, (typeof LISTENER_TLS_KEYS)[number]>>;

export const DEFAULT_CONFIG: Config = {
  port: 5672,
  host: '::',
  dataDir: './data',
  logLevel: 'info',
  logFormat: 'auto',
  heartbeat: 60,
  frameMax: 131072,
  channelMax: 2047,
  maxMessageSize: 128 * 1024 * 1024,
  diskFreeLimit: 50_000_000,
  memoryHighWatermark: 0.4,
  loadDefinitions: '',
  defaultUser: 'guest',
  defaultPass: 'guest',
  defaultUserTags: ['administrator'],
  defaultVhost: '/',
  loopbackUsers: ['guest'],
  authMechanisms: ['PLAIN', 'AMQPLAIN'],
  managementPort: 15672,
  metricsPort: 15692,
  tlsPort: 5671,
  tlsCert: '',
  tlsKey: '',
  tlsCa: '',
  tlsKeyPassphrase: '',
  tlsVerify: 'none',
  tlsFailIfNoPeerCert: false,
  tlsDepth: 10,
  tlsVersions: ['tlsv1.3', 'tlsv1.2'],
  tlsCiphers: [],
  tlsHandshakeTimeout: 5000,
  sslCertLoginFrom: 'distinguished_name',
  managementTlsPort: 15671,
  managementTls: {},
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** The SASL mechanisms Warren implements (EXTERNAL is offered on TLS connections only). */
export const AUTH_MECHANISMS = ['PLAIN', 'AMQPLAIN', 'EXTERNAL'] as const;
/** The TLS versions Warren accepts, in RabbitMQ's names (older ones are refused, as node:tls refuses them). */
export const TLS_VERSIONS = ['tlsv1.2', 'tlsv1.3'] as const;
/** The highest channel number AMQP allows; a channel_max of 0 ("no limit" in RabbitMQ) means this. */
const CHANNEL_MAX_LIMIT = 65535;

/** What is wrong with a value of a setting, or undefined when it is fine. One place for every source. */
const PROBLEMS: { [K in keyof Config]: (value: Config[K]) => string | undefined } = {
  // -1: no plain AMQP listener (TLS only).
  port: (port) => (port === -1 ? undefined : wholeNumberIn(port, 0, 65535)),
  host: (host) => (host === '' ? 'must not be empty' : undefined),
  dataDir: (dir) => (dir === '' ? 'must not be empty' : undefined),
  logLevel: (level) => ((LOG_LEVELS as readonly string[]).includes(level) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`),
  logFormat: (format) => ((LOG_FORMATS as readonly string[]).includes(format) ? undefined : `must be one of ${LOG_FORMATS.join(', ')}`),
  heartbeat: (seconds) => wholeNumberIn(seconds, 0, 65535),
  frameMax: (bytes) =>
    Number.isSafeInteger(bytes) && (bytes === 0 || (bytes >= 4096 && bytes <= 0xffffffff))
      ? undefined
      : 'must be 0 (no limit) or a whole number from 4096 to 4294967295',
  channelMax: (count) => wholeNumberIn(count, 0, CHANNEL_MAX_LIMIT),
  // RabbitMQ 3.10's own bound (rabbit.schema: "Max message size should be between 0 and 512MB").
  maxMessageSize: (bytes) => wholeNumberIn(bytes, 1, 512 * 1024 * 1024),
  // Any size, however large: a limit above the disk's size is how a test raises the alarm from the start.
  diskFreeLimit: (bytes) => (Number.isInteger(bytes) && bytes >= 0 ? undefined : 'must be a whole number of bytes, 0 or more'),
  memoryHighWatermark: (share) => (Number.isFinite(share) && share >= 0 ? undefined : 'must be a number, 0 or more'),
  loadDefinitions: () => undefined,
  defaultUser: (name) => (name === '' ? 'must not be empty' : undefined),
  defaultPass: () => undefined,
  defaultUserTags: (tags) => (tags.includes('') ? 'a tag must not be empty' : undefined),
  defaultVhost: (name) => (name === '' ? 'must not be empty' : undefined),
  loopbackUsers: (users) => (users.includes('') ? 'a user name must not be empty' : undefined),
  managementPort: (port) => (port === -1 ? undefined : wholeNumberIn(port, 0, 65535)),
  metricsPort: (port) => (port === -1 ? undefined : wholeNumberIn(port, 0, 65535)),
  authMechanisms: (mechanisms) => {
    if (mechanisms.length === 0) return `at least one is needed; Warren supports ${AUTH_MECHANISMS.join(', ')}`;
    const unsupported = mechanisms.find((m) => !(AUTH_MECHANISMS as readonly string[]).includes(m));
    if (unsupported === undefined) return undefined;
    return `${unsupported} is not supported; Warren supports ${AUTH_MECHANISMS.join(', ')}`;
  },
  tlsPort: (port) => wholeNumberIn(port, 0, 65535),
  tlsCert: () => undefined,
  tlsKey: () => undefined,
  tlsCa: () => undefined,
  tlsKeyPassphrase: () => undefined,
  tlsVerify: (verify) => (verify === 'none' || verify === 'peer' ? undefined : 'must be none or peer'),
  tlsFailIfNoPeerCert: () => undefined,
  tlsDepth: (depth) => wholeNumberIn(depth, 0, 100),
  tlsVersions: (versions) => {
    if (versions.length === 0) return `at least one is needed: ${TLS_VERSIONS.join(', ')}`;
    const unsupported = versions.find((v) => !(TLS_VERSIONS as readonly string[]).includes(v));
    return unsupported === undefined ? undefined : `${unsupported} is not supported; Warren accepts ${TLS_VERSIONS.join(' and ')} only`;
  },
  tlsCiphers: (ciphers) => (ciphers.includes('') ? 'a cipher name must not be empty' : undefined),
  tlsHandshakeTimeout: (ms) => wholeNumberIn(ms, 1, 3_600_000),
  sslCertLoginFrom: (from) =>
    from === 'distinguished_name' || from === 'common_name' ? undefined : 'must be distinguished_name or common_name',
  managementTlsPort: (port) => (port === -1 ? undefined : wholeNumberIn(port, 0, 65535)),
  managementTls: (settings) => {
    for (const key of LISTENER_TLS_KEYS) {
      const value = settings[key];
      if (value === undefined) continue;
      const problem = (PROBLEMS[key] as (v: typeof value) => string | undefined)(value);
      if (problem !== undefined) return `${key}: ${problem}`;
    }
    return undefined;
  },
};

/**
 * The HTTPS management listener's TLS settings: management.ssl.* over the amqps listener's certificate, key, CA,
 * versions and ciphers. Client certificates are not asked for unless management.ssl.verify says so (RabbitMQ's
 * default there; browsers rarely have one), whatever ssl_options.verify says.
 */
export function managementTlsSettings(config: Config): Config {
  return applySettings({ ...config, tlsVerify: 'none', tlsFailIfNoPeerCert: false, tlsDepth: DEFAULT_CONFIG.tlsDepth }, config.managementTls);
}

/** Throws ConfigError when settings that are each fine do not go together. */
export function checkCombination(config: Config): void {
  if (config.port === -1 && config.tlsCert === '') {
    throw new ConfigError('port -1 turns the plain AMQP listener off, which leaves no listener: give a TLS certificate (--tls-cert)');
  }
  // Without it node:tls would trust its bundled public CAs: any publicly issued certificate would pass.
  if (config.tlsVerify === 'peer' && config.tlsCert !== '' && config.tlsCa === '') {
    throw new ConfigError('tls-verify peer needs tls-ca, the CA certificates client certificates are verified against');
  }
  if (config.tlsFailIfNoPeerCert && config.tlsVerify !== 'peer') {
    throw new ConfigError('tls-fail-if-no-peer-cert needs tls-verify peer (a certificate that is not asked for cannot be required)');
  }
  const https = managementTlsSettings(config);
  if (config.managementPort >= 0 && config.managementTlsPort >= 0 && https.tlsVerify === 'peer' && https.tlsCert !== '' && https.tlsCa === '') {
    throw new ConfigError('management.ssl.verify = verify_peer needs a CA file (management.ssl.cacertfile or tls-ca) to verify client certificates against');
  }
}

function wholeNumberIn(value: number, min: number, max: number): string | undefined {
  return Number.isSafeInteger(value) && value >= min && value <= max ? undefined : `must be a whole number from ${min} to ${max}`;
}

/** Throws ConfigError naming the origin of the first value that is not valid. */
export function checkSettings(settings: Partial<Config>, origins: Partial<Record<keyof Config, string>> = {}): void {
  for (const key of Object.keys(settings) as (keyof Config)[]) {
    const value = settings[key];
    if (value === undefined || !(key in PROBLEMS)) continue;
    const problem = (PROBLEMS[key] as (v: typeof value) => string | undefined)(value);
    if (problem !== undefined) throw new ConfigError(`${origins[key] ?? key}: ${problem}`);
  }
}

/** Puts settings over a config; 0 for channelMax becomes the AMQP limit, as "no limit" in RabbitMQ. */
export function applySettings(config: Config, settings: Partial<Config>): Config {
  const merged = { ...config };
  for (const key of Object.keys(settings) as (keyof Config)[]) {
    if (settings[key] !== undefined) (merged as Record<keyof Config, unknown>)[key] = settings[key];
  }
  if (merged.channelMax === 0) merged.channelMax = CHANNEL_MAX_LIMIT;
  return merged;
}

// ---- Flags and their WARREN_ environment forms ----

interface OptionSpec {
  /** The flag without its dashes; the environment variable is WARREN_ and this in upper case with underscores. */
  flag: string;
  describe: string;
  /** What --help shows as the default. */
  shownDefault: string;
  /** The setting this option sets, or undefined for --config. */
  key?: keyof Config;
  /** Reads the option's text; returns the value, or a string saying what is wrong. */
  read: (text: string) => Config[keyof Config] | { problem: string };
  /** A flag that may stand alone, meaning true. */
  switch?: boolean;
}

const text = (value: string) => value;
const wholeNumber = (value: string) => (/^\d+$/.test(value) ? Number(value) : { problem: 'expected a whole number' });
/** A port, or -1 / off / false for no listener at all. */
const portOrOff = (value: string) =>
  /^(?:-1|off|false)$/.test(value.trim()) ? -1 : /^\d+$/.test(value.trim()) ? Number(value) : { problem: 'expected a port number, or off' };
const portNumber = (value: string) => (value === '-1' ? -1 : wholeNumber(value));
/** A switch: given alone (`--tls-fail-if-no-peer-cert`), or `true` / `false`. */
const yesNo = (value: string) =>
  value === '' || value === 'true' ? true : value === 'false' ? false : { problem: 'expected true or false' };
const oneOf =
  (...choices: string[]) =>
  (value: string) =>
    choices.includes(value) ? (value as Config[keyof Config]) : { problem: `expected ${choices.join(' or ')}` };
const decimal = (value: string) => (/^\d+(?:\.\d*)?$|^\.\d+$/.test(value) ? Number(value) : { problem: 'expected a number such as 0.4' });
const bytes = (value: string) => {
  const parsed = parseInformationUnit(value);
  return typeof parsed === 'string' ? { problem: parsed } : parsed;
};
/** A comma-separated list; `none` or nothing is the empty list. */
const list = (value: string) =>
  value.trim() === 'none'
    ? []
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');

const shown = (key: keyof Config) => {
  const value = DEFAULT_CONFIG[key];
  const display = Array.isArray(value) ? value.join(',') : String(value);
  return display === '' ? 'none' : display;
};

function option(flag: string, key: keyof Config, read: OptionSpec['read'], describe: string): OptionSpec {
  return { flag, key, read, describe, shownDefault: shown(key) };
}

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'config', describe: 'a configuration file in rabbitmq.conf format', shownDefault: 'none', read: text },
  option('port', 'port', portNumber, 'AMQP port (0 picks a free one and logs it; -1: no plain listener, TLS only)'),
  option('host', 'host', text, 'address to listen on'),
  option('data-dir', 'dataDir', text, 'where durable data lives'),
  option('log-level', 'logLevel', text, `log level: ${LOG_LEVELS.join(', ')}`),
  option('log-format', 'logFormat', text, 'log lines: json, pretty (readable), or auto (pretty on a terminal, json otherwise)'),
  option('heartbeat', 'heartbeat', wholeNumber, 'heartbeat interval proposed to clients, seconds'),
  option('frame-max', 'frameMax', wholeNumber, 'largest frame, bytes'),
  option('channel-max', 'channelMax', wholeNumber, 'highest channel number (0: 65535)'),
  option('max-message-size', 'maxMessageSize', wholeNumber, 'largest message body, bytes'),
  option('disk-free-limit', 'diskFreeLimit', bytes, 'free disk space below which publishers are blocked: bytes, or with a unit (50MB, 1GB, 500MiB)'),
  option('memory-high-watermark', 'memoryHighWatermark', decimal, "share of the machine's memory above which publishers are blocked"),
  option('load-definitions', 'loadDefinitions', text, 'a definitions file (RabbitMQ JSON) to import at boot'),
  option('default-user', 'defaultUser', text, 'user created on a fresh node that loads no definitions'),
  option('default-pass', 'defaultPass', text, "that user's password"),
  option('default-user-tags', 'defaultUserTags', list, "that user's tags, comma-separated"),
  option('default-vhost', 'defaultVhost', text, 'vhost created on a fresh node that loads no definitions'),
  option('loopback-users', 'loopbackUsers', list, 'users who may log in from loopback addresses only, comma-separated, or none'),
  option('management-port', 'managementPort', portOrOff, 'management HTTP API port (0 picks a free one and logs it; off turns the API off)'),
  option('auth-mechanisms', 'authMechanisms', list, `SASL mechanisms offered, comma-separated: ${AUTH_MECHANISMS.join(', ')}`),
  option('metrics-port', 'metricsPort', portOrOff, 'Prometheus metrics port (0 picks a free one and logs it; off turns it off)'),
  option('tls-port', 'tlsPort', wholeNumber, 'amqps port; the TLS listener starts when --tls-cert is given'),
  option('tls-cert', 'tlsCert', text, "the server's certificate (PEM file)"),
  option('tls-key', 'tlsKey', text, "the server's private key (PEM file; default: the --tls-cert file)"),
  option('tls-ca', 'tlsCa', text, 'CA certificates client certificates are verified against (PEM file)'),
  option('tls-key-passphrase', 'tlsKeyPassphrase', text, "the private key's passphrase"),
  option('tls-verify', 'tlsVerify', oneOf('none', 'peer'), 'peer: ask clients for a certificate and verify it; none: do not ask'),
  { ...option('tls-fail-if-no-peer-cert', 'tlsFailIfNoPeerCert', yesNo, 'with --tls-verify peer, refuse clients without a certificate'), switch: true },
  option('tls-depth', 'tlsDepth', wholeNumber, 'most intermediate CAs in a client certificate chain'),
  option('tls-versions', 'tlsVersions', list, `TLS versions accepted, comma-separated: ${TLS_VERSIONS.join(', ')}`),
  option('tls-ciphers', 'tlsCiphers', list, "OpenSSL cipher names, comma-separated (default: Node's)"),
  option('tls-handshake-timeout', 'tlsHandshakeTimeout', wholeNumber, 'longest a TLS handshake may take, ms'),
  option('management-tls-port', 'managementTlsPort', portOrOff, 'management API HTTPS port, with the TLS certificate (off turns HTTPS off)'),
  option('ssl-cert-login-from', 'sslCertLoginFrom', oneOf('distinguished_name', 'common_name'), 'what EXTERNAL logs in as: the certificate subject distinguished_name or its common_name'),
];

export function environmentName(flag: string): string {
  return `WARREN_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** The command line: every option as text (read and checked by resolveConfig), no defaults filled in, strict. */
export function commandLine(argv: readonly string[]): Argv {
  let parser = yargs([...argv])
    .scriptName('warren')
    .usage(
      '$0 [options]\n\nAn AMQP 0-9-1 message broker. Settings come from defaults, then the --config file ' +
        '(rabbitmq.conf format), then WARREN_<OPTION> environment variables (e.g. WARREN_PORT=5673), then flags.',
    )
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .strict();
  for (const spec of OPTIONS) {
    parser = parser.option(spec.flag, {
      type: 'string',
      requiresArg: spec.switch !== true,
      describe: `${spec.describe} [env ${environmentName(spec.flag)}]`,
      defaultDescription: spec.shownDefault,
    });
  }
  // yargs reads --no-management as management=false.
  return parser.option('management', { type: 'boolean', describe: '--no-management turns the management API off (as --management-port off)' });
}

export interface ResolvedConfig {
  config: Config;
  /** Things worth an operator's attention that do not stop the broker (unknown keys and WARREN_ variables). */
  warnings: string[];
}

/**
 * Builds the Config from its sources, later ones winning: defaults, the config file (--config or WARREN_CONFIG),
 * WARREN_ environment variables, flags. Throws ConfigError naming the setting and its origin for a bad value or
 * an unknown flag; unknown config-file keys and WARREN_ variables that are no option are warnings.
 */
export function resolveConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => fs.readFileSync(path, 'utf8'),
): ResolvedConfig {
  const warnings: string[] = [];
  const flags = commandLine(argv)
    .help(false)
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw new ConfigError(message ?? error.message);
    })
    .parseSync();

  const fromEnv = readOptions((flag) => env[environmentName(flag)], (flag, value) => `${environmentName(flag)}=${value}`);
  const fromFlags = readOptions((flag) => flags[flag] as string | undefined, (flag, value) => `--${flag} ${value}`);
  const known = new Set(OPTIONS.map((spec) => environmentName(spec.flag)));
  for (const name of Object.keys(env).sort()) {
    // WARREN_CTL_* belong to `warren ctl`; a shell that exports them also starts brokers.
    if (name.startsWith('WARREN_') && !name.startsWith('WARREN_CTL_') && !known.has(name)) warnings.push(`environment variable ${name} is not a Warren option, ignored`);
  }

  let config = DEFAULT_CONFIG;
  const configFile = fromFlags.configFile ?? fromEnv.configFile;
  if (configFile !== undefined) {
    let fileText: string;
    try {
      fileText = readFile(configFile);
    } catch (error) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(error as Error).message}`);
    }
    const file = parseConfFile(fileText, configFile);
    checkSettings(file.settings, file.origins);
    warnings.push(...file.warnings);
    config = applySettings(config, file.settings);
  }
  config = applySettings(config, fromEnv.settings);
  config = applySettings(config, fromFlags.settings);
  if (flags.management === false) config = applySettings(config, { managementPort: -1 });
  checkCombination(config);
  return { config, warnings };
}

/** Reads and checks every option one source gives (the environment or the flags). */
function readOptions(
  valueOf: (flag: string) => string | undefined,
  originOf: (flag: string, value: string) => string,
): { settings: Partial<Config>; configFile?: string } {
  const settings: Partial<Config> = {};
  const origins: Partial<Record<keyof Config, string>> = {};
  let configFile: string | undefined;
  for (const spec of OPTIONS) {
    const raw = valueOf(spec.flag);
    if (raw === undefined) continue;
    const origin = originOf(spec.flag, raw);
    const value = spec.read(raw);
    if (typeof value === 'object' && 'problem' in value) throw new ConfigError(`${origin}: ${String(value.problem)}`);
    if (spec.key === undefined) {
      configFile = raw;
      continue;
    }
    (settings as Record<keyof Config, unknown>)[spec.key] = value;
    origins[spec.key] = origin;
  }
  checkSettings(settings, origins);
  return { settings, configFile };
}
