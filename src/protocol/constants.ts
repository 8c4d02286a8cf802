import { ReplyCode } from './reply-codes.js';

// Frame types and framing constants (AMQP 0-9-1 section 4.2.3).
export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
export const FRAME_MIN_SIZE = 4096;

/** type (1) + channel (2) + size (4) + frame-end (1). */
export const FRAME_OVERHEAD = 8;
/** type (1) + channel (2) + size (4). */
export const FRAME_HEADER_SIZE = 7;

/** The frame-max used before connection.tune-ok has been negotiated. */
export const DEFAULT_FRAME_MAX = 131072;

/** The 8-byte protocol header a 0-9-1 client sends first. */
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

// Reply codes the codec uses for malformed input. Each is one named constant so
// the session can align it with what RabbitMQ sends after comparing behaviour.

/** A method frame whose arguments are truncated or followed by extra bytes
 *  (RabbitMQ: rabbit_misc:frame_error -> FRAME_ERROR). */
export const MALFORMED_METHOD_REPLY_CODE: number = ReplyCode.FRAME_ERROR;
/** A method frame naming a class or method that does not exist. */
export const UNKNOWN_METHOD_REPLY_CODE: number = ReplyCode.NOT_IMPLEMENTED;
/** A field table with a bad type octet or a length running past its end. */
export const MALFORMED_TABLE_REPLY_CODE: number = ReplyCode.SYNTAX_ERROR;
/** A frame whose end octet is not 0xCE, or that exceeds frame-max. */
export const BAD_FRAME_REPLY_CODE: number = ReplyCode.FRAME_ERROR;
