import { mailboxKeys, stateKeys } from '../redis/keys.js';
import type { ReplyOf } from '../redis/replies.js';
import { readSnapshotBatch } from '../redis/scripts.js';
import { readInBatches } from './batched-read.js';
import { CONFIG_FIELDS } from './mailbox-config.js';
import type { RedisClient } from '../redis/connect.js';
import type { RawSnapshot } from './snapshot.js';

/**
 * Reads the view of many mailboxes with one read-only script call per batch (snapshotMany-n.lua,
 * batched by batched-read.ts) instead of one snapshot script per mailbox. The script only reads;
 * this module turns the replies into the figures.
 */

/** The keys of one mailbox, in the order snapshotMany-n.lua reads them. */
function snapshotKeys(mailbox: string): string[] {
  const k = mailboxKeys(mailbox);
  return [...stateKeys(mailbox), k.rate, k.recipients, k.recipientCounts];
}

/**
 * The effective limit while a 432 cut is active, as lua/includes/feedback.lua computes it for
 * grants: a cut holds `fbLimit` until `fbUntil`, then rises by one at `fbUntil` and every `fbEvery` ms.
 */
function feedbackLimit(state: Record<string, string>, limit: number, now: number): { effective: number; cut?: { limit: number; until: number } } {
  if (state['fbLimit'] === undefined) return { effective: limit };
  const cut = Number(state['fbLimit']);
  const until = Number(state['fbUntil']);
  const value = now >= until ? cut + 1 + Math.floor((now - until) / Number(state['fbEvery'])) : cut;
  return value >= limit ? { effective: limit } : { effective: value, cut: { limit: value, until } };
}

/** A flat HGETALL / WITHSCORES reply as an object (a plain loop: this runs for every mailbox). */
function hash(flat: unknown): Record<string, string> {
  const list = flat as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

/** cjson writes an empty array as `{}`. */
const asList = (value: unknown): Array<Record<string, unknown>> => (Array.isArray(value) ? (value as Array<Record<string, unknown>>) : []);

/** Counters of the state hash that the snapshot shows beside the stats hash. */
const STATE_COUNTERS = ['grants', 'releases'] as const;

type MailboxReply = ReplyOf<'snapshotMany'>['mailboxes'][number];

/** One mailbox's replies read at Redis time `now`. */
function decode(now: number, r: MailboxReply, defaultLimit: number): RawSnapshot {
  const state = hash(r.state);
  const config: Record<string, string> = {};
  for (const field of CONFIG_FIELDS) if (state[field] !== undefined) config[field] = state[field];
  const limit = config['limit'] !== undefined ? Number(config['limit']) : defaultLimit;
  const { effective, cut } = feedbackLimit(state, limit, now);
  // Expired leases are not counted: their holder's local deadline has passed (invariant 1).
  const leases = asList(state['leases'] === undefined ? [] : JSON.parse(state['leases'])).filter((l) => Number(l['expiresAt']) > now);
  const waiters: Array<Record<string, unknown>> = [];
  const ids = r.waiterIds as unknown as string[];
  if (ids.length > 0) {
    const deadlines = hash(r.waiterDeadlines);
    const info = hash(r.waiterInfo);
    for (const id of ids) {
      const deadline = Number(deadlines[id] ?? 0);
      const json = info[id];
      if (json !== undefined && deadline > now) waiters.push({ ...(JSON.parse(json) as Record<string, unknown>), deadline });
    }
  }
  const counters: Record<string, number> = {};
  const stats = r.stats as unknown as string[];
  for (let i = 0; i < stats.length; i += 2) counters[stats[i]!] = Number(stats[i + 1]);
  for (const field of STATE_COUNTERS) if (state[field] !== undefined) counters[field] = Number(state[field]);
  const raw: RawSnapshot = {
    now,
    configured: Object.keys(config).length > 0,
    config,
    effectiveLimit: effective,
    graceUntil: Number(state['grace'] ?? 0),
    leases,
    waiters,
    tat: Number(r.tat),
    used24h: Number(r.used24h),
    counters,
  };
  if (cut) raw.feedback = cut;
  return raw;
}

async function readCall(redis: RedisClient, mailboxes: readonly string[], defaultLimit: number): Promise<RawSnapshot[]> {
  const reply = await readSnapshotBatch(redis, mailboxes.flatMap(snapshotKeys));
  const now = Number(reply.now);
  return reply.mailboxes.map((r) => decode(now, r, defaultLimit));
}

/** The raw view of each mailbox, in the order given. */
export async function readRawSnapshots(redis: RedisClient, mailboxes: readonly string[], defaultLimit: number): Promise<RawSnapshot[]> {
  return readInBatches(redis, mailboxes, (batch) => readCall(redis, batch, defaultLimit));
}
