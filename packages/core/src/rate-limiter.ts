import type { RedisLike } from './types.js';

export interface RateDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise when the next token is due. */
  retryAfterMs: number;
}

/** GCRA message-rate limit per mailbox, shared by all holders, using Redis TIME. No bursts above the rate. */
export class RateLimiter {
  constructor(readonly redis: RedisLike) {}

  take(_mailbox: string, _perMinute: number): Promise<RateDecision> {
    throw new Error('not implemented yet');
  }
}
