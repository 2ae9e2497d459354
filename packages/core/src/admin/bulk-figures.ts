import { pushFigureKeys } from '../redis/keys.js';
import { readFiguresBatch } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import type { MailboxConfig } from '../types.js';
import { readInBatches } from './batched-read.js';

/**
 * What /metrics needs of one mailbox: a few numbers, read by figuresMany-n.lua, which counts
 * leases, waiters and the 432 cut inside Redis so no mailbox's full state crosses the wire.
 */
export interface MailboxFigures {
  mailbox: string;
  /** Configured concurrent connection limit. */
  limit: number;
  /** Limit applied now (lower during a 432 cool-down). */
  effectiveLimit: number;
  /** Live leases. */
  inUse: number;
  /** Live waiters. */
  waiting: number;
  paused: boolean;
  /** 1 when a message may start now under the per-minute rate limit, else 0. */
  rateTokensAvailable: number;
  ratePerMinute: number;
  recipients24h: number;
  recipientsPerDay: number;
  /** The stats hash (`sent`, `deferred:451`, ...) plus `grants`. */
  counters: Record<string, number>;
}

/** The same call moves a tenth of snapshotMany's data per mailbox: batches can be larger. */
const MAILBOXES_PER_CALL = 500;

async function readCall(redis: RedisClient, mailboxes: readonly string[], defaults: MailboxConfig): Promise<MailboxFigures[]> {
  const keys: string[] = [];
  for (const mailbox of mailboxes) pushFigureKeys(keys, mailbox);
  const reply = await readFiguresBatch(redis, keys, defaults);
  return reply.mailboxes.map((r, i) => {
    const counters: Record<string, number> = {};
    const stats = r.stats as unknown as string[];
    for (let j = 0; j < stats.length; j += 2) counters[stats[j]!] = Number(stats[j + 1]);
    if (Number(r.grants) > 0) counters['grants'] = Number(r.grants);
    return {
      mailbox: mailboxes[i]!,
      limit: Number(r.limit),
      effectiveLimit: Number(r.effectiveLimit),
      inUse: Number(r.inUse),
      waiting: Number(r.waiting),
      paused: Number(r.paused) === 1,
      rateTokensAvailable: Number(r.rateReady),
      ratePerMinute: Number(r.ratePerMinute),
      recipients24h: Number(r.used24h),
      recipientsPerDay: Number(r.recipientsPerDay),
      counters,
    };
  });
}

/** The figures of each mailbox, in the order given (defaults for a mailbox without config). */
export async function readMailboxFigures(redis: RedisClient, mailboxes: readonly string[], defaults: MailboxConfig): Promise<MailboxFigures[]> {
  return readInBatches(redis, mailboxes, (batch) => readCall(redis, batch, defaults), MAILBOXES_PER_CALL);
}
