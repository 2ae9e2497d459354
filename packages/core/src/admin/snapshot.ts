import { parseMailboxConfig } from './mailbox-config.js';
import type { HolderInfo, LeaseView, MailboxSnapshot, WaiterView } from '../types.js';

/** One mailbox's view as bulk-snapshot.ts reads it (the empty-object form is what cjson once made of empty arrays). */
export interface RawSnapshot {
  now: number;
  configured: boolean;
  config: Record<string, string>;
  effectiveLimit: number;
  feedback?: { limit: number; until: number };
  graceUntil: number;
  leases: Array<Record<string, unknown>> | Record<string, never>;
  waiters: Array<Record<string, unknown>> | Record<string, never>;
  tat: number;
  used24h: number;
  counters: Record<string, number> | null;
}

const list = <T>(value: T[] | Record<string, never>): T[] => (Array.isArray(value) ? value : []);

function holderOf(r: Record<string, unknown>): HolderInfo {
  return { agentId: String(r['agentId'] ?? ''), host: String(r['host'] ?? ''), pid: Number(r['pid'] ?? 0), worker: String(r['worker'] ?? '') };
}

export function shapeSnapshot(mailbox: string, raw: RawSnapshot, defaultLimit: number): MailboxSnapshot {
  const config = parseMailboxConfig(raw.config, { limit: defaultLimit });
  const leases: LeaseView[] = list(raw.leases)
    .map((l) => ({
      slot: Number(l['slot']),
      token: Number(l['token']),
      ticket: Number(l['ticket']),
      holder: holderOf(l),
      acquiredAt: Number(l['acquiredAt']),
      expiresAt: Number(l['expiresAt']),
    }))
    .sort((a, b) => a.slot - b.slot);
  const waiters: WaiterView[] = list(raw.waiters).map((w) => ({
    id: String(w['id']),
    ticket: Number(w['ticket']),
    holder: holderOf(w),
    enqueuedAt: Number(w['enqueuedAt']),
    deadline: Number(w['deadline']),
  }));
  // GCRA with burst 1 (what RateLimiter uses): one token is available once now >= tat.
  const nextFreeInMs = Math.max(0, Math.ceil(raw.tat - raw.now));
  const snapshot: MailboxSnapshot = {
    mailbox,
    now: raw.now,
    config,
    configured: raw.configured,
    effectiveLimit: Math.min(config.limit, raw.effectiveLimit),
    graceUntil: raw.graceUntil > raw.now ? raw.graceUntil : 0,
    inUse: leases.length,
    leases,
    waiters,
    rate: { perMinute: config.ratePerMinute, availableNow: nextFreeInMs === 0 ? 1 : 0, nextFreeInMs },
    recipients: { perDay: config.recipientsPerDay, used24h: raw.used24h },
    counters: { ...(raw.counters ?? {}) },
  };
  if (raw.feedback) snapshot.feedback = { limit: raw.feedback.limit, until: raw.feedback.until };
  return snapshot;
}
