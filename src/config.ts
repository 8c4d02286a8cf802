/** Everything Warren can be configured with; the CLI fills it from defaults, environment and flags. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: string;
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
}

export const DEFAULT_CONFIG: Config = {
  port: 5672,
  host: '::',
  dataDir: './data',
  logLevel: 'info',
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
};
