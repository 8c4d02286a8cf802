// RabbitMQ's rabbitmq.conf format, read for the settings Warren has. The syntax is cuttlefish's, as RabbitMQ
// 3.10.8 parses it: `key = value` per line; a key is words of [A-Za-z0-9_-] joined by dots (`\.` is a dot inside a
// word); the value runs to the end of the line or to a `#` (there is no quoting: `#` always starts a comment) and
// is trimmed; blank lines and `#` comments are skipped; a key given twice takes its last value. Value formats
// (integers, byte sizes, information units, ip:port) are cuttlefish's and rabbit.schema's, checked against both.
import net from 'node:net';
import type { Config, ManagementTlsSettings } from './config.js';

/** A setting Warren cannot take; its message names where the setting came from (file and line, variable, flag). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfFile {
  settings: Partial<Config>;
  /** Where each setting came from (`FILE line N: key = value`), to name it when its value is out of range. */
  origins: Partial<Record<keyof Config, string>>;
  /** Keys Warren does not have, each naming the key and its line. */
  warnings: string[];
}

interface Entry {
  key: string;
  /** The key's words, `\.` unescaped. */
  words: string[];
  value: string;
  line: number;
}

const WORD = String.raw`(?:[A-Za-z0-9_-]|\\\.)+`;
const SETTING = new RegExp(String.raw`^\s*(${WORD}(?:\.${WORD})*)\s*=\s*([^#]*?)\s*(?:#.*)?$`);
const BLANK_OR_COMMENT = /^\s*(?:#.*)?$/;

/** Parses a rabbitmq.conf text; throws ConfigError naming the line for a line that is not `key = value` or a bad value. */
export function parseConfFile(text: string, fileName: string): ConfFile {
  const entries = new Map<string, Entry>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineText = lines[i] as string;
    const line = i + 1;
    if (BLANK_OR_COMMENT.test(lineText)) continue;
    if (/^\s*include\s/.test(lineText)) {
      throw new ConfigError(`${fileName} line ${line}: include is not supported; put the settings in this file`);
    }
    const match = SETTING.exec(lineText);
    if (match === null) {
      throw new ConfigError(`${fileName} line ${line}: cannot read ${JSON.stringify(lineText.trim())}; expected key = value`);
    }
    const key = match[1] as string;
    const value = match[2] as string;
    if (value === '') throw new ConfigError(`${fileName} line ${line}: ${key} has no value`);
    const words = key.split(/(?<!\\)\./).map((word) => word.replaceAll('\\.', '.'));
    // Later wins, as in RabbitMQ; delete first so the entry takes the position of its last line.
    entries.delete(key);
    entries.set(key, { key, words, value, line });
  }
  return new ConfFileReader(fileName).read([...entries.values()]);
}

class ConfFileReader {
  private readonly settings: Partial<Config> = {};
  private readonly origins: Partial<Record<keyof Config, string>> = {};
  private readonly warnings: string[] = [];
  private listener: Entry | undefined;
  private readonly userTags: string[] = [];
  private userTagsSet = false;
  private readonly loopbackUsers: string[] = [];
  private loopbackUsersSet = false;
  private loopbackNone = false;
  private readonly mechanisms: string[] = [];
  private readonly tlsVersions: string[] = [];
  private readonly tlsCiphers: string[] = [];
  private readonly managementTls: ManagementTlsSettings = {};
  private readonly managementTlsVersions: string[] = [];
  private readonly managementTlsCiphers: string[] = [];

  constructor(private readonly fileName: string) {}

  read(entries: Entry[]): ConfFile {
    for (const entry of entries) this.readEntry(entry);
    if (this.userTagsSet) this.settings.defaultUserTags = this.userTags;
    if (this.loopbackUsersSet) this.settings.loopbackUsers = this.loopbackNone ? [] : this.loopbackUsers;
    if (this.mechanisms.length > 0) this.settings.authMechanisms = this.mechanisms;
    if (this.tlsVersions.length > 0) this.settings.tlsVersions = this.tlsVersions;
    if (this.tlsCiphers.length > 0) this.settings.tlsCiphers = this.tlsCiphers;
    if (this.managementTlsVersions.length > 0) this.managementTls.tlsVersions = this.managementTlsVersions;
    if (this.managementTlsCiphers.length > 0) this.managementTls.tlsCiphers = this.managementTlsCiphers;
    if (Object.keys(this.managementTls).length > 0) this.settings.managementTls = this.managementTls;
    return { settings: this.settings, origins: this.origins, warnings: this.warnings };
  }

