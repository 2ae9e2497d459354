/** Wakes everyone waiting when something they watch changed; waits are bounded by a timeout. */
export class Notifier {
  private waiters = new Set<() => void>();

  notify(): void {
    const current = this.waiters;
    this.waiters = new Set();
    for (const wake of current) wake();
  }

  /** Resolves on the next notify(), after `timeoutMs`, or when the signal aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Sleeps, waking early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Notifier().wait(ms, signal);
}
