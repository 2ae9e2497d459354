import { Redis, type RedisOptions } from 'ioredis';
import { RedisUnavailableError } from '../errors.js';
import { quorumSize } from './majority.js';

/**
 * ioredis settings for one master of a quorum: a master that is down must vote "against" at once
 * instead of queueing commands that would run late (a queued lock write landing after a restart
 * could resurrect a stale lock), and a frozen master must not hold a vote for long.
 */
export const QUORUM_CLIENT_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  retryStrategy: (times: number) => Math.min(times * 100, 1_000),
});

/** One client per independent master (`redis://` URLs), with QUORUM_CLIENT_OPTIONS. */
export function createQuorumClients(urls: string[], options: RedisOptions = {}): Redis[] {
  if (urls.length < 3 || urls.length % 2 === 0) {
    // Even or fewer than three members tolerate no more failures than the next smaller odd set.
    throw new RedisUnavailableError(`quorum mode needs an odd number of at least 3 masters, got ${urls.length}`);
  }
  return urls.map((url) => {
    const client = new Redis(url, { ...QUORUM_CLIENT_OPTIONS, ...options });
    client.on('error', () => undefined); // a dead master is expected; its missing vote is the signal
    return client;
  });
}

/** Waits until a majority of the clients is connected (the offline queue is off, so commands would fail before). */
export async function waitForMajority(clients: Redis[], timeoutMs = 10_000): Promise<void> {
  const needed = quorumSize(clients.length);
  const deadline = Date.now() + timeoutMs;
  while (clients.filter((c) => c.status === 'ready').length < needed) {
    if (Date.now() > deadline) throw new RedisUnavailableError(`fewer than ${needed} of ${clients.length} quorum masters are reachable`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
