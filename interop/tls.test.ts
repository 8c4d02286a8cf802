// TLS (amqps), compared with private RabbitMQ nodes configured with the same certificates and the same
// rabbitmq.conf lines (Warren reads them from its --config). The test makes its own CA, server and client
// certificates with openssl. Two configurations, each on both brokers:
//   required: verify_peer + fail_if_no_peer_cert = true, TLS 1.2/1.3, EXTERNAL by distinguished name
//   optional: verify_peer + fail_if_no_peer_cert = false, EXTERNAL by common name
// Warren only: SIGHUP certificate reload, start-up errors for unusable files, the log lines of refusals.
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asServerError, sleep, timeout, waitUntil } from './support/amqp.js';
import { runPika } from './support/clients.js';
import { gate, label, pikaDependency, rabbitmqDependency } from './support/deps.js';
import { freePorts } from './support/ports.js';
import { removeDir, trackDir } from './support/procs.js';
import { type RabbitNode, startRabbitMQ } from './support/rabbitmq.js';
import { runWarrenToExit, startWarren, type WarrenProcess } from './support/warren.js';

const execFileAsync = promisify(execFile);

const CLIENT_DN = 'CN=app-client,OU=clients,O=Example Org,C=DE';
const EXTENSIONS = `
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[intermediate]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
`;

