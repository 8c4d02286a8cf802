import { describe, expect, it } from 'vitest';
import { erlangCipherSuite, sslFields } from '../../src/http/api/connections.js';

describe("TLS connections in the management API, in RabbitMQ's names", () => {
  it('names cipher suites as RabbitMQ 3.10.8 reported them for the same suites (key exchange, cipher, hash)', () => {
    // Each measured on RabbitMQ with a client limited to that suite.
    const measured: [string, string, string, string][] = [
      ['TLS_AES_256_GCM_SHA384', 'any', 'aes_256_gcm', 'aead'],
      ['TLS_AES_128_GCM_SHA256', 'any', 'aes_128_gcm', 'aead'],
      ['TLS_CHACHA20_POLY1305_SHA256', 'any', 'chacha20_poly1305', 'aead'],
      ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ecdhe_ecdsa', 'aes_256_gcm', 'aead'],
      ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ecdhe_ecdsa', 'aes_128_gcm', 'aead'],
      ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ecdhe_ecdsa', 'chacha20_poly1305', 'aead'],
      ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ecdhe_ecdsa', 'aes_128_cbc', 'sha256'],
    ];
    for (const [iana, keyExchange, cipher, hash] of measured) expect(erlangCipherSuite(iana), iana).toEqual({ keyExchange, cipher, hash });
    expect(erlangCipherSuite('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA')).toEqual({ keyExchange: 'ecdhe_rsa', cipher: 'aes_256_cbc', hash: 'sha' });
  });

  it('a plain connection has ssl false and nulls; a TLS one its protocol, suite and peer certificate', () => {
    expect(sslFields(undefined)).toEqual({
      ssl: false, ssl_protocol: null, ssl_key_exchange: null, ssl_cipher: null, ssl_hash: null,
      peer_cert_subject: null, peer_cert_issuer: null, peer_cert_validity: null,
    });
    const peerCertificate = {
      subject: 'CN=app-client,O=Example Org,C=DE',
      issuer: 'CN=Example Test CA,O=Example Org',
      commonNames: ['app-client'],
      validFrom: new Date('2026-12-01T07:25:56Z'),
      validTo: new Date('2026-12-03T07:25:56Z'),
    };
    expect(sslFields({ protocol: 'tlsv1.3', cipher: 'TLS_AES_256_GCM_SHA384', peerCertificate })).toEqual({
      ssl: true, ssl_protocol: 'tlsv1.3', ssl_key_exchange: 'any', ssl_cipher: 'aes_256_gcm', ssl_hash: 'aead',
      peer_cert_subject: 'CN=app-client,O=Example Org,C=DE', peer_cert_issuer: 'CN=Example Test CA,O=Example Org',
      peer_cert_validity: '2026-12-01T07:25:56Z - 2026-12-03T07:25:56Z',
    });
    expect(sslFields({ protocol: 'tlsv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', peerCertificate: undefined })).toMatchObject({ ssl: true, peer_cert_subject: null });
  });
});