  private readEntry(entry: Entry): void {
    const { key, words, value } = entry;
    switch (key) {
      case 'default_user':
        return this.set(entry, 'defaultUser', value);
      case 'default_pass':
        return this.set(entry, 'defaultPass', value);
      case 'default_vhost':
        return this.set(entry, 'defaultVhost', value);
      case 'load_definitions':
        return this.set(entry, 'loadDefinitions', value);
      case 'heartbeat':
        return this.set(entry, 'heartbeat', this.integer(entry));
      case 'management.tcp.port':
        return this.set(entry, 'managementPort', this.integer(entry));
      case 'prometheus.tcp.port':
        return this.set(entry, 'metricsPort', this.integer(entry));
      case 'channel_max':
        return this.set(entry, 'channelMax', this.integer(entry));
      case 'max_message_size':
        return this.set(entry, 'maxMessageSize', this.integer(entry));
      case 'frame_max':
        return this.set(entry, 'frameMax', this.valueOf(entry, parseByteSize(value)));
      case 'disk_free_limit.absolute':
        return this.set(entry, 'diskFreeLimit', this.valueOf(entry, parseInformationUnit(value)));
      case 'vm_memory_high_watermark.relative':
        return this.set(entry, 'memoryHighWatermark', this.float(entry));
      case 'log.console.formatter':
        // RabbitMQ's plaintext console lines are what Warren's pretty lines are.
        if (value === 'plaintext') return this.set(entry, 'logFormat', 'pretty');
        if (value === 'json') return this.set(entry, 'logFormat', 'json');
        throw this.bad(entry, 'expected plaintext or json');
      case 'loopback_users':
        if (value !== 'none') throw this.bad(entry, 'expected none (or loopback_users.NAME = true/false)');
        this.loopbackUsersSet = true;
        this.loopbackNone = true;
        this.origins.loopbackUsers = this.origin(entry);
        return;
      case 'listeners.tcp':
        // RabbitMQ's way to run TLS only.
        if (value === 'none') return this.set(entry, 'port', -1);
        throw this.bad(entry, 'expected none (or listeners.tcp.default = PORT or IP:PORT)');
      case 'ssl_options.certfile':
        return this.set(entry, 'tlsCert', value);
      case 'ssl_options.keyfile':
        return this.set(entry, 'tlsKey', value);
      case 'ssl_options.cacertfile':
        return this.set(entry, 'tlsCa', value);
      case 'ssl_options.password':
        return this.set(entry, 'tlsKeyPassphrase', value);
      case 'ssl_options.verify':
        return this.set(entry, 'tlsVerify', this.verify(entry));
      case 'ssl_options.fail_if_no_peer_cert':
        return this.set(entry, 'tlsFailIfNoPeerCert', this.boolean(entry));
      case 'ssl_options.depth':
        return this.set(entry, 'tlsDepth', this.integer(entry));
      case 'management.ssl.port':
        return this.set(entry, 'managementTlsPort', this.integer(entry));
      case 'management.ssl.certfile':
        return this.setManagementTls(entry, 'tlsCert', value);
      case 'management.ssl.keyfile':
        return this.setManagementTls(entry, 'tlsKey', value);
      case 'management.ssl.cacertfile':
        return this.setManagementTls(entry, 'tlsCa', value);
      case 'management.ssl.password':
        return this.setManagementTls(entry, 'tlsKeyPassphrase', value);
      case 'management.ssl.verify':
        return this.setManagementTls(entry, 'tlsVerify', this.verify(entry));
      case 'management.ssl.fail_if_no_peer_cert':
        return this.setManagementTls(entry, 'tlsFailIfNoPeerCert', this.boolean(entry));
      case 'management.ssl.depth':
        return this.setManagementTls(entry, 'tlsDepth', this.integer(entry));
      case 'ssl_handshake_timeout':
        return this.set(entry, 'tlsHandshakeTimeout', this.integer(entry));
      case 'ssl_cert_login_from':
        if (value === 'distinguished_name' || value === 'common_name') return this.set(entry, 'sslCertLoginFrom', value);
        throw this.bad(entry, 'expected distinguished_name or common_name (Warren has no subject_alternative_name login)');
    }
    if (words.length === 3 && words[0] === 'listeners' && words[1] === 'tcp') return this.readListener(entry);
    if (words.length === 3 && words[0] === 'listeners' && words[1] === 'ssl') return this.readTlsListener(entry);
    if (words.length === 3 && words[0] === 'ssl_options' && (words[1] === 'versions' || words[1] === 'ciphers')) {
      if (words[1] === 'versions') {
        this.tlsVersions.push(value);
        this.origins.tlsVersions = this.origin(entry);
      } else {
        this.tlsCiphers.push(value);
        this.origins.tlsCiphers = this.origin(entry);
      }
      return;
    }
    if (words.length === 4 && words[0] === 'management' && words[1] === 'ssl' && (words[2] === 'versions' || words[2] === 'ciphers')) {
      (words[2] === 'versions' ? this.managementTlsVersions : this.managementTlsCiphers).push(value);
      this.origins.managementTls = this.origin(entry);
      return;
    }
    if (words.length === 2) {
      const name = words[1] as string;
      switch (words[0]) {
        case 'default_user_tags':
          if (this.boolean(entry)) this.userTags.push(name);
          this.userTagsSet = true;
          this.origins.defaultUserTags = this.origin(entry);
          return;
        case 'loopback_users':
          if (this.boolean(entry)) this.loopbackUsers.push(name);
          this.loopbackUsersSet = true;
          this.origins.loopbackUsers ??= this.origin(entry);
          return;
        case 'auth_mechanisms':
          this.mechanisms.push(value);
          this.origins.authMechanisms = this.origin(entry);
          return;
      }
    }
    this.warnings.push(`${this.fileName} line ${entry.line}: unknown key ${key} (not a Warren setting), ignored`);
  }

