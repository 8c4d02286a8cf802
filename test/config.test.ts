// resolveConfig: defaults ← config file ← WARREN_ environment ← flags, each value checked where it came from.
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, OPTIONS, environmentName, managementTlsSettings, resolveConfig } from '../src/config.js';
import { startBroker } from '../src/index.js';

const files = (contents: Record<string, string>) => (path: string) => {
  const text = contents[path];
  if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return text;
};
const errorOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('precedence', () => {
  it('is the defaults with no file, variable or flag', () => {
    expect(resolveConfig([], {})).toEqual({ config: DEFAULT_CONFIG, warnings: [] });
  });

  it('defaults ← config file ← environment ← flags, setting by setting', () => {
    const readFile = files({ 'w.conf': 'heartbeat = 10\nchannel_max = 10\nframe_max = 8192\nlisteners.tcp.default = 127.0.0.1:5700\n' });
    const env = { WARREN_CONFIG: 'w.conf', WARREN_CHANNEL_MAX: '20', WARREN_FRAME_MAX: '16384' };
    const { config } = resolveConfig(['--frame-max', '32768'], env, readFile);
    expect(config).toEqual({ ...DEFAULT_CONFIG, heartbeat: 10, channelMax: 20, frameMax: 32768, host: '127.0.0.1', port: 5700 });
  });

  it('--config beats WARREN_CONFIG', () => {
    const readFile = files({ 'a.conf': 'heartbeat = 1', 'b.conf': 'heartbeat = 2' });
    expect(resolveConfig(['--config', 'b.conf'], { WARREN_CONFIG: 'a.conf' }, readFile).config.heartbeat).toBe(2);
  });

  it('the last of a repeated flag wins', () => {
    expect(resolveConfig(['--port', '1', '--port', '2'], {}).config.port).toBe(2);
  });

  it('every option has a flag and a WARREN_ variable that set the same setting', () => {
    const samples: Record<string, [string, unknown]> = {
      port: ['5673', 5673],
      host: ['127.0.0.1', '127.0.0.1'],
      'data-dir': ['/var/lib/warren', '/var/lib/warren'],
      'log-level': ['debug', 'debug'],
      'log-format': ['pretty', 'pretty'],
      heartbeat: ['30', 30],
      'frame-max': ['65536', 65536],
      'channel-max': ['100', 100],
      'max-message-size': ['1048576', 1048576],
      'disk-free-limit': ['1GB', 1_000_000_000],
      'memory-high-watermark': ['0.6', 0.6],
      'load-definitions': ['/etc/defs.json', '/etc/defs.json'],
      'default-user': ['admin', 'admin'],
      'default-pass': ['s3cret', 's3cret'],
      'default-user-tags': ['administrator, monitoring', ['administrator', 'monitoring']],
      'default-vhost': ['apps', 'apps'],
      'loopback-users': ['guest,bob', ['guest', 'bob']],
      'auth-mechanisms': ['AMQPLAIN', ['AMQPLAIN']],
      'management-port': ['off', -1],
      'metrics-port': ['15693', 15693],
      'tls-port': ['5676', 5676],
      'tls-cert': ['/etc/warren/server_certificate.pem', '/etc/warren/server_certificate.pem'],
      'tls-key': ['/etc/warren/server_key.pem', '/etc/warren/server_key.pem'],
      'tls-ca': ['/etc/warren/ca_certificate.pem', '/etc/warren/ca_certificate.pem'],
      'tls-key-passphrase': ['s3cret', 's3cret'],
      'tls-verify': ['peer', 'peer'],
      'tls-fail-if-no-peer-cert': ['false', false],
      'tls-depth': ['2', 2],
      'tls-versions': ['tlsv1.3', ['tlsv1.3']],
      'tls-ciphers': ['TLS_AES_256_GCM_SHA384,ECDHE-ECDSA-AES256-GCM-SHA384', ['TLS_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384']],
      'tls-handshake-timeout': ['1000', 1000],
      'ssl-cert-login-from': ['common_name', 'common_name'],
      'management-tls-port': ['15675', 15675],
    };
    for (const spec of OPTIONS) {
      if (spec.key === undefined) continue;
      const sample = samples[spec.flag];
      expect(sample, `a sample for --${spec.flag}`).toBeDefined();
      const [text, value] = sample as [string, unknown];
      expect(resolveConfig([`--${spec.flag}`, text], {}).config[spec.key]).toEqual(value);
      expect(resolveConfig([], { [environmentName(spec.flag)]: text }).config[spec.key]).toEqual(value);
    }
  });

  it('log format: auto unless a flag, variable or log.console.formatter says json or pretty; anything else refused', () => {
    expect(DEFAULT_CONFIG.logFormat).toBe('auto');
    const readFile = files({ 'w.conf': 'log.console.formatter = plaintext' });
    expect(resolveConfig(['--config', 'w.conf'], {}, readFile).config.logFormat).toBe('pretty');
    expect(resolveConfig(['--config', 'w.conf'], { WARREN_LOG_FORMAT: 'json' }, readFile).config.logFormat).toBe('json');
    expect(resolveConfig(['--log-format', 'auto'], { WARREN_LOG_FORMAT: 'json' }).config.logFormat).toBe('auto');
    expect(errorOf(() => resolveConfig(['--log-format', 'text'], {}))).toBe('--log-format text: must be one of auto, json, pretty');
  });

  it('--loopback-users none and an empty list both mean nobody', () => {
    expect(resolveConfig(['--loopback-users', 'none'], {}).config.loopbackUsers).toEqual([]);
    expect(resolveConfig([], { WARREN_LOOPBACK_USERS: '' }).config.loopbackUsers).toEqual([]);
  });

  it('--no-management turns the management API off, over the file and the environment', () => {
    const readFile = files({ 'm.conf': 'management.tcp.port = 15673\n' });
    expect(resolveConfig(['--config', 'm.conf'], {}, readFile).config.managementPort).toBe(15673);
    expect(resolveConfig(['--config', 'm.conf', '--no-management'], { WARREN_MANAGEMENT_PORT: '15674' }, readFile).config.managementPort).toBe(-1);
    expect(resolveConfig(['--management'], {}).config.managementPort).toBe(DEFAULT_CONFIG.managementPort);
  });

  it('metrics port: prometheus.tcp.port in the file, off/-1 or 0 (a free port) from flags, nothing else negative', () => {
    expect(DEFAULT_CONFIG.metricsPort).toBe(15692);
    const readFile = files({ 'p.conf': 'prometheus.tcp.port = 9419\n' });
    expect(resolveConfig(['--config', 'p.conf'], {}, readFile).config.metricsPort).toBe(9419);
    expect(resolveConfig(['--config', 'p.conf', '--metrics-port', '-1'], {}, readFile).config.metricsPort).toBe(-1);
    expect(resolveConfig([], { WARREN_METRICS_PORT: '0' }).config.metricsPort).toBe(0);
    expect(resolveConfig([], { WARREN_METRICS_PORT: 'off' }).config.metricsPort).toBe(-1);
    expect(() => resolveConfig(['--metrics-port', '-2'], {})).toThrow('--metrics-port -2: expected a port number, or off');
    expect(() => resolveConfig(['--config', 'q.conf'], {}, files({ 'q.conf': 'prometheus.tcp.port = 70000\n' }))).toThrow(
      'q.conf line 1: prometheus.tcp.port = 70000: must be a whole number from 0 to 65535',
    );
  });

  it('takes a disk free limit larger than any disk', () => {
    expect(resolveConfig(['--disk-free-limit', '1000000000000000000'], {}).config.diskFreeLimit).toBe(1e18);
  });

  it('channel_max 0 means no limit: the highest channel number AMQP allows', () => {
    expect(resolveConfig(['--channel-max', '0'], {}).config.channelMax).toBe(65535);
  });
});

