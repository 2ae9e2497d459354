/**
 * Every stable error code, of core and of the services built on it: one namespace, so that a
 * program (or the coordinator's HTTP status table, a `Record<ErrorCode, ...>`) that handles codes
 * is checked by the compiler to handle each one, and a new code cannot collide with another.
 */
export const ErrorCode = Object.freeze({
  // core
  ACQUIRE_TIMEOUT: 'ACQUIRE_TIMEOUT',
  ACQUIRE_ABORTED: 'ACQUIRE_ABORTED',
  MAILBOX_PAUSED: 'MAILBOX_PAUSED',
  LEASE_LOST: 'LEASE_LOST',
  REDIS_UNAVAILABLE: 'REDIS_UNAVAILABLE',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  WAITER_GONE: 'WAITER_GONE',
  SCRIPT_STATUS: 'SCRIPT_STATUS',
  // agent
  CONFIG_INVALID: 'CONFIG_INVALID',
  SPOOL_LOCKED: 'SPOOL_LOCKED',
  SPOOL_CORRUPT: 'SPOOL_CORRUPT',
  SPOOL_NOT_FOUND: 'SPOOL_NOT_FOUND',
  SPOOL_WRITE_FAILED: 'SPOOL_WRITE_FAILED',
  AGENT_STOPPED: 'AGENT_STOPPED',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  TOKEN_REQUEST_FAILED: 'TOKEN_REQUEST_FAILED',
  UPSTREAM_FAILED: 'UPSTREAM_FAILED',
  // coordinator (INTERNAL: the body of an answer to an error that is no SlotsError)
  INVALID_INPUT: 'INVALID_INPUT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  MAILBOX_NOT_FOUND: 'MAILBOX_NOT_FOUND',
  LEASE_NOT_FOUND: 'LEASE_NOT_FOUND',
  DEAD_LETTER_NOT_FOUND: 'DEAD_LETTER_NOT_FOUND',
  INTERNAL: 'INTERNAL',
});
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every error core throws: a stable `code` for programs, a message for humans. */
export class SlotsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** acquire() waited `timeoutMs` without getting a slot. */
export class AcquireTimeoutError extends SlotsError {
  constructor(readonly mailbox: string, readonly waitedMs: number, options?: { cause?: unknown }) {
    super('ACQUIRE_TIMEOUT', `no slot for ${mailbox} within ${Math.round(waitedMs)} ms`, options);
  }
}

/** acquire() was cancelled through its AbortSignal or because the client closed. */
export class AcquireAbortedError extends SlotsError {
  constructor(readonly mailbox: string, options?: { cause?: unknown }) {
    super('ACQUIRE_ABORTED', `acquire for ${mailbox} was aborted`, options);
  }
}

/** The mailbox is paused (by an operator or after a quota/auth failure); no slot is granted. */
export class MailboxPausedError extends SlotsError {
  constructor(readonly mailbox: string, readonly reason: string) {
    super('MAILBOX_PAUSED', `mailbox ${mailbox} is paused${reason ? `: ${reason}` : ''}`);
  }
}

/** A lease stopped being valid; `lease.signal.reason` is one of these. */
export class LeaseLostError extends SlotsError {
  constructor(readonly mailbox: string, readonly slot: number, readonly reason: import('./types.js').LeaseLostReason) {
    super('LEASE_LOST', `lease on ${mailbox} slot ${slot} lost (${reason})`);
  }
}

/** Redis could not be reached (or answered LOADING/READONLY...) when it was needed. */
export class RedisUnavailableError extends SlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REDIS_UNAVAILABLE', message, options);
  }
}

/** A request that can never succeed, e.g. more recipients than the daily budget. */
export class LimitExceededError extends SlotsError {
  constructor(message: string) {
    super('LIMIT_EXCEEDED', message);
  }
}

/** Bad arguments or options. */
export class InvalidArgumentError extends SlotsError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** A waiter that Redis no longer knows (it stopped polling, or its pickup time passed): enqueue again. */
export class WaiterGoneError extends SlotsError {
  constructor(readonly mailbox: string) {
    super('WAITER_GONE', `waiter of ${mailbox} is no longer queued`);
  }
}

/** Negative status codes returned by the Lua scripts (first element of the reply). */
export const ScriptStatus = Object.freeze({
  PAUSED: -1,
  NOT_HOLDER: -2,
  EXPIRED: -3,
  EPOCH_CHANGED: -4,
  WAITER_GONE: -5,
  OVER_DAILY_LIMIT: -7,
});

/** The one place where a script's negative status becomes a typed error. */
export function scriptError(status: number, context: { mailbox: string; slot?: number; detail?: string }): SlotsError {
  const { mailbox, slot = 0, detail = '' } = context;
  switch (status) {
    case ScriptStatus.PAUSED:
      return new MailboxPausedError(mailbox, detail);
    case ScriptStatus.NOT_HOLDER:
    case ScriptStatus.EXPIRED:
      return new LeaseLostError(mailbox, slot, 'expired');
    case ScriptStatus.EPOCH_CHANGED:
      return new LeaseLostError(mailbox, slot, 'epoch');
    case ScriptStatus.WAITER_GONE:
      return new WaiterGoneError(mailbox);
    case ScriptStatus.OVER_DAILY_LIMIT:
      return new LimitExceededError(`${detail} exceeds the daily recipient budget of ${mailbox}`);
    default:
      return new SlotsError('SCRIPT_STATUS', `unexpected script status ${status} for ${mailbox}`);
  }
}

const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|MOVED|ASK)\b/;

/** Connection problems and failover replies become RedisUnavailableError; others pass unchanged. */
export function asRedisError(error: unknown): Error {
  if (error instanceof SlotsError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.name === 'ReplyError' && !TRANSIENT_REPLY.test(err.message)) return err;
  return new RedisUnavailableError(`redis unavailable: ${err.message}`, { cause: err });
}
