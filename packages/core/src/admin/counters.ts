import { mailboxKeys } from '../redis/keys.js';
import type { RedisLike } from '../types.js';

/** Adds to a mailbox counter (shown in snapshots): sent, deferred, failed, rejections:432, ... */
export async function incrementCounter(redis: RedisLike, mailbox: string, name: string, by = 1): Promise<number> {
  return redis.hincrby(mailboxKeys(mailbox).stats, name, by);
}
