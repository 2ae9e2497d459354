/** Base of every error core throws: a stable `code` for programs, a message for humans. */
export class SlotsError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
