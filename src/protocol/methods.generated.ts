// GENERATED FILE - DO NOT EDIT. Written by scripts/codegen.ts from spec/amqp0-9-1.json; run `npm run codegen`.
// AMQP 0-9-1: 8 classes, 66 methods.

import { ByteSink, readUInt64At, writeUInt64At } from './byte-sink.js';
import { FRAME_METHOD, MALFORMED_METHOD_REPLY_CODE, UNKNOWN_METHOD_REPLY_CODE } from './constants.js';
import { AmqpError } from './errors.js';
import { decodeArguments, decodeTable, writeTable, type FieldTable } from './field-table.js';
import type { FrameWriter } from './frame-writer.js';

// Class ids
export const CLASS_CONNECTION = 10;
export const CLASS_CHANNEL = 20;
export const CLASS_ACCESS = 30;
export const CLASS_EXCHANGE = 40;
export const CLASS_QUEUE = 50;
export const CLASS_BASIC = 60;
export const CLASS_CONFIRM = 85;
export const CLASS_TX = 90;

// Method ids: classId << 16 | methodId
export const CONNECTION_START = 0x000a000a;
export const CONNECTION_START_OK = 0x000a000b;
export const CONNECTION_SECURE = 0x000a0014;
export const CONNECTION_SECURE_OK = 0x000a0015;
export const CONNECTION_TUNE = 0x000a001e;
export const CONNECTION_TUNE_OK = 0x000a001f;
export const CONNECTION_OPEN = 0x000a0028;
export const CONNECTION_OPEN_OK = 0x000a0029;
export const CONNECTION_CLOSE = 0x000a0032;
export const CONNECTION_CLOSE_OK = 0x000a0033;
export const CONNECTION_BLOCKED = 0x000a003c;
export const CONNECTION_UNBLOCKED = 0x000a003d;
export const CONNECTION_UPDATE_SECRET = 0x000a0046;
export const CONNECTION_UPDATE_SECRET_OK = 0x000a0047;
export const CHANNEL_OPEN = 0x0014000a;
export const CHANNEL_OPEN_OK = 0x0014000b;
export const CHANNEL_FLOW = 0x00140014;
export const CHANNEL_FLOW_OK = 0x00140015;
export const CHANNEL_CLOSE = 0x00140028;
export const CHANNEL_CLOSE_OK = 0x00140029;
export const ACCESS_REQUEST = 0x001e000a;
export const ACCESS_REQUEST_OK = 0x001e000b;
export const EXCHANGE_DECLARE = 0x0028000a;
export const EXCHANGE_DECLARE_OK = 0x0028000b;
export const EXCHANGE_DELETE = 0x00280014;
export const EXCHANGE_DELETE_OK = 0x00280015;
export const EXCHANGE_BIND = 0x0028001e;
export const EXCHANGE_BIND_OK = 0x0028001f;
export const EXCHANGE_UNBIND = 0x00280028;
export const EXCHANGE_UNBIND_OK = 0x00280033;
export const QUEUE_DECLARE = 0x0032000a;
export const QUEUE_DECLARE_OK = 0x0032000b;
export const QUEUE_BIND = 0x00320014;
export const QUEUE_BIND_OK = 0x00320015;
export const QUEUE_PURGE = 0x0032001e;
export const QUEUE_PURGE_OK = 0x0032001f;
export const QUEUE_DELETE = 0x00320028;
export const QUEUE_DELETE_OK = 0x00320029;
export const QUEUE_UNBIND = 0x00320032;
export const QUEUE_UNBIND_OK = 0x00320033;
export const BASIC_QOS = 0x003c000a;
export const BASIC_QOS_OK = 0x003c000b;
export const BASIC_CONSUME = 0x003c0014;
export const BASIC_CONSUME_OK = 0x003c0015;
export const BASIC_CANCEL = 0x003c001e;
export const BASIC_CANCEL_OK = 0x003c001f;
export const BASIC_PUBLISH = 0x003c0028;
export const BASIC_RETURN = 0x003c0032;
export const BASIC_DELIVER = 0x003c003c;
export const BASIC_GET = 0x003c0046;
export const BASIC_GET_OK = 0x003c0047;
export const BASIC_GET_EMPTY = 0x003c0048;
export const BASIC_ACK = 0x003c0050;
export const BASIC_REJECT = 0x003c005a;
export const BASIC_RECOVER_ASYNC = 0x003c0064;
export const BASIC_RECOVER = 0x003c006e;
export const BASIC_RECOVER_OK = 0x003c006f;
export const BASIC_NACK = 0x003c0078;
export const CONFIRM_SELECT = 0x0055000a;
export const CONFIRM_SELECT_OK = 0x0055000b;
export const TX_SELECT = 0x005a000a;
export const TX_SELECT_OK = 0x005a000b;
export const TX_COMMIT = 0x005a0014;
export const TX_COMMIT_OK = 0x005a0015;
export const TX_ROLLBACK = 0x005a001e;
export const TX_ROLLBACK_OK = 0x005a001f;

/** Every method id in the spec, in spec order. */
export const ALL_METHOD_IDS: readonly number[] = [
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_SECURE,
  CONNECTION_SECURE_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_CLOSE,
  CONNECTION_CLOSE_OK,
  CONNECTION_BLOCKED,
  CONNECTION_UNBLOCKED,
  CONNECTION_UPDATE_SECRET,
  CONNECTION_UPDATE_SECRET_OK,
  CHANNEL_OPEN,
  CHANNEL_OPEN_OK,
  CHANNEL_FLOW,
  CHANNEL_FLOW_OK,
  CHANNEL_CLOSE,
  CHANNEL_CLOSE_OK,
  ACCESS_REQUEST,
  ACCESS_REQUEST_OK,
  EXCHANGE_DECLARE,
  EXCHANGE_DECLARE_OK,
  EXCHANGE_DELETE,
  EXCHANGE_DELETE_OK,
  EXCHANGE_BIND,
  EXCHANGE_BIND_OK,
  EXCHANGE_UNBIND,
  EXCHANGE_UNBIND_OK,
  QUEUE_DECLARE,
  QUEUE_DECLARE_OK,
  QUEUE_BIND,
  QUEUE_BIND_OK,
  QUEUE_PURGE,
  QUEUE_PURGE_OK,
  QUEUE_DELETE,
  QUEUE_DELETE_OK,
  QUEUE_UNBIND,
  QUEUE_UNBIND_OK,
  BASIC_QOS,
  BASIC_QOS_OK,
  BASIC_CONSUME,
  BASIC_CONSUME_OK,
  BASIC_CANCEL,
  BASIC_CANCEL_OK,
  BASIC_PUBLISH,
  BASIC_RETURN,
  BASIC_DELIVER,
  BASIC_GET,
  BASIC_GET_OK,
  BASIC_GET_EMPTY,
  BASIC_ACK,
  BASIC_REJECT,
  BASIC_RECOVER_ASYNC,
  BASIC_RECOVER,
  BASIC_RECOVER_OK,
  BASIC_NACK,
  CONFIRM_SELECT,
  CONFIRM_SELECT_OK,
  TX_SELECT,
  TX_SELECT_OK,
  TX_COMMIT,
  TX_COMMIT_OK,
  TX_ROLLBACK,
  TX_ROLLBACK_OK,
];

// Method arguments
/** connection.start (10/10), synchronous */
export interface ConnectionStart {
  versionMajor: number;
  versionMinor: number;
  serverProperties: FieldTable;
  mechanisms: Buffer;
  locales: Buffer;
}
/** connection.start-ok (10/11) */
export interface ConnectionStartOk {
  clientProperties: FieldTable;
  mechanism: string;
  response: Buffer;
  locale: string;
}
/** connection.secure (10/20), synchronous */
export interface ConnectionSecure {
  challenge: Buffer;
}
/** connection.secure-ok (10/21) */
export interface ConnectionSecureOk {
  response: Buffer;
}
/** connection.tune (10/30), synchronous */
export interface ConnectionTune {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}
/** connection.tune-ok (10/31) */
export interface ConnectionTuneOk {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}
/** connection.open (10/40), synchronous */
export interface ConnectionOpen {
  virtualHost: string;
  capabilities: string;
  insist: boolean;
}
/** connection.open-ok (10/41) */
export interface ConnectionOpenOk {
  knownHosts: string;
}
/** connection.close (10/50), synchronous */
export interface ConnectionClose {
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}
/** connection.close-ok (10/51) */
export type ConnectionCloseOk = Record<string, never>;
/** connection.blocked (10/60) */
export interface ConnectionBlocked {
  reason: string;
}
/** connection.unblocked (10/61) */
export type ConnectionUnblocked = Record<string, never>;
/** connection.update-secret (10/70), synchronous */
export interface ConnectionUpdateSecret {
  newSecret: Buffer;
  reason: string;
}
/** connection.update-secret-ok (10/71) */
export type ConnectionUpdateSecretOk = Record<string, never>;
/** channel.open (20/10), synchronous */
export interface ChannelOpen {
  outOfBand: string;
}
/** channel.open-ok (20/11) */
export interface ChannelOpenOk {
  channelId: Buffer;
}
/** channel.flow (20/20), synchronous */
export interface ChannelFlow {
  active: boolean;
}
/** channel.flow-ok (20/21) */
export interface ChannelFlowOk {
  active: boolean;
}
/** channel.close (20/40), synchronous */
export interface ChannelClose {
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}
/** channel.close-ok (20/41) */
export type ChannelCloseOk = Record<string, never>;
/** access.request (30/10), synchronous */
export interface AccessRequest {
  realm: string;
  exclusive: boolean;
  passive: boolean;
  active: boolean;
  write: boolean;
  read: boolean;
}
/** access.request-ok (30/11) */
export interface AccessRequestOk {
  ticket: number;
}
/** exchange.declare (40/10), synchronous */
export interface ExchangeDeclare {
  ticket: number;
  exchange: string;
  type: string;
  passive: boolean;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  nowait: boolean;
  arguments: FieldTable;
}
/** exchange.declare-ok (40/11) */
export type ExchangeDeclareOk = Record<string, never>;
/** exchange.delete (40/20), synchronous */
export interface ExchangeDelete {
  ticket: number;
  exchange: string;
  ifUnused: boolean;
  nowait: boolean;
}
/** exchange.delete-ok (40/21) */
export type ExchangeDeleteOk = Record<string, never>;
/** exchange.bind (40/30), synchronous */
export interface ExchangeBind {
  ticket: number;
  destination: string;
  source: string;
  routingKey: string;
  nowait: boolean;
  arguments: FieldTable;
}
/** exchange.bind-ok (40/31) */
export type ExchangeBindOk = Record<string, never>;
/** exchange.unbind (40/40), synchronous */
export interface ExchangeUnbind {
  ticket: number;
  destination: string;
  source: string;
  routingKey: string;
  nowait: boolean;
  arguments: FieldTable;
}
/** exchange.unbind-ok (40/51) */
export type ExchangeUnbindOk = Record<string, never>;
/** queue.declare (50/10), synchronous */
export interface QueueDeclare {
  ticket: number;
  queue: string;
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  nowait: boolean;
  arguments: FieldTable;
}
/** queue.declare-ok (50/11) */
export interface QueueDeclareOk {
  queue: string;
  messageCount: number;
  consumerCount: number;
}
/** queue.bind (50/20), synchronous */
export interface QueueBind {
  ticket: number;
  queue: string;
  exchange: string;
  routingKey: string;
  nowait: boolean;
  arguments: FieldTable;
}
/** queue.bind-ok (50/21) */
export type QueueBindOk = Record<string, never>;
/** queue.purge (50/30), synchronous */
export interface QueuePurge {
  ticket: number;
  queue: string;
  nowait: boolean;
}
/** queue.purge-ok (50/31) */
export interface QueuePurgeOk {
  messageCount: number;
}
/** queue.delete (50/40), synchronous */
export interface QueueDelete {
  ticket: number;
  queue: string;
  ifUnused: boolean;
  ifEmpty: boolean;
  nowait: boolean;
}
/** queue.delete-ok (50/41) */
export interface QueueDeleteOk {
  messageCount: number;
}
/** queue.unbind (50/50), synchronous */
export interface QueueUnbind {
  ticket: number;
  queue: string;
  exchange: string;
  routingKey: string;
  arguments: FieldTable;
}
/** queue.unbind-ok (50/51) */
export type QueueUnbindOk = Record<string, never>;
/** basic.qos (60/10), synchronous */
export interface BasicQos {
  prefetchSize: number;
  prefetchCount: number;
  global: boolean;
}
/** basic.qos-ok (60/11) */
export type BasicQosOk = Record<string, never>;
/** basic.consume (60/20), synchronous */
export interface BasicConsume {
  ticket: number;
  queue: string;
  consumerTag: string;
  noLocal: boolean;
  noAck: boolean;
  exclusive: boolean;
  nowait: boolean;
  arguments: FieldTable;
}
/** basic.consume-ok (60/21) */
export interface BasicConsumeOk {
  consumerTag: string;
}
/** basic.cancel (60/30), synchronous */
export interface BasicCancel {
  consumerTag: string;
  nowait: boolean;
}
/** basic.cancel-ok (60/31) */
export interface BasicCancelOk {
  consumerTag: string;
}
/** basic.publish (60/40), carries content */
export interface BasicPublish {
  ticket: number;
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  immediate: boolean;
}
/** basic.return (60/50), carries content */
export interface BasicReturn {
  replyCode: number;
  replyText: string;
  exchange: string;
  routingKey: string;
}
/** basic.deliver (60/60), carries content */
export interface BasicDeliver {
  consumerTag: string;
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
}
/** basic.get (60/70), synchronous */
export interface BasicGet {
  ticket: number;
  queue: string;
  noAck: boolean;
}
/** basic.get-ok (60/71), carries content */
export interface BasicGetOk {
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  messageCount: number;
}
/** basic.get-empty (60/72) */
export interface BasicGetEmpty {
  clusterId: string;
}
/** basic.ack (60/80) */
export interface BasicAck {
  deliveryTag: number;
  multiple: boolean;
}
/** basic.reject (60/90) */
export interface BasicReject {
  deliveryTag: number;
  requeue: boolean;
}
/** basic.recover-async (60/100) */
export interface BasicRecoverAsync {
  requeue: boolean;
}
/** basic.recover (60/110), synchronous */
export interface BasicRecover {
  requeue: boolean;
}
/** basic.recover-ok (60/111) */
export type BasicRecoverOk = Record<string, never>;
/** basic.nack (60/120) */
export interface BasicNack {
  deliveryTag: number;
  multiple: boolean;
  requeue: boolean;
}
/** confirm.select (85/10), synchronous */
export interface ConfirmSelect {
  nowait: boolean;
}
/** confirm.select-ok (85/11) */
export type ConfirmSelectOk = Record<string, never>;
/** tx.select (90/10), synchronous */
export type TxSelect = Record<string, never>;
/** tx.select-ok (90/11) */
export type TxSelectOk = Record<string, never>;
/** tx.commit (90/20), synchronous */
export type TxCommit = Record<string, never>;
/** tx.commit-ok (90/21) */
export type TxCommitOk = Record<string, never>;
/** tx.rollback (90/30), synchronous */
export type TxRollback = Record<string, never>;
/** tx.rollback-ok (90/31) */
export type TxRollbackOk = Record<string, never>;

