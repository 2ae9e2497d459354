/** Graph figures of one mailbox, part of its `UserStats`. */
export interface GraphStats {
  /** sendMail requests received (every outcome). */
  requests: number;
  /** Answered 202 Accepted. */
  accepted: number;
  /** Admitted requests in flight now (outside ones not included). */
  inFlight: number;
  /** Most admitted requests in flight at once: what MailboxConcurrency limits. */
  peakInFlight: number;
  /** 429 ApplicationThrottled, MailboxConcurrency. */
  throttledConcurrency: number;
  /** 429 for the requests-per-10-minutes budget. */
  throttledRate: number;
  /** 413: the request was larger than the size limit. */
  tooLarge: number;
  /** 403: the app lacks Mail.Send. */
  accessDenied: number;
  /** 401: missing, unknown or expired token. */
  unauthorized: number;
  /** Other refusals (400, 404, quota). */
  otherErrors: number;
}

export type GraphCounter = Exclude<keyof GraphStats, 'inFlight' | 'peakInFlight'>;

const WINDOW_MS = 10 * 60_000;

const zero = (): GraphStats => ({
  requests: 0, accepted: 0, inFlight: 0, peakInFlight: 0, throttledConcurrency: 0, throttledRate: 0,
  tooLarge: 0, accessDenied: 0, unauthorized: 0, otherErrors: 0,
});

/** In-flight requests and the per-app request window of one mailbox. */
export class GraphMailbox {
  #stats = zero();
  /** Start times of admitted requests in the last 10 minutes, per app. */
  #windows = new Map<string, number[]>();

  count(name: GraphCounter): void {
    this.#stats[name]++;
  }

  /** Takes an in-flight place unless `limit` (outside requests included) are in flight. */
  tryEnter(limit: number, outside: number): boolean {
    if (this.#stats.inFlight + outside >= limit) return false;
    this.#stats.inFlight++;
    this.#stats.peakInFlight = Math.max(this.#stats.peakInFlight, this.#stats.inFlight);
    return true;
  }

  leave(): void {
    this.#stats.inFlight--;
  }

  /**
   * Records a request of `clientId` in its 10-minute window; when the window is full, returns
   * the seconds until its oldest request falls out (the Retry-After) and records nothing.
   */
  takeWindow(clientId: string, perTenMinutes: number, now: number): number | undefined {
    const window = (this.#windows.get(clientId) ?? []).filter((at) => at > now - WINDOW_MS);
    this.#windows.set(clientId, window);
    if (window.length >= perTenMinutes) return Math.max(1, Math.ceil(((window[0] ?? now) + WINDOW_MS - now) / 1000));
    window.push(now);
    return undefined;
  }

  snapshot(): GraphStats {
    return { ...this.#stats };
  }

  /** Zeroes counters and windows; what is in flight stays (the peak restarts from it). */
  reset(): void {
    const inFlight = this.#stats.inFlight;
    this.#stats = { ...zero(), inFlight, peakInFlight: inFlight };
    this.#windows.clear();
  }
}
