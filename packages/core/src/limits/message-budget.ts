import { takeMessage } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import { checkRate, checkRecipients } from './limit-args.js';
import type { RecipientReservation } from './recipient-ledger.js';

export type MessageDecision =
  /** reservation: what RecipientLedger.giveBack needs to take (part of) the recipients back. */
  | { allowed: true; used: number; reservation: RecipientReservation }
  | { allowed: false; limit: 'rate' | 'recipients'; retryAfterMs: number; used: number };

/**
 * A message's share of its mailbox's limits in one round trip: the rate token (as RateLimiter)
 * and its recipients in the rolling 24 h budget (as RecipientLedger), both or neither, so that
 * a message held back by one limit never spends the other. LimitExceededError when recipients
 * exceed a whole day's budget.
 */
export class MessageBudget {
  constructor(readonly redis: RedisClient, readonly options: { burst?: number } = {}) {}

  async take(mailbox: string, m: { perMinute: number; recipients: number; perDay: number }): Promise<MessageDecision> {
    const burst = this.options.burst ?? 1;
    checkRate(m.perMinute, burst);
    checkRecipients(m.recipients, m.perDay);
    const reply = await takeMessage(this.redis, mailbox, { perMinute: m.perMinute, burst, recipients: m.recipients, perDay: m.perDay });
    if (!reply.allowed) return reply;
    return { allowed: true, used: reply.used, reservation: { mailbox, bucket: reply.bucket, recipients: m.recipients } };
  }
}
