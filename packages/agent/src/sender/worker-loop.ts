import { acquireJoint, type Lease } from '@smtp-slots/core';
import type { SpoolMessage } from '../spool/spool.js';
import { IDLE_RECHECK_MS, PAUSED_RECHECK_MS } from './backoff.js';
import type { LeaseRunner } from './lease-run.js';
import type { MessageAdmission } from './message-admission.js';
import type { Notifier } from './notifier.js';
import type { MailboxScope } from './sender-services.js';
import type { SlotServiceErrors } from './slot-service-errors.js';

/**
 * The workers of one mailbox on this agent: each waits until it may ask for a slot, acquires
 * one (the slot comes FIRST, before any connection), and hands the lease to a lease run.
 *
 * When a lease carries a single message (Graph: the lease covers one request in flight), the
 * worker claims that message before it queues for the slot, so the spool round trip overlaps the
 * requests in flight instead of adding to every one of them; its rate token and recipients are
 * taken under the lease, and a pause or hold set while it waited sends it back unsent.
 */
export class WorkerLoop {
  private readonly workers: Array<Promise<void>> = [];
  /** Workers acquiring a slot or using one. */
  private busyCount = 0;

  constructor(
    private readonly scope: MailboxScope,
    private readonly runner: LeaseRunner,
    private readonly admission: MessageAdmission,
    private readonly serviceErrors: SlotServiceErrors,
    private readonly notifier: Notifier,
  ) {}

  /** One message per lease: claim it before queueing for the slot. */
  private get claimsFirst(): boolean {
    return this.scope.options.maxMessagesPerConnection === 1;
  }

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
    const { services: { slots }, semaphores, stopping } = this.scope;
    while (!stopping.aborted) {
      const waitMs = this.gate();
      if (waitMs > 0) {
        await this.notifier.wait(waitMs, stopping);
        continue;
      }
      this.busyCount += 1;
      let first: SpoolMessage | undefined;
      let lease: Lease;
      try {
        if (this.claimsFirst) {
          first = await this.admission.next(stopping);
          if (!first) {
            this.busyCount -= 1;
            await this.notifier.wait(IDLE_RECHECK_MS, stopping);
            continue;
          }
        }
        lease = await acquireJoint(slots, semaphores, { worker, signal: stopping });
        this.serviceErrors.succeeded();
      } catch (error) {
        if (first) await this.admission.giveBack(first).catch((e: Error) => this.scope.log.error({ err: e.message }, 'could not put a claimed message back'));
        this.busyCount -= 1;
        this.notifier.notify();
        this.serviceErrors.failed(error);
        continue;
      }
      try {
        await this.runner.run(lease, worker, first);
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
    // A worker that claims first takes only its own message, already out of the ready count.
    if (services.spool.readyCount(mailbox) <= (this.claimsFirst ? 0 : this.busyCount)) return IDLE_RECHECK_MS;
    return 0;
  }
}
