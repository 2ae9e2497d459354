import type { Lease } from '@smtp-slots/core';
import { IDLE_RECHECK_MS, PAUSED_RECHECK_MS } from './backoff.js';
import type { LeaseRunner } from './lease-run.js';
import type { Notifier } from './notifier.js';
import type { MailboxScope } from './sender-services.js';
import type { SlotServiceErrors } from './slot-service-errors.js';

/**
 * The workers of one mailbox on this agent: each waits until it may ask for a slot, acquires
 * one (the slot comes FIRST, before any connection), and hands the lease to a lease run.
 */
export class WorkerLoop {
  private readonly workers: Array<Promise<void>> = [];
  /** Workers acquiring a slot or using one. */
  private busyCount = 0;

  constructor(
    private readonly scope: MailboxScope,
    private readonly runner: LeaseRunner,
    private readonly serviceErrors: SlotServiceErrors,
    private readonly notifier: Notifier,
  ) {}

  get busy(): number {
    return this.busyCount;
  }

  start(workers: number): void {
    for (let i = 1; i <= workers; i += 1) this.workers.push(this.runWorker(`w${i}`));
  }

  /** Resolves when every worker has ended (after `scope.stopping` aborted). */
  async finished(): Promise<void> {
    await Promise.allSettled(this.workers);
  }

  private async runWorker(worker: string): Promise<void> {
    const { services: { slots }, mailbox, stopping } = this.scope;
    while (!stopping.aborted) {
      const waitMs = this.gate();
      if (waitMs > 0) {
        await this.notifier.wait(waitMs, stopping);
        continue;
      }
      this.busyCount += 1;
      let lease: Lease;
      try {
        lease = await slots.acquire(mailbox, { worker, signal: stopping });
        this.serviceErrors.succeeded();
      } catch (error) {
        this.busyCount -= 1;
        this.notifier.notify();
        this.serviceErrors.failed(error);
        continue;
      }
      try {
        await this.runner.run(lease, worker);
      } finally {
        this.busyCount -= 1;
        this.notifier.notify();
      }
    }
  }

  /** Milliseconds to wait before a worker may ask for a slot; 0 when it may. */
  private gate(): number {
    const { live, hold, services, mailbox } = this.scope;
    if (live.current.paused) return PAUSED_RECHECK_MS;
    if (hold.remainingMs() > 0) return hold.remainingMs();
    const serviceWait = this.serviceErrors.remainingMs();
    if (serviceWait > 0) return serviceWait;
    // Workers already acquiring or sending will take the ready messages; don't queue for nothing.
    if (services.spool.readyCount(mailbox) <= this.busyCount) return IDLE_RECHECK_MS;
    return 0;
  }
}
