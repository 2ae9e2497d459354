/** A mailbox's weight when places in the per-mailbox series are handed out. */
export interface MailboxActivity {
  mailbox: string;
  /** Slots held plus waiters right now. */
  busy: number;
  /** Lifetime grants: a stable measure of how much the mailbox is used. */
  grants: number;
}

/**
 * Chooses which mailboxes get their own `mailbox` label, at most `max` of them. Choices are
 * sticky while the mailbox stays registered: a series that came and went between scrapes would
 * break rate() on its counters and on the `_other` remainder. Free places go to the busiest
 * mailboxes first (then by lifetime grants, then by name, so every coordinator picks alike).
 */
export class SeriesSelector {
  private readonly chosen = new Set<string>();

  constructor(private readonly max: number) {}

  select(mailboxes: readonly MailboxActivity[]): ReadonlySet<string> {
    const present = new Set(mailboxes.map((entry) => entry.mailbox));
    for (const mailbox of this.chosen) if (!present.has(mailbox)) this.chosen.delete(mailbox);
    if (this.chosen.size < this.max) {
      const candidates = mailboxes
        .filter((entry) => !this.chosen.has(entry.mailbox))
        .sort((a, b) => b.busy - a.busy || b.grants - a.grants || (a.mailbox < b.mailbox ? -1 : a.mailbox > b.mailbox ? 1 : 0));
      for (const entry of candidates) {
        if (this.chosen.size >= this.max) break;
        this.chosen.add(entry.mailbox);
      }
    }
    return this.chosen;
  }
}