export interface MethodArgsById {
  [CONNECTION_START]: ConnectionStart;
  [CONNECTION_START_OK]: ConnectionStartOk;
  [CONNECTION_SECURE]: ConnectionSecure;
  [CONNECTION_SECURE_OK]: ConnectionSecureOk;
  [CONNECTION_TUNE]: ConnectionTune;
  [CONNECTION_TUNE_OK]: ConnectionTuneOk;
  [CONNECTION_OPEN]: ConnectionOpen;
  [CONNECTION_OPEN_OK]: ConnectionOpenOk;
  [CONNECTION_CLOSE]: ConnectionClose;
  [CONNECTION_CLOSE_OK]: ConnectionCloseOk;
  [CONNECTION_BLOCKED]: ConnectionBlocked;
  [CONNECTION_UNBLOCKED]: ConnectionUnblocked;
  [CONNECTION_UPDATE_SECRET]: ConnectionUpdateSecret;
  [CONNECTION_UPDATE_SECRET_OK]: ConnectionUpdateSecretOk;
  [CHANNEL_OPEN]: ChannelOpen;
  [CHANNEL_OPEN_OK]: ChannelOpenOk;
  [CHANNEL_FLOW]: ChannelFlow;
  [CHANNEL_FLOW_OK]: ChannelFlowOk;
  [CHANNEL_CLOSE]: ChannelClose;
  [CHANNEL_CLOSE_OK]: ChannelCloseOk;
  [ACCESS_REQUEST]: AccessRequest;
  [ACCESS_REQUEST_OK]: AccessRequestOk;
  [EXCHANGE_DECLARE]: ExchangeDeclare;
  [EXCHANGE_DECLARE_OK]: ExchangeDeclareOk;
  [EXCHANGE_DELETE]: ExchangeDelete;
  [EXCHANGE_DELETE_OK]: ExchangeDeleteOk;
  [EXCHANGE_BIND]: ExchangeBind;
  [EXCHANGE_BIND_OK]: ExchangeBindOk;
  [EXCHANGE_UNBIND]: ExchangeUnbind;
  [EXCHANGE_UNBIND_OK]: ExchangeUnbindOk;
  [QUEUE_DECLARE]: QueueDeclare;
  [QUEUE_DECLARE_OK]: QueueDeclareOk;
  [QUEUE_BIND]: QueueBind;
  [QUEUE_BIND_OK]: QueueBindOk;
  [QUEUE_PURGE]: QueuePurge;
  [QUEUE_PURGE_OK]: QueuePurgeOk;
  [QUEUE_DELETE]: QueueDelete;
  [QUEUE_DELETE_OK]: QueueDeleteOk;
  [QUEUE_UNBIND]: QueueUnbind;
  [QUEUE_UNBIND_OK]: QueueUnbindOk;
  [BASIC_QOS]: BasicQos;
  [BASIC_QOS_OK]: BasicQosOk;
  [BASIC_CONSUME]: BasicConsume;
  [BASIC_CONSUME_OK]: BasicConsumeOk;
  [BASIC_CANCEL]: BasicCancel;
  [BASIC_CANCEL_OK]: BasicCancelOk;
  [BASIC_PUBLISH]: BasicPublish;
  [BASIC_RETURN]: BasicReturn;
  [BASIC_DELIVER]: BasicDeliver;
  [BASIC_GET]: BasicGet;
  [BASIC_GET_OK]: BasicGetOk;
  [BASIC_GET_EMPTY]: BasicGetEmpty;
  [BASIC_ACK]: BasicAck;
  [BASIC_REJECT]: BasicReject;
  [BASIC_RECOVER_ASYNC]: BasicRecoverAsync;
  [BASIC_RECOVER]: BasicRecover;
  [BASIC_RECOVER_OK]: BasicRecoverOk;
  [BASIC_NACK]: BasicNack;
  [CONFIRM_SELECT]: ConfirmSelect;
  [CONFIRM_SELECT_OK]: ConfirmSelectOk;
  [TX_SELECT]: TxSelect;
  [TX_SELECT_OK]: TxSelectOk;
  [TX_COMMIT]: TxCommit;
  [TX_COMMIT_OK]: TxCommitOk;
  [TX_ROLLBACK]: TxRollback;
  [TX_ROLLBACK_OK]: TxRollbackOk;
}

/** A decoded method, discriminated by its numeric id. */
export type IncomingMethod = { [K in keyof MethodArgsById]: { id: K; args: MethodArgsById[K] } }[keyof MethodArgsById];

/** "basic.publish"; "unknown method 60/999" for ids not in the spec. */
export function methodName(id: number): string {
  switch (id) {
    case CONNECTION_START:
      return 'connection.start';
    case CONNECTION_START_OK:
      return 'connection.start-ok';
    case CONNECTION_SECURE:
      return 'connection.secure';
    case CONNECTION_SECURE_OK:
      return 'connection.secure-ok';
    case CONNECTION_TUNE:
      return 'connection.tune';
    case CONNECTION_TUNE_OK:
      return 'connection.tune-ok';
    case CONNECTION_OPEN:
      return 'connection.open';
    case CONNECTION_OPEN_OK:
      return 'connection.open-ok';
    case CONNECTION_CLOSE:
      return 'connection.close';
    case CONNECTION_CLOSE_OK:
      return 'connection.close-ok';
    case CONNECTION_BLOCKED:
      return 'connection.blocked';
    case CONNECTION_UNBLOCKED:
      return 'connection.unblocked';
    case CONNECTION_UPDATE_SECRET:
      return 'connection.update-secret';
    case CONNECTION_UPDATE_SECRET_OK:
      return 'connection.update-secret-ok';
    case CHANNEL_OPEN:
      return 'channel.open';
    case CHANNEL_OPEN_OK:
      return 'channel.open-ok';
    case CHANNEL_FLOW:
      return 'channel.flow';
    case CHANNEL_FLOW_OK:
      return 'channel.flow-ok';
    case CHANNEL_CLOSE:
      return 'channel.close';
    case CHANNEL_CLOSE_OK:
      return 'channel.close-ok';
    case ACCESS_REQUEST:
      return 'access.request';
    case ACCESS_REQUEST_OK:
      return 'access.request-ok';
    case EXCHANGE_DECLARE:
      return 'exchange.declare';
    case EXCHANGE_DECLARE_OK:
      return 'exchange.declare-ok';
    case EXCHANGE_DELETE:
      return 'exchange.delete';
    case EXCHANGE_DELETE_OK:
      return 'exchange.delete-ok';
    case EXCHANGE_BIND:
      return 'exchange.bind';
    case EXCHANGE_BIND_OK:
      return 'exchange.bind-ok';
    case EXCHANGE_UNBIND:
      return 'exchange.unbind';
    case EXCHANGE_UNBIND_OK:
      return 'exchange.unbind-ok';
    case QUEUE_DECLARE:
      return 'queue.declare';
    case QUEUE_DECLARE_OK:
      return 'queue.declare-ok';
    case QUEUE_BIND:
      return 'queue.bind';
    case QUEUE_BIND_OK:
      return 'queue.bind-ok';
    case QUEUE_PURGE:
      return 'queue.purge';
    case QUEUE_PURGE_OK:
      return 'queue.purge-ok';
    case QUEUE_DELETE:
      return 'queue.delete';
    case QUEUE_DELETE_OK:
      return 'queue.delete-ok';
    case QUEUE_UNBIND:
      return 'queue.unbind';
    case QUEUE_UNBIND_OK:
      return 'queue.unbind-ok';
    case BASIC_QOS:
      return 'basic.qos';
    case BASIC_QOS_OK:
      return 'basic.qos-ok';
    case BASIC_CONSUME:
      return 'basic.consume';
    case BASIC_CONSUME_OK:
      return 'basic.consume-ok';
    case BASIC_CANCEL:
      return 'basic.cancel';
    case BASIC_CANCEL_OK:
      return 'basic.cancel-ok';
    case BASIC_PUBLISH:
      return 'basic.publish';
    case BASIC_RETURN:
      return 'basic.return';
    case BASIC_DELIVER:
      return 'basic.deliver';
    case BASIC_GET:
      return 'basic.get';
    case BASIC_GET_OK:
      return 'basic.get-ok';
    case BASIC_GET_EMPTY:
      return 'basic.get-empty';
    case BASIC_ACK:
      return 'basic.ack';
    case BASIC_REJECT:
      return 'basic.reject';
    case BASIC_RECOVER_ASYNC:
      return 'basic.recover-async';
    case BASIC_RECOVER:
      return 'basic.recover';
    case BASIC_RECOVER_OK:
      return 'basic.recover-ok';
    case BASIC_NACK:
      return 'basic.nack';
    case CONFIRM_SELECT:
      return 'confirm.select';
    case CONFIRM_SELECT_OK:
      return 'confirm.select-ok';
    case TX_SELECT:
      return 'tx.select';
    case TX_SELECT_OK:
      return 'tx.select-ok';
    case TX_COMMIT:
      return 'tx.commit';
    case TX_COMMIT_OK:
      return 'tx.commit-ok';
    case TX_ROLLBACK:
      return 'tx.rollback';
    case TX_ROLLBACK_OK:
      return 'tx.rollback-ok';
    default:
      return `unknown method ${id >>> 16}/${id & 0xffff}`;
  }
}

