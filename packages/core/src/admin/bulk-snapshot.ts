import { asRedisError } from '../errors.js';
import { mailboxKeys } from '../redis/keys.js';
import { RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import type { RawSnapshot } from './snapshot.js';

/**
 * Reads the view of many mailboxes with plain read commands instead of one script per mailbox:
 * each mailbox is one MULTI/EXEC of read commands (so its figures are taken at one instant, with
 * Redis TIME, as a script would), and the transactions of a batch are sent together. A
 * transaction touches one mailbox's hash-tagged keys only, so this works on standalone, Sentinel
 * and Cluster alike (ioredis routes each transaction to the node owning that mailbox).
 */

/** Transactions in flight at once: bounds the memory of one read at many mailboxes. */
export const SNAPSHOT_BATCH = 1000;

type Reply = [error: Error | null, value: unknown];

function queueReads(redis: RedisClient, mailbox: string) {
  const k = mailboxKeys(mailbox);
  return redis
    .multi()
    .time()
    .hgetall(k.config)
    .hmget(k.feedback, 'limit', 'until', 'raiseEveryMs')
    .hvals(k.leases)
    .zrange(k.waiters, 0, -1)
    .zrange(k.waiterDeadlines, 0, -1, 'WITHSCORES')
    .hgetall(k.waiterInfo)
    .hgetall(k.recipientCounts)
    .hgetall(k.stats)
    .hget(k.epoch, 'grace')
    .get(k.rate);
}

/**
 * The effective limit while a 432 cut is active, as lua/includes/feedback.lua computes it for
 * grants: a cut holds `limit` until `until`, then rises by one at `until` and every `raiseEveryMs`.
 */
function feedbackLimit(fields: Array<string | null>, limit: number, now: number): { effective: number; cut?: { limit: number; until: number } } {
  const [cutText, untilText, everyText] = fields;
  if (cutText === null || cutText === undefined) return { effective: limit };
  const cut = Number(cutText);
  const until = Number(untilText);
  const value = now >= until ? cut + 1 + Math.floor((now - until) / Number(everyText)) : cut;
  return value >= limit ? { effective: limit } : { effective: value, cut: { limit: value, until } };
}

function pairs(flat: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

function decode(replies: Reply[], defaultLimit: number): RawSnapshot {
  for (const [error] of replies) if (error) throw error;
  const v = replies.map(([, value]) => value);
  const [seconds, micros] = v[0] as [string, string];
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const config = v[1] as Record<string, string>;
  const limit = config['limit'] !== undefined ? Number(config['limit']) : defaultLimit;
  const { effective, cut } = feedbackLimit(v[2] as Array<string | null>, limit, now);
  // Expired leases are not counted: their holder's local deadline has passed (invariant 1).
  const leases = (v[3] as string[]).map((raw) => JSON.parse(raw) as Record<string, unknown>).filter((l) => Number(l['expiresAt']) > now);
  const deadlines = new Map(pairs(v[5] as string[]));
  const info = v[6] as Record<string, string>;
  const waiters: Array<Record<string, unknown>> = [];
  for (const id of v[4] as string[]) {
    const deadline = deadlines.get(id) ?? 0;
    const raw = info[id];
    if (raw !== undefined && deadline > now) waiters.push({ ...(JSON.parse(raw) as Record<string, unknown>), deadline });
  }
  // Buckets are named by their start; one counts while its last possible entry is in the window
  // (lua/rcptReserve-2.lua). `total` is a running sum that may still hold buckets not yet pruned.
  let used24h = 0;
  for (const [bucket, count] of Object.entries(v[7] as Record<string, string>)) {
    if (bucket !== 'total' && Number(bucket) > now - RECIPIENT_WINDOW_MS - RECIPIENT_BUCKET_MS) used24h += Number(count);
  }
  const counters = Object.fromEntries(Object.entries(v[8] as Record<string, string>).map(([name, value]) => [name, Number(value)]));
  const raw: RawSnapshot = {
    now,
    configured: Object.keys(config).length > 0,
    config,
    effectiveLimit: effective,
    graceUntil: Number(v[9] ?? 0),
    leases,
    waiters,
    tat: Number(v[10] ?? 0),
    used24h,
    counters,
  };
  if (cut) raw.feedback = cut;
  return raw;
}

/** The raw view of each mailbox, in the order given. */
export async function readRawSnapshots(redis: RedisClient, mailboxes: readonly string[], defaultLimit: number): Promise<RawSnapshot[]> {
  const out: RawSnapshot[] = [];
  try {
    for (let i = 0; i < mailboxes.length; i += SNAPSHOT_BATCH) {
      const batch = mailboxes.slice(i, i + SNAPSHOT_BATCH);
      const replies = await Promise.all(batch.map((mailbox) => queueReads(redis, mailbox).exec()));
      for (const reply of replies) {
        if (reply === null) throw new Error('snapshot transaction was aborted');
        out.push(decode(reply as Reply[], defaultLimit));
      }
    }
  } catch (error) {
    throw asRedisError(error);
  }
  return out;
}
