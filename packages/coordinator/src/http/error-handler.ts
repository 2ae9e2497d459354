import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { SlotsError, type ErrorCode } from '@smtp-slots/core';

/** `SlotsError.code` → HTTP status; every code is listed (the compiler checks), the ones no route expects are a 500. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_ARGUMENT: 400,
  LIMIT_EXCEEDED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MAILBOX_NOT_FOUND: 404,
  LEASE_NOT_FOUND: 404,
  DEAD_LETTER_NOT_FOUND: 404,
  REDIS_UNAVAILABLE: 503,
  ACQUIRE_TIMEOUT: 500,
  ACQUIRE_ABORTED: 500,
  MAILBOX_PAUSED: 500,
  LEASE_LOST: 500,
  WAITER_GONE: 500,
  SCRIPT_STATUS: 500,
  CONFIG_INVALID: 500,
  SPOOL_LOCKED: 500,
  SPOOL_CORRUPT: 500,
  SPOOL_NOT_FOUND: 500,
  SPOOL_WRITE_FAILED: 503,
  AGENT_STOPPED: 500,
  INVALID_MESSAGE: 500,
  TOKEN_REQUEST_FAILED: 500,
  UPSTREAM_FAILED: 500,
  INTERNAL: 500,
};

/** Body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * The one place that turns errors into responses: `{ error: { code, message } }`.
 * Internal errors are logged with their cause and answered without details.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, body } = toResponse(error);
    if (status === 503) logger.warn({ code: body.error.code, method: req.method, path: req.path }, 'request failed: dependency unavailable');
    else if (status >= 500) logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    else logger.debug({ code: body.error.code, method: req.method, path: req.path }, 'request rejected');
    if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="smtp-slots"');
    res.status(status).json(body);
  };
}

function toResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof SlotsError) {
    const status = STATUS_BY_CODE[error.code];
    const message = status >= 500 && status !== 503 ? 'internal error' : error.message;
    return { status, body: { error: { code: error.code, message } } };
  }
  if (isRedisConnectionError(error)) {
    return { status: 503, body: { error: { code: 'REDIS_UNAVAILABLE', message: 'redis is not reachable' } } };
  }
  // express.json() reports unparsable bodies as errors with `type` and `status`.
  const httpError = error as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    const message = httpError.type === 'entity.parse.failed' ? 'request body is not valid JSON' : String(httpError.message);
    return { status: httpError.status, body: { error: { code: 'INVALID_INPUT', message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

/** ioredis gives up on a command while disconnected with these errors. */
function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || /ECONNREFUSED|Connection is closed|Stream isn't writeable/.test(error.message);
}