/** True for methods followed by a content header and body frames. */
export function methodHasContent(id: number): boolean {
  return id === BASIC_PUBLISH || id === BASIC_RETURN || id === BASIC_DELIVER || id === BASIC_GET_OK;
}

/** True for methods the spec marks synchronous (they expect a reply method). */
export function methodIsSynchronous(id: number): boolean {
  switch (id) {
    case CONNECTION_START:
    case CONNECTION_SECURE:
    case CONNECTION_TUNE:
    case CONNECTION_OPEN:
    case CONNECTION_CLOSE:
    case CONNECTION_UPDATE_SECRET:
    case CHANNEL_OPEN:
    case CHANNEL_FLOW:
    case CHANNEL_CLOSE:
    case ACCESS_REQUEST:
    case EXCHANGE_DECLARE:
    case EXCHANGE_DELETE:
    case EXCHANGE_BIND:
    case EXCHANGE_UNBIND:
    case QUEUE_DECLARE:
    case QUEUE_BIND:
    case QUEUE_PURGE:
    case QUEUE_DELETE:
    case QUEUE_UNBIND:
    case BASIC_QOS:
    case BASIC_CONSUME:
    case BASIC_CANCEL:
    case BASIC_GET:
    case BASIC_RECOVER:
    case CONFIRM_SELECT:
    case TX_SELECT:
    case TX_COMMIT:
    case TX_ROLLBACK:
      return true;
    default:
      return false;
  }
}

function malformed(id: number, what: string): AmqpError {
  return AmqpError.connection(MALFORMED_METHOD_REPLY_CODE, `cannot decode ${methodName(id)}: ${what}`, id >>> 16, id & 0xffff);
}

// Decoders: b is a method frame payload; arguments start at offset 4.
function decodeConnectionStart(b: Buffer): ConnectionStart {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(CONNECTION_START, 'version-major');
  const a0 = b[p]!;
  const a1 = b[p + 1]!;
  p += 2;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(CONNECTION_START, 'server-properties');
  const ta2 = decodeArguments(b, p);
  const a2 = ta2.table;
  p = ta2.offset;
  if (p + 4 > end) throw malformed(CONNECTION_START, 'mechanisms');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CONNECTION_START, 'mechanisms');
  const a3 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p + 4 > end) throw malformed(CONNECTION_START, 'locales');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CONNECTION_START, 'locales');
  const a4 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p !== end) throw malformed(CONNECTION_START, 'trailing bytes');
  return {
    versionMajor: a0,
    versionMinor: a1,
    serverProperties: a2,
    mechanisms: a3,
    locales: a4,
  };
}

function decodeConnectionStartOk(b: Buffer): ConnectionStartOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(CONNECTION_START_OK, 'client-properties');
  const ta0 = decodeArguments(b, p);
  const a0 = ta0.table;
  p = ta0.offset;
  if (p >= end) throw malformed(CONNECTION_START_OK, 'mechanism');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_START_OK, 'mechanism');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 4 > end) throw malformed(CONNECTION_START_OK, 'response');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CONNECTION_START_OK, 'response');
  const a2 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p >= end) throw malformed(CONNECTION_START_OK, 'locale');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_START_OK, 'locale');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(CONNECTION_START_OK, 'trailing bytes');
  return {
    clientProperties: a0,
    mechanism: a1,
    response: a2,
    locale: a3,
  };
}

function decodeConnectionSecure(b: Buffer): ConnectionSecure {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 4 > end) throw malformed(CONNECTION_SECURE, 'challenge');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CONNECTION_SECURE, 'challenge');
  const a0 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p !== end) throw malformed(CONNECTION_SECURE, 'trailing bytes');
  return {
    challenge: a0,
  };
}

function decodeConnectionSecureOk(b: Buffer): ConnectionSecureOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 4 > end) throw malformed(CONNECTION_SECURE_OK, 'response');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CONNECTION_SECURE_OK, 'response');
  const a0 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p !== end) throw malformed(CONNECTION_SECURE_OK, 'trailing bytes');
  return {
    response: a0,
  };
}

function decodeConnectionTune(b: Buffer): ConnectionTune {
  const end = b.length;
  let p = 4;
  if (p + 8 > end) throw malformed(CONNECTION_TUNE, 'channel-max');
  const a0 = b.readUInt16BE(p);
  const a1 = b.readUInt32BE(p + 2);
  const a2 = b.readUInt16BE(p + 6);
  p += 8;
  if (p !== end) throw malformed(CONNECTION_TUNE, 'trailing bytes');
  return {
    channelMax: a0,
    frameMax: a1,
    heartbeat: a2,
  };
}

function decodeConnectionTuneOk(b: Buffer): ConnectionTuneOk {
  const end = b.length;
  let p = 4;
  if (p + 8 > end) throw malformed(CONNECTION_TUNE_OK, 'channel-max');
  const a0 = b.readUInt16BE(p);
  const a1 = b.readUInt32BE(p + 2);
  const a2 = b.readUInt16BE(p + 6);
  p += 8;
  if (p !== end) throw malformed(CONNECTION_TUNE_OK, 'trailing bytes');
  return {
    channelMax: a0,
    frameMax: a1,
    heartbeat: a2,
  };
}

function decodeConnectionOpen(b: Buffer): ConnectionOpen {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(CONNECTION_OPEN, 'virtual-host');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_OPEN, 'virtual-host');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(CONNECTION_OPEN, 'capabilities');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_OPEN, 'capabilities');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(CONNECTION_OPEN, 'insist');
  const a2 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(CONNECTION_OPEN, 'trailing bytes');
  return {
    virtualHost: a0,
    capabilities: a1,
    insist: a2,
  };
}

function decodeConnectionOpenOk(b: Buffer): ConnectionOpenOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(CONNECTION_OPEN_OK, 'known-hosts');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_OPEN_OK, 'known-hosts');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(CONNECTION_OPEN_OK, 'trailing bytes');
  return {
    knownHosts: a0,
  };
}

function decodeConnectionClose(b: Buffer): ConnectionClose {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(CONNECTION_CLOSE, 'reply-code');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(CONNECTION_CLOSE, 'reply-text');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_CLOSE, 'reply-text');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 4 > end) throw malformed(CONNECTION_CLOSE, 'class-id');
  const a2 = b.readUInt16BE(p);
  const a3 = b.readUInt16BE(p + 2);
  p += 4;
  if (p !== end) throw malformed(CONNECTION_CLOSE, 'trailing bytes');
  return {
    replyCode: a0,
    replyText: a1,
    classId: a2,
    methodId: a3,
  };
}

function decodeConnectionCloseOk(b: Buffer): ConnectionCloseOk {
  if (b.length !== 4) throw malformed(CONNECTION_CLOSE_OK, 'trailing bytes');
  return {};
}

function decodeConnectionBlocked(b: Buffer): ConnectionBlocked {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(CONNECTION_BLOCKED, 'reason');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_BLOCKED, 'reason');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(CONNECTION_BLOCKED, 'trailing bytes');
  return {
    reason: a0,
  };
}

function decodeConnectionUnblocked(b: Buffer): ConnectionUnblocked {
  if (b.length !== 4) throw malformed(CONNECTION_UNBLOCKED, 'trailing bytes');
  return {};
}

function decodeConnectionUpdateSecret(b: Buffer): ConnectionUpdateSecret {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 4 > end) throw malformed(CONNECTION_UPDATE_SECRET, 'new-secret');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CONNECTION_UPDATE_SECRET, 'new-secret');
  const a0 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p >= end) throw malformed(CONNECTION_UPDATE_SECRET, 'reason');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CONNECTION_UPDATE_SECRET, 'reason');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(CONNECTION_UPDATE_SECRET, 'trailing bytes');
  return {
    newSecret: a0,
    reason: a1,
  };
}

function decodeConnectionUpdateSecretOk(b: Buffer): ConnectionUpdateSecretOk {
  if (b.length !== 4) throw malformed(CONNECTION_UPDATE_SECRET_OK, 'trailing bytes');
  return {};
}

function decodeChannelOpen(b: Buffer): ChannelOpen {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(CHANNEL_OPEN, 'out-of-band');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CHANNEL_OPEN, 'out-of-band');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(CHANNEL_OPEN, 'trailing bytes');
  return {
    outOfBand: a0,
  };
}

function decodeChannelOpenOk(b: Buffer): ChannelOpenOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 4 > end) throw malformed(CHANNEL_OPEN_OK, 'channel-id');
  n = b.readUInt32BE(p);
  if (p + 4 + n > end) throw malformed(CHANNEL_OPEN_OK, 'channel-id');
  const a0 = b.subarray(p + 4, p + 4 + n);
  p += 4 + n;
  if (p !== end) throw malformed(CHANNEL_OPEN_OK, 'trailing bytes');
  return {
    channelId: a0,
  };
}

function decodeChannelFlow(b: Buffer): ChannelFlow {
  const end = b.length;
  let p = 4;
  if (p + 1 > end) throw malformed(CHANNEL_FLOW, 'active');
  const a0 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(CHANNEL_FLOW, 'trailing bytes');
  return {
    active: a0,
  };
}

function decodeChannelFlowOk(b: Buffer): ChannelFlowOk {
  const end = b.length;
  let p = 4;
  if (p + 1 > end) throw malformed(CHANNEL_FLOW_OK, 'active');
  const a0 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(CHANNEL_FLOW_OK, 'trailing bytes');
  return {
    active: a0,
  };
}

