import { z } from 'zod';

/**
 * The one set of bounds for a mailbox's limits, shared by the agent's config file and the
 * coordinator's admin API so a value one accepts the other never refuses. Exchange Online's own
 * limits (3 connections, 30/min, 10,000 recipients/day) sit far inside them; the upper ends only
 * keep typos (an extra zero or three) out.
 */
export const MAILBOX_LIMIT_BOUNDS = {
  limit: { min: 1, max: 1_000 },
  ratePerMinute: { min: 1, max: 1_000_000 },
  recipientsPerDay: { min: 1, max: 100_000_000 },
} as const;

export type MailboxLimitName = keyof typeof MAILBOX_LIMIT_BOUNDS;

const bounded = (name: MailboxLimitName, number: z.ZodNumber) => {
  const { min, max } = MAILBOX_LIMIT_BOUNDS[name];
  const message = `must be an integer between ${min} and ${max}`;
  return number.int(message).min(min, message).max(max, message);
};

/**
 * Builds the limits object from a number type: `z.number()` for JSON bodies, `z.coerce.number()`
 * where values may arrive as strings (environment overrides).
 */
export const mailboxLimitsShape = (number: () => z.ZodNumber = () => z.number()) => ({
  limit: bounded('limit', number()),
  ratePerMinute: bounded('ratePerMinute', number()),
  recipientsPerDay: bounded('recipientsPerDay', number()),
});

/** The three limits of one mailbox, each required; `.partial()` gives an update. */
export const mailboxLimitsSchema = z.object(mailboxLimitsShape()).strict();
