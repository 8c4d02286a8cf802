// AMQP 0-9-1 reply codes (spec constants), with RabbitMQ's names, which it
// puts in front of every reply text ("NOT_FOUND - no queue 'q' in vhost '/'").
export const ReplyCode = {
  SUCCESS: 200,
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  NO_CONSUMERS: 313,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

export type ReplyCodeName = keyof typeof ReplyCode;

const nameByCode = new Map<number, ReplyCodeName>(
  (Object.entries(ReplyCode) as [ReplyCodeName, number][]).map(([name, code]) => [code, name]),
);

export function replyCodeName(code: number): string {
  return nameByCode.get(code) ?? String(code);
}
