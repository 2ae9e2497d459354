import type { RequestHandler } from 'express';
import { HISTORY_MAX_MINUTES, readHistory, TRAIL_STATUSES, type CommandAction, type RedisClient, type TrailStatus } from '@smtp-slots/core';
import { z } from 'zod';
import { validate } from '../http/validate.js';
import type { DeadLetterService } from '../services/dead-letter-service.js';
import type { MessageService } from '../services/message-service.js';

const address = z.string().min(1, 'must not be empty').max(320, 'must be at most 320 characters').regex(/^[^\s\p{Cc}]+$/u, 'must not contain spaces or control characters');
const agentId = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

const intParam = (min: number, max: number) =>
  z.string()
    .regex(/^\d+$/, `must be an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be an integer between ${min} and ${max}`).max(max, `must be an integer between ${min} and ${max}`));

export const MESSAGES_DEFAULT_LIMIT = 50;
export const MESSAGES_MAX_LIMIT = 500;

const messagesQuery = z.object({
  q: z.string().trim().min(1, 'must not be empty').max(998, 'must be at most 998 characters').optional(),
  mailbox: address.optional(),
  status: z.enum(TRAIL_STATUSES as [TrailStatus, ...TrailStatus[]], { message: `must be one of ${TRAIL_STATUSES.join(', ')}` }).optional(),
  limit: intParam(1, MESSAGES_MAX_LIMIT).optional(),
}).strict();

const deadLettersQuery = z.object({ mailbox: address.optional(), agent: agentId.optional() }).strict();
const commandsQuery = z.object({ agent: agentId.optional() }).strict();

const spoolId = z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters').regex(/^[\w.-]+$/, 'must be a dead-letter id');
const selection = z.union([
  z.object({ ids: z.array(spoolId).min(1, 'give at least one id').max(1000, 'at most 1000 ids per request') }).strict(),
  z.object({ mailbox: address, all: z.literal(true, { message: 'must be true to act on every dead letter of the mailbox' }) }).strict(),
], { message: 'give { "ids": [..] } or { "mailbox": "..", "all": true }' });

const historyQuery = z.object({ minutes: intParam(1, HISTORY_MAX_MINUTES).optional() }).strict();

export interface FleetHandlers {
  messages: RequestHandler;
  deadLetters: { list: RequestHandler; retry: RequestHandler; purge: RequestHandler; commands: RequestHandler };
  history: RequestHandler;
}

/** Handlers of the fleet-wide views: message trail, dead letters and per-minute history. */
export function fleetHandlers(messages: MessageService, deadLetters: DeadLetterService, redis: RedisClient): FleetHandlers {
  const act = (action: CommandAction): RequestHandler => async (req, res) => {
    const body = validate(selection, req.body ?? {}, 'body');
    res.status(202).json(await deadLetters.request(action, body));
  };
  return {
    messages: async (req, res) => {
      const query = validate(messagesQuery, req.query, 'query');
      res.json({ messages: await messages.search({ ...query, mailbox: query.mailbox?.toLowerCase(), limit: query.limit ?? MESSAGES_DEFAULT_LIMIT }) });
    },
    deadLetters: {
      list: async (req, res) => {
        const query = validate(deadLettersQuery, req.query, 'query');
        res.json({ deadLetters: await deadLetters.list({ mailbox: query.mailbox?.toLowerCase(), agent: query.agent }) });
      },
      retry: act('retry'),
      purge: act('purge'),
      commands: async (req, res) => {
        const query = validate(commandsQuery, req.query, 'query');
        res.json({ commands: await deadLetters.commandStatuses(query) });
      },
    },
    history: async (req, res) => {
      const { address: mailbox } = validate(z.object({ address }), req.params, 'path');
      const { minutes = 60 } = validate(historyQuery, req.query, 'query');
      const key = mailbox.toLowerCase();
      res.json({ mailbox: key, minutes, points: await readHistory(redis, key, minutes, Date.now()) });
    },
  };
}
