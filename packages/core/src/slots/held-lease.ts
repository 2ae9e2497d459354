import { performance } from 'node:perf_hooks';
import { LeaseLostError } from '../errors.js';
import type { GrantReply, LeaseRef } from '../redis/scripts.js';
import type { Lease, LeaseLostReason } from '../types.js';

export interface LeaseTimings {
  leaseTtlMs: number;
  renewIntervalMs: number;
  safetyMarginMs: number;
}

/** What a lease needs from its client: the Redis calls and where to report. */
export interface LeaseDriver {
  /** Rejects with LeaseLostError when Redis says the lease is gone; other errors are retried. */
  renew(lease: HeldLease): Promise<void>;
  release(lease: HeldLease): Promise<void>;
  onRenewed(lease: HeldLease): void;
  onLost(lease: HeldLease, reason: LeaseLostReason): void;
  onReleased(lease: HeldLease): void;
  onError(error: Error): void;
}

/**
 * A lease held by this process. Its local deadline is "a local moment no later than when Redis
 * set the expiry + the time Redis gave it − margin", on the monotonic clock. For a reply that
 * moment is the send time of the call (Redis executed it later); for a pushed grant it comes
 * from the ServerClock bound. Either way our deadline passes before the Redis expiry, whatever
 * the network or scheduler did (invariant 1).
 */
export class HeldLease implements Lease {
  readonly signal: AbortSignal;
  readonly slot: number;
  readonly token: number;
  readonly ticket: number;
  readonly epoch: string;
  private readonly controller = new AbortController();
  private state: 'held' | 'lost' | 'released' = 'held';
  private deadline: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private releasing: Promise<void> | undefined;

  constructor(
    readonly mailbox: string,
    readonly id: string,
    readonly worker: string,
    grant: GrantReply,
    /** performance.now() no later than Redis' `grant.now` (send time of the granting call) */
    confirmedAt: number,
    readonly waitedMs: number,
    private readonly timings: LeaseTimings,
    private readonly driver: LeaseDriver,
  ) {
    this.slot = grant.slot;
    this.token = grant.token;
    this.ticket = grant.ticket;
    this.epoch = grant.epoch;
    this.signal = this.controller.signal;
    this.acquiredAt = performance.now();
    this.deadline = confirmedAt + (grant.expiresAt - grant.now) - timings.safetyMarginMs;
    this.armDeadline();
    this.scheduleRenewal(confirmedAt + timings.renewIntervalMs - performance.now());
  }

  readonly acquiredAt: number;

  get ref(): LeaseRef {
    return { id: this.id, slot: this.slot, token: this.token, epoch: this.epoch };
  }

  get held(): boolean {
    return this.state === 'held';
  }

  remainingMs(): number {
    return this.state === 'held' ? Math.max(0, this.deadline - performance.now()) : 0;
  }

  checkLive(): boolean {
    if (this.state !== 'held') return false;
    if (performance.now() < this.deadline) return true;
    this.lose('deadline');
    return false;
  }

  release(): Promise<void> {
    if (this.releasing) return this.releasing;
    if (this.state === 'lost') return (this.releasing = Promise.resolve());
    this.state = 'released';
    this.clearTimers();
    this.releasing = this.driver.release(this).then(
      () => this.driver.onReleased(this),
      (error: unknown) => {
        // Redis will expire the lease; the holder has nothing left to do.
        this.driver.onError(error instanceof Error ? error : new Error(String(error)));
        this.driver.onReleased(this);
      },
    );
    return this.releasing;
  }

  /** Ends the lease now (expired, epoch change, revoked, deadline, client closed). Idempotent. */
  lose(reason: LeaseLostReason): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.clearTimers();
    this.controller.abort(new LeaseLostError(this.mailbox, this.slot, reason));
    this.driver.onLost(this, reason);
  }

  private scheduleRenewal(delayMs: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(0, delayMs));
  }

  private async renew(): Promise<void> {
    if (this.state !== 'held') return;
    // A stopped or starved process must not renew on a deadline that already passed.
    if (this.remainingMs() <= 0) return this.lose('deadline');
    const sentAt = performance.now();
    try {
      await this.driver.renew(this);
    } catch (error) {
      if (this.state !== 'held') return;
      if (error instanceof LeaseLostError) return this.lose(error.reason);
      this.driver.onError(error instanceof Error ? error : new Error(String(error)));
      this.scheduleRenewal(Math.min(250, this.timings.renewIntervalMs / 4));
      return;
    }
    if (this.state !== 'held') return; // released or lost meanwhile: a late renewal never revives
    this.deadline = Math.max(this.deadline, sentAt + this.timings.leaseTtlMs - this.timings.safetyMarginMs);
    this.armDeadline();
    this.scheduleRenewal(sentAt + this.timings.renewIntervalMs - performance.now());
    this.driver.onRenewed(this);
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const wait = this.deadline - performance.now();
    if (wait <= 0) {
      queueMicrotask(() => this.lose('deadline'));
      return;
    }
    this.deadlineTimer = setTimeout(() => {
      if (performance.now() >= this.deadline) this.lose('deadline');
      else this.armDeadline();
    }, Math.ceil(wait));
  }

  private clearTimers(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
  }
}