describe('unknown and bad settings', () => {
  it('warns about a WARREN_ variable that is no option, and starts', () => {
    const { config, warnings } = resolveConfig([], { WARREN_DATA: '/tmp/x', WARREN_PORT: '5673', HOME: '/root' });
    expect(config.port).toBe(5673);
    expect(warnings).toEqual(['environment variable WARREN_DATA is not a Warren option, ignored']);
  });

  it('does not warn about the WARREN_CTL_ variables of warren ctl', () => {
    expect(resolveConfig([], { WARREN_CTL_URL: 'http://127.0.0.1:15672', WARREN_CTL_PASSWORD: 'x' }).warnings).toEqual([]);
  });

  it('passes on the config file warnings', () => {
    const readFile = files({ 'w.conf': 'management.ssl.honor_cipher_order = true\n' });
    expect(resolveConfig(['--config', 'w.conf'], {}, readFile).warnings).toEqual([
      'w.conf line 1: unknown key management.ssl.honor_cipher_order (not a Warren setting), ignored',
    ]);
  });

  it('management.ssl.*: the HTTPS listener takes the amqps certificate, key, CA and versions unless given, and verify none unless given', () => {
    const amqps = ['ssl_options.certfile = /amqp.pem', 'ssl_options.keyfile = /amqp-key.pem', 'ssl_options.cacertfile = /ca.pem', 'ssl_options.verify = verify_peer', 'ssl_options.fail_if_no_peer_cert = true', 'ssl_options.versions.1 = tlsv1.3'];
    const inherit = resolveConfig(['--config', 'a.conf'], {}, files({ 'a.conf': `${amqps.join('\n')}\nmanagement.ssl.port = 15675\n` })).config;
    expect(inherit.managementTlsPort).toBe(15675);
    expect(managementTlsSettings(inherit)).toMatchObject({ tlsCert: '/amqp.pem', tlsKey: '/amqp-key.pem', tlsCa: '/ca.pem', tlsVersions: ['tlsv1.3'], tlsVerify: 'none', tlsFailIfNoPeerCert: false });
    const own = [...amqps, 'management.ssl.certfile = /web.pem', 'management.ssl.keyfile = /web-key.pem', 'management.ssl.verify = verify_peer', 'management.ssl.depth = 2', 'management.ssl.versions.1 = tlsv1.2'];
    const config = resolveConfig(['--config', 'b.conf'], {}, files({ 'b.conf': own.join('\n') })).config;
    expect(managementTlsSettings(config)).toMatchObject({ tlsCert: '/web.pem', tlsKey: '/web-key.pem', tlsCa: '/ca.pem', tlsVerify: 'peer', tlsDepth: 2, tlsVersions: ['tlsv1.2'] });
    expect(errorOf(() => resolveConfig(['--config', 'c.conf'], {}, files({ 'c.conf': 'management.ssl.versions.1 = tlsv1.1\n' })))).toContain(
      'c.conf line 1: management.ssl.versions.1 = tlsv1.1: tlsVersions: tlsv1.1 is not supported',
    );
  });

  it('refuses an unknown flag', () => {
    expect(errorOf(() => resolveConfig(['--data', 'x'], {}))).toContain('Unknown argument: data');
  });

  it('names the source of a bad value: file line, variable or flag', () => {
    const readFile = files({ 'w.conf': '\nheartbeat = 70000\n', 'm.conf': 'auth_mechanisms.1 = EXTERNAL\n' });
    expect(errorOf(() => resolveConfig(['--config', 'w.conf'], {}, readFile))).toBe(
      'w.conf line 2: heartbeat = 70000: must be a whole number from 0 to 65535',
    );
    expect(errorOf(() => resolveConfig([], { WARREN_PORT: 'abc' }))).toBe('WARREN_PORT=abc: expected a whole number');
    expect(errorOf(() => resolveConfig(['--frame-max', '100'], {}))).toBe('--frame-max 100: must be 0 (no limit) or a whole number from 4096 to 4294967295');
    expect(errorOf(() => resolveConfig(['--max-message-size', '600000000'], {}))).toContain('must be a whole number from 1 to 536870912');
    expect(errorOf(() => resolveConfig(['--log-level', 'loud'], {}))).toContain('--log-level loud: must be one of fatal');
    expect(errorOf(() => resolveConfig(['--disk-free-limit', '5 GB'], {}))).toContain('--disk-free-limit 5 GB: expected a number of bytes');
    expect(resolveConfig(['--config', 'm.conf'], {}, readFile).config.authMechanisms).toEqual(['EXTERNAL']);
    expect(errorOf(() => resolveConfig(['--auth-mechanisms', 'PLAIN,CRAM-MD5'], {}))).toBe(
      '--auth-mechanisms PLAIN,CRAM-MD5: CRAM-MD5 is not supported; Warren supports PLAIN, AMQPLAIN, EXTERNAL',
    );
    expect(errorOf(() => resolveConfig(['--auth-mechanisms', 'none'], {}))).toContain('at least one is needed');
  });

  it('checks a file value even when a flag overrides it', () => {
    const readFile = files({ 'w.conf': 'heartbeat = abc\n' });
    expect(errorOf(() => resolveConfig(['--config', 'w.conf', '--heartbeat', '5'], {}, readFile))).toContain('w.conf line 1: heartbeat = abc');
  });

  it('says when the config file cannot be read', () => {
    expect(errorOf(() => resolveConfig(['--config', 'missing.conf'], {}, files({})))).toBe(
      "cannot read config file missing.conf: ENOENT: no such file or directory, open 'missing.conf'",
    );
  });
});

