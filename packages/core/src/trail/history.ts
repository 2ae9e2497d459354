import type { ChainableCommander } from 'ioredis';
import { historyKey } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';

/** Per-minute counters of a mailbox's history. */
export type HistoryCounter = 'sent' | 'deferred' | 'failed' | 'rejections432' | 'slotGrants' | 'slotWaitMs';
const COUNTERS: readonly HistoryCounter[] = ['sent', 'deferred', 'failed', 'rejections432', 'slotGrants', 'slotWaitMs'];

/** How far back history reaches: at least 48 h (2,880 minutes) can always be read. */
export const HISTORY_MAX_MINUTES = 2_880;
/** Each hour key lives this long after its last write: 48 h plus the hour it covers, plus margin. */
export const HISTORY_RETENTION_MS = 50 * 3_600_000;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** One minute of a mailbox's history, summed over every agent. */
export interface HistoryPoint {
  /** ISO start of the minute. */
  at: string;
  sent: number;
  deferred: number;
  failed: number;
  rejections432: number;
  slotGrants: number;
  /** Mean wait of the slots granted in this minute (0 when none was). */
  slotWaitSeconds: number;
  /** Messages spooled for the mailbox over all agents that reported in this minute; null when none did. */
  spoolDepth: number | null;
}

function where(atMs: number): { key: (mailbox: string) => string; minute: number } {
  const hour = Math.floor(atMs / HOUR_MS);
  return { key: (mailbox) => historyKey(mailbox, hour), minute: Math.floor((atMs % HOUR_MS) / MINUTE_MS) };
}

/**
 * Queues increments of the minute `atMs` falls in. The minute comes from the writer's clock:
 * history is for people reading charts, not for lease arithmetic (invariant 3 does not apply).
 */
export function queueHistory(pipeline: ChainableCommander, mailbox: string, atMs: number, increments: Partial<Record<HistoryCounter, number>>): void {
  const { key, minute } = where(atMs);
  const k = key(mailbox);
  for (const [name, by] of Object.entries(increments)) if (by) pipeline.hincrby(k, `${minute}:${name}`, Math.round(by));
  pipeline.pexpire(k, HISTORY_RETENTION_MS);
}

/** Queues one agent's spool depth for the mailbox in the minute `atMs` falls in (last report wins). */
export function queueSpoolDepth(pipeline: ChainableCommander, mailbox: string, agentId: string, atMs: number, depth: number): void {
  const { key, minute } = where(atMs);
  const k = key(mailbox);
  pipeline.hset(k, `${minute}:spool:${agentId}`, depth);
  pipeline.pexpire(k, HISTORY_RETENTION_MS);
}

/** The last `minutes` minutes up to the one `nowMs` is in, oldest first, one point per minute. */
export async function readHistory(redis: RedisClient, mailbox: string, minutes: number, nowMs: number): Promise<HistoryPoint[]> {
  const lastMinute = Math.floor(nowMs / MINUTE_MS);
  const firstMinute = lastMinute - minutes + 1;
  const hours: number[] = [];
  for (let h = Math.floor((firstMinute * MINUTE_MS) / HOUR_MS); h <= Math.floor((lastMinute * MINUTE_MS) / HOUR_MS); h++) hours.push(h);
  const pipeline = redis.pipeline();
  for (const hour of hours) pipeline.hgetall(historyKey(mailbox, hour));
  const replies = (await pipeline.exec()) ?? [];
  const byHour = new Map(hours.map((hour, i) => [hour, (replies[i]?.[1] ?? {}) as Record<string, string>]));
  const points: HistoryPoint[] = [];
  for (let m = firstMinute; m <= lastMinute; m++) {
    const fields = byHour.get(Math.floor((m * MINUTE_MS) / HOUR_MS)) ?? {};
    const minute = m % 60;
    const value = (name: HistoryCounter) => Number(fields[`${minute}:${name}`] ?? 0);
    let spool: number | null = null;
    const spoolPrefix = `${minute}:spool:`;
    for (const [field, v] of Object.entries(fields)) if (field.startsWith(spoolPrefix)) spool = (spool ?? 0) + Number(v);
    const counts = Object.fromEntries(COUNTERS.map((c) => [c, value(c)])) as Record<HistoryCounter, number>;
    points.push({
      at: new Date(m * MINUTE_MS).toISOString(),
      sent: counts.sent, deferred: counts.deferred, failed: counts.failed, rejections432: counts.rejections432, slotGrants: counts.slotGrants,
      slotWaitSeconds: counts.slotGrants > 0 ? counts.slotWaitMs / counts.slotGrants / 1000 : 0,
      spoolDepth: spool,
    });
  }
  return points;
}
