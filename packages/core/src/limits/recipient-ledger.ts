import { InvalidArgumentError } from '../errors.js';
import { reserveRecipients } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';

export interface RecipientDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise when enough of the rolling window has expired. */
  retryAfterMs: number;
  /** Recipients counted in the last 24 h (including this reservation when allowed). */
  used: number;
}

/**
 * Rolling 24 h recipient budget per mailbox (Exchange Online: 10,000), using Redis TIME.
 * Counted in one-minute buckets that leave the window a minute late, never early.
 */
export class RecipientLedger {
  constructor(readonly redis: RedisClient) {}

  /** Reserves the recipients of one message, or says when to retry. LimitExceededError if recipients > perDay. */
  async reserve(mailbox: string, recipients: number, perDay: number): Promise<RecipientDecision> {
    if (!(Number.isInteger(recipients) && recipients >= 1)) throw new InvalidArgumentError(`recipients must be an integer >= 1 (got ${recipients})`);
    if (!(Number.isInteger(perDay) && perDay >= 1)) throw new InvalidArgumentError(`perDay must be an integer >= 1 (got ${perDay})`);
    return reserveRecipients(this.redis, mailbox, recipients, perDay);
  }

  async used(mailbox: string): Promise<number> {
    return (await reserveRecipients(this.redis, mailbox, 0, Number.MAX_SAFE_INTEGER)).used;
  }
}