describe('startBroker settings', () => {
  it('throws ConfigError naming a setting with a bad value, before opening anything', async () => {
    await expect(startBroker({ heartbeat: -1 })).rejects.toThrow(new ConfigError('heartbeat: must be a whole number from 0 to 65535'));
    await expect(startBroker({ authMechanisms: ['CRAM-MD5'] })).rejects.toThrow(ConfigError);
    await expect(startBroker({ port: -1 })).rejects.toThrow(new ConfigError(
      'port -1 turns the plain AMQP listener off, which leaves no listener: give a TLS certificate (--tls-cert)',
    ));
  });
});

describe('TLS settings', () => {
  it('takes --tls-fail-if-no-peer-cert alone as true, and --port -1 (TLS only) with a certificate', () => {
    const { config } = resolveConfig(['--tls-cert', 'c.pem', '--tls-ca', 'ca.pem', '--tls-verify', 'peer', '--tls-fail-if-no-peer-cert', '--port', '-1'], {});
    expect(config).toMatchObject({ tlsCert: 'c.pem', tlsVerify: 'peer', tlsFailIfNoPeerCert: true, port: -1, tlsPort: 5671 });
  });

  it('refuses settings that cannot work, naming them', () => {
    expect(errorOf(() => resolveConfig(['--port', '-1'], {}))).toContain('port -1 turns the plain AMQP listener off');
    expect(errorOf(() => resolveConfig(['--tls-fail-if-no-peer-cert'], {}))).toBe(
      'tls-fail-if-no-peer-cert needs tls-verify peer (a certificate that is not asked for cannot be required)',
    );
    expect(errorOf(() => resolveConfig(['--tls-cert', 'c.pem', '--tls-verify', 'peer'], {}))).toBe(
      'tls-verify peer needs tls-ca, the CA certificates client certificates are verified against',
    );
    expect(errorOf(() => resolveConfig(['--tls-versions', 'tlsv1.1,tlsv1.2'], {}))).toBe(
      '--tls-versions tlsv1.1,tlsv1.2: tlsv1.1 is not supported; Warren accepts tlsv1.2 and tlsv1.3 only',
    );
    expect(errorOf(() => resolveConfig(['--tls-verify', 'verify_peer'], {}))).toBe('--tls-verify verify_peer: expected none or peer');
    expect(errorOf(() => resolveConfig([], { WARREN_SSL_CERT_LOGIN_FROM: 'subject_alternative_name' }))).toBe(
      'WARREN_SSL_CERT_LOGIN_FROM=subject_alternative_name: expected distinguished_name or common_name',
    );
  });

  it('reads the ssl_options keys of rabbitmq.conf', () => {
    const readFile = files({
      't.conf': [
        'listeners.tcp = none',
        'listeners.ssl.default = 5676',
        'ssl_options.cacertfile = /certs/ca_certificate.pem',
        'ssl_options.certfile = /certs/server_certificate.pem',
        'ssl_options.keyfile = /certs/server_key.pem',
        'ssl_options.password = s3cret',
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = true',
        'ssl_options.depth = 2',
        'ssl_options.versions.1 = tlsv1.3',
        'ssl_options.versions.2 = tlsv1.2',
        'ssl_options.ciphers.1 = TLS_AES_256_GCM_SHA384',
        'ssl_handshake_timeout = 3000',
        'ssl_cert_login_from = common_name',
        'auth_mechanisms.1 = EXTERNAL',
        '',
      ].join('\n'),
    });
    const { config, warnings } = resolveConfig(['--config', 't.conf'], {}, readFile);
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      ...DEFAULT_CONFIG,
      port: -1,
      tlsPort: 5676,
      tlsCa: '/certs/ca_certificate.pem',
      tlsCert: '/certs/server_certificate.pem',
      tlsKey: '/certs/server_key.pem',
      tlsKeyPassphrase: 's3cret',
      tlsVerify: 'peer',
      tlsFailIfNoPeerCert: true,
      tlsDepth: 2,
      tlsVersions: ['tlsv1.3', 'tlsv1.2'],
      tlsCiphers: ['TLS_AES_256_GCM_SHA384'],
      tlsHandshakeTimeout: 3000,
      sslCertLoginFrom: 'common_name',
      authMechanisms: ['EXTERNAL'],
    });
    const bad = files({ 'b.conf': 'ssl_options.verify = peer\n', 'v.conf': 'ssl_options.versions.1 = tlsv1.1\n' });
    expect(errorOf(() => resolveConfig(['--config', 'b.conf'], {}, bad))).toBe('b.conf line 1: ssl_options.verify = peer: expected verify_peer or verify_none');
    expect(errorOf(() => resolveConfig(['--config', 'v.conf'], {}, bad))).toBe(
      'v.conf line 1: ssl_options.versions.1 = tlsv1.1: tlsv1.1 is not supported; Warren accepts tlsv1.2 and tlsv1.3 only',
    );
  });
});
