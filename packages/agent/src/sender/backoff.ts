import type { RetryPolicy } from '../config.js';
import type { SpoolHeader } from '../spool/spool-file.js';

/** The part of a retry policy that shapes the delays. */
export type BackoffPolicy = Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs' | 'multiplier' | 'jitter'>;

/**
 * Delay before the next attempt after `failures` temporary failures: exponential, capped, with
 * ± jitter so that messages deferred together do not come back together.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, failures - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

/** True when the message has been failing temporarily for longer than the policy allows. */
export function lifetimeExceeded(header: SpoolHeader, policy: RetryPolicy, now = Date.now()): boolean {
  return now - header.lifetimeStart >= policy.maxLifetimeMs;
}

/** The slot service (Redis) failed `failures` times in a row: 200 ms doubling to 5 s, no jitter. */
export function slotServiceRetryDelay(failures: number): number {
  return backoffDelay(failures, { initialDelayMs: 200, multiplier: 2, maxDelayMs: 5_000, jitter: 0 });
}

/** Connecting to the upstream failed `failures` times in a row: the retry policy from 1 s, at most 60 s. */
export function connectRetryDelay(failures: number, policy: BackoffPolicy): number {
  return Math.min(60_000, backoffDelay(failures, { ...policy, initialDelayMs: 1_000 }));
}

/** A worker's lease run failed unexpectedly: pause before it asks for a slot again. */
export const WORKER_FAILURE_PAUSE_MS = 1_000;

/** A worker of a paused mailbox looks again after this long (a resume wakes it sooner). */
export const PAUSED_RECHECK_MS = 2_000;

/** A worker whose mailbox's ready mail the busy workers cover looks again after this long (new mail wakes it sooner). */
export const IDLE_RECHECK_MS = 30_000;
