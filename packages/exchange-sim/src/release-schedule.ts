const MINUTE_MS = 60_000;

/**
 * Exchange's "30 messages per minute" with carry-over: a message beyond the rate is still
 * accepted (250), but it leaves the outbox later. A message is released at the earliest time
 * when fewer than `ratePerMinute` releases fall in the minute before it.
 */
export class ReleaseSchedule {
  /** Release times, ascending (each new one is >= the last). */
  #times: number[] = [];
  delayed = 0;
  maxDelayMs = 0;

  constructor(readonly ratePerMinute: number) {}

  /** Schedules one accepted message; returns when it is released and whether that is later than now. */
  schedule(now: number): { releaseAt: number; delayed: boolean } {
    this.#prune(now);
    const times = this.#times;
    const blocker = times.length >= this.ratePerMinute ? times[times.length - this.ratePerMinute] : undefined;
    const releaseAt = blocker === undefined ? now : Math.max(now, blocker + MINUTE_MS);
    times.push(releaseAt);
    const delayed = releaseAt > now;
    if (delayed) {
      this.delayed++;
      this.maxDelayMs = Math.max(this.maxDelayMs, releaseAt - now);
    }
    return { releaseAt, delayed };
  }

  /** Accepted messages that are not released yet. */
  pending(now: number): number {
    this.#prune(now);
    let count = 0;
    for (let i = this.#times.length - 1; i >= 0 && (this.#times[i] ?? 0) > now; i--) count++;
    return count;
  }

  reset(): void {
    this.#times = [];
    this.delayed = 0;
    this.maxDelayMs = 0;
  }

  /** Drops releases that no longer fall in any future message's window. */
  #prune(now: number): void {
    let drop = 0;
    while (drop < this.#times.length && (this.#times[drop] ?? 0) <= now - MINUTE_MS) drop++;
    if (drop > 0) this.#times.splice(0, drop);
  }
}
