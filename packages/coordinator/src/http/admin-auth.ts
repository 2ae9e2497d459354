import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from '../errors.js';

/**
 * Guards admin endpoints with `Authorization: Bearer <token>`. Both sides are hashed first so
 * the comparison is constant-time regardless of the length of the presented token.
 * Without a configured token every admin call is refused (403): there is no open admin mode.
 */
export function requireAdmin(adminToken: string | undefined): RequestHandler {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return (req, _res, next) => {
    if (expected === undefined) {
      next(new ForbiddenError('admin actions are disabled: start the coordinator with SMTP_SLOTS_ADMIN_TOKEN set'));
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) {
      next(new UnauthorizedError());
      return;
    }
    next(timingSafeEqual(digest(match[1]), expected) ? undefined : new ForbiddenError());
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
