// The rabbitmq.conf reader: syntax and value formats as RabbitMQ 3.10.8 (cuttlefish + rabbit.schema) reads them.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfFile, parseInformationUnit } from '../src/config-file.js';

const parse = (...lines: string[]) => parseConfFile(lines.join('\n'), 'rabbitmq.conf');
const errorOf = (...lines: string[]): string => {
  try {
    parse(...lines);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('rabbitmq.conf keys', () => {
  it('reads every key Warren has', () => {
    const { settings, warnings } = parse(
      'listeners.tcp.default = 127.0.0.1:5673',
      'default_user = admin',
      'default_pass = s3cret',
      'default_vhost = apps',
      'default_user_tags.administrator = true',
      'default_user_tags.monitoring = true',
      'loopback_users.guest = false',
      'vm_memory_high_watermark.relative = 0.6',
      'disk_free_limit.absolute = 1GB',
      'heartbeat = 30',
      'frame_max = 65536',
      'channel_max = 100',
      'max_message_size = 1048576',
      'load_definitions = /etc/warren/definitions.json',
      'auth_mechanisms.1 = AMQPLAIN',
      'auth_mechanisms.2 = PLAIN',
      'management.tcp.port = 15673',
      'log.console.formatter = json',
    );
    expect(warnings).toEqual([]);
    expect(settings).toEqual({
      managementPort: 15673,
      host: '127.0.0.1',
      port: 5673,
      defaultUser: 'admin',
      defaultPass: 's3cret',
      defaultVhost: 'apps',
      defaultUserTags: ['administrator', 'monitoring'],
      loopbackUsers: [],
      memoryHighWatermark: 0.6,
      diskFreeLimit: 1_000_000_000,
      heartbeat: 30,
      frameMax: 65536,
      channelMax: 100,
      maxMessageSize: 1048576,
      loadDefinitions: '/etc/warren/definitions.json',
      authMechanisms: ['AMQPLAIN', 'PLAIN'],
      logFormat: 'json',
    });
  });

  it("log.console.formatter: RabbitMQ's plaintext is Warren's pretty lines, json its JSON lines", () => {
    expect(parse('log.console.formatter = plaintext').settings).toEqual({ logFormat: 'pretty' });
    expect(parse('log.console.formatter = json').settings).toEqual({ logFormat: 'json' });
    expect(errorOf('log.console.formatter = pretty')).toBe('rabbitmq.conf line 1: log.console.formatter = pretty: expected plaintext or json');
  });

  it('takes a bare port (host unchanged) or an IPv6 address split at the last colon, as cuttlefish does', () => {
    expect(parse('listeners.tcp.default = 5673').settings).toEqual({ port: 5673 });
    expect(parse('listeners.tcp.default = ::1:5673').settings).toEqual({ host: '::1', port: 5673 });
    expect(parse('listeners.tcp.1 = 0.0.0.0:5673').settings).toEqual({ host: '0.0.0.0', port: 5673 });
  });

  it('loopback_users: none, or NAME = true/false, only true ones kept', () => {
    expect(parse('loopback_users = none').settings.loopbackUsers).toEqual([]);
    expect(parse('loopback_users.guest = true', 'loopback_users.bob = true', 'loopback_users.carol = false').settings.loopbackUsers).toEqual([
      'guest',
      'bob',
    ]);
    expect(parse('loopback_users.guest = true', 'loopback_users = none').settings.loopbackUsers).toEqual([]);
    expect(parse('loopback_users.user\\.name = true').settings.loopbackUsers).toEqual(['user.name']);
  });

  it('default_user_tags: the true ones replace the default list', () => {
    expect(parse('default_user_tags.administrator = false', 'default_user_tags.monitoring = true').settings.defaultUserTags).toEqual(['monitoring']);
    expect(parse('default_user_tags.administrator = false').settings.defaultUserTags).toEqual([]);
  });

  it('frame_max takes cuttlefish byte sizes: KB, MB, GB in any case, powers of 1024', () => {
    expect(parse('frame_max = 128KB').settings.frameMax).toBe(131072);
    expect(parse('frame_max = 1mb').settings.frameMax).toBe(1048576);
    expect(errorOf('frame_max = 1MiB')).toContain('rabbitmq.conf line 1: frame_max = 1MiB: expected a number of bytes');
  });
});

describe('rabbitmq.conf syntax', () => {
  it('skips comments and blank lines, trims values, keeps inner spaces, and reads CRLF files', () => {
    const { settings } = parseConfFile(
      '# a comment\r\n\r\n   # indented comment\r\n  default_user =   my user  \r\ndefault_pass\t=\tab c\t# trailing comment\r\nheartbeat=7',
      'x.conf',
    );
    expect(settings).toEqual({ defaultUser: 'my user', defaultPass: 'ab c', heartbeat: 7 });
  });

  it('has no quoting: # always starts a comment, quotes and = stay in the value', () => {
    expect(parse('default_pass = pa#ss').settings.defaultPass).toBe('pa');
    expect(parse('default_user = "quoted"').settings.defaultUser).toBe('"quoted"');
    expect(parse('default_pass = a=b').settings.defaultPass).toBe('a=b');
  });

  it('a key given twice takes its last value', () => {
    expect(parse('heartbeat = 10', 'heartbeat = 20').settings.heartbeat).toBe(20);
    expect(parse('auth_mechanisms.1 = PLAIN', 'auth_mechanisms.1 = AMQPLAIN').settings.authMechanisms).toEqual(['AMQPLAIN']);
  });

  it('refuses a line that is not key = value, an empty value and include, naming the line', () => {
    expect(errorOf('heartbeat = 5', 'heartbeat')).toBe('rabbitmq.conf line 2: cannot read "heartbeat"; expected key = value');
    expect(errorOf('', 'default_vhost = ')).toBe('rabbitmq.conf line 2: default_vhost has no value');
    expect(errorOf('foo$bar = 1')).toBe('rabbitmq.conf line 1: cannot read "foo$bar = 1"; expected key = value');
    expect(errorOf('include /etc/rabbitmq/conf.d/*.conf')).toContain('line 1: include is not supported');
  });
});

describe('rabbitmq.conf bad values and unknown keys', () => {
  it('names the key, its value and its line', () => {
    expect(errorOf('# c', 'heartbeat = abc')).toBe('rabbitmq.conf line 2: heartbeat = abc: expected a whole number');
    expect(errorOf('channel_max = 1_000')).toBe('rabbitmq.conf line 1: channel_max = 1_000: expected a whole number');
    expect(errorOf('vm_memory_high_watermark.relative = 1')).toBe(
      'rabbitmq.conf line 1: vm_memory_high_watermark.relative = 1: expected a decimal number such as 0.4',
    );
    expect(errorOf('vm_memory_high_watermark.relative = .5')).toContain('expected a decimal number');
    expect(errorOf('default_user_tags.administrator = yes')).toBe('rabbitmq.conf line 1: default_user_tags.administrator = yes: expected true or false');
    expect(errorOf('loopback_users.guest = no')).toContain('expected true or false');
    expect(errorOf('loopback_users = guest')).toContain('loopback_users = guest: expected none');
    expect(errorOf('disk_free_limit.absolute = 50 MB')).toContain('disk_free_limit.absolute = 50 MB: expected a number of bytes, optionally with a unit');
  });

  it('refuses a listener that is not PORT or IP:PORT, a second listener, and listeners.tcp other than none', () => {
    expect(errorOf('listeners.tcp.default = abc')).toContain('listeners.tcp.default = abc: expected PORT or IP:PORT');
    expect(errorOf('listeners.tcp.default = localhost:5673')).toContain('localhost is not an IP address');
    expect(errorOf('listeners.tcp.default = [::1]:5673')).toContain('[::1] is not an IP address');
    expect(errorOf('listeners.tcp.default = 5672', 'listeners.tcp.other = 5673')).toBe(
      'rabbitmq.conf line 2: listeners.tcp.other = 5673: Warren listens on one address, already set by listeners.tcp.default on line 1',
    );
    expect(errorOf('listeners.tcp = 5672')).toContain('listeners.tcp = 5672: expected none');
    expect(parse('listeners.tcp = none').settings).toEqual({ port: -1 });
    expect(parse('listeners.ssl.default = 127.0.0.1:5676').settings).toEqual({ host: '127.0.0.1', tlsPort: 5676 });
    expect(errorOf('listeners.tcp.default = 127.0.0.1:5672', 'listeners.ssl.default = ::1:5671')).toBe(
      "rabbitmq.conf line 2: listeners.ssl.default = ::1:5671: Warren's TLS and plain listeners share one address, and rabbitmq.conf line 1: listeners.tcp.default = 127.0.0.1:5672 gives 127.0.0.1",
    );
  });

  it('warns about keys Warren does not have, naming key and line, and reads the rest', () => {
    const { settings, warnings } = parse(
      'management.ssl.honor_cipher_order = true',
      'heartbeat = 5',
      'ssl_options.honor_cipher_order = true',
      'ssl_options.cacertfile = /ca.pem',
      'prometheus.tcp.port = 15693',
      'disk_free_limit.relative = 1.5',
    );
    expect(settings).toEqual({ heartbeat: 5, tlsCa: '/ca.pem', metricsPort: 15693 });
    expect(warnings).toEqual([
      'rabbitmq.conf line 1: unknown key management.ssl.honor_cipher_order (not a Warren setting), ignored',
      'rabbitmq.conf line 3: unknown key ssl_options.honor_cipher_order (not a Warren setting), ignored',
      'rabbitmq.conf line 6: unknown key disk_free_limit.relative (not a Warren setting), ignored',
    ]);
  });
});

describe('information units (disk_free_limit.absolute, --disk-free-limit)', () => {
  it('takes exactly the spellings RabbitMQ 3.10.8 takes', () => {
    // Each answer below is rabbit_resource_monitor_misc:parse_information_unit/1's, run in RabbitMQ 3.10.8's Erlang.
    const accepted: [string, number][] = [
      ['50000000', 50_000_000],
      ['50MB', 50_000_000],
      ['50mb', 50_000_000],
      ['50Mb', 50_000_000],
      ['50kB', 50_000],
      ['50KB', 50_000],
      ['50kb', 50_000],
      ['1GB', 1_000_000_000],
      ['1Gb', 1_000_000_000],
      ['50k', 51_200],
      ['50K', 51_200],
      ['50m', 52_428_800],
      ['50g', 53_687_091_200],
      ['500MiB', 524_288_000],
      ['500mib', 524_288_000],
      ['500MIB', 524_288_000],
      ['500kiB', 512_000],
      ['1GiB', 1_073_741_824],
      ['1gib', 1_073_741_824],
    ];
    for (const [text, bytes] of accepted) expect([text, parseInformationUnit(text)]).toEqual([text, bytes]);
    for (const text of ['50mB', '500Mib', '500miB', '50Kib', '50 MB', '1.5GB', '50B', '50TB', '-5', ''])
      expect([text, typeof parseInformationUnit(text)]).toEqual([text, 'string']);
  });
});