function decodeChannelClose(b: Buffer): ChannelClose {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(CHANNEL_CLOSE, 'reply-code');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(CHANNEL_CLOSE, 'reply-text');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(CHANNEL_CLOSE, 'reply-text');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 4 > end) throw malformed(CHANNEL_CLOSE, 'class-id');
  const a2 = b.readUInt16BE(p);
  const a3 = b.readUInt16BE(p + 2);
  p += 4;
  if (p !== end) throw malformed(CHANNEL_CLOSE, 'trailing bytes');
  return {
    replyCode: a0,
    replyText: a1,
    classId: a2,
    methodId: a3,
  };
}

function decodeChannelCloseOk(b: Buffer): ChannelCloseOk {
  if (b.length !== 4) throw malformed(CHANNEL_CLOSE_OK, 'trailing bytes');
  return {};
}

function decodeAccessRequest(b: Buffer): AccessRequest {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(ACCESS_REQUEST, 'realm');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(ACCESS_REQUEST, 'realm');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(ACCESS_REQUEST, 'exclusive');
  const a1 = (b[p]! & 1) !== 0;
  const a2 = (b[p]! & 2) !== 0;
  const a3 = (b[p]! & 4) !== 0;
  const a4 = (b[p]! & 8) !== 0;
  const a5 = (b[p]! & 16) !== 0;
  p += 1;
  if (p !== end) throw malformed(ACCESS_REQUEST, 'trailing bytes');
  return {
    realm: a0,
    exclusive: a1,
    passive: a2,
    active: a3,
    write: a4,
    read: a5,
  };
}

function decodeAccessRequestOk(b: Buffer): AccessRequestOk {
  const end = b.length;
  let p = 4;
  if (p + 2 > end) throw malformed(ACCESS_REQUEST_OK, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p !== end) throw malformed(ACCESS_REQUEST_OK, 'trailing bytes');
  return {
    ticket: a0,
  };
}

function decodeExchangeDeclare(b: Buffer): ExchangeDeclare {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(EXCHANGE_DECLARE, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(EXCHANGE_DECLARE, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_DECLARE, 'exchange');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(EXCHANGE_DECLARE, 'type');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_DECLARE, 'type');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(EXCHANGE_DECLARE, 'passive');
  const a3 = (b[p]! & 1) !== 0;
  const a4 = (b[p]! & 2) !== 0;
  const a5 = (b[p]! & 4) !== 0;
  const a6 = (b[p]! & 8) !== 0;
  const a7 = (b[p]! & 16) !== 0;
  p += 1;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(EXCHANGE_DECLARE, 'arguments');
  const ta8 = decodeArguments(b, p);
  const a8 = ta8.table;
  p = ta8.offset;
  if (p !== end) throw malformed(EXCHANGE_DECLARE, 'trailing bytes');
  return {
    ticket: a0,
    exchange: a1,
    type: a2,
    passive: a3,
    durable: a4,
    autoDelete: a5,
    internal: a6,
    nowait: a7,
    arguments: a8,
  };
}

function decodeExchangeDeclareOk(b: Buffer): ExchangeDeclareOk {
  if (b.length !== 4) throw malformed(EXCHANGE_DECLARE_OK, 'trailing bytes');
  return {};
}

function decodeExchangeDelete(b: Buffer): ExchangeDelete {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(EXCHANGE_DELETE, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(EXCHANGE_DELETE, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_DELETE, 'exchange');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(EXCHANGE_DELETE, 'if-unused');
  const a2 = (b[p]! & 1) !== 0;
  const a3 = (b[p]! & 2) !== 0;
  p += 1;
  if (p !== end) throw malformed(EXCHANGE_DELETE, 'trailing bytes');
  return {
    ticket: a0,
    exchange: a1,
    ifUnused: a2,
    nowait: a3,
  };
}

function decodeExchangeDeleteOk(b: Buffer): ExchangeDeleteOk {
  if (b.length !== 4) throw malformed(EXCHANGE_DELETE_OK, 'trailing bytes');
  return {};
}

function decodeExchangeBind(b: Buffer): ExchangeBind {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(EXCHANGE_BIND, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(EXCHANGE_BIND, 'destination');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_BIND, 'destination');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(EXCHANGE_BIND, 'source');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_BIND, 'source');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(EXCHANGE_BIND, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_BIND, 'routing-key');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(EXCHANGE_BIND, 'nowait');
  const a4 = (b[p]! & 1) !== 0;
  p += 1;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(EXCHANGE_BIND, 'arguments');
  const ta5 = decodeArguments(b, p);
  const a5 = ta5.table;
  p = ta5.offset;
  if (p !== end) throw malformed(EXCHANGE_BIND, 'trailing bytes');
  return {
    ticket: a0,
    destination: a1,
    source: a2,
    routingKey: a3,
    nowait: a4,
    arguments: a5,
  };
}

function decodeExchangeBindOk(b: Buffer): ExchangeBindOk {
  if (b.length !== 4) throw malformed(EXCHANGE_BIND_OK, 'trailing bytes');
  return {};
}

function decodeExchangeUnbind(b: Buffer): ExchangeUnbind {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(EXCHANGE_UNBIND, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(EXCHANGE_UNBIND, 'destination');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_UNBIND, 'destination');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(EXCHANGE_UNBIND, 'source');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_UNBIND, 'source');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(EXCHANGE_UNBIND, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(EXCHANGE_UNBIND, 'routing-key');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(EXCHANGE_UNBIND, 'nowait');
  const a4 = (b[p]! & 1) !== 0;
  p += 1;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(EXCHANGE_UNBIND, 'arguments');
  const ta5 = decodeArguments(b, p);
  const a5 = ta5.table;
  p = ta5.offset;
  if (p !== end) throw malformed(EXCHANGE_UNBIND, 'trailing bytes');
  return {
    ticket: a0,
    destination: a1,
    source: a2,
    routingKey: a3,
    nowait: a4,
    arguments: a5,
  };
}

function decodeExchangeUnbindOk(b: Buffer): ExchangeUnbindOk {
  if (b.length !== 4) throw malformed(EXCHANGE_UNBIND_OK, 'trailing bytes');
  return {};
}

function decodeQueueDeclare(b: Buffer): QueueDeclare {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(QUEUE_DECLARE, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(QUEUE_DECLARE, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_DECLARE, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(QUEUE_DECLARE, 'passive');
  const a2 = (b[p]! & 1) !== 0;
  const a3 = (b[p]! & 2) !== 0;
  const a4 = (b[p]! & 4) !== 0;
  const a5 = (b[p]! & 8) !== 0;
  const a6 = (b[p]! & 16) !== 0;
  p += 1;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(QUEUE_DECLARE, 'arguments');
  const ta7 = decodeArguments(b, p);
  const a7 = ta7.table;
  p = ta7.offset;
  if (p !== end) throw malformed(QUEUE_DECLARE, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    passive: a2,
    durable: a3,
    exclusive: a4,
    autoDelete: a5,
    nowait: a6,
    arguments: a7,
  };
}

function decodeQueueDeclareOk(b: Buffer): QueueDeclareOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(QUEUE_DECLARE_OK, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_DECLARE_OK, 'queue');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 8 > end) throw malformed(QUEUE_DECLARE_OK, 'message-count');
  const a1 = b.readUInt32BE(p);
  const a2 = b.readUInt32BE(p + 4);
  p += 8;
  if (p !== end) throw malformed(QUEUE_DECLARE_OK, 'trailing bytes');
  return {
    queue: a0,
    messageCount: a1,
    consumerCount: a2,
  };
}

