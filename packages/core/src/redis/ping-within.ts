import type { RedisClient } from './connect.js';

/** How long a readiness check (agent and coordinator /readyz) waits for PING. */
export const READY_PING_TIMEOUT_MS = 2_000;

/**
 * Resolves when Redis answers PING within `timeoutMs`, rejects otherwise. Readiness checks use
 * it: a frozen server keeps the TCP connection open, so only a deadline notices it.
 */
export async function pingWithin(redis: RedisClient, timeoutMs = READY_PING_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
