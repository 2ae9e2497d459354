import { report432 } from '../redis/scripts.js';
import { DEFAULT_MAILBOX_CONFIG } from '../types.js';
import type { RedisClient } from '../redis/connect.js';

export interface LimitFeedbackOptions {
  /** How long a cut lasts before the limit starts rising again. Default 120 000. */
  cooldownMs?: number;
  /** After the cool-down, the limit rises by one this often. Default 60 000. */
  raiseEveryMs?: number;
  /** Reports within this time of the last cut only extend the cool-down. Default 5 000. */
  debounceMs?: number;
  /** Limit assumed for mailboxes without config. Default 3. */
  defaultLimit?: number;
}

/**
 * 432 feedback (invariant 7): an upstream `432 4.3.2` while we hold a lease means someone
 * outside the system uses the mailbox. Each report cuts the effective limit by one (not below 1)
 * for a cool-down, then it rises by one per step (Postfix-style). The slot scripts grant up to
 * min(limit, effective limit).
 */
export class LimitFeedback {
  constructor(readonly redis: RedisClient, readonly options: LimitFeedbackOptions = {}) {}

  async report432(mailbox: string): Promise<{ effectiveLimit: number }> {
    const effectiveLimit = await report432(this.redis, mailbox, this.options.defaultLimit ?? DEFAULT_MAILBOX_CONFIG.limit, {
      cooldownMs: this.options.cooldownMs ?? 120_000,
      raiseEveryMs: this.options.raiseEveryMs ?? 60_000,
      debounceMs: this.options.debounceMs ?? 5_000,
    });
    return { effectiveLimit };
  }
}