function decodeQueueBind(b: Buffer): QueueBind {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(QUEUE_BIND, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(QUEUE_BIND, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_BIND, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(QUEUE_BIND, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_BIND, 'exchange');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(QUEUE_BIND, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_BIND, 'routing-key');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(QUEUE_BIND, 'nowait');
  const a4 = (b[p]! & 1) !== 0;
  p += 1;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(QUEUE_BIND, 'arguments');
  const ta5 = decodeArguments(b, p);
  const a5 = ta5.table;
  p = ta5.offset;
  if (p !== end) throw malformed(QUEUE_BIND, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    exchange: a2,
    routingKey: a3,
    nowait: a4,
    arguments: a5,
  };
}

function decodeQueueBindOk(b: Buffer): QueueBindOk {
  if (b.length !== 4) throw malformed(QUEUE_BIND_OK, 'trailing bytes');
  return {};
}

function decodeQueuePurge(b: Buffer): QueuePurge {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(QUEUE_PURGE, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(QUEUE_PURGE, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_PURGE, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(QUEUE_PURGE, 'nowait');
  const a2 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(QUEUE_PURGE, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    nowait: a2,
  };
}

function decodeQueuePurgeOk(b: Buffer): QueuePurgeOk {
  const end = b.length;
  let p = 4;
  if (p + 4 > end) throw malformed(QUEUE_PURGE_OK, 'message-count');
  const a0 = b.readUInt32BE(p);
  p += 4;
  if (p !== end) throw malformed(QUEUE_PURGE_OK, 'trailing bytes');
  return {
    messageCount: a0,
  };
}

function decodeQueueDelete(b: Buffer): QueueDelete {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(QUEUE_DELETE, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(QUEUE_DELETE, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_DELETE, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(QUEUE_DELETE, 'if-unused');
  const a2 = (b[p]! & 1) !== 0;
  const a3 = (b[p]! & 2) !== 0;
  const a4 = (b[p]! & 4) !== 0;
  p += 1;
  if (p !== end) throw malformed(QUEUE_DELETE, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    ifUnused: a2,
    ifEmpty: a3,
    nowait: a4,
  };
}

function decodeQueueDeleteOk(b: Buffer): QueueDeleteOk {
  const end = b.length;
  let p = 4;
  if (p + 4 > end) throw malformed(QUEUE_DELETE_OK, 'message-count');
  const a0 = b.readUInt32BE(p);
  p += 4;
  if (p !== end) throw malformed(QUEUE_DELETE_OK, 'trailing bytes');
  return {
    messageCount: a0,
  };
}

function decodeQueueUnbind(b: Buffer): QueueUnbind {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(QUEUE_UNBIND, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(QUEUE_UNBIND, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_UNBIND, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(QUEUE_UNBIND, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_UNBIND, 'exchange');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(QUEUE_UNBIND, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(QUEUE_UNBIND, 'routing-key');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(QUEUE_UNBIND, 'arguments');
  const ta4 = decodeArguments(b, p);
  const a4 = ta4.table;
  p = ta4.offset;
  if (p !== end) throw malformed(QUEUE_UNBIND, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    exchange: a2,
    routingKey: a3,
    arguments: a4,
  };
}

function decodeQueueUnbindOk(b: Buffer): QueueUnbindOk {
  if (b.length !== 4) throw malformed(QUEUE_UNBIND_OK, 'trailing bytes');
  return {};
}

function decodeBasicQos(b: Buffer): BasicQos {
  const end = b.length;
  let p = 4;
  if (p + 7 > end) throw malformed(BASIC_QOS, 'prefetch-size');
  const a0 = b.readUInt32BE(p);
  const a1 = b.readUInt16BE(p + 4);
  const a2 = (b[p + 6]! & 1) !== 0;
  p += 7;
  if (p !== end) throw malformed(BASIC_QOS, 'trailing bytes');
  return {
    prefetchSize: a0,
    prefetchCount: a1,
    global: a2,
  };
}

function decodeBasicQosOk(b: Buffer): BasicQosOk {
  if (b.length !== 4) throw malformed(BASIC_QOS_OK, 'trailing bytes');
  return {};
}

function decodeBasicConsume(b: Buffer): BasicConsume {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(BASIC_CONSUME, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(BASIC_CONSUME, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_CONSUME, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(BASIC_CONSUME, 'consumer-tag');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_CONSUME, 'consumer-tag');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(BASIC_CONSUME, 'no-local');
  const a3 = (b[p]! & 1) !== 0;
  const a4 = (b[p]! & 2) !== 0;
  const a5 = (b[p]! & 4) !== 0;
  const a6 = (b[p]! & 8) !== 0;
  p += 1;
  if (p + 4 > end || p + 4 + b.readUInt32BE(p) > end) throw malformed(BASIC_CONSUME, 'arguments');
  const ta7 = decodeArguments(b, p);
  const a7 = ta7.table;
  p = ta7.offset;
  if (p !== end) throw malformed(BASIC_CONSUME, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    consumerTag: a2,
    noLocal: a3,
    noAck: a4,
    exclusive: a5,
    nowait: a6,
    arguments: a7,
  };
}

function decodeBasicConsumeOk(b: Buffer): BasicConsumeOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(BASIC_CONSUME_OK, 'consumer-tag');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_CONSUME_OK, 'consumer-tag');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(BASIC_CONSUME_OK, 'trailing bytes');
  return {
    consumerTag: a0,
  };
}

function decodeBasicCancel(b: Buffer): BasicCancel {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(BASIC_CANCEL, 'consumer-tag');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_CANCEL, 'consumer-tag');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(BASIC_CANCEL, 'nowait');
  const a1 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(BASIC_CANCEL, 'trailing bytes');
  return {
    consumerTag: a0,
    nowait: a1,
  };
}

function decodeBasicCancelOk(b: Buffer): BasicCancelOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(BASIC_CANCEL_OK, 'consumer-tag');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_CANCEL_OK, 'consumer-tag');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(BASIC_CANCEL_OK, 'trailing bytes');
  return {
    consumerTag: a0,
  };
}

function decodeBasicPublish(b: Buffer): BasicPublish {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(BASIC_PUBLISH, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(BASIC_PUBLISH, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_PUBLISH, 'exchange');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(BASIC_PUBLISH, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_PUBLISH, 'routing-key');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(BASIC_PUBLISH, 'mandatory');
  const a3 = (b[p]! & 1) !== 0;
  const a4 = (b[p]! & 2) !== 0;
  p += 1;
  if (p !== end) throw malformed(BASIC_PUBLISH, 'trailing bytes');
  return {
    ticket: a0,
    exchange: a1,
    routingKey: a2,
    mandatory: a3,
    immediate: a4,
  };
}

function decodeBasicReturn(b: Buffer): BasicReturn {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(BASIC_RETURN, 'reply-code');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(BASIC_RETURN, 'reply-text');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_RETURN, 'reply-text');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(BASIC_RETURN, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_RETURN, 'exchange');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(BASIC_RETURN, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_RETURN, 'routing-key');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(BASIC_RETURN, 'trailing bytes');
  return {
    replyCode: a0,
    replyText: a1,
    exchange: a2,
    routingKey: a3,
  };
}

function decodeBasicDeliver(b: Buffer): BasicDeliver {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(BASIC_DELIVER, 'consumer-tag');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_DELIVER, 'consumer-tag');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 9 > end) throw malformed(BASIC_DELIVER, 'delivery-tag');
  const a1 = readUInt64At(b, p);
  const a2 = (b[p + 8]! & 1) !== 0;
  p += 9;
  if (p >= end) throw malformed(BASIC_DELIVER, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_DELIVER, 'exchange');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(BASIC_DELIVER, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_DELIVER, 'routing-key');
  const a4 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(BASIC_DELIVER, 'trailing bytes');
  return {
    consumerTag: a0,
    deliveryTag: a1,
    redelivered: a2,
    exchange: a3,
    routingKey: a4,
  };
}

function decodeBasicGet(b: Buffer): BasicGet {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 2 > end) throw malformed(BASIC_GET, 'ticket');
  const a0 = b.readUInt16BE(p);
  p += 2;
  if (p >= end) throw malformed(BASIC_GET, 'queue');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_GET, 'queue');
  const a1 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 1 > end) throw malformed(BASIC_GET, 'no-ack');
  const a2 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(BASIC_GET, 'trailing bytes');
  return {
    ticket: a0,
    queue: a1,
    noAck: a2,
  };
}

function decodeBasicGetOk(b: Buffer): BasicGetOk {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p + 9 > end) throw malformed(BASIC_GET_OK, 'delivery-tag');
  const a0 = readUInt64At(b, p);
  const a1 = (b[p + 8]! & 1) !== 0;
  p += 9;
  if (p >= end) throw malformed(BASIC_GET_OK, 'exchange');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_GET_OK, 'exchange');
  const a2 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p >= end) throw malformed(BASIC_GET_OK, 'routing-key');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_GET_OK, 'routing-key');
  const a3 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p + 4 > end) throw malformed(BASIC_GET_OK, 'message-count');
  const a4 = b.readUInt32BE(p);
  p += 4;
  if (p !== end) throw malformed(BASIC_GET_OK, 'trailing bytes');
  return {
    deliveryTag: a0,
    redelivered: a1,
    exchange: a2,
    routingKey: a3,
    messageCount: a4,
  };
}

function decodeBasicGetEmpty(b: Buffer): BasicGetEmpty {
  const end = b.length;
  let p = 4;
  let n: number;
  if (p >= end) throw malformed(BASIC_GET_EMPTY, 'cluster-id');
  n = b[p]!;
  if (p + 1 + n > end) throw malformed(BASIC_GET_EMPTY, 'cluster-id');
  const a0 = b.toString('utf8', p + 1, p + 1 + n);
  p += 1 + n;
  if (p !== end) throw malformed(BASIC_GET_EMPTY, 'trailing bytes');
  return {
    clusterId: a0,
  };
}

function decodeBasicAck(b: Buffer): BasicAck {
  const end = b.length;
  let p = 4;
  if (p + 9 > end) throw malformed(BASIC_ACK, 'delivery-tag');
  const a0 = readUInt64At(b, p);
  const a1 = (b[p + 8]! & 1) !== 0;
  p += 9;
  if (p !== end) throw malformed(BASIC_ACK, 'trailing bytes');
  return {
    deliveryTag: a0,
    multiple: a1,
  };
}

function decodeBasicReject(b: Buffer): BasicReject {
  const end = b.length;
  let p = 4;
  if (p + 9 > end) throw malformed(BASIC_REJECT, 'delivery-tag');
  const a0 = readUInt64At(b, p);
  const a1 = (b[p + 8]! & 1) !== 0;
  p += 9;
  if (p !== end) throw malformed(BASIC_REJECT, 'trailing bytes');
  return {
    deliveryTag: a0,
    requeue: a1,
  };
}

function decodeBasicRecoverAsync(b: Buffer): BasicRecoverAsync {
  const end = b.length;
  let p = 4;
  if (p + 1 > end) throw malformed(BASIC_RECOVER_ASYNC, 'requeue');
  const a0 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(BASIC_RECOVER_ASYNC, 'trailing bytes');
  return {
    requeue: a0,
  };
}

function decodeBasicRecover(b: Buffer): BasicRecover {
  const end = b.length;
  let p = 4;
  if (p + 1 > end) throw malformed(BASIC_RECOVER, 'requeue');
  const a0 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(BASIC_RECOVER, 'trailing bytes');
  return {
    requeue: a0,
  };
}

function decodeBasicRecoverOk(b: Buffer): BasicRecoverOk {
  if (b.length !== 4) throw malformed(BASIC_RECOVER_OK, 'trailing bytes');
  return {};
}

function decodeBasicNack(b: Buffer): BasicNack {
  const end = b.length;
  let p = 4;
  if (p + 9 > end) throw malformed(BASIC_NACK, 'delivery-tag');
  const a0 = readUInt64At(b, p);
  const a1 = (b[p + 8]! & 1) !== 0;
  const a2 = (b[p + 8]! & 2) !== 0;
  p += 9;
  if (p !== end) throw malformed(BASIC_NACK, 'trailing bytes');
  return {
    deliveryTag: a0,
    multiple: a1,
    requeue: a2,
  };
}

function decodeConfirmSelect(b: Buffer): ConfirmSelect {
  const end = b.length;
  let p = 4;
  if (p + 1 > end) throw malformed(CONFIRM_SELECT, 'nowait');
  const a0 = (b[p]! & 1) !== 0;
  p += 1;
  if (p !== end) throw malformed(CONFIRM_SELECT, 'trailing bytes');
  return {
    nowait: a0,
  };
}

function decodeConfirmSelectOk(b: Buffer): ConfirmSelectOk {
  if (b.length !== 4) throw malformed(CONFIRM_SELECT_OK, 'trailing bytes');
  return {};
}

function decodeTxSelect(b: Buffer): TxSelect {
  if (b.length !== 4) throw malformed(TX_SELECT, 'trailing bytes');
  return {};
}

function decodeTxSelectOk(b: Buffer): TxSelectOk {
  if (b.length !== 4) throw malformed(TX_SELECT_OK, 'trailing bytes');
  return {};
}

function decodeTxCommit(b: Buffer): TxCommit {
  if (b.length !== 4) throw malformed(TX_COMMIT, 'trailing bytes');
  return {};
}

function decodeTxCommitOk(b: Buffer): TxCommitOk {
  if (b.length !== 4) throw malformed(TX_COMMIT_OK, 'trailing bytes');
  return {};
}

function decodeTxRollback(b: Buffer): TxRollback {
  if (b.length !== 4) throw malformed(TX_ROLLBACK, 'trailing bytes');
  return {};
}

function decodeTxRollbackOk(b: Buffer): TxRollbackOk {
  if (b.length !== 4) throw malformed(TX_ROLLBACK_OK, 'trailing bytes');
  return {};
}

/**
 * Decodes a method frame payload (class id, method id, arguments). Throws
 * AmqpError (connection scope) for unknown methods and malformed arguments.
 */
