const DAY_MS = 24 * 60 * 60 * 1000;

/** Recipients a user submitted in the rolling 24 hours (Exchange's recipient rate limit). */
export class RecipientLedger {
  #entries: { at: number; count: number }[] = [];
  #sum = 0;

  constructor(readonly recipientsPerDay: number) {}

  /** Recipients counted in the 24 hours before `now`. */
  used(now: number): number {
    let drop = 0;
    while (drop < this.#entries.length && (this.#entries[drop]?.at ?? 0) <= now - DAY_MS) {
      this.#sum -= this.#entries[drop]?.count ?? 0;
      drop++;
    }
    if (drop > 0) this.#entries.splice(0, drop);
    return this.#sum;
  }

  /** Whether a message to `count` more recipients stays within the quota. */
  allows(count: number, now: number): boolean {
    return this.used(now) + count <= this.recipientsPerDay;
  }

  record(count: number, now: number): void {
    this.#entries.push({ at: now, count });
    this.#sum += count;
  }

  reset(): void {
    this.#entries = [];
    this.#sum = 0;
  }
}
