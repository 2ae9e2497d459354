import type { Lease } from '@smtp-slots/core';
import type { SpoolMessage } from '../spool/spool.js';
import { sleep } from './notifier.js';
import type { RecipientReservations } from './recipient-reservations.js';
import type { HoldReason } from './sender-observer.js';
import type { MailboxScope } from './sender-services.js';

/** The message's rate token and recipients, or why not: `hold` and `holdMs` when the mailbox must wait, `error` when Redis failed. */
export type RateDecision = { granted: boolean; hold?: HoldReason; holdMs?: number; error?: unknown };
type Admission = 'go' | 'skip' | 'stop';

/**
 * What a message needs before it goes upstream: claimed from the spool, then, in one call to
 * Redis, a token of the shared per-minute rate and its recipients in the shared 24 h budget
 * (both or neither). A message that cannot go now is given back to the spool (and the mailbox
 * held when waiting is the answer).
 */
export class MessageAdmission {
  constructor(
    private readonly scope: MailboxScope,
    private readonly reserved: RecipientReservations,
  ) {}

  /** Claims the next ready message; undefined when there is none to send now. */
  async next(signal: AbortSignal): Promise<SpoolMessage | undefined> {
    const { stopping, services, mailbox } = this.scope;
    for (;;) {
      if (stopping.aborted || signal.aborted) return undefined;
      if (this.heldBack()) return undefined;
      const message = await services.spool.claim(mailbox);
      if (!message) return undefined;
      if ((await this.withinDailyBudget(message)) === 'go') return message;
    }
  }

  /** Paused, or held by this agent (rate, recipients, connect backoff, upstream throttling): nothing goes out now. */
  heldBack(): boolean {
    return this.scope.live.current.paused || this.scope.hold.remainingMs() > 0;
  }

  /**
   * The message's rate token and recipient reservation, taken together. Short rate waits happen
   * in place (holding the slot); a long one frees the slot instead (`holdMs`), as does a
   * recipient budget that must wait (never knowingly trip 554 5.2.0). Under a shared limit no
   * wait happens in place: its slot would sit idle while other mailboxes' requests wait for it.
   */
  async take(lease: Lease, message: SpoolMessage, signal: AbortSignal): Promise<RateDecision> {
    const { stopping, live, services, mailbox, options, log } = this.scope;
    const { id, envelope } = message.header;
    const maxWaitMs = options.sharedLimit ? 0 : options.maxRateWaitMs;
    try {
      await this.reserved.retryPending();
      for (;;) {
        if (signal.aborted || stopping.aborted) return { granted: false };
        const config = live.current;
        const decision = await services.budget.take(mailbox, { perMinute: config.ratePerMinute * (1 - options.rateSafetyFraction), recipients: envelope.to.length, perDay: config.recipientsPerDay });
        if (decision.allowed) {
          this.reserved.taken(id, decision.reservation);
          return { granted: true };
        }
        if (decision.limit === 'recipients') {
          log.warn({ used24h: decision.used, perDay: config.recipientsPerDay, retryAfterMs: decision.retryAfterMs }, 'recipient budget exhausted: holding the mailbox');
          return { granted: false, hold: 'recipients', holdMs: decision.retryAfterMs };
        }
        if (decision.retryAfterMs <= maxWaitMs && decision.retryAfterMs < lease.remainingMs()) {
          await sleep(decision.retryAfterMs, AbortSignal.any([signal, stopping]));
          continue;
        }
        return { granted: false, hold: 'rate', holdMs: decision.retryAfterMs };
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

  /** A message with more recipients than a whole day's budget can never go: it is buried without asking Redis. */
  private async withinDailyBudget(message: SpoolMessage): Promise<Admission> {
    const { services, live, mailbox } = this.scope;
    const perDay = live.current.recipientsPerDay;
    const recipients = message.header.envelope.to.length;
    if (recipients <= perDay) return 'go';
    await services.spool.bury(message, undefined, `${recipients} recipients exceed the whole daily recipient budget of ${perDay}`);
    services.observer.failed(mailbox, 'budget');
    return 'skip';
  }
}