export function decodeMethod(payload: Buffer): IncomingMethod {
  if (payload.length < 4) {
    throw AmqpError.connection(MALFORMED_METHOD_REPLY_CODE, 'method frame too short for class and method ids');
  }
  const id = payload.readUInt32BE(0);
  try {
    switch (id) {
      case CONNECTION_START:
        return { id: CONNECTION_START, args: decodeConnectionStart(payload) };
      case CONNECTION_START_OK:
        return { id: CONNECTION_START_OK, args: decodeConnectionStartOk(payload) };
      case CONNECTION_SECURE:
        return { id: CONNECTION_SECURE, args: decodeConnectionSecure(payload) };
      case CONNECTION_SECURE_OK:
        return { id: CONNECTION_SECURE_OK, args: decodeConnectionSecureOk(payload) };
      case CONNECTION_TUNE:
        return { id: CONNECTION_TUNE, args: decodeConnectionTune(payload) };
      case CONNECTION_TUNE_OK:
        return { id: CONNECTION_TUNE_OK, args: decodeConnectionTuneOk(payload) };
      case CONNECTION_OPEN:
        return { id: CONNECTION_OPEN, args: decodeConnectionOpen(payload) };
      case CONNECTION_OPEN_OK:
        return { id: CONNECTION_OPEN_OK, args: decodeConnectionOpenOk(payload) };
      case CONNECTION_CLOSE:
        return { id: CONNECTION_CLOSE, args: decodeConnectionClose(payload) };
      case CONNECTION_CLOSE_OK:
        return { id: CONNECTION_CLOSE_OK, args: decodeConnectionCloseOk(payload) };
      case CONNECTION_BLOCKED:
        return { id: CONNECTION_BLOCKED, args: decodeConnectionBlocked(payload) };
      case CONNECTION_UNBLOCKED:
        return { id: CONNECTION_UNBLOCKED, args: decodeConnectionUnblocked(payload) };
      case CONNECTION_UPDATE_SECRET:
        return { id: CONNECTION_UPDATE_SECRET, args: decodeConnectionUpdateSecret(payload) };
      case CONNECTION_UPDATE_SECRET_OK:
        return { id: CONNECTION_UPDATE_SECRET_OK, args: decodeConnectionUpdateSecretOk(payload) };
      case CHANNEL_OPEN:
        return { id: CHANNEL_OPEN, args: decodeChannelOpen(payload) };
      case CHANNEL_OPEN_OK:
        return { id: CHANNEL_OPEN_OK, args: decodeChannelOpenOk(payload) };
      case CHANNEL_FLOW:
        return { id: CHANNEL_FLOW, args: decodeChannelFlow(payload) };
      case CHANNEL_FLOW_OK:
        return { id: CHANNEL_FLOW_OK, args: decodeChannelFlowOk(payload) };
      case CHANNEL_CLOSE:
        return { id: CHANNEL_CLOSE, args: decodeChannelClose(payload) };
      case CHANNEL_CLOSE_OK:
        return { id: CHANNEL_CLOSE_OK, args: decodeChannelCloseOk(payload) };
      case ACCESS_REQUEST:
        return { id: ACCESS_REQUEST, args: decodeAccessRequest(payload) };
      case ACCESS_REQUEST_OK:
        return { id: ACCESS_REQUEST_OK, args: decodeAccessRequestOk(payload) };
      case EXCHANGE_DECLARE:
        return { id: EXCHANGE_DECLARE, args: decodeExchangeDeclare(payload) };
      case EXCHANGE_DECLARE_OK:
        return { id: EXCHANGE_DECLARE_OK, args: decodeExchangeDeclareOk(payload) };
      case EXCHANGE_DELETE:
        return { id: EXCHANGE_DELETE, args: decodeExchangeDelete(payload) };
      case EXCHANGE_DELETE_OK:
        return { id: EXCHANGE_DELETE_OK, args: decodeExchangeDeleteOk(payload) };
      case EXCHANGE_BIND:
        return { id: EXCHANGE_BIND, args: decodeExchangeBind(payload) };
      case EXCHANGE_BIND_OK:
        return { id: EXCHANGE_BIND_OK, args: decodeExchangeBindOk(payload) };
      case EXCHANGE_UNBIND:
        return { id: EXCHANGE_UNBIND, args: decodeExchangeUnbind(payload) };
      case EXCHANGE_UNBIND_OK:
        return { id: EXCHANGE_UNBIND_OK, args: decodeExchangeUnbindOk(payload) };
      case QUEUE_DECLARE:
        return { id: QUEUE_DECLARE, args: decodeQueueDeclare(payload) };
      case QUEUE_DECLARE_OK:
        return { id: QUEUE_DECLARE_OK, args: decodeQueueDeclareOk(payload) };
      case QUEUE_BIND:
        return { id: QUEUE_BIND, args: decodeQueueBind(payload) };
      case QUEUE_BIND_OK:
        return { id: QUEUE_BIND_OK, args: decodeQueueBindOk(payload) };
      case QUEUE_PURGE:
        return { id: QUEUE_PURGE, args: decodeQueuePurge(payload) };
      case QUEUE_PURGE_OK:
        return { id: QUEUE_PURGE_OK, args: decodeQueuePurgeOk(payload) };
      case QUEUE_DELETE:
        return { id: QUEUE_DELETE, args: decodeQueueDelete(payload) };
      case QUEUE_DELETE_OK:
        return { id: QUEUE_DELETE_OK, args: decodeQueueDeleteOk(payload) };
      case QUEUE_UNBIND:
        return { id: QUEUE_UNBIND, args: decodeQueueUnbind(payload) };
      case QUEUE_UNBIND_OK:
        return { id: QUEUE_UNBIND_OK, args: decodeQueueUnbindOk(payload) };
      case BASIC_QOS:
        return { id: BASIC_QOS, args: decodeBasicQos(payload) };
      case BASIC_QOS_OK:
        return { id: BASIC_QOS_OK, args: decodeBasicQosOk(payload) };
      case BASIC_CONSUME:
        return { id: BASIC_CONSUME, args: decodeBasicConsume(payload) };
      case BASIC_CONSUME_OK:
        return { id: BASIC_CONSUME_OK, args: decodeBasicConsumeOk(payload) };
      case BASIC_CANCEL:
        return { id: BASIC_CANCEL, args: decodeBasicCancel(payload) };
      case BASIC_CANCEL_OK:
        return { id: BASIC_CANCEL_OK, args: decodeBasicCancelOk(payload) };
      case BASIC_PUBLISH:
        return { id: BASIC_PUBLISH, args: decodeBasicPublish(payload) };
      case BASIC_RETURN:
        return { id: BASIC_RETURN, args: decodeBasicReturn(payload) };
      case BASIC_DELIVER:
        return { id: BASIC_DELIVER, args: decodeBasicDeliver(payload) };
      case BASIC_GET:
        return { id: BASIC_GET, args: decodeBasicGet(payload) };
      case BASIC_GET_OK:
        return { id: BASIC_GET_OK, args: decodeBasicGetOk(payload) };
      case BASIC_GET_EMPTY:
        return { id: BASIC_GET_EMPTY, args: decodeBasicGetEmpty(payload) };
      case BASIC_ACK:
        return { id: BASIC_ACK, args: decodeBasicAck(payload) };
      case BASIC_REJECT:
        return { id: BASIC_REJECT, args: decodeBasicReject(payload) };
      case BASIC_RECOVER_ASYNC:
        return { id: BASIC_RECOVER_ASYNC, args: decodeBasicRecoverAsync(payload) };
      case BASIC_RECOVER:
        return { id: BASIC_RECOVER, args: decodeBasicRecover(payload) };
      case BASIC_RECOVER_OK:
        return { id: BASIC_RECOVER_OK, args: decodeBasicRecoverOk(payload) };
      case BASIC_NACK:
        return { id: BASIC_NACK, args: decodeBasicNack(payload) };
      case CONFIRM_SELECT:
        return { id: CONFIRM_SELECT, args: decodeConfirmSelect(payload) };
      case CONFIRM_SELECT_OK:
        return { id: CONFIRM_SELECT_OK, args: decodeConfirmSelectOk(payload) };
      case TX_SELECT:
        return { id: TX_SELECT, args: decodeTxSelect(payload) };
      case TX_SELECT_OK:
        return { id: TX_SELECT_OK, args: decodeTxSelectOk(payload) };
      case TX_COMMIT:
        return { id: TX_COMMIT, args: decodeTxCommit(payload) };
      case TX_COMMIT_OK:
        return { id: TX_COMMIT_OK, args: decodeTxCommitOk(payload) };
      case TX_ROLLBACK:
        return { id: TX_ROLLBACK, args: decodeTxRollback(payload) };
      case TX_ROLLBACK_OK:
        return { id: TX_ROLLBACK_OK, args: decodeTxRollbackOk(payload) };
    }
  } catch (e) {
    if (e instanceof AmqpError && e.classId === 0 && e.methodId === 0) {
      e.classId = id >>> 16;
      e.methodId = id & 0xffff;
    }
    throw e;
  }
  throw AmqpError.connection(UNKNOWN_METHOD_REPLY_CODE, `unknown method ${id >>> 16}/${id & 0xffff}`, id >>> 16, id & 0xffff);
}

// Encoders: append arguments to the writer, after the class and method ids.
function encodeConnectionStart(w: FrameWriter, a: ConnectionStart): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt8(a.versionMajor, p);
    b.writeUInt8(a.versionMinor, p + 1);
    w.pos = p + 2;
  }
  writeTable(w, a.serverProperties);
  w.writeLongstr(a.mechanisms);
  w.writeLongstr(a.locales);
}

function encodeConnectionStartOk(w: FrameWriter, a: ConnectionStartOk): void {
  writeTable(w, a.clientProperties);
  w.writeShortstr(a.mechanism);
  w.writeLongstr(a.response);
  w.writeShortstr(a.locale);
}

function encodeConnectionSecure(w: FrameWriter, a: ConnectionSecure): void {
  w.writeLongstr(a.challenge);
}

function encodeConnectionSecureOk(w: FrameWriter, a: ConnectionSecureOk): void {
  w.writeLongstr(a.response);
}

function encodeConnectionTune(w: FrameWriter, a: ConnectionTune): void {
  w.ensure(8);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.channelMax, p);
    b.writeUInt32BE(a.frameMax, p + 2);
    b.writeUInt16BE(a.heartbeat, p + 6);
    w.pos = p + 8;
  }
}

function encodeConnectionTuneOk(w: FrameWriter, a: ConnectionTuneOk): void {
  w.ensure(8);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.channelMax, p);
    b.writeUInt32BE(a.frameMax, p + 2);
    b.writeUInt16BE(a.heartbeat, p + 6);
    w.pos = p + 8;
  }
}

function encodeConnectionOpen(w: FrameWriter, a: ConnectionOpen): void {
  w.writeShortstr(a.virtualHost);
  w.writeShortstr(a.capabilities);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.insist ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeConnectionOpenOk(w: FrameWriter, a: ConnectionOpenOk): void {
  w.writeShortstr(a.knownHosts);
}

function encodeConnectionClose(w: FrameWriter, a: ConnectionClose): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.replyCode, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.replyText);
  w.ensure(4);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.classId, p);
    b.writeUInt16BE(a.methodId, p + 2);
    w.pos = p + 4;
  }
}

function encodeConnectionCloseOk(w: FrameWriter, _a: ConnectionCloseOk): void {
}

function encodeConnectionBlocked(w: FrameWriter, a: ConnectionBlocked): void {
  w.writeShortstr(a.reason);
}

function encodeConnectionUnblocked(w: FrameWriter, _a: ConnectionUnblocked): void {
}

function encodeConnectionUpdateSecret(w: FrameWriter, a: ConnectionUpdateSecret): void {
  w.writeLongstr(a.newSecret);
  w.writeShortstr(a.reason);
}

function encodeConnectionUpdateSecretOk(w: FrameWriter, _a: ConnectionUpdateSecretOk): void {
}

function encodeChannelOpen(w: FrameWriter, a: ChannelOpen): void {
  w.writeShortstr(a.outOfBand);
}

function encodeChannelOpenOk(w: FrameWriter, a: ChannelOpenOk): void {
  w.writeLongstr(a.channelId);
}

