/**
 * In-memory order of the messages each mailbox can send: ready now (FIFO) and later (deferred
 * or held until a local time). The spool directory is the truth; this is its index.
 */
export class ReadyQueues {
  private readonly ready = new Map<string, Set<string>>();
  private readonly later = new Map<string, Map<string, number>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /** `onWake` runs whenever a mailbox may have gained a ready message. */
  constructor(private readonly onWake: (mailbox: string) => void = () => undefined) {}

  /** Adds (or re-adds) a message; `notBefore` in local epoch ms. */
  add(mailbox: string, id: string, notBefore = 0): void {
    this.remove(mailbox, id);
    if (notBefore > Date.now()) {
      this.mapOf(this.later, mailbox, () => new Map<string, number>()).set(id, notBefore);
      this.schedule(notBefore);
    } else {
      this.mapOf(this.ready, mailbox, () => new Set<string>()).add(id);
      this.wake(mailbox);
    }
  }

  /** Puts a message at the head of its mailbox's queue (it was taken but not sent). */
  addFirst(mailbox: string, id: string): void {
    this.remove(mailbox, id);
    const current = this.ready.get(mailbox) ?? new Set<string>();
    this.ready.set(mailbox, new Set([id, ...current]));
    this.wake(mailbox);
  }

  remove(mailbox: string, id: string): void {
    this.ready.get(mailbox)?.delete(id);
    this.later.get(mailbox)?.delete(id);
  }

  /** Takes the oldest ready message of a mailbox. */
  shift(mailbox: string): string | undefined {
    this.promoteDue();
    const set = this.ready.get(mailbox);
    const first = set?.values().next();
    if (!set || !first || first.done) return undefined;
    set.delete(first.value);
    return first.value;
  }

  readyCount(mailbox: string): number {
    this.promoteDue();
    return this.ready.get(mailbox)?.size ?? 0;
  }

  laterCount(mailbox: string): number {
    return this.later.get(mailbox)?.size ?? 0;
  }

  /** Resolves when the mailbox has a ready message (or the signal aborts). */
  waitForReady(mailbox: string, signal?: AbortSignal): Promise<void> {
    if (this.readyCount(mailbox) > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.mapOf(this.waiters, mailbox, () => new Set<() => void>());
      const done = () => {
        set.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes waiters of a mailbox without adding work (e.g. a hold ended, a pause lifted). */
  poke(mailbox: string): void {
    this.wake(mailbox);
  }

  close(): void {
    clearTimeout(this.timer);
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }

  private wake(mailbox: string): void {
    this.onWake(mailbox);
    for (const wake of [...(this.waiters.get(mailbox) ?? [])]) wake();
  }

  private promoteDue(): void {
    const now = Date.now();
    let soonest = Infinity;
    for (const [mailbox, entries] of this.later) {
      for (const [id, at] of entries) {
        if (at <= now) {
          entries.delete(id);
          this.mapOf(this.ready, mailbox, () => new Set<string>()).add(id);
          this.wake(mailbox);
        } else soonest = Math.min(soonest, at);
      }
    }
    if (soonest < Infinity) this.schedule(soonest);
  }

  private schedule(at: number): void {
    if (at >= this.timerAt && this.timer) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.promoteDue();
    }, Math.max(0, at - Date.now()) + 5);
    this.timer.unref();
  }

  private mapOf<V>(map: Map<string, V>, key: string, create: () => V): V {
    let value = map.get(key);
    if (value === undefined) {
      value = create();
      map.set(key, value);
    }
    return value;
  }
}
