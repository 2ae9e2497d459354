import type { RequestHandler } from 'express';
import { mailboxLimitsSchema } from '@smtp-slots/core/mailbox-limits';
import { z } from 'zod';
import { validate } from '../http/validate.js';
import type { RouteHandlers } from '../routes.js';
import type { MailboxService } from '../services/mailbox-service.js';

const address = z
  .string()
  .min(1, 'must not be empty')
  .max(320, 'must be at most 320 characters')
  .regex(/^[^\s\p{Cc}]+$/u, 'must not contain spaces or control characters');

const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be an integer between ${min} and ${max}`).max(max, `must be an integer between ${min} and ${max}`));

const configPatch = mailboxLimitsSchema
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of limit, ratePerMinute, recipientsPerDay');

const pauseBody = z.object({ reason: z.string().trim().min(1).max(200).optional() }).strict();

/** GET/PUT/POST/DELETE handlers under /api/mailboxes. */
export function mailboxHandlers(service: MailboxService, pages: { defaultPageSize: number; maxPageSize: number }): RouteHandlers['mailboxes'] {
  const listQuery = z
    .object({
      cursor: z.string().max(100).optional(),
      limit: intParam(1, pages.maxPageSize).optional(),
      q: z.string().max(320).optional(),
      state: z.enum(['paused', 'busy', 'waiting', 'idle']).optional(),
    })
    .strict();
  const addressOf = (params: Record<string, string>) => validate(z.object({ address }), params, 'path').address;

  const list: RequestHandler = async (req, res) => {
    const query = validate(listQuery, req.query, 'query');
    res.json(await service.list({ ...query, limit: query.limit ?? pages.defaultPageSize }));
  };
  const get: RequestHandler = async (req, res) => {
    res.json(await service.get(addressOf(req.params as Record<string, string>)));
  };
  const putConfig: RequestHandler = async (req, res) => {
    const mailbox = addressOf(req.params as Record<string, string>);
    res.json(await service.setConfig(mailbox, validate(configPatch, req.body ?? {}, 'body')));
  };
  const pause: RequestHandler = async (req, res) => {
    const mailbox = addressOf(req.params as Record<string, string>);
    const body = validate(pauseBody, req.body ?? {}, 'body');
    res.json(await service.pause(mailbox, body.reason ?? 'paused by an operator'));
  };
  const resume: RequestHandler = async (req, res) => {
    res.json(await service.resume(addressOf(req.params as Record<string, string>)));
  };
  const forceRelease: RequestHandler = async (req, res) => {
    const params = validate(z.object({ address, slot: intParam(1, 1000) }), req.params, 'path');
    await service.forceRelease(params.address, params.slot);
    res.status(204).end();
  };
  return { list, get, putConfig, pause, resume, forceRelease };
}