function encodeChannelFlow(w: FrameWriter, a: ChannelFlow): void {
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.active ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeChannelFlowOk(w: FrameWriter, a: ChannelFlowOk): void {
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.active ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeChannelClose(w: FrameWriter, a: ChannelClose): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.replyCode, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.replyText);
  w.ensure(4);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.classId, p);
    b.writeUInt16BE(a.methodId, p + 2);
    w.pos = p + 4;
  }
}

function encodeChannelCloseOk(w: FrameWriter, _a: ChannelCloseOk): void {
}

function encodeAccessRequest(w: FrameWriter, a: AccessRequest): void {
  w.writeShortstr(a.realm);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.exclusive ? 1 : 0) | (a.passive ? 2 : 0) | (a.active ? 4 : 0) | (a.write ? 8 : 0) | (a.read ? 16 : 0);
    w.pos = p + 1;
  }
}

function encodeAccessRequestOk(w: FrameWriter, a: AccessRequestOk): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
}

function encodeExchangeDeclare(w: FrameWriter, a: ExchangeDeclare): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.type);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.passive ? 1 : 0) | (a.durable ? 2 : 0) | (a.autoDelete ? 4 : 0) | (a.internal ? 8 : 0) | (a.nowait ? 16 : 0);
    w.pos = p + 1;
  }
  writeTable(w, a.arguments);
}

function encodeExchangeDeclareOk(w: FrameWriter, _a: ExchangeDeclareOk): void {
}

function encodeExchangeDelete(w: FrameWriter, a: ExchangeDelete): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.exchange);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.ifUnused ? 1 : 0) | (a.nowait ? 2 : 0);
    w.pos = p + 1;
  }
}

function encodeExchangeDeleteOk(w: FrameWriter, _a: ExchangeDeleteOk): void {
}

function encodeExchangeBind(w: FrameWriter, a: ExchangeBind): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.destination);
  w.writeShortstr(a.source);
  w.writeShortstr(a.routingKey);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.nowait ? 1 : 0);
    w.pos = p + 1;
  }
  writeTable(w, a.arguments);
}

function encodeExchangeBindOk(w: FrameWriter, _a: ExchangeBindOk): void {
}

function encodeExchangeUnbind(w: FrameWriter, a: ExchangeUnbind): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.destination);
  w.writeShortstr(a.source);
  w.writeShortstr(a.routingKey);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.nowait ? 1 : 0);
    w.pos = p + 1;
  }
  writeTable(w, a.arguments);
}

function encodeExchangeUnbindOk(w: FrameWriter, _a: ExchangeUnbindOk): void {
}

function encodeQueueDeclare(w: FrameWriter, a: QueueDeclare): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.passive ? 1 : 0) | (a.durable ? 2 : 0) | (a.exclusive ? 4 : 0) | (a.autoDelete ? 8 : 0) | (a.nowait ? 16 : 0);
    w.pos = p + 1;
  }
  writeTable(w, a.arguments);
}

function encodeQueueDeclareOk(w: FrameWriter, a: QueueDeclareOk): void {
  w.writeShortstr(a.queue);
  w.ensure(8);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt32BE(a.messageCount, p);
    b.writeUInt32BE(a.consumerCount, p + 4);
    w.pos = p + 8;
  }
}

function encodeQueueBind(w: FrameWriter, a: QueueBind): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.routingKey);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.nowait ? 1 : 0);
    w.pos = p + 1;
  }
  writeTable(w, a.arguments);
}

function encodeQueueBindOk(w: FrameWriter, _a: QueueBindOk): void {
}

function encodeQueuePurge(w: FrameWriter, a: QueuePurge): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.nowait ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeQueuePurgeOk(w: FrameWriter, a: QueuePurgeOk): void {
  w.ensure(4);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt32BE(a.messageCount, p);
    w.pos = p + 4;
  }
}

function encodeQueueDelete(w: FrameWriter, a: QueueDelete): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.ifUnused ? 1 : 0) | (a.ifEmpty ? 2 : 0) | (a.nowait ? 4 : 0);
    w.pos = p + 1;
  }
}

function encodeQueueDeleteOk(w: FrameWriter, a: QueueDeleteOk): void {
  w.ensure(4);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt32BE(a.messageCount, p);
    w.pos = p + 4;
  }
}

function encodeQueueUnbind(w: FrameWriter, a: QueueUnbind): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.routingKey);
  writeTable(w, a.arguments);
}

function encodeQueueUnbindOk(w: FrameWriter, _a: QueueUnbindOk): void {
}

function encodeBasicQos(w: FrameWriter, a: BasicQos): void {
  w.ensure(7);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt32BE(a.prefetchSize, p);
    b.writeUInt16BE(a.prefetchCount, p + 4);
    b[p + 6] = (a.global ? 1 : 0);
    w.pos = p + 7;
  }
}

function encodeBasicQosOk(w: FrameWriter, _a: BasicQosOk): void {
}

function encodeBasicConsume(w: FrameWriter, a: BasicConsume): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.writeShortstr(a.consumerTag);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.noLocal ? 1 : 0) | (a.noAck ? 2 : 0) | (a.exclusive ? 4 : 0) | (a.nowait ? 8 : 0);
    w.pos = p + 1;
  }
  writeTable(w, a.arguments);
}

function encodeBasicConsumeOk(w: FrameWriter, a: BasicConsumeOk): void {
  w.writeShortstr(a.consumerTag);
}

function encodeBasicCancel(w: FrameWriter, a: BasicCancel): void {
  w.writeShortstr(a.consumerTag);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.nowait ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeBasicCancelOk(w: FrameWriter, a: BasicCancelOk): void {
  w.writeShortstr(a.consumerTag);
}

function encodeBasicPublish(w: FrameWriter, a: BasicPublish): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.routingKey);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.mandatory ? 1 : 0) | (a.immediate ? 2 : 0);
    w.pos = p + 1;
  }
}

function encodeBasicReturn(w: FrameWriter, a: BasicReturn): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.replyCode, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.replyText);
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.routingKey);
}

function encodeBasicDeliver(w: FrameWriter, a: BasicDeliver): void {
  w.writeShortstr(a.consumerTag);
  w.ensure(9);
  {
    const b = w.buf;
    const p = w.pos;
    writeUInt64At(b, a.deliveryTag, p);
    b[p + 8] = (a.redelivered ? 1 : 0);
    w.pos = p + 9;
  }
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.routingKey);
}

function encodeBasicGet(w: FrameWriter, a: BasicGet): void {
  w.ensure(2);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt16BE(a.ticket, p);
    w.pos = p + 2;
  }
  w.writeShortstr(a.queue);
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.noAck ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeBasicGetOk(w: FrameWriter, a: BasicGetOk): void {
  w.ensure(9);
  {
    const b = w.buf;
    const p = w.pos;
    writeUInt64At(b, a.deliveryTag, p);
    b[p + 8] = (a.redelivered ? 1 : 0);
    w.pos = p + 9;
  }
  w.writeShortstr(a.exchange);
  w.writeShortstr(a.routingKey);
  w.ensure(4);
  {
    const b = w.buf;
    const p = w.pos;
    b.writeUInt32BE(a.messageCount, p);
    w.pos = p + 4;
  }
}

function encodeBasicGetEmpty(w: FrameWriter, a: BasicGetEmpty): void {
  w.writeShortstr(a.clusterId);
}

function encodeBasicAck(w: FrameWriter, a: BasicAck): void {
  w.ensure(9);
  {
    const b = w.buf;
    const p = w.pos;
    writeUInt64At(b, a.deliveryTag, p);
    b[p + 8] = (a.multiple ? 1 : 0);
    w.pos = p + 9;
  }
}

function encodeBasicReject(w: FrameWriter, a: BasicReject): void {
  w.ensure(9);
  {
    const b = w.buf;
    const p = w.pos;
    writeUInt64At(b, a.deliveryTag, p);
    b[p + 8] = (a.requeue ? 1 : 0);
    w.pos = p + 9;
  }
}

