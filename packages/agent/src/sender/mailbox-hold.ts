import type { HoldReason, SenderObserver } from './sender-observer.js';

/**
 * This agent holding a mailbox's ready mail back for a while (rate, recipient budget, connect
 * failures): no slot is asked for until it ends. Holds are capped at a minute so that a change
 * made meanwhile (a raised budget) is noticed soon.
 */
export class MailboxHold {
  private current: { reason: HoldReason; until: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly mailbox: string,
    private readonly observer: SenderObserver,
    /** Runs when a hold ends (wake the workers). */
    private readonly onEnd: () => void,
  ) {}

  /** Milliseconds left, 0 when not held. */
  remainingMs(): number {
    return this.current ? Math.max(0, this.current.until - Date.now()) : 0;
  }

  get reason(): HoldReason | undefined {
    return this.current?.reason;
  }

  hold(reason: HoldReason, ms: number): void {
    if (this.current) clearTimeout(this.current.timer);
    this.observer.held(this.mailbox, reason, true);
    const duration = Math.min(60_000, Math.max(250, ms));
    const timer = setTimeout(() => {
      this.current = undefined;
      this.observer.held(this.mailbox, reason, false);
      this.onEnd();
    }, duration);
    timer.unref();
    this.current = { reason, until: Date.now() + duration, timer };
  }

  clear(): void {
    if (this.current) clearTimeout(this.current.timer);
    this.current = undefined;
  }
}