/**
 * tls-gen's layout (ca_certificate.pem, server_certificate.pem, server_key.pem, client_certificate.pem,
 * client_key.pem) plus: nobody_* (same CA, a DN that names no user), other_* (a second CA), rotated_* (a new
 * server certificate for the reload test). EC P-256 keys: quick to make.
 */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 10_000 });
  fs.writeFileSync(path.join(dir, 'extensions.cnf'), EXTENSIONS);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, subject: string) =>
    ssl('req', '-x509', ...ec, '-keyout', `${name}_key.pem`, '-out', `${name}_certificate.pem`, '-days', '2', '-subj', subject,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = (name: string, subject: string, issuer: string, kind: 'server' | 'client' | 'intermediate') => {
    ssl('req', ...ec, '-utf8', '-keyout', `${name}_key.pem`, '-out', `${name}.csr`, '-subj', subject);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}_certificate.pem`, '-CAkey', `${issuer}_key.pem`, '-set_serial',
      `0x${crypto.randomBytes(8).toString('hex')}`, '-out', `${name}_certificate.pem`, '-days', '2', '-extfile', 'extensions.cnf', '-extensions', kind);
  };
  ca('ca', '/O=Example Org/CN=Example Test CA');
  ca('other_ca', '/O=Elsewhere/CN=Other Test CA');
  issue('server', '/O=Example Org/CN=localhost', 'ca', 'server');
  issue('rotated', '/O=Rotated Org/CN=localhost', 'ca', 'server');
  issue('client', '/C=DE/O=Example Org/OU=clients/CN=app-client', 'ca', 'client');
  issue('nobody', '/O=Example Org/CN=nobody', 'ca', 'client');
  issue('other', '/C=DE/O=Example Org/OU=clients/CN=app-client', 'other_ca', 'client');
  // A client certificate issued by an intermediate CA; the client sends both (one intermediate in the chain).
  issue('intermediate', '/O=Example Org/CN=Example Intermediate CA', 'ca', 'intermediate');
  issue('chained_leaf', '/O=Example Org/CN=chained', 'intermediate', 'client');
  fs.writeFileSync(
    path.join(dir, 'chained_certificate.pem'),
    Buffer.concat([fs.readFileSync(path.join(dir, 'chained_leaf_certificate.pem')), fs.readFileSync(path.join(dir, 'intermediate_certificate.pem'))]),
  );
  fs.copyFileSync(path.join(dir, 'chained_leaf_key.pem'), path.join(dir, 'chained_key.pem'));
  // Characters RFC 4514 escapes, and a non-ASCII one.
  issue('odd', '/C=DE/O=Example, Inc./OU=x;y "q" <t> a\\+b/L=Köln/CN=#lead trail ', 'ca', 'client');
  // The RabbitMQ node runs as user rabbitmq: it must read them (test keys in a private temp dir).
  fs.chmodSync(dir, 0o755);
  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o644);
}

/** The subject as `openssl x509 -nameopt RFC2253 -subject` prints it. */
function opensslSubject(dir: string, name: string): string {
  const out = execFileSync('openssl', ['x509', '-in', path.join(dir, `${name}_certificate.pem`), '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
  return out.trim().replace(/^subject=/, '');
}

const GUEST_HASH = 'lWgYbyI/cg6ApTMALnxsetnttc4Wrv2kHBVeVRJImTYBUYtt';
// Publishing through the default exchange needs write on amq.default.
const APP_PERMISSIONS = { vhost: '/', configure: '^app\\.', write: '^(app\\.|amq\\.default$)', read: '^app\\.' };
function definitions(oddDn: string) {
  return {
  users: [
    { name: oddDn, password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] },
    { name: 'guest', password_hash: GUEST_HASH, hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] },
    // No password: these log in with a certificate only.
    { name: CLIENT_DN, password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] },
    { name: 'app-client', password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] },
  ],
  vhosts: [{ name: '/' }],
  permissions: [
    { user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    { user: CLIENT_DN, ...APP_PERMISSIONS },
    { user: 'app-client', ...APP_PERMISSIONS },
    { user: oddDn, ...APP_PERMISSIONS },
  ],
  };
}

type Mode = 'required' | 'optional';

/** The rabbitmq.conf lines both brokers read (the TLS port is each broker's own). */
function tlsConfig(dir: string, mode: Mode): string[] {
  return [
    `ssl_options.cacertfile = ${dir}/ca_certificate.pem`,
    `ssl_options.certfile = ${dir}/server_certificate.pem`,
    `ssl_options.keyfile = ${dir}/server_key.pem`,
    'ssl_options.verify = verify_peer',
    `ssl_options.fail_if_no_peer_cert = ${mode === 'required'}`,
    // RabbitMQ 3.10.8 accepts TLS 1.0/1.1 unless told not to; Warren never does (operations.md 5.1).
    'ssl_options.versions.1 = tlsv1.3',
    'ssl_options.versions.2 = tlsv1.2',
    'ssl_handshake_timeout = 1000',
    'auth_mechanisms.1 = PLAIN',
    'auth_mechanisms.2 = AMQPLAIN',
    'auth_mechanisms.3 = EXTERNAL',
    ...(mode === 'optional' ? ['ssl_cert_login_from = common_name', 'ssl_options.depth = 0'] : []),
  ];
}

interface Target {
  name: string;
  plainPort: number;
  tlsPort: number;
  /** The management API over HTTPS (the `required` brokers run it). */
  httpsPort?: number;
}

/** management.ssl.* lines: the same certificate as AMQP, no client certificate asked for (both brokers read them). */
function httpsConfig(dir: string): string[] {
  return [
    `management.ssl.cacertfile = ${dir}/ca_certificate.pem`,
    `management.ssl.certfile = ${dir}/server_certificate.pem`,
    `management.ssl.keyfile = ${dir}/server_key.pem`,
  ];
}

/** The port of Warren's `listening` line for protocol. */
async function warrenListenerPort(warren: WarrenProcess, protocol: string): Promise<number> {
  let port: number | undefined;
  await waitUntil(
    () => {
      const line = warren.output().split('\n').find((l) => l.includes(`"protocol":"${protocol}"`) && l.includes('"msg":"listening"'));
      if (line !== undefined) port = (JSON.parse(line) as { port: number }).port;
      return port !== undefined;
    },
    10_000,
    `Warren logs its ${protocol} listener`,
  );
  return port as number;
}

/** GET over HTTPS as guest, trusting the test CA and checking the name localhost. */
function httpsGet(dir: string, port: number, urlPath: string): Promise<{ status: number; body: unknown }> {
  return timeout(
    new Promise((resolve, reject) => {
      const request = https.get(
        { host: '127.0.0.1', port, path: urlPath, ca: file(dir, 'ca_certificate.pem'), servername: 'localhost', auth: 'guest:guest' },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }));
        },
      );
      request.on('error', reject);
    }),
    8_000,
    `GET ${urlPath} over HTTPS`,
  );
}

/** The TLS port from Warren's second "listening" line. */
async function warrenTlsPort(warren: WarrenProcess): Promise<number> {
  let port: number | undefined;
  await waitUntil(
    () => {
      const line = warren.output().split('\n').find((l) => l.includes('"tls":true') && l.includes('"msg":"listening"'));
      if (line !== undefined) port = (JSON.parse(line) as { port: number }).port;
      return port !== undefined;
    },
    10_000,
    'Warren logs its TLS listener',
  );
  return port as number;
}

function file(dir: string, name: string): Buffer {
  return fs.readFileSync(path.join(dir, name));
}

/** amqplib socket options: verify the server (CA, name localhost) and, with `client`, present that certificate. */
function socketOptions(dir: string, client?: 'client' | 'nobody' | 'other' | 'odd' | 'chained'): Record<string, unknown> {
  return {
    ca: [file(dir, 'ca_certificate.pem')],
    servername: 'localhost',
    timeout: 5_000,
    ...(client === undefined ? {} : { cert: file(dir, `${client}_certificate.pem`), key: file(dir, `${client}_key.pem`) }),
  };
}

/** Connects over amqps and does one round trip, or says how the connection was refused. */
async function tryAmqps(
  target: Target,
  dir: string,
  client: 'client' | 'nobody' | 'other' | 'chained' | undefined,
  external = false,
): Promise<{ refused: boolean; error?: string }> {
  const url = external ? `amqps://127.0.0.1:${target.tlsPort}` : `amqps://guest:guest@127.0.0.1:${target.tlsPort}`;
  const opts = { ...socketOptions(dir, client), ...(external ? { credentials: amqp.credentials.external() } : {}) };
  try {
    const connection = await timeout(amqp.connect(url, opts), 8_000, 'amqps connect');
    connection.on('error', () => {});
    const channel = await connection.createChannel();
    await channel.assertQueue('', { exclusive: true });
    await connection.close();
    return { refused: false };
  } catch (error) {
    return { refused: true, error: (error as Error).message };
  }
}

