import { takeRateToken } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import { checkRate } from './limit-args.js';

export interface RateDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise when the next token is due. */
  retryAfterMs: number;
}

/**
 * GCRA message-rate limit per mailbox, shared by all holders, using Redis TIME. With the
 * default burst of 1, tokens are spaced 60 000 / perMinute ms apart: no rolling minute ever
 * holds more than perMinute messages (no 2x bursts at window edges).
 */
export class RateLimiter {
  constructor(readonly redis: RedisClient, readonly options: { burst?: number } = {}) {}

  async take(mailbox: string, perMinute: number): Promise<RateDecision> {
    const burst = this.options.burst ?? 1;
    checkRate(perMinute, burst);
    return takeRateToken(this.redis, mailbox, perMinute, burst);
  }
}
