import { AcquireAbortedError, MailboxPausedError } from '@smtp-slots/core';
import type { Logger } from 'pino';
import { slotServiceRetryDelay } from './backoff.js';
import type { LiveMailboxConfig } from './live-mailbox-config.js';

/**
 * Failures of the shared services in Redis (slots, rate, recipient ledger) for one mailbox.
 * The sender fails closed: while Redis is unavailable no slot is asked for, backing off.
 */
export class SlotServiceErrors {
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly live: LiveMailboxConfig,
    private readonly stopping: AbortSignal,
    private readonly log: Logger,
  ) {}

  /** Milliseconds before a worker may ask for a slot again, 0 when it may now. */
  remainingMs(): number {
    return Math.max(0, this.retryAt - Date.now());
  }

  succeeded(): void {
    this.failures = 0;
  }

  failed(error: unknown): void {
    if (error instanceof AcquireAbortedError || this.stopping.aborted) return;
    // A paused shared limit (app:<key>) is not this mailbox's pause: back off and ask again.
    if (error instanceof MailboxPausedError && error.mailbox === this.live.mailbox) {
      this.live.markPaused(error.reason);
      return;
    }
    // Redis unavailable (or any failure of the slot service): fail closed and retry with backoff.
    this.failures += 1;
    this.retryAt = Date.now() + slotServiceRetryDelay(this.failures);
    if (this.failures === 1 || this.failures % 20 === 0) {
      this.log.warn({ err: (error as Error).message, failures: this.failures }, 'cannot get a slot: mail stays in the spool and no upstream connection is opened');
    }
  }
}
