import type { Lease } from '@smtp-slots/core';
import type { SpoolMessage } from '../spool/spool.js';
import { sleep } from './notifier.js';
import type { RecipientReservations } from './recipient-reservations.js';
import type { HoldReason } from './sender-observer.js';
import type { MailboxScope } from './sender-services.js';
import type { SlotServiceErrors } from './slot-service-errors.js';

/** A rate token, or why not: `holdMs` to wait before the next try, `error` when Redis failed. */
export type RateDecision = { granted: boolean; holdMs?: number; error?: unknown };
type Admission = 'go' | 'skip' | 'stop';

/**
 * What a message needs before it goes upstream: claimed from the spool, its recipients within
 * the shared 24 h budget, a token of the shared per-minute rate. A message that cannot go now
 * is given back to the spool (and the mailbox held when waiting is the answer).
 */
export class MessageAdmission {
  constructor(
    private readonly scope: MailboxScope,
    private readonly reserved: RecipientReservations,
    private readonly serviceErrors: SlotServiceErrors,
  ) {}

  /** Claims the next ready message and reserves its recipients; undefined when there is none to send now. */
  async next(signal: AbortSignal): Promise<SpoolMessage | undefined> {
    const { stopping, live, hold, services, mailbox } = this.scope;
    for (;;) {
      if (stopping.aborted || signal.aborted) return undefined;
      if (live.current.paused || hold.remainingMs() > 0) return undefined;
      const message = await services.spool.claim(mailbox);
      if (!message) return undefined;
      const admission = await this.reserveRecipients(message);
      if (admission === 'go') return message;
      if (admission === 'stop') return undefined;
    }
  }

  /**
   * A token of the shared per-minute rate. Short waits happen in place (holding the slot); a
   * long one frees the slot instead (`holdMs`).
   */
  async rateToken(lease: Lease, signal: AbortSignal): Promise<RateDecision> {
    const { stopping, live, services, mailbox, options } = this.scope;
    try {
      for (;;) {
        if (signal.aborted || stopping.aborted) return { granted: false };
        const decision = await services.rate.take(mailbox, live.current.ratePerMinute * (1 - options.rateSafetyFraction));
        if (decision.allowed) return { granted: true };
        if (decision.retryAfterMs <= options.maxRateWaitMs && decision.retryAfterMs < lease.remainingMs()) {
          await sleep(decision.retryAfterMs, AbortSignal.any([signal, stopping]));
          if (signal.aborted || stopping.aborted) return { granted: false };
          continue;
        }
        return { granted: false, holdMs: decision.retryAfterMs };
      }
    } catch (error) {
      return { granted: false, error };
    }
  }

  /** Puts a claimed message back unsent; recipients it reserved leave the ledger first (it is claimed again later). */
  async giveBack(message: SpoolMessage, hold?: HoldReason, holdMs = 0): Promise<Admission> {
    await this.reserved.notAccepted(message.header.id);
    await this.scope.services.spool.putBack(message);
    if (hold) this.scope.hold.hold(hold, holdMs);
    return 'stop';
  }

  /** The recipient budget for one message, before anything goes upstream. */
  private async reserveRecipients(message: SpoolMessage): Promise<Admission> {
    const { services, live, log, mailbox } = this.scope;
    const config = live.current;
    const { id, envelope } = message.header;
    const recipients = envelope.to.length;
    if (recipients > config.recipientsPerDay) {
      await services.spool.bury(message, undefined, `${recipients} recipients exceed the whole daily recipient budget of ${config.recipientsPerDay}`);
      services.observer.failed(mailbox, 'budget');
      return 'skip';
    }
    try {
      await this.reserved.retryPending();
      const budget = await services.ledger.reserve(mailbox, recipients, config.recipientsPerDay);
      if (budget.reservation) {
        this.reserved.taken(id, budget.reservation);
        return 'go';
      }
      // Never knowingly trip 554 5.2.0: hold the mailbox until the rolling window frees enough.
      log.warn({ used24h: budget.used, perDay: config.recipientsPerDay, retryAfterMs: budget.retryAfterMs }, 'recipient budget exhausted: holding the mailbox');
      return this.giveBack(message, 'recipients', budget.retryAfterMs);
    } catch (error) {
      this.serviceErrors.failed(error);
      return this.giveBack(message);
    }
  }
}
