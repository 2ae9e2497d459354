import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { validate } from '../http/validate.js';
import type { AgentService } from '../services/agent-service.js';
import type { SseStreams } from '../services/sse-streams.js';

/** GET /api/agents */
export function agentsHandler(agents: AgentService): RequestHandler {
  return async (_req, res) => {
    res.json({ agents: await agents.list() });
  };
}

const eventsQuery = z
  .object({ mailbox: z.union([z.string().min(1).max(320), z.array(z.string().min(1).max(320)).max(1000)]).optional() })
  .strict();

/** GET /api/events[?mailbox=a&mailbox=b]: server-sent events, optionally for some mailboxes. */
export function eventsHandler(streams: SseStreams): RequestHandler {
  return (req, res) => {
    const { mailbox } = validate(eventsQuery, req.query, 'query');
    const only = mailbox === undefined ? null : new Set(Array.isArray(mailbox) ? mailbox : [mailbox]);
    streams.open(res, only);
  };
}

/** GET /metrics in the Prometheus text format. */
export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.set('Content-Type', registry.contentType).send(body);
  };
}
