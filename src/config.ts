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
};
