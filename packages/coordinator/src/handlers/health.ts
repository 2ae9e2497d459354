import type { RequestHandler } from 'express';
import type { RedisClient } from '@smtp-slots/core';

const READY_TIMEOUT_MS = 2000;

/** /healthz answers while the process runs; /readyz only while Redis answers PING. */
export function healthHandlers(redis: RedisClient): { live: RequestHandler; ready: RequestHandler } {
  const live: RequestHandler = (_req, res) => {
    res.json({ status: 'ok' });
  };
  const ready: RequestHandler = async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([redis.ping(), timeout]);
      res.json({ status: 'ready', redis: 'up' });
    } catch (error) {
      res.status(503).json({ error: { code: 'REDIS_UNAVAILABLE', message: `redis is not reachable: ${(error as Error).message}` } });
    } finally {
      clearTimeout(timer);
    }
  };
  return { live, ready };
}
