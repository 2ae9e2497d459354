import type { RedisLike } from './types.js';

export interface LimitFeedbackOptions {
  /** How long a cut lasts before the limit starts rising again. Default 120 000. */
  cooldownMs?: number;
  /** After the cool-down, the limit rises by one this often. Default 60 000. */
  raiseEveryMs?: number;
  /** Reports within this time of the last cut only extend the cool-down. Default 5 000. */
  debounceMs?: number;
}

/** 432 feedback (invariant 7): someone outside uses the mailbox, so lower its effective limit for a while. */
export class LimitFeedback {
  constructor(readonly redis: RedisLike, readonly options: LimitFeedbackOptions = {}) {}

  report432(_mailbox: string): Promise<{ effectiveLimit: number }> {
    throw new Error('not implemented yet');
  }
}
