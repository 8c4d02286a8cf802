/** What a connection that arrived over TLS knows about its session (the management API reports it). */
export interface TlsSession {
  /** RabbitMQ's name of the version: `tlsv1.2`, `tlsv1.3`. */
  readonly protocol: string;
  /** The cipher suite's standard name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
  /** The client's certificate: present only when the client gave one and it was verified (others are refused at the handshake). */
  readonly peerCertificate: PeerCertificate | undefined;
}

export interface PeerCertificate {
  /** The subject's distinguished name in RFC 4514 form, as RabbitMQ and `openssl x509 -nameopt RFC2253 -subject` print it. */
  readonly subject: string;
  /** The issuer's distinguished name, in the same form. */
  readonly issuer: string;
  /** The subject's CN values, in certificate order. */
  readonly commonNames: readonly string[];
  readonly validFrom: Date;
  readonly validTo: Date;
}