  /** listeners.tcp.NAME = PORT | IP:PORT. */
  private readListener(entry: Entry): void {
    if (this.listener !== undefined) {
      throw this.bad(entry, `Warren listens on one address, already set by ${this.listener.key} on line ${this.listener.line}`);
    }
    this.listener = entry;
    this.set(entry, 'port', this.readAddress(entry, '5672'));
  }

  /** listeners.ssl.NAME = PORT | IP:PORT. */
  private readTlsListener(entry: Entry): void {
    this.set(entry, 'tlsPort', this.readAddress(entry, '5671'));
  }

  /**
   * A listener's PORT or IP:PORT (IPv6 without brackets, split at the last colon, as cuttlefish does); an IP sets
   * host, which the plain and the TLS listener share.
   */
  private readAddress(entry: Entry, examplePort: string): number {
    const { value } = entry;
    const colon = value.lastIndexOf(':');
    const port = colon < 0 ? value : value.slice(colon + 1);
    if (!/^\d+$/.test(port)) throw this.bad(entry, `expected PORT or IP:PORT, e.g. ${examplePort} or 127.0.0.1:${examplePort}`);
    if (colon >= 0) {
      const host = value.slice(0, colon);
      if (net.isIP(host) === 0) {
        throw this.bad(entry, `${host} is not an IP address (expected PORT or IP:PORT, e.g. 127.0.0.1:${examplePort} or ::1:${examplePort})`);
      }
      if (this.settings.host !== undefined && this.settings.host !== host) {
        throw this.bad(entry, `Warren's TLS and plain listeners share one address, and ${this.origins.host} gives ${this.settings.host}`);
      }
      this.set(entry, 'host', host);
    }
    return Number(port);
  }

