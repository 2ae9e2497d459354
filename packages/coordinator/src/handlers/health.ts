import type { RequestHandler } from 'express';
import { pingWithin, type RedisClient } from '@smtp-slots/core';

/**
 * Same meaning as the agent's status server: /healthz is liveness (200 while the process serves,
 * the body shows the Redis connection state), /readyz is readiness (503 unless Redis answers PING
 * within 2 s).
 */
export function healthHandlers(redis: RedisClient): { live: RequestHandler; ready: RequestHandler } {
  const live: RequestHandler = (_req, res) => {
    // The connection state, not a PING: liveness must not wait on Redis.
    res.json({ status: 'ok', redis: redis.status === 'ready' ? 'up' : 'down' });
  };
  const ready: RequestHandler = async (_req, res) => {
    try {
      await pingWithin(redis);
      res.json({ status: 'ready', redis: 'up' });
    } catch (error) {
      res.status(503).json({
        status: 'unavailable',
        redis: 'down',
        error: { code: 'REDIS_UNAVAILABLE', message: `redis is not reachable: ${(error as Error).message}` },
      });
    }
  };
  return { live, ready };
}
