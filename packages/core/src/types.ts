/** Who holds (or waits for) a slot. `worker` names the sending thread inside the process. */
export interface HolderInfo {
  agentId: string;
  host: string;
  pid: number;
  worker: string;
}

/** Per-mailbox settings kept in Redis and changeable at runtime. */
export interface MailboxConfig {
  /** Concurrent upstream connections allowed (Exchange Online: 3). */
  limit: number;
  /** Messages per minute across all holders (Exchange Online: 30). */
  ratePerMinute: number;
  /** Recipients per rolling 24 h (Exchange Online: 10,000). */
  recipientsPerDay: number;
  /** A paused mailbox grants no new slots; existing leases run to their end. */
  paused: boolean;
  pauseReason?: string;
}

/** Defaults used when a mailbox has no config in Redis (yet, or after a Redis data loss). */
export const DEFAULT_MAILBOX_CONFIG: Readonly<MailboxConfig> = Object.freeze({
  limit: 3,
  ratePerMinute: 30,
  recipientsPerDay: 10_000,
  paused: false,
});

export interface LeaseView {
  slot: number;
  token: number;
  /** Arrival order of the request that got this lease (FIFO ticket). */
  ticket: number;
  holder: HolderInfo;
  /** Redis ms. */
  acquiredAt: number;
  /** Redis ms. */
  expiresAt: number;
}

export interface WaiterView {
  id: string;
  ticket: number;
  holder: HolderInfo;
  /** Redis ms. */
  enqueuedAt: number;
  /** Redis ms: the waiter drops out when it neither polls nor is served by then. */
  deadline: number;
}

/** Everything the API and dashboard show about one mailbox, computed with Redis TIME. */
export interface MailboxSnapshot {
  mailbox: string;
  /** Redis ms. */
  now: number;
  config: MailboxConfig;
  /** False when the config hash is missing and defaults are shown. */
  configured: boolean;
  /** min(limit, 432 feedback limit). */
  effectiveLimit: number;
  feedback?: { limit: number; until: number };
  /** Redis ms until which no slot is granted after a Redis data loss (0 when none). */
  graceUntil: number;
  inUse: number;
  /** Ordered by slot. */
  leases: LeaseView[];
  /** FIFO order. */
  waiters: WaiterView[];
  rate: { perMinute: number; availableNow: number; nextFreeInMs: number };
  recipients: { perDay: number; used24h: number };
  counters: Record<string, number>;
}

/** Why a lease was lost. */
export type LeaseLostReason =
  | 'expired' // Redis expired it before a renewal arrived
  | 'deadline' // no renewal confirmed in time: the local safety deadline passed
  | 'epoch' // Redis lost its data or failed over (invariant 5)
  | 'force-release' // an operator freed the slot
  | 'closed'; // the client was closed

export type SlotEventType =
  | 'grant'
  | 'release'
  | 'expire'
  | 'lost'
  | 'force-release'
  | 'pause'
  | 'resume'
  | 'config'
  | 'rejection';

/** JSON published on `ss:events` (by Lua scripts and by clients). */
export interface SlotEvent {
  type: SlotEventType;
  mailbox: string;
  slot?: number;
  token?: number;
  holder?: HolderInfo;
  /** Rejection code (e.g. '432') or lost reason. */
  code?: string;
  /** Redis ms when published from a script, wall ms otherwise. */
  at: number;
  [extra: string]: unknown;
}

/** A held slot. Open the upstream connection only while `signal` is not aborted and `remainingMs() > 0`. */
export interface Lease {
  readonly mailbox: string;
  /** 1..limit */
  readonly slot: number;
  /** Fencing token, monotonic per mailbox (also across a Redis data loss). */
  readonly token: number;
  /** Arrival order of the request (grants are FIFO by ticket). */
  readonly ticket: number;
  /** Aborts (reason: LeaseLostError) when the lease is lost: expired, epoch change, force-release, deadline. */
  readonly signal: AbortSignal;
  /** Monotonic ms (performance.now()) when the grant was confirmed. */
  readonly acquiredAt: number;
  /** Time spent queued before the grant. */
  readonly waitedMs: number;
  /** Milliseconds until the local safety deadline (0 once passed or lost). */
  remainingMs(): number;
  /**
   * The write fence: call before every byte sent upstream. True while the lease is held and its
   * deadline is still ahead by the monotonic clock read now. The deadline timer alone is not
   * enough: after the process was stopped or starved, the event loop runs I/O callbacks (a reply
   * that arrived meanwhile) before timers, so code can go on writing on a lease already expired
   * in Redis. Once the deadline has passed, the lease ends here ('deadline', `signal` aborts).
   */
  checkLive(): boolean;
  /** Idempotent and owner-checked. Call only after the upstream socket has closed. */
  release(): Promise<void>;
}
