import { SlotsError } from '@smtp-slots/core';

/** A request parameter or body field failed validation (HTTP 400). */
export class InvalidInputError extends SlotsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

/** No or malformed `Authorization: Bearer` header on an admin endpoint (HTTP 401). */
export class UnauthorizedError extends SlotsError {
  constructor(message = 'admin endpoints need an Authorization: Bearer <token> header') {
    super('UNAUTHORIZED', message);
  }
}

/** A token was given but is wrong, or admin actions are disabled (HTTP 403). */
export class ForbiddenError extends SlotsError {
  constructor(message = 'the admin token is not valid') {
    super('FORBIDDEN', message);
  }
}

/** The mailbox is not registered in Redis (HTTP 404). */
export class MailboxNotFoundError extends SlotsError {
  constructor(readonly mailbox: string) {
    super('MAILBOX_NOT_FOUND', `mailbox "${mailbox}" is not registered`);
  }
}

/** The slot number is not held (HTTP 404). */
export class LeaseNotFoundError extends SlotsError {
  constructor(mailbox: string, slot: number) {
    super('LEASE_NOT_FOUND', `slot ${slot} of mailbox "${mailbox}" is not held`);
  }
}

/** None of the requested dead letters is in the fleet-wide index (HTTP 404). */
export class DeadLetterNotFoundError extends SlotsError {
  constructor(message: string) {
    super('DEAD_LETTER_NOT_FOUND', message);
  }
}

/** No route for the path (HTTP 404). */
export class RouteNotFoundError extends SlotsError {
  constructor(method: string, path: string) {
    super('NOT_FOUND', `no route for ${method} ${path}`);
  }
}