/** amqplib's 'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "..."' as data. */
function handshakeRefusal(error: unknown): { code: number; text: string } | string {
  const match = /: (\d+) \([A-Z-]+\) with message "([\s\S]*)"$/.exec((error as Error).message);
  return match === null ? (error as Error).message : { code: Number(match[1]), text: match[2] as string };
}

const rabbitDep = rabbitmqDependency();
const pikaDep = pikaDependency();
const skip = gate(rabbitDep) || gate(pikaDep);

describe.skipIf(skip)(label('TLS: Warren and RabbitMQ with the same certificates', rabbitDep, pikaDep), () => {
  let dir = '';
  let oddDn = '';
  const targets = new Map<string, Target>();
  const stops: (() => Promise<void>)[] = [];
  const warrens = new Map<Mode, WarrenProcess>();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-tls-'));
    trackDir(dir);
    makeCertificates(dir);
    oddDn = opensslSubject(dir, 'odd');
    const DEFINITIONS = definitions(oddDn);
    const definitionsFile = path.join(dir, 'definitions.json');
    fs.writeFileSync(definitionsFile, JSON.stringify(DEFINITIONS));
    fs.chmodSync(definitionsFile, 0o644);
    const [requiredPort, optionalPort] = (await freePorts(2)) as [number, number];
    const startRabbit = async (mode: Mode, port: number): Promise<RabbitNode> => {
      const httpsPort = mode === 'required' ? ((await freePorts(1))[0] as number) : undefined;
      const node = await startRabbitMQ({
        definitions: DEFINITIONS,
        plugins: ['rabbitmq_auth_mechanism_ssl'],
        management: httpsPort !== undefined,
        extraConfig: [
          `listeners.ssl.default = 127.0.0.1:${port}`,
          ...tlsConfig(dir, mode),
          ...(httpsPort === undefined ? [] : [`management.ssl.port = ${httpsPort}`, 'management.ssl.ip = 127.0.0.1', ...httpsConfig(dir)]),
        ],
      });
      stops.push(() => node.stop());
      targets.set(`rabbitmq ${mode}`, { name: `rabbitmq ${mode}`, plainPort: node.port, tlsPort: port, httpsPort });
      return node;
    };
    const startOneWarren = async (mode: Mode): Promise<void> => {
      const conf = path.join(dir, `warren-${mode}.conf`);
      const management = mode === 'required';
      fs.writeFileSync(conf, [...tlsConfig(dir, mode), ...(management ? httpsConfig(dir) : []), `load_definitions = ${definitionsFile}`, ''].join('\n'));
      const warren = await startWarren({
        args: ['--config', conf, '--tls-port', '0', ...(management ? ['--management-port', '0', '--management-tls-port', '0'] : [])],
      });
      stops.push(() => warren.stop());
      warrens.set(mode, warren);
      targets.set(`warren ${mode}`, {
        name: `warren ${mode}`,
        plainPort: warren.port,
        tlsPort: await warrenTlsPort(warren),
        httpsPort: management ? await warrenListenerPort(warren, 'https') : undefined,
      });
    };
    await Promise.all([startRabbit('required', requiredPort), startRabbit('optional', optionalPort), startOneWarren('required'), startOneWarren('optional')]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    if (dir) removeDir(dir);
  }, 40_000);

  /** Waits for Warren's log line (it may reach us after the client has seen the close). */
  const logged = (mode: Mode, line: RegExp) => waitUntil(() => line.test(warrens.get(mode)?.output() ?? ''), 3_000, `Warren logs ${line}`);

  /** Runs `run` against RabbitMQ and Warren in `mode`; checks both answers and that Warren's equals RabbitMQ's. */
  async function compare<R>(mode: Mode, run: (target: Target) => Promise<R>, check: (answer: R) => void, equal = (a: R) => a as unknown): Promise<R> {
    const reference = await run(targets.get(`rabbitmq ${mode}`) as Target);
    const answer = await run(targets.get(`warren ${mode}`) as Target);
    check(reference);
    check(answer);
    expect(equal(answer)).toEqual(equal(reference));
    return answer;
  }

  it('amqplib over amqps, each side verifying the other: confirms, a 1 MB message and heartbeats as over TCP', async () => {
    await compare(
      'required',
      async (target) => {
        const connection = await amqp.connect(`amqps://guest:guest@127.0.0.1:${target.tlsPort}?heartbeat=1`, socketOptions(dir, 'client'));
        connection.on('error', () => {});
        const channel = await connection.createConfirmChannel();
        const queue = `tls-large-${crypto.randomBytes(3).toString('hex')}`;
        await channel.assertQueue(queue, { durable: false });
        const body = crypto.randomBytes(1024 * 1024);
        channel.sendToQueue(queue, body, { persistent: true });
        await channel.waitForConfirms();
        // Idle for more than two heartbeat intervals: a broker not sending heartbeats over TLS would be dropped.
        await sleep(2_500);
        const message = await channel.get(queue, { noAck: true });
        const protocol = (connection.connection as unknown as { stream: tls.TLSSocket }).stream.getProtocol();
        await channel.deleteQueue(queue);
        await connection.close();
        return { confirmed: true, same: message !== false && message.content.equals(body), protocol };
      },
      (answer) => expect(answer).toEqual({ confirmed: true, same: true, protocol: 'TLSv1.3' }),
    );
  }, 20_000);

  it('fail_if_no_peer_cert on: a client without a certificate is refused; off: it is let in', async () => {
    await compare('required', (t) => tryAmqps(t, dir, undefined), (a) => expect(a.refused).toBe(true), (a) => a.refused);
    await compare('optional', (t) => tryAmqps(t, dir, undefined), (a) => expect(a).toEqual({ refused: false }));
    await logged('required', /"event":"tls.refused","peer":"127\.0\.0\.1:\d+".*the client gave no certificate/);
  }, 30_000);

  it('a certificate from another CA is refused, whether certificates are required or optional', async () => {
    for (const mode of ['required', 'optional'] as const) {
      await compare(mode, (t) => tryAmqps(t, dir, 'other'), (a) => expect(a.refused).toBe(true), (a) => a.refused);
    }
    await logged('optional', /"event":"tls.refused".*the client certificate is not valid: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  }, 30_000);

  it('ssl_options.depth: a chain with one intermediate CA is accepted by default and refused with depth 0', async () => {
    await compare('required', (t) => tryAmqps(t, dir, 'chained'), (a) => expect(a).toEqual({ refused: false }));
    await compare('optional', (t) => tryAmqps(t, dir, 'chained'), (a) => expect(a.refused).toBe(true), (a) => a.refused);
    await logged('optional', /"event":"tls.refused".*the client certificate chain has 1 intermediate CAs, more than depth 0/);
  }, 30_000);

  it('pika with a client certificate, logging in with PLAIN and with EXTERNAL', async () => {
    for (const login of ['guest', 'external']) {
      await compare(
        'required',
        (t) =>
          runPika('pika_tls.py', [
            String(t.tlsPort),
            path.join(dir, 'ca_certificate.pem'),
            path.join(dir, 'client_certificate.pem'),
            path.join(dir, 'client_key.pem'),
            login,
            // The certificate's user may use app.* only.
            `app.pika-${crypto.randomBytes(3).toString('hex')}`,
          ]),
        (answer) => expect(answer).toEqual({ body: 'over tls from pika', contentType: 'text/plain' }),
      );
    }
  }, 30_000);

  it('openssl s_client: TLS 1.1 is refused, TLS 1.2 and 1.3 are accepted', async () => {
    const handshake = async (target: Target, version: string): Promise<string> => {
      const args = ['s_client', '-connect', `127.0.0.1:${target.tlsPort}`, `-${version}`, '-brief', '-servername', 'localhost',
        '-CAfile', path.join(dir, 'ca_certificate.pem'), '-cert', path.join(dir, 'client_certificate.pem'), '-key', path.join(dir, 'client_key.pem'),
        // Else OpenSSL 3 refuses TLS 1.1 itself, before the server has a say.
        ...(version === 'tls1_1' ? ['-cipher', 'DEFAULT:@SECLEVEL=0'] : [])];
      try {
        const run = execFileAsync('openssl', args, { timeout: 10_000 });
        // End of input: s_client closes the connection once the handshake is done.
        run.child.stdin?.end();
        const { stderr } = await run;
        return /Protocol version: (\S+)/.exec(stderr)?.[1] ?? `no protocol in: ${stderr}`;
      } catch (error) {
        return `refused: ${/alert [a-z ]+|no protocols available|unsupported protocol/.exec(String((error as { stderr?: string }).stderr))?.[0] ?? 'error'}`;
      }
    };
    await compare(
      'required',
      async (t) => ({ tls1_1: (await handshake(t, 'tls1_1')).startsWith('refused'), tls1_2: await handshake(t, 'tls1_2'), tls1_3: await handshake(t, 'tls1_3') }),
      (answer) => expect(answer).toEqual({ tls1_1: true, tls1_2: 'TLSv1.2', tls1_3: 'TLSv1.3' }),
    );
  }, 60_000);

  /** EXTERNAL login with `client`'s certificate, then a queue the user may declare and one it may not. */
  const externalLogin = async (target: Target, client: 'client' | 'nobody' | 'odd' | undefined) => {
    const suffix = crypto.randomBytes(3).toString('hex');
    let connection: amqp.ChannelModel;
    try {
      connection = await amqp.connect(`amqps://127.0.0.1:${target.tlsPort}`, { ...socketOptions(dir, client), credentials: amqp.credentials.external() });
    } catch (error) {
      return { login: handshakeRefusal(error) };
    }
    connection.on('error', () => {});
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    const allowed = await channel.assertQueue(`app.q-${suffix}`, { exclusive: true }).then(() => 'ok');
    const refused = await channel.assertQueue(`other.q-${suffix}`).then(
      () => 'ok',
      (error: unknown) => asServerError(error),
    );
    await connection.close().catch(() => {});
    const text = typeof refused === 'string' ? refused : { ...refused, text: refused.text.replace(suffix, 'ID') };
    return { login: 'ok', allowed, refused: text };
  };

  it('EXTERNAL logs in as the user named by the certificate subject (distinguished name), with its permissions', async () => {
    await compare(
      'required',
      (t) => externalLogin(t, 'client'),
      (answer) =>
        expect(answer).toEqual({
          login: 'ok',
          allowed: 'ok',
          refused: { code: 403, text: `ACCESS_REFUSED - access to queue 'other.q-ID' in vhost '/' refused for user '${CLIENT_DN}'`, classId: 50, methodId: 10 },
        }),
    );
  }, 20_000);

  it('EXTERNAL: a subject with characters to escape names the user as openssl -nameopt RFC2253 prints it', async () => {
    await compare(
      'required',
      (t) => externalLogin(t, 'odd'),
      (answer) => expect(answer.refused).toEqual({ code: 403, text: `ACCESS_REFUSED - access to queue 'other.q-ID' in vhost '/' refused for user '${oddDn}'`, classId: 50, methodId: 10 }),
    );
  }, 20_000);

  it('EXTERNAL with ssl_cert_login_from = common_name logs in as the CN', async () => {
    await compare(
      'optional',
      (t) => externalLogin(t, 'client'),
      (answer) => expect(answer.refused).toEqual({ code: 403, text: "ACCESS_REFUSED - access to queue 'other.q-ID' in vhost '/' refused for user 'app-client'", classId: 50, methodId: 10 }),
    );
  }, 20_000);

  it('EXTERNAL is refused for a certificate naming no user and for a TLS client without a certificate', async () => {
    const refusal = {
      login: { code: 403, text: 'ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile.' },
    };
    await compare('required', (t) => externalLogin(t, 'nobody'), (answer) => expect(answer).toEqual(refusal));
    // EXTERNAL is offered on every TLS connection, also one without a certificate (as RabbitMQ, for a clearer refusal).
    await compare('optional', (t) => externalLogin(t, undefined), (answer) => expect(answer).toEqual(refusal));
    await logged('required', /EXTERNAL login refused: user 'CN=nobody,O=Example Org' - invalid credentials/);
  }, 30_000);

  it('EXTERNAL is not offered on plain TCP', async () => {
    await compare(
      'required',
      async (t) => {
        try {
          const connection = await amqp.connect(`amqp://127.0.0.1:${t.plainPort}`, { credentials: amqp.credentials.external(), timeout: 5_000 });
          await connection.close();
          return 'logged in';
        } catch (error) {
          return (error as Error).message;
        }
      },
      (answer) => expect(answer).toBe('SASL mechanism EXTERNAL is not provided by the server'),
    );
  }, 20_000);

  it('the management API over HTTPS: listeners in /api/overview, and a TLS connection\'s ssl fields in /api/connections', async () => {
    const SSL_FIELDS = ['ssl', 'ssl_protocol', 'ssl_key_exchange', 'ssl_cipher', 'ssl_hash', 'peer_cert_subject', 'peer_cert_issuer', 'peer_cert_validity', 'protocol', 'auth_mechanism'];
    await compare(
      'required',
      async (target) => {
        const port = target.httpsPort as number;
        const overview = (await httpsGet(dir, port, '/api/overview')).body as { listeners: { protocol: string; port: number; socket_opts?: Record<string, unknown> }[] };
        const listeners = overview.listeners.filter((l) => l.protocol !== 'clustering').map((l) => l.protocol);
        const sslListener = overview.listeners.find((l) => l.protocol === 'amqp/ssl');
        const secure = await amqp.connect(`amqps://guest:guest@127.0.0.1:${target.tlsPort}`, socketOptions(dir, 'client'));
        const plain = await amqp.connect(`amqp://guest:guest@127.0.0.1:${target.plainPort}`);
        try {
          // Only this test's two connections (by their client ports): RabbitMQ may still list one an earlier test
          // closed, as it drops a closed connection from its statistics some time later.
          const clientPort = (c: unknown) => (c as { connection: { stream: { localPort: number } } }).connection.stream.localPort;
          const ours = new Set([clientPort(secure), clientPort(plain)]);
          // RabbitMQ lists a connection after its next statistics emission (1 s in the harness).
          let connections: Record<string, unknown>[] = [];
          await waitUntil(
            () => {
              void httpsGet(dir, port, '/api/connections').then(
                (answer) => (connections = (answer.body as Record<string, unknown>[]).filter((c) => ours.has(c.peer_port as number))),
              );
              return connections.length >= 2;
            },
            10_000,
            'both connections in /api/connections',
          );
          const fields = connections
            .map((c) => Object.fromEntries(SSL_FIELDS.map((key) => [key, c[key]])))
            .sort((a, b) => String(a.ssl).localeCompare(String(b.ssl)));
          // The TLS options RabbitMQ lists for its amqps listener (it adds TCP ones Warren does not have; its
          // versions come in reverse file order, Warren's in file order).
          const TLS_OPTIONS = ['keyfile', 'certfile', 'cacertfile', 'fail_if_no_peer_cert', 'verify'];
          const sslOptions = Object.fromEntries(TLS_OPTIONS.map((key) => [key, sslListener?.socket_opts?.[key]]));
          return { listeners, sslListenerPort: sslListener?.port === target.tlsPort, sslOptions, fields };
        } finally {
          await Promise.all([secure.close(), plain.close()]);
        }
      },
      (answer) => {
        expect(answer.listeners).toEqual(['amqp', 'amqp/ssl', 'http', 'https']);
        expect(answer.sslListenerPort).toBe(true);
        expect(answer.sslOptions).toMatchObject({ certfile: `${dir}/server_certificate.pem`, verify: 'verify_peer', fail_if_no_peer_cert: true });
        expect(answer.fields[1]).toMatchObject({ ssl: true, ssl_protocol: 'tlsv1.3', ssl_cipher: 'aes_256_gcm', ssl_hash: 'aead', peer_cert_subject: CLIENT_DN });
        expect(answer.fields[0]).toMatchObject({ ssl: false, ssl_protocol: null, peer_cert_subject: null });
      },
    );
  });

  it('the certificate-expiration health check: ok within a day, the listener\'s expiring files within a week, 400 for a bad unit or number', async () => {
    const paths = ['1/days', '1/weeks', '2/MONTHS', '0/days', '1/fortnights', 'x/days', '1.5/days'];
    await compare(
      'required',
      async (target) => {
        const answers: Record<string, { status: number; body: unknown }> = {};
        for (const check of paths) answers[check] = await httpsGet(dir, target.httpsPort as number, `/api/health/checks/certificate-expiration/${check}`);
        return answers;
      },
      (answers) => {
        expect(answers['1/days']).toEqual({ status: 200, body: { status: 'ok' } });
        expect(answers['1/weeks']?.status).toBe(503);
        expect(answers['1/fortnights']).toEqual({ status: 400, body: { error: 'bad_request', reason: 'Time unit not recognised. Supported units: days, weeks, months, years.' } });
        expect(answers['x/days']).toEqual({ status: 400, body: { error: 'bad_request', reason: 'Invalid expiration value.' } });
      },
      // The node name and the ports are each broker's own.
      (answers) =>
        JSON.parse(
          JSON.stringify(answers)
            .replace(/"node":"[^"]*"/g, '"node":"N"')
            .replace(/"port":\d+/g, '"port":0'),
        ) as unknown,
    );
  });

  it('a TLS handshake that stalls is cut after ssl_handshake_timeout, and logged with the peer', async () => {
    await compare(
      'required',
      async (t) => {
        const started = Date.now();
        const socket = net.connect(t.tlsPort, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('close', resolve));
        return { closed: true, withinBound: Date.now() - started < 4_000 };
      },
      (answer) => expect(answer).toEqual({ closed: true, withinBound: true }),
    );
    await logged('required', /"event":"tls.handshake-failed","peer":"127\.0\.0\.1:\d+","code":"ERR_TLS_HANDSHAKE_TIMEOUT"/);
  }, 20_000);
});

