// The amqps listener's TLS: its options read from Config (RabbitMQ's ssl_options semantics), the certificate files
// (re)read into a secure context, the client-certificate checks node:tls leaves to us, and what a connection is told
// about its session. The management API's HTTPS listener can reuse all of it: `https.createServer(
// listenerOptions(config, await readCredentials(config)))`, `refusal(socket, config)` in its 'secureConnection'
// handler, and `server.setSecureContext(await readCredentials(config))` on reload.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls, { type SecureContextOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Config } from './config.js';
import type { PeerCertificate, TlsSession } from './session/tls-session.js';

export type TlsSettings = Pick<
  Config,
  | 'tlsCert'
  | 'tlsKey'
  | 'tlsCa'
  | 'tlsKeyPassphrase'
  | 'tlsVerify'
  | 'tlsFailIfNoPeerCert'
  | 'tlsDepth'
  | 'tlsVersions'
  | 'tlsCiphers'
  | 'tlsHandshakeTimeout'
>;

const NODE_VERSIONS: Record<string, tls.SecureVersion> = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

/**
 * The secure-context options: the certificate, key and CAs read from their files, the versions and ciphers.
 * Throws an Error naming the file and what is wrong with it when a file cannot be read or used.
 */
export async function readCredentials(settings: TlsSettings): Promise<SecureContextOptions> {
  const keyFile = settings.tlsKey === '' ? settings.tlsCert : settings.tlsKey;
  const cert = await readTlsFile('certificate', settings.tlsCert);
  const key = await readTlsFile('key', keyFile);
  const ca = settings.tlsCa === '' ? undefined : await readTlsFile('CA certificate', settings.tlsCa);
  const versions = settings.tlsVersions.map((version) => NODE_VERSIONS[version] as tls.SecureVersion).sort();
  const options: SecureContextOptions = {
    cert,
    key,
    ca,
    passphrase: settings.tlsKeyPassphrase === '' ? undefined : settings.tlsKeyPassphrase,
    minVersion: versions[0],
    maxVersion: versions[versions.length - 1],
    ciphers: settings.tlsCiphers.length === 0 ? undefined : settings.tlsCiphers.join(':'),
  };
  // Each file on its own first, so that the error names the file at fault.
  checkCertificates('certificate', settings.tlsCert, cert);
  if (ca !== undefined) checkCertificates('CA certificate', settings.tlsCa, ca);
  try {
    tls.createSecureContext({ cert, key, passphrase: options.passphrase });
  } catch (error) {
    throw new Error(`the TLS key file ${keyFile} cannot be used with the certificate ${settings.tlsCert}: ${(error as Error).message}`);
  }
  try {
    tls.createSecureContext(options);
  } catch (error) {
    throw new Error(`the TLS settings cannot be used: ${(error as Error).message}`);
  }
  return options;
}

async function readTlsFile(what: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new Error(`cannot read the TLS ${what} file ${file}: ${(error as Error).message}`);
  }
}

function checkCertificates(what: string, file: string, pem: Buffer): void {
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw new Error(`the TLS ${what} file ${file} holds no PEM certificate: ${(error as Error).message}`);
  }
}

/**
 * tls.createServer options. A client certificate is verified by us after the handshake (refusal()), not by node:tls
 * (rejectUnauthorized), so that every refusal is logged with the peer's address and the reason.
 */
export function listenerOptions(settings: TlsSettings, credentials: SecureContextOptions): TlsOptions {
  return {
    ...credentials,
    requestCert: settings.tlsVerify === 'peer',
    rejectUnauthorized: false,
    handshakeTimeout: settings.tlsHandshakeTimeout,
  };
}

/**
 * Why a client that completed the TLS handshake must be turned away, or undefined: RabbitMQ's verify_peer checks a
 * certificate that is given (node:tls would accept a bad one), and fail_if_no_peer_cert requires one.
 */
