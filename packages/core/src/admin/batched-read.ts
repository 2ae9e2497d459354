import type { RedisClient } from '../redis/connect.js';

/** Mailboxes per script call on one Redis: bounds how long one call keeps Redis busy. */
export const MAILBOXES_PER_CALL = 200;
/** Calls in flight at once: bounds the memory of one read at many mailboxes. */
const CALLS_IN_FLIGHT = 10;

/**
 * Reads `mailboxes` with one script call per batch, in the order given. A batch on one Redis
 * (standalone, Sentinel) holds many mailboxes; on a Cluster each call's keys must share a hash
 * slot, so there a call holds one mailbox (ioredis routes each to its node; the calls of a
 * batch still go out together).
 */
export async function readInBatches<T>(
  redis: RedisClient,
  mailboxes: readonly string[],
  readCall: (batch: readonly string[]) => Promise<T[]>,
  perCall: number = MAILBOXES_PER_CALL,
): Promise<T[]> {
  const size = redis.isCluster ? 1 : perCall;
  const calls: string[][] = [];
  for (let i = 0; i < mailboxes.length; i += size) calls.push(mailboxes.slice(i, i + size));
  const inFlight = redis.isCluster ? MAILBOXES_PER_CALL * CALLS_IN_FLIGHT : CALLS_IN_FLIGHT;
  const out: T[] = [];
  for (let i = 0; i < calls.length; i += inFlight) {
    for (const part of await Promise.all(calls.slice(i, i + inFlight).map(readCall))) for (const item of part) out.push(item);
  }
  return out;
}
