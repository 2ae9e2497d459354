/** A bound older than this is not used (bounds clock drift to a few ms). */
const MAX_AGE_MS = 10_000;
/**
 * Samples older than this are replaced even when looser: well before MAX_AGE_MS, so that a
 * client that polls or renews keeps a usable bound and a pushed grant never waits for an extra
 * round trip because the bound just went stale.
 */
const REFRESH_AFTER_MS = MAX_AGE_MS / 2;

/**
 * A safe bound on (Redis TIME − local monotonic clock). Each round trip gives
 * `serverNow − sentAt`, which can only over-estimate the offset: Redis read its clock after we
 * sent. So `serverMs − offset` is never later than the local moment of `serverMs`, and a
 * deadline computed that way fires before the Redis expiry (invariant 1, invariant 3).
 */
export class ServerClock {
  private offset = Number.POSITIVE_INFINITY;
  private takenAt = Number.NEGATIVE_INFINITY;

  observe(serverNowMs: number, sentAt: number): void {
    // +1: Redis reports whole milliseconds (floored).
    const sample = serverNowMs + 1 - sentAt;
    const at = performance.now();
    if (sample <= this.offset || at - this.takenAt > REFRESH_AFTER_MS) {
      this.offset = sample;
      this.takenAt = at;
    }
  }

  /** Local monotonic time no later than the Redis time given; undefined without a fresh sample. */
  toLocal(serverMs: number): number | undefined {
    if (performance.now() - this.takenAt > MAX_AGE_MS) return undefined;
    return serverMs - this.offset;
  }
}
