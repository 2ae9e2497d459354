import { mailboxKeys } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';

/** Adds to a mailbox counter (shown in snapshots): sent, deferred, failed, rejections:432, ... */
export async function incrementCounter(redis: RedisClient, mailbox: string, name: string, by = 1): Promise<number> {
  return redis.hincrby(mailboxKeys(mailbox).stats, name, by);
}
