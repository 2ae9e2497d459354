import { settlesWithin, type RecipientLedger, type RecipientReservation } from '@smtp-slots/core';

/** A give-back that waits for Redis no longer than this before the message goes back to the spool. */
const GIVE_BACK_WAIT_MS = 2_000;
/** Give-backs that failed (Redis away) are retried before later reservations, this many at most. */
const MAX_PENDING = 10_000;

/**
 * The recipient reservations of the messages in flight, by spool id. The shared 24 h ledger must
 * count what the upstream accepted: a recipient it never accepted (refused at RCPT, connection
 * failed, message rejected, or not sent at all) is given back to the bucket it was counted in.
 * So the ledger over-counts by at most the messages in flight (and, while Redis is away, the
 * give-backs still pending), never by every failed attempt. An outcome that may have been
 * delivered (connection lost after the final dot) stays counted.
 */
export class RecipientReservations {
  private readonly inFlight = new Map<string, RecipientReservation>();
  private pending: Array<{ reservation: RecipientReservation; recipients: number }> = [];

  constructor(private readonly ledger: RecipientLedger, private readonly onError: (error: Error) => void) {}

  /** The recipients of spool id `id` were counted in the ledger for this attempt. */
  taken(id: string, reservation: RecipientReservation): void {
    this.inFlight.set(id, reservation);
  }

  /**
   * `count` of the message's recipients (all when omitted) were never accepted upstream: they
   * leave the ledger. The rest stays counted, and the message is forgotten here either way.
   */
  async notAccepted(id: string, count?: number): Promise<void> {
    const reservation = this.inFlight.get(id);
    this.inFlight.delete(id);
    if (!reservation) return;
    const recipients = Math.min(count ?? reservation.recipients, reservation.recipients);
    if (recipients > 0) await this.send(reservation, recipients);
  }

  /** Retries give-backs that failed earlier (called before each new reservation). */
  async retryPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const due = this.pending;
    this.pending = [];
    for (const { reservation, recipients } of due) await this.send(reservation, recipients);
  }

  private async send(reservation: RecipientReservation, recipients: number): Promise<void> {
    const call = this.ledger.giveBack(reservation, recipients).catch((error: Error) => {
      this.onError(error);
      if (this.pending.length < MAX_PENDING) this.pending.push({ reservation, recipients });
    });
    // A frozen Redis must not keep the message from going back to the spool.
    await settlesWithin(call, GIVE_BACK_WAIT_MS);
  }
}
