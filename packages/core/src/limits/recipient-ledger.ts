import { InvalidArgumentError } from '../errors.js';
import { reserveRecipients, returnRecipients } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import { checkRecipients } from './limit-args.js';

export interface RecipientDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise when enough of the rolling window has expired. */
  retryAfterMs: number;
  /** Recipients counted in the last 24 h (including this reservation when allowed). */
  used: number;
  /** When allowed: what `giveBack` needs to take (part of) this reservation back. */
  reservation?: RecipientReservation;
}

/** Where a reservation was counted in the ledger. */
export interface RecipientReservation {
  mailbox: string;
  /** The ledger bucket (Redis time, ms) the recipients were counted in. */
  bucket: number;
  recipients: number;
}

/**
 * Rolling 24 h recipient budget per mailbox (Exchange Online: 10,000), using Redis TIME.
 * Counted in one-minute buckets that leave the window a minute late, never early.
 */
export class RecipientLedger {
  constructor(readonly redis: RedisClient) {}

  /** Reserves the recipients of one message, or says when to retry. LimitExceededError if recipients > perDay. */
  async reserve(mailbox: string, recipients: number, perDay: number): Promise<RecipientDecision> {
    checkRecipients(recipients, perDay);
    const { bucket, ...decision } = await reserveRecipients(this.redis, mailbox, recipients, perDay);
    return decision.allowed ? { ...decision, reservation: { mailbox, bucket, recipients } } : decision;
  }

  /**
   * Takes back `recipients` (default: all) of a reservation the upstream never accepted, so the
   * ledger counts only what was sent. Resolves with how many left the count: fewer when the
   * reservation's bucket already left the window.
   */
  async giveBack(reservation: RecipientReservation, recipients = reservation.recipients): Promise<number> {
    if (!(Number.isInteger(recipients) && recipients >= 0 && recipients <= reservation.recipients)) {
      throw new InvalidArgumentError(`recipients must be an integer from 0 to ${reservation.recipients} (got ${recipients})`);
    }
    if (recipients === 0) return 0;
    return (await returnRecipients(this.redis, reservation.mailbox, reservation.bucket, recipients)).returned;
  }

  async used(mailbox: string): Promise<number> {
    return (await reserveRecipients(this.redis, mailbox, 0, Number.MAX_SAFE_INTEGER)).used;
  }
}