function encodeBasicRecoverAsync(w: FrameWriter, a: BasicRecoverAsync): void {
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.requeue ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeBasicRecover(w: FrameWriter, a: BasicRecover): void {
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.requeue ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeBasicRecoverOk(w: FrameWriter, _a: BasicRecoverOk): void {
}

function encodeBasicNack(w: FrameWriter, a: BasicNack): void {
  w.ensure(9);
  {
    const b = w.buf;
    const p = w.pos;
    writeUInt64At(b, a.deliveryTag, p);
    b[p + 8] = (a.multiple ? 1 : 0) | (a.requeue ? 2 : 0);
    w.pos = p + 9;
  }
}

function encodeConfirmSelect(w: FrameWriter, a: ConfirmSelect): void {
  w.ensure(1);
  {
    const b = w.buf;
    const p = w.pos;
    b[p] = (a.nowait ? 1 : 0);
    w.pos = p + 1;
  }
}

function encodeConfirmSelectOk(w: FrameWriter, _a: ConfirmSelectOk): void {
}

function encodeTxSelect(w: FrameWriter, _a: TxSelect): void {
}

function encodeTxSelectOk(w: FrameWriter, _a: TxSelectOk): void {
}

function encodeTxCommit(w: FrameWriter, _a: TxCommit): void {
}

function encodeTxCommitOk(w: FrameWriter, _a: TxCommitOk): void {
}

function encodeTxRollback(w: FrameWriter, _a: TxRollback): void {
}

function encodeTxRollbackOk(w: FrameWriter, _a: TxRollbackOk): void {
}

/** Appends one complete method frame (type 1, channel, size, payload, 0xCE) to the writer. */
export function encodeMethod<K extends keyof MethodArgsById>(w: FrameWriter, channel: number, id: K, args: MethodArgsById[K]): void {
  const mark = w.beginFrame(FRAME_METHOD, channel);
  const a: unknown = args;
  try {
    w.ensure(4);
    w.buf.writeUInt32BE(id, w.pos);
    w.pos += 4;
    switch (id as number) {
      case CONNECTION_START:
        encodeConnectionStart(w, a as ConnectionStart);
        break;
      case CONNECTION_START_OK:
        encodeConnectionStartOk(w, a as ConnectionStartOk);
        break;
      case CONNECTION_SECURE:
        encodeConnectionSecure(w, a as ConnectionSecure);
        break;
      case CONNECTION_SECURE_OK:
        encodeConnectionSecureOk(w, a as ConnectionSecureOk);
        break;
      case CONNECTION_TUNE:
        encodeConnectionTune(w, a as ConnectionTune);
        break;
      case CONNECTION_TUNE_OK:
        encodeConnectionTuneOk(w, a as ConnectionTuneOk);
        break;
      case CONNECTION_OPEN:
        encodeConnectionOpen(w, a as ConnectionOpen);
        break;
      case CONNECTION_OPEN_OK:
        encodeConnectionOpenOk(w, a as ConnectionOpenOk);
        break;
      case CONNECTION_CLOSE:
        encodeConnectionClose(w, a as ConnectionClose);
        break;
      case CONNECTION_CLOSE_OK:
        encodeConnectionCloseOk(w, a as ConnectionCloseOk);
        break;
      case CONNECTION_BLOCKED:
        encodeConnectionBlocked(w, a as ConnectionBlocked);
        break;
      case CONNECTION_UNBLOCKED:
        encodeConnectionUnblocked(w, a as ConnectionUnblocked);
        break;
      case CONNECTION_UPDATE_SECRET:
        encodeConnectionUpdateSecret(w, a as ConnectionUpdateSecret);
        break;
      case CONNECTION_UPDATE_SECRET_OK:
        encodeConnectionUpdateSecretOk(w, a as ConnectionUpdateSecretOk);
        break;
      case CHANNEL_OPEN:
        encodeChannelOpen(w, a as ChannelOpen);
        break;
      case CHANNEL_OPEN_OK:
        encodeChannelOpenOk(w, a as ChannelOpenOk);
        break;
      case CHANNEL_FLOW:
        encodeChannelFlow(w, a as ChannelFlow);
        break;
      case CHANNEL_FLOW_OK:
        encodeChannelFlowOk(w, a as ChannelFlowOk);
        break;
      case CHANNEL_CLOSE:
        encodeChannelClose(w, a as ChannelClose);
        break;
      case CHANNEL_CLOSE_OK:
        encodeChannelCloseOk(w, a as ChannelCloseOk);
        break;
      case ACCESS_REQUEST:
        encodeAccessRequest(w, a as AccessRequest);
        break;
      case ACCESS_REQUEST_OK:
        encodeAccessRequestOk(w, a as AccessRequestOk);
        break;
      case EXCHANGE_DECLARE:
        encodeExchangeDeclare(w, a as ExchangeDeclare);
        break;
      case EXCHANGE_DECLARE_OK:
        encodeExchangeDeclareOk(w, a as ExchangeDeclareOk);
        break;
      case EXCHANGE_DELETE:
        encodeExchangeDelete(w, a as ExchangeDelete);
        break;
      case EXCHANGE_DELETE_OK:
        encodeExchangeDeleteOk(w, a as ExchangeDeleteOk);
        break;
      case EXCHANGE_BIND:
        encodeExchangeBind(w, a as ExchangeBind);
        break;
      case EXCHANGE_BIND_OK:
        encodeExchangeBindOk(w, a as ExchangeBindOk);
        break;
      case EXCHANGE_UNBIND:
        encodeExchangeUnbind(w, a as ExchangeUnbind);
        break;
      case EXCHANGE_UNBIND_OK:
        encodeExchangeUnbindOk(w, a as ExchangeUnbindOk);
        break;
      case QUEUE_DECLARE:
        encodeQueueDeclare(w, a as QueueDeclare);
        break;
      case QUEUE_DECLARE_OK:
        encodeQueueDeclareOk(w, a as QueueDeclareOk);
        break;
      case QUEUE_BIND:
        encodeQueueBind(w, a as QueueBind);
        break;
      case QUEUE_BIND_OK:
        encodeQueueBindOk(w, a as QueueBindOk);
        break;
      case QUEUE_PURGE:
        encodeQueuePurge(w, a as QueuePurge);
        break;
      case QUEUE_PURGE_OK:
        encodeQueuePurgeOk(w, a as QueuePurgeOk);
        break;
      case QUEUE_DELETE:
        encodeQueueDelete(w, a as QueueDelete);
        break;
      case QUEUE_DELETE_OK:
        encodeQueueDeleteOk(w, a as QueueDeleteOk);
        break;
      case QUEUE_UNBIND:
        encodeQueueUnbind(w, a as QueueUnbind);
        break;
      case QUEUE_UNBIND_OK:
        encodeQueueUnbindOk(w, a as QueueUnbindOk);
        break;
      case BASIC_QOS:
        encodeBasicQos(w, a as BasicQos);
        break;
      case BASIC_QOS_OK:
        encodeBasicQosOk(w, a as BasicQosOk);
        break;
      case BASIC_CONSUME:
        encodeBasicConsume(w, a as BasicConsume);
        break;
      case BASIC_CONSUME_OK:
        encodeBasicConsumeOk(w, a as BasicConsumeOk);
        break;
      case BASIC_CANCEL:
        encodeBasicCancel(w, a as BasicCancel);
        break;
      case BASIC_CANCEL_OK:
        encodeBasicCancelOk(w, a as BasicCancelOk);
        break;
      case BASIC_PUBLISH:
        encodeBasicPublish(w, a as BasicPublish);
        break;
      case BASIC_RETURN:
        encodeBasicReturn(w, a as BasicReturn);
        break;
      case BASIC_DELIVER:
        encodeBasicDeliver(w, a as BasicDeliver);
        break;
      case BASIC_GET:
        encodeBasicGet(w, a as BasicGet);
        break;
      case BASIC_GET_OK:
        encodeBasicGetOk(w, a as BasicGetOk);
        break;
      case BASIC_GET_EMPTY:
        encodeBasicGetEmpty(w, a as BasicGetEmpty);
        break;
      case BASIC_ACK:
        encodeBasicAck(w, a as BasicAck);
        break;
      case BASIC_REJECT:
        encodeBasicReject(w, a as BasicReject);
        break;
      case BASIC_RECOVER_ASYNC:
        encodeBasicRecoverAsync(w, a as BasicRecoverAsync);
        break;
      case BASIC_RECOVER:
        encodeBasicRecover(w, a as BasicRecover);
        break;
      case BASIC_RECOVER_OK:
        encodeBasicRecoverOk(w, a as BasicRecoverOk);
        break;
      case BASIC_NACK:
        encodeBasicNack(w, a as BasicNack);
        break;
      case CONFIRM_SELECT:
        encodeConfirmSelect(w, a as ConfirmSelect);
        break;
      case CONFIRM_SELECT_OK:
        encodeConfirmSelectOk(w, a as ConfirmSelectOk);
        break;
      case TX_SELECT:
        encodeTxSelect(w, a as TxSelect);
        break;
      case TX_SELECT_OK:
        encodeTxSelectOk(w, a as TxSelectOk);
        break;
      case TX_COMMIT:
        encodeTxCommit(w, a as TxCommit);
        break;
      case TX_COMMIT_OK:
        encodeTxCommitOk(w, a as TxCommitOk);
        break;
      case TX_ROLLBACK:
        encodeTxRollback(w, a as TxRollback);
        break;
      case TX_ROLLBACK_OK:
        encodeTxRollbackOk(w, a as TxRollbackOk);
        break;
      default:
        throw new RangeError(`cannot encode unknown method id ${id}`);
    }
  } catch (e) {
    w.abortFrame(mark);
    throw e;
  }
  w.endFrame(mark);
}

/** Content properties of the basic class (a content header payload from the property flags on). */
export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

function malformedProperties(what: string): AmqpError {
  return AmqpError.connection(MALFORMED_METHOD_REPLY_CODE, `cannot decode basic properties: ${what}`, 60, 0);
}

/**
 * Decodes content properties. `raw` starts at the 16-bit property flags (a
 * content header payload from byte 12 on). Continuation flag words are
 * accepted but may not set flags for properties that do not exist.
 */
export function decodeProperties(raw: Buffer): BasicProperties {
  const end = raw.length;
  if (end < 2) throw malformedProperties('property flags');
  const flags = raw.readUInt16BE(0);
  let p = 2;
  let more = flags & 1;
  while (more) {
    if (p + 2 > end) throw malformedProperties('property flags');
    const f = raw.readUInt16BE(p);
    p += 2;
    if ((f & 0xfffe) !== 0) throw malformedProperties('flags for unknown properties');
    more = f & 1;
  }
  const props: BasicProperties = {};
  let n: number;
  if (flags & 0x8000) {
    if (p >= end) throw malformedProperties('content-type');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('content-type');
    props.contentType = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x4000) {
    if (p >= end) throw malformedProperties('content-encoding');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('content-encoding');
    props.contentEncoding = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x2000) {
    if (p + 4 > end || p + 4 + raw.readUInt32BE(p) > end) throw malformedProperties('headers');
    const t = decodeTable(raw, p);
    props.headers = t.table;
    p = t.offset;
  }
  if (flags & 0x1000) {
    if (p + 1 > end) throw malformedProperties('delivery-mode');
    props.deliveryMode = raw[p]!;
    p += 1;
  }
  if (flags & 0x0800) {
    if (p + 1 > end) throw malformedProperties('priority');
    props.priority = raw[p]!;
    p += 1;
  }
  if (flags & 0x0400) {
    if (p >= end) throw malformedProperties('correlation-id');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('correlation-id');
    props.correlationId = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0200) {
    if (p >= end) throw malformedProperties('reply-to');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('reply-to');
    props.replyTo = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0100) {
    if (p >= end) throw malformedProperties('expiration');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('expiration');
    props.expiration = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0080) {
    if (p >= end) throw malformedProperties('message-id');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('message-id');
    props.messageId = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0040) {
    if (p + 8 > end) throw malformedProperties('timestamp');
    props.timestamp = readUInt64At(raw, p);
    p += 8;
  }
  if (flags & 0x0020) {
    if (p >= end) throw malformedProperties('type');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('type');
    props.type = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0010) {
    if (p >= end) throw malformedProperties('user-id');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('user-id');
    props.userId = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0008) {
    if (p >= end) throw malformedProperties('app-id');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('app-id');
    props.appId = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & 0x0004) {
    if (p >= end) throw malformedProperties('cluster-id');
    n = raw[p]!;
    if (p + 1 + n > end) throw malformedProperties('cluster-id');
    props.clusterId = raw.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (p !== end) throw malformedProperties('trailing bytes');
  return props;
}

const propertySink = new ByteSink(512);

/** Encodes content properties: 16-bit property flags, then the present properties. */
export function encodeProperties(props: BasicProperties): Buffer {
  const w = propertySink;
  w.pos = 2;
  let flags = 0;
  if (props.contentType != null) {
    flags |= 0x8000;
    w.writeShortstr(props.contentType);
  }
  if (props.contentEncoding != null) {
    flags |= 0x4000;
    w.writeShortstr(props.contentEncoding);
  }
  if (props.headers != null) {
    flags |= 0x2000;
    writeTable(w, props.headers);
  }
  if (props.deliveryMode != null) {
    flags |= 0x1000;
    w.writeUInt8(props.deliveryMode);
  }
  if (props.priority != null) {
    flags |= 0x0800;
    w.writeUInt8(props.priority);
  }
  if (props.correlationId != null) {
    flags |= 0x0400;
    w.writeShortstr(props.correlationId);
  }
  if (props.replyTo != null) {
    flags |= 0x0200;
    w.writeShortstr(props.replyTo);
  }
  if (props.expiration != null) {
    flags |= 0x0100;
    w.writeShortstr(props.expiration);
  }
  if (props.messageId != null) {
    flags |= 0x0080;
    w.writeShortstr(props.messageId);
  }
  if (props.timestamp != null) {
    flags |= 0x0040;
    w.writeUInt64(props.timestamp);
  }
  if (props.type != null) {
    flags |= 0x0020;
    w.writeShortstr(props.type);
  }
  if (props.userId != null) {
    flags |= 0x0010;
    w.writeShortstr(props.userId);
  }
  if (props.appId != null) {
    flags |= 0x0008;
    w.writeShortstr(props.appId);
  }
  if (props.clusterId != null) {
    flags |= 0x0004;
    w.writeShortstr(props.clusterId);
  }
  w.buf.writeUInt16BE(flags, 0);
  return Buffer.from(w.buf.subarray(0, w.pos));
}
