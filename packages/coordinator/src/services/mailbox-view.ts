import type { MailboxSnapshot } from '@smtp-slots/core';

/** One held slot as the API shows it. Durations are computed against Redis time. */
export interface HolderView {
  slot: number;
  /** Fencing token of the lease (monotonic per mailbox). */
  token: number;
  agent: string;
  host: string;
  pid: number;
  worker: string;
  heldForMs: number;
  expiresInMs: number;
}

/** One queued waiter, in FIFO order (position 1 is served next). */
export interface WaiterView {
  position: number;
  agent: string;
  host: string;
  pid: number;
  worker: string;
  waitingForMs: number;
  deadlineInMs: number;
}

/** A mailbox in GET /api/mailboxes. */
export interface MailboxSummary {
  address: string;
  /** Configured limit. */
  limit: number;
  /** Limit the acquire script applies now (lower than `limit` during a 432 cool-down). */
  effectiveLimit: number;
  /** Present while 432 feedback lowers the limit. */
  feedback: { limit: number; endsInMs: number } | null;
  inUse: number;
  holders: HolderView[];
  waiting: number;
  paused: boolean;
  pauseReason: string | null;
  /** False when the mailbox has no config in Redis and defaults are shown. */
  configured: boolean;
  /** No slot is granted for this long after a Redis data loss (0 when none). */
  graceEndsInMs: number;
  rate: { perMinute: number; availableNow: number; nextFreeInMs: number };
  recipients: { perDay: number; used24h: number };
  counters: Record<string, number>;
  /** Redis server time (epoch ms) the snapshot was taken at. */
  observedAt: number;
}

/** GET /api/mailboxes/:address: the summary plus the ordered waiter queue and full config. */
export interface MailboxDetail extends MailboxSummary {
  config: { limit: number; ratePerMinute: number; recipientsPerDay: number; paused: boolean };
  waiters: WaiterView[];
}

export function toSummary(snapshot: MailboxSnapshot): MailboxSummary {
  const now = snapshot.now;
  return {
    address: snapshot.mailbox,
    limit: snapshot.config.limit,
    effectiveLimit: snapshot.effectiveLimit,
    feedback: snapshot.feedback ? { limit: snapshot.feedback.limit, endsInMs: Math.max(0, snapshot.feedback.until - now) } : null,
    inUse: snapshot.inUse,
    holders: snapshot.leases
      .map((lease) => ({
        slot: lease.slot,
        token: lease.token,
        agent: lease.holder.agentId,
        host: lease.holder.host,
        pid: lease.holder.pid,
        worker: lease.holder.worker,
        heldForMs: Math.max(0, now - lease.acquiredAt),
        expiresInMs: Math.max(0, lease.expiresAt - now),
      }))
      .sort((a, b) => a.slot - b.slot),
    waiting: snapshot.waiters.length,
    paused: snapshot.config.paused,
    pauseReason: snapshot.config.paused ? (snapshot.config.pauseReason ?? null) : null,
    configured: snapshot.configured,
    graceEndsInMs: Math.max(0, snapshot.graceUntil - now),
    rate: { ...snapshot.rate },
    recipients: { ...snapshot.recipients },
    counters: { ...snapshot.counters },
    observedAt: now,
  };
}

export function toDetail(snapshot: MailboxSnapshot): MailboxDetail {
  const { limit, ratePerMinute, recipientsPerDay, paused } = snapshot.config;
  return {
    ...toSummary(snapshot),
    config: { limit, ratePerMinute, recipientsPerDay, paused },
    waiters: snapshot.waiters.map((waiter, index) => ({
      position: index + 1,
      agent: waiter.holder.agentId,
      host: waiter.holder.host,
      pid: waiter.holder.pid,
      worker: waiter.holder.worker,
      waitingForMs: Math.max(0, snapshot.now - waiter.enqueuedAt),
      deadlineInMs: Math.max(0, waiter.deadline - snapshot.now),
    })),
  };
}
