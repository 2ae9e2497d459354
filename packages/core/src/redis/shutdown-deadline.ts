import type { RedisClient } from './connect.js';

/**
 * True when `work` settled within `ms` (resolved or rejected), false when the time ran out first.
 * Shutdown paths use it so that a Redis that stopped answering (frozen, partitioned: the TCP
 * connection stays open and no error ever comes) cannot hold a service stop forever.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(() => true, () => true);
  // setTimeout turns anything above 2^31 - 1 ms into 1 ms: no limit means no timer.
  if (!Number.isFinite(ms) || ms > 2 ** 31 - 1) return settled;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ends a Redis connection within `ms`: QUIT when the server answers in time, otherwise the socket
 * is dropped, which fails every command still waiting for a reply (their callers then move on).
 * Resolves with how it ended.
 */
export async function closeRedisWithin(redis: RedisClient, ms: number): Promise<'quit' | 'dropped'> {
  if (redis.status === 'end') return 'quit';
  if (await settlesWithin(redis.quit(), ms) && (redis.status as string) === 'end') return 'quit';
  redis.disconnect();
  return 'dropped';
}