  private verify(entry: Entry): 'peer' | 'none' {
    if (entry.value === 'verify_peer') return 'peer';
    if (entry.value === 'verify_none') return 'none';
    throw this.bad(entry, 'expected verify_peer or verify_none');
  }

  /** A management.ssl.* setting; its origin is the last such line (they are checked together). */
  private setManagementTls<K extends keyof ManagementTlsSettings>(entry: Entry, key: K, value: ManagementTlsSettings[K]): void {
    this.managementTls[key] = value;
    this.origins.managementTls = this.origin(entry);
  }

  private set<K extends keyof Config>(entry: Entry, key: K, value: Config[K]): void {
    this.settings[key] = value;
    this.origins[key] = this.origin(entry);
  }

  private origin(entry: Entry): string {
    return `${this.fileName} line ${entry.line}: ${entry.key} = ${entry.value}`;
  }

  private bad(entry: Entry, problem: string): ConfigError {
    return new ConfigError(`${this.origin(entry)}: ${problem}`);
  }

  private valueOf(entry: Entry, parsed: number | string): number {
    if (typeof parsed === 'string') throw this.bad(entry, parsed);
    return parsed;
  }

  private integer(entry: Entry): number {
    if (!/^[+-]?\d+$/.test(entry.value)) throw this.bad(entry, 'expected a whole number');
    return Number(entry.value);
  }

  /** cuttlefish's float: digits, a point and digits (`1` and `.5` are refused, as RabbitMQ refuses them). */
  private float(entry: Entry): number {
    if (!/^[+-]?\d+\.\d+(?:[eE][+-]?\d+)?$/.test(entry.value)) throw this.bad(entry, 'expected a decimal number such as 0.4');
    return Number(entry.value);
  }

  private boolean(entry: Entry): boolean {
    if (entry.value === 'true') return true;
    if (entry.value === 'false') return false;
    throw this.bad(entry, 'expected true or false');
  }
}

/** cuttlefish's bytesize (frame_max): a number, optionally followed by KB, MB or GB in any case, in powers of 1024. */
export function parseByteSize(text: string): number | string {
  const match = /^(\d+)(kb|mb|gb)?$/i.exec(text);
  if (match === null) return 'expected a number of bytes, optionally with KB, MB or GB (powers of 1024)';
  const unit = match[2]?.toLowerCase();
  const multiplier = unit === 'kb' ? 1024 : unit === 'mb' ? 1024 ** 2 : unit === 'gb' ? 1024 ** 3 : 1;
  return Number(match[1]) * multiplier;
}

// RabbitMQ's information units (rabbit_resource_monitor_misc:parse_information_unit, as 3.10.8 answers): decimal
// kB/MB/GB and binary k/m/g and KiB/MiB/GiB, in exactly these spellings. `KiB` is listed by RabbitMQ's pattern but
// crashes its parser (3.10.8); Warren takes it as 1024.
const INFORMATION_UNITS: Record<string, number> = {};
for (const [spellings, multiplier] of [
  ['kB KB kb Kb', 1000],
  ['MB mb Mb', 1000 ** 2],
  ['GB gb Gb', 1000 ** 3],
  ['k K kiB KiB KIB kib', 1024],
  ['m M MiB MIB mib', 1024 ** 2],
  ['g G GiB GIB gib', 1024 ** 3],
] as const) {
  for (const spelling of spellings.split(' ')) INFORMATION_UNITS[spelling] = multiplier;
}

/** A byte count as RabbitMQ's disk_free_limit.absolute takes it: `50000000`, `50MB`, `500MiB`, `1GB`, `2g`… */
export function parseInformationUnit(text: string): number | string {
  const match = /^(\d+)([A-Za-z]*)$/.exec(text);
  const multiplier = match === null ? undefined : match[2] === '' ? 1 : INFORMATION_UNITS[match[2] as string];
  if (match === null || multiplier === undefined) {
    return 'expected a number of bytes, optionally with a unit: kB, MB, GB (powers of 1000) or k, m, g, KiB, MiB, GiB (powers of 1024)';
  }
  return Number(match[1]) * multiplier;
}
