import type { RedisLike } from './types.js';

export interface RecipientDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise when enough of the rolling window has expired. */
  retryAfterMs: number;
  /** Recipients counted in the last 24 h (including this reservation when allowed). */
  used: number;
}

/** Rolling 24 h recipient budget per mailbox (Exchange Online: 10,000), using Redis TIME. */
export class RecipientLedger {
  constructor(readonly redis: RedisLike) {}

  reserve(_mailbox: string, _recipients: number, _perDay: number): Promise<RecipientDecision> {
    throw new Error('not implemented yet');
  }

  used(_mailbox: string): Promise<number> {
    throw new Error('not implemented yet');
  }
}
