import type { RetryPolicy } from '../config.js';
import type { SpoolHeader } from '../spool/spool-file.js';

/**
 * Delay before the next attempt after `failures` temporary failures: exponential, capped, with
 * ± jitter so that messages deferred together do not come back together.
 */
export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, failures - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

/** True when the message has been failing temporarily for longer than the policy allows. */
export function lifetimeExceeded(header: SpoolHeader, policy: RetryPolicy, now = Date.now()): boolean {
  return now - header.lifetimeStart >= policy.maxLifetimeMs;
}