export function refusal(socket: TLSSocket, settings: TlsSettings): string | undefined {
  if (settings.tlsVerify !== 'peer') return undefined;
  const certificate = socket.getPeerCertificate(true);
  if (certificate === null || Object.keys(certificate).length === 0) {
    return settings.tlsFailIfNoPeerCert ? 'the client gave no certificate (fail_if_no_peer_cert is on)' : undefined;
  }
  if (!socket.authorized) return `the client certificate is not valid: ${String(socket.authorizationError)}`;
  const intermediates = intermediateCount(certificate);
  if (intermediates > settings.tlsDepth) {
    return `the client certificate chain has ${intermediates} intermediate CAs, more than depth ${settings.tlsDepth}`;
  }
  return undefined;
}

/** CAs between the peer's certificate and the self-signed root in its verified chain. */
function intermediateCount(leaf: tls.DetailedPeerCertificate): number {
  let count = 0;
  let current = leaf;
  const seen = new Set<string>([leaf.fingerprint256]);
  for (;;) {
    const issuer = current.issuerCertificate;
    if (issuer === undefined || seen.has(issuer.fingerprint256)) return count;
    seen.add(issuer.fingerprint256);
    // The last one, issued by itself, is the trusted root.
    if (issuer.issuerCertificate === undefined || issuer.issuerCertificate.fingerprint256 === issuer.fingerprint256) return count;
    count++;
    current = issuer;
  }
}

/** What the connection knows about its TLS session. */
export function describeSession(socket: TLSSocket): TlsSession {
  const x509 = socket.getPeerX509Certificate();
  return {
    protocol: (socket.getProtocol() ?? 'unknown').toLowerCase(),
    cipher: socket.getCipher().standardName,
    peerCertificate: x509 === undefined || !socket.authorized ? undefined : describeCertificate(x509),
  };
}

export function describeCertificate(x509: X509Certificate): PeerCertificate {
  return {
    subject: distinguishedName(x509.subject),
    issuer: distinguishedName(x509.issuer),
    commonNames: attributeLines(x509.subject)
      .filter((line) => line.startsWith('CN='))
      .map((line) => unescapeValue(line.slice(3))),
    validFrom: new Date(x509.validFrom),
    validTo: new Date(x509.validTo),
  };
}

/**
 * RFC 4514 form from node's X509Certificate.subject (one attribute per line, certificate order, values already
 * escaped the RFC 2253 way but non-ASCII characters left as they are): the last RDN first, joined by commas,
 * multi-valued RDNs joined by `+`, each byte of a non-ASCII character as `\XX`. This is what
 * `openssl x509 -nameopt RFC2253` prints and what RabbitMQ's EXTERNAL takes as the user name.
 */
export function distinguishedName(multiline: string): string {
  return attributeLines(multiline)
    .map((rdn) => rdn.replaceAll(' + ', '+').replace(/[^\x00-\x7f]/gu, escapeBytes))
    .reverse()
    .join(',');
}

function escapeBytes(character: string): string {
  let escaped = '';
  for (const byte of Buffer.from(character, 'utf8')) escaped += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return escaped;
}

function attributeLines(multiline: string): string[] {
  return multiline.split('\n').filter((line) => line !== '');
}

function unescapeValue(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

/** The TLS options as RabbitMQ lists them in a listener's socket_opts (/api/overview): its ssl_options keys. */
export function rabbitSslOptions(settings: TlsSettings): Record<string, unknown> {
  return {
    versions: settings.tlsVersions,
    keyfile: settings.tlsKey === '' ? settings.tlsCert : settings.tlsKey,
    certfile: settings.tlsCert,
    ...(settings.tlsCa === '' ? {} : { cacertfile: settings.tlsCa }),
    fail_if_no_peer_cert: settings.tlsFailIfNoPeerCert,
    verify: settings.tlsVerify === 'peer' ? 'verify_peer' : 'verify_none',
    ...(settings.tlsCiphers.length === 0 ? {} : { ciphers: settings.tlsCiphers }),
  };
}
