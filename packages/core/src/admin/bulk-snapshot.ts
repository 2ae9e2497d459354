import { mailboxKeys } from '../redis/keys.js';
import { readSnapshotBatch } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import type { RawSnapshot } from './snapshot.js';

/**
 * Reads the view of many mailboxes with one read-only script call per batch (snapshotMany-n.lua)
 * instead of one snapshot script per mailbox. The script only reads; this module turns the
 * replies into the figures. A batch on one Redis (standalone, Sentinel) holds many mailboxes;
 * on a Cluster each call's keys must share a hash slot, so there a call holds one mailbox
 * (ioredis routes each to its node; the calls of a batch still go out together).
 */

/** Mailboxes per script call on one Redis: bounds how long one call keeps Redis busy. */
const MAILBOXES_PER_CALL = 200;
/** Calls in flight at once: bounds the memory of one read at many mailboxes. */
const CALLS_IN_FLIGHT = 10;
/** Replies per mailbox after the leading `now` (see the script's header). */
const REPLIES_PER_MAILBOX = 10;

/** The keys of one mailbox, in the order snapshotMany-n.lua reads them. */
function snapshotKeys(mailbox: string): string[] {
  const k = mailboxKeys(mailbox);
  return [k.config, k.leases, k.waiters, k.waiterDeadlines, k.waiterInfo, k.epoch, k.feedback, k.stats, k.rate, k.recipients, k.recipientCounts];
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

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** One mailbox's replies (`v`, REPLIES_PER_MAILBOX of them) read at Redis time `now`. */
function decode(now: number, v: unknown[], defaultLimit: number): RawSnapshot {
  const config = Object.fromEntries(pairs(v[0] as string[]));
  const limit = config['limit'] !== undefined ? Number(config['limit']) : defaultLimit;
  const { effective, cut } = feedbackLimit(v[1] as Array<string | null>, limit, now);
  // Expired leases are not counted: their holder's local deadline has passed (invariant 1).
  const leases = (v[2] as string[]).map((raw) => JSON.parse(raw) as Record<string, unknown>).filter((l) => Number(l['expiresAt']) > now);
  const deadlines = new Map(pairs(v[4] as string[]).map(([id, score]) => [id, Number(score)]));
  const info = new Map(pairs(v[5] as string[]));
  const waiters: Array<Record<string, unknown>> = [];
  for (const id of v[3] as string[]) {
    const deadline = deadlines.get(id) ?? 0;
    const raw = info.get(id);
    if (raw !== undefined && deadline > now) waiters.push({ ...(JSON.parse(raw) as Record<string, unknown>), deadline });
  }
  const raw: RawSnapshot = {
    now,
    configured: Object.keys(config).length > 0,
    config,
    effectiveLimit: effective,
    graceUntil: Number(v[7] ?? 0),
    leases,
    waiters,
    tat: Number(v[8] ?? 0),
    used24h: Number(v[9]),
    counters: Object.fromEntries(pairs(v[6] as string[]).map(([name, value]) => [name, Number(value)])),
  };
  if (cut) raw.feedback = cut;
  return raw;
}

async function readCall(redis: RedisClient, mailboxes: readonly string[], defaultLimit: number): Promise<RawSnapshot[]> {
  const reply = await readSnapshotBatch(redis, mailboxes.flatMap(snapshotKeys));
  const now = Number(reply[0]);
  return mailboxes.map((_, m) => decode(now, reply.slice(1 + m * REPLIES_PER_MAILBOX, 1 + (m + 1) * REPLIES_PER_MAILBOX), defaultLimit));
}

/** The raw view of each mailbox, in the order given. */
export async function readRawSnapshots(redis: RedisClient, mailboxes: readonly string[], defaultLimit: number): Promise<RawSnapshot[]> {
  const perCall = redis.isCluster ? 1 : MAILBOXES_PER_CALL;
  const calls: string[][] = [];
  for (let i = 0; i < mailboxes.length; i += perCall) calls.push(mailboxes.slice(i, i + perCall));
  const inFlight = redis.isCluster ? MAILBOXES_PER_CALL * CALLS_IN_FLIGHT : CALLS_IN_FLIGHT;
  const out: RawSnapshot[] = [];
  for (let i = 0; i < calls.length; i += inFlight) {
    for (const part of await Promise.all(calls.slice(i, i + inFlight).map((call) => readCall(redis, call, defaultLimit)))) out.push(...part);
  }
  return out;
}
