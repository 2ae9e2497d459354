/**
 * Messages whose recipients are counted in the shared 24 h ledger but that did not go out
 * (given back unsent, 432, a paused mailbox). Their next attempt reuses the reservation instead
 * of counting the recipients twice, but only for a while: the ledger's window runs from the
 * reservation, the provider's from the actual send, and they must not drift apart.
 */
export class RecipientReservations {
  private readonly reservedAt = new Map<string, number>();

  constructor(private readonly reuseWithinMs = 10 * 60_000) {}

  /** Recipients of this spool id were reserved and not used. */
  keep(id: string): void {
    this.reservedAt.set(id, Date.now());
  }

  /** True (and forgotten) when a recent unused reservation exists for this spool id. */
  reuse(id: string): boolean {
    const at = this.reservedAt.get(id);
    this.reservedAt.delete(id);
    if (this.reservedAt.size > 10_000) this.prune();
    return at !== undefined && Date.now() - at < this.reuseWithinMs;
  }

  private prune(): void {
    const cutoff = Date.now() - this.reuseWithinMs;
    for (const [id, at] of this.reservedAt) if (at < cutoff) this.reservedAt.delete(id);
  }
}