describe('Warren: TLS certificates and their files', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-tls-'));
    trackDir(dir);
    makeCertificates(dir);
  });
  afterAll(() => removeDir(dir));

  /** The organisation in the certificate the server shows a new connection. */
  const serverOrganisation = async (port: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca: file(dir, 'ca_certificate.pem'), servername: 'localhost' }, () => {
        resolve(String(socket.getPeerCertificate().subject.O));
        socket.destroy();
      });
      socket.on('error', reject);
    });

  it('SIGHUP re-reads the certificates: a new connection gets the new one, an open one keeps working; a bad file keeps the old', async () => {
    const live = fs.mkdtempSync(path.join(dir, 'live-'));
    fs.copyFileSync(path.join(dir, 'server_certificate.pem'), path.join(live, 'cert.pem'));
    fs.copyFileSync(path.join(dir, 'server_key.pem'), path.join(live, 'key.pem'));
    const warren = await startWarren({
      args: ['--tls-cert', path.join(live, 'cert.pem'), '--tls-key', path.join(live, 'key.pem'), '--tls-port', '0', '--management-port', '0', '--management-tls-port', '0'],
    });
    try {
      const port = await warrenTlsPort(warren);
      const httpsPort = await warrenListenerPort(warren, 'https');
      expect(await serverOrganisation(port)).toBe('Example Org');
      expect(await serverOrganisation(httpsPort)).toBe('Example Org');
      const old = await amqp.connect(`amqps://guest:guest@127.0.0.1:${port}`, socketOptions(dir));
      old.on('error', () => {});
      const channel = await old.createChannel();
      const queue = (await channel.assertQueue('', { exclusive: true })).queue;

      fs.copyFileSync(path.join(dir, 'rotated_certificate.pem'), path.join(live, 'cert.pem'));
      fs.copyFileSync(path.join(dir, 'rotated_key.pem'), path.join(live, 'key.pem'));
      process.kill(warren.pid, 'SIGHUP');
      await waitUntil(() => warren.output().includes('"event":"tls.reloaded","protocol":"https"'), 5_000, 'the reload log lines');
      expect(await serverOrganisation(port)).toBe('Rotated Org');
      // The HTTPS management listener reloads with the amqps one, and a new HTTPS request is served with the new one.
      expect(await serverOrganisation(httpsPort)).toBe('Rotated Org');
      expect((await httpsGet(dir, httpsPort, '/api/overview')).status).toBe(200);
      channel.sendToQueue(queue, Buffer.from('still here'));
      const message = await timeout(
        (async () => {
          for (;;) {
            const got = await channel.get(queue, { noAck: true });
            if (got !== false) return got.content.toString();
            await sleep(20);
          }
        })(),
        5_000,
        'the message on the old connection',
      );
      expect(message).toBe('still here');

      fs.writeFileSync(path.join(live, 'cert.pem'), 'not a certificate\n');
      process.kill(warren.pid, 'SIGHUP');
      await waitUntil(() => warren.output().includes('"event":"tls.reload-failed"'), 5_000, 'the failed-reload log line');
      expect(warren.output()).toContain(`the TLS certificate file ${path.join(live, 'cert.pem')} holds no PEM certificate`);
      expect(await serverOrganisation(port)).toBe('Rotated Org');
      expect(await serverOrganisation(httpsPort)).toBe('Rotated Org');
      await old.close();
    } finally {
      await warren.stop();
    }
  }, 30_000);

  it('management.ssl.verify = verify_peer with fail_if_no_peer_cert: HTTPS without a client certificate is refused and logged, with one served', async () => {
    const conf = path.join(dir, 'https-verify.conf');
    fs.writeFileSync(
      conf,
      [
        `ssl_options.certfile = ${dir}/server_certificate.pem`,
        `ssl_options.keyfile = ${dir}/server_key.pem`,
        `management.ssl.cacertfile = ${dir}/ca_certificate.pem`,
        'management.ssl.verify = verify_peer',
        'management.ssl.fail_if_no_peer_cert = true',
        '',
      ].join('\n'),
    );
    const warren = await startWarren({ args: ['--config', conf, '--tls-port', '0', '--management-port', '0', '--management-tls-port', '0'] });
    try {
      const port = await warrenListenerPort(warren, 'https');
      const get = (client?: 'client') =>
        new Promise<number | string>((resolve) => {
          const request = https.get(
            { host: '127.0.0.1', port, path: '/api/overview', auth: 'guest:guest', ...socketOptions(dir, client) },
            (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            },
          );
          request.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
        });
      expect(await get('client')).toBe(200);
      expect(await get()).not.toBe(200);
      await waitUntil(() => warren.output().includes('refusing HTTPS client: the client gave no certificate'), 5_000, 'the refusal log line');
      // The amqps listener keeps its own settings (verify none): a client without a certificate is served there.
      expect((await tryAmqps({ name: 'warren', plainPort: warren.port, tlsPort: await warrenTlsPort(warren) }, dir, undefined)).refused).toBe(false);
    } finally {
      await warren.stop();
    }
  }, 30_000);

  it('--port -1: TLS only, no plain listener', async () => {
    const warren = await startWarren({
      args: ['--port', '-1', '--tls-cert', path.join(dir, 'server_certificate.pem'), '--tls-key', path.join(dir, 'server_key.pem'), '--tls-port', '0'],
    });
    try {
      const listening = warren.output().split('\n').filter((line) => line.includes('"msg":"listening"'));
      expect(listening).toHaveLength(1);
      expect(listening[0]).toContain('"tls":true');
      const connection = await amqp.connect(`amqps://guest:guest@127.0.0.1:${warren.port}`, socketOptions(dir));
      await connection.close();
    } finally {
      await warren.stop();
    }
  }, 20_000);

  it('a resource alarm over amqps: the publishing connection is blocked and not read, a consuming one is served', async () => {
    const warren = await startWarren({
      args: ['--disk-free-limit', '1000000000000000', '--tls-cert', path.join(dir, 'server_certificate.pem'), '--tls-key', path.join(dir, 'server_key.pem'), '--tls-port', '0'],
    });
    try {
      const url = `amqps://guest:guest@127.0.0.1:${await warrenTlsPort(warren)}`;
      const consumer = await amqp.connect(url, socketOptions(dir));
      const publisher = await amqp.connect(url, socketOptions(dir));
      publisher.on('error', () => {});
      const consumerChannel = await consumer.createChannel();
      const queue = (await consumerChannel.assertQueue('', { exclusive: true })).queue;
      let consumed = 0;
      await consumerChannel.consume(queue, () => consumed++, { noAck: true });
      const blocked: string[] = [];
      publisher.on('blocked', (reason: string) => blocked.push(reason));
      const publisherChannel = await publisher.createChannel();
      for (let i = 0; i < 20; i++) publisherChannel.sendToQueue(queue, Buffer.from(`m${i}`));
      await waitUntil(() => blocked.length > 0, 5_000, 'connection.blocked over TLS');
      // A window in which deliveries would show if the publisher's input were still read.
      await sleep(300);
      expect(blocked).toEqual(['low on disk']);
      expect(consumed).toBeLessThanOrEqual(1);
      expect((await consumerChannel.checkQueue(queue)).queue).toBe(queue);
      // A blocked publisher's close is not read until the alarm clears: drop it.
      (publisher as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      await consumer.close();
    } finally {
      await warren.stop();
    }
  }, 20_000);

  it('a TLS file that cannot be read or used stops the start with exit code 1, naming the file', async () => {
    const dataDir = fs.mkdtempSync(path.join(dir, 'data-'));
    const garbage = path.join(dir, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a key\n');
    const cases: [string[], string][] = [
      [['--tls-cert', path.join(dir, 'missing.pem')], `cannot read the TLS certificate file ${path.join(dir, 'missing.pem')}: ENOENT`],
      [['--tls-cert', path.join(dir, 'server_certificate.pem'), '--tls-key', garbage], `the TLS key file ${garbage} cannot be used with the certificate`],
      [['--tls-cert', path.join(dir, 'server_certificate.pem'), '--tls-key', path.join(dir, 'client_key.pem')], 'key values mismatch'],
      [['--tls-cert', path.join(dir, 'server_certificate.pem'), '--tls-key', path.join(dir, 'server_key.pem'), '--tls-ca', garbage], `the TLS CA certificate file ${garbage} holds no PEM certificate`],
    ];
    for (const [args, message] of cases) {
      const result = await runWarrenToExit({ dataDir, args: [...args, '--tls-port', '0'] });
      expect(result.code, result.output).toBe(1);
      expect(result.output).toContain(message);
    }
  }, 40_000);
});
