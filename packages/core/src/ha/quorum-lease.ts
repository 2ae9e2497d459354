import { performance } from 'node:perf_hooks';
import { ExecutionError, ResourceLockedError, type Lock, type Redlock } from './redlock.js';
import { LeaseLostError } from '../errors.js';
import type { Lease } from '../types.js';
import type { LeaseLostReason } from '../types.js';

/** What a quorum lease needs from the backend that granted it. */
export interface QuorumLeaseContext {
  redlock: Redlock;
  leaseTtlMs: number;
  renewIntervalMs: number;
  /** Subtracted from the lease TTL for the local deadline: safety margin + redlock clock drift. */
  deadlineSlackMs: number;
  onRenewed(lease: QuorumLease): void;
  onLost(lease: QuorumLease, reason: LeaseLostReason): void;
  onReleased(lease: QuorumLease): void;
}

export interface QuorumGrant {
  mailbox: string;
  slot: number;
  token: number;
  lock: Lock;
  /** performance.now() when the winning acquire was sent: the lock's TTL counts from then at the latest. */
  sentAt: number;
  waitedMs: number;
}

const RETRY_FAILED_RENEWAL_MS = 200;

/**
 * A slot held as a redlock lock on a majority of masters. Renewed every `renewIntervalMs`; the
 * signal aborts at the local deadline (last confirmed renewal's send time + TTL − drift −
 * margin) unless a renewal reached a majority before, or at once when a majority says the lock
 * is no longer ours.
 */
export class QuorumLease implements Lease {
  readonly mailbox: string;
  readonly slot: number;
  readonly token: number;
  /** Quorum mode keeps no queue: the ticket is the fencing token. */
  readonly ticket: number;
  readonly acquiredAt = performance.now();
  readonly waitedMs: number;
  private readonly controller = new AbortController();
  private lock: Lock;
  private deadline = 0;
  private state: 'held' | 'lost' | 'released' = 'held';
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private releasing: Promise<void> | undefined;

  constructor(private readonly ctx: QuorumLeaseContext, grant: QuorumGrant) {
    this.mailbox = grant.mailbox;
    this.slot = grant.slot;
    this.token = grant.token;
    this.ticket = grant.token;
    this.waitedMs = grant.waitedMs;
    this.lock = grant.lock;
    this.setDeadline(grant.sentAt + ctx.leaseTtlMs - ctx.deadlineSlackMs);
    this.scheduleRenewal(ctx.renewIntervalMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
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
    this.releasing ??= this.doRelease();
    return this.releasing;
  }

  /** Marks the lease lost (the backend closing, or a failed renewal) and aborts its signal. */
  lose(reason: LeaseLostReason): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.stopTimers();
    this.controller.abort(new LeaseLostError(this.mailbox, this.slot, reason));
    this.ctx.onLost(this, reason);
  }

  private async doRelease(): Promise<void> {
    const wasHeld = this.state === 'held';
    this.state = 'released';
    this.stopTimers();
    // Owner-checked on every master; a failure is harmless because the lock expires anyway.
    await this.ctx.redlock.release(this.lock, { retryCount: 0 }).catch(() => undefined);
    if (wasHeld) this.ctx.onReleased(this);
  }

  private setDeadline(deadline: number): void {
    this.deadline = deadline;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.lose('deadline'), Math.max(0, deadline - performance.now()));
  }

  private scheduleRenewal(delayMs: number): void {
    this.renewTimer = setTimeout(() => void this.renew(), delayMs);
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    try {
      const renewed = await this.ctx.redlock.extend(this.lock, this.ctx.leaseTtlMs, { retryCount: 0 });
      if (this.state !== 'held') return;
      this.lock = renewed;
      this.setDeadline(sentAt + this.ctx.leaseTtlMs - this.ctx.deadlineSlackMs);
      this.ctx.onRenewed(this);
      this.scheduleRenewal(this.ctx.renewIntervalMs);
    } catch (error) {
      if (this.state !== 'held') return;
      if (await majorityDenied(error)) this.lose('expired');
      else this.scheduleRenewal(Math.min(this.ctx.renewIntervalMs, RETRY_FAILED_RENEWAL_MS));
    }
  }

  private stopTimers(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
  }
}

/**
 * True when a majority of masters answered that the lock is not ours (expired or taken), as
 * opposed to masters being unreachable (then the renewal is retried until the local deadline).
 */
async function majorityDenied(error: unknown): Promise<boolean> {
  if (!(error instanceof ExecutionError)) return false;
  // redlock refuses to extend a lock its own (wall) clock considers expired.
  if (error.attempts.length === 0) return true;
  const last = error.attempts[error.attempts.length - 1]!;
  // The stats settle once every master answered; a frozen one must not delay the decision.
  const stats = await Promise.race([last, new Promise<undefined>((r) => setTimeout(r, 50, undefined))]);
  if (!stats) return false;
  const denied = [...stats.votesAgainst.values()].filter((e) => e instanceof ResourceLockedError).length;
  return denied >= stats.quorumSize;
}
