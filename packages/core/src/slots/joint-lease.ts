import type { AcquireOptions, Lease } from './slot-client.js';
import type { SlotBackend } from './slot-backend.js';

/**
 * One slot of each of several semaphores, held and released together: a mailbox's slot and the
 * slot of a limit it shares with other mailboxes (Graph's per-app concurrency). Leases are
 * acquired one after the other in the order given; every caller must use one fixed order for any
 * two semaphores (the agent: the mailbox, then the shared limit), so that nobody holds a later
 * one while waiting for an earlier one and two limits cannot deadlock.
 *
 * The joint lease is lost as soon as any part is lost (its signal aborts with that part's
 * reason), and its deadline is the earliest of the parts'. `mailbox`, `slot`, `token` and
 * `ticket` are the first part's.
 */
export class JointLease implements Lease {
  readonly signal: AbortSignal;

  constructor(readonly parts: readonly [Lease, ...Lease[]]) {
    this.signal = AbortSignal.any(parts.map((part) => part.signal));
  }

  get mailbox(): string {
    return this.parts[0].mailbox;
  }

  get slot(): number {
    return this.parts[0].slot;
  }

  get token(): number {
    return this.parts[0].token;
  }

  get ticket(): number {
    return this.parts[0].ticket;
  }

  /** When the last part was granted: the moment the joint lease became usable. */
  get acquiredAt(): number {
    return Math.max(...this.parts.map((part) => part.acquiredAt));
  }

  /** The whole wait, over every part. */
  get waitedMs(): number {
    return this.parts.reduce((sum, part) => sum + part.waitedMs, 0);
  }

  remainingMs(): number {
    return this.signal.aborted ? 0 : Math.min(...this.parts.map((part) => part.remainingMs()));
  }

  /** Live while every part is: each part is asked (one past its deadline ends itself, and so this one). */
  checkLive(): boolean {
    return this.parts.map((part) => part.checkLive()).every(Boolean);
  }

  /** Releases every part (each one even when another fails); rejects with the first failure. */
  async release(): Promise<void> {
    const results = await Promise.allSettled(this.parts.map((part) => part.release()));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * Acquires a slot of each semaphore in `names`, in that order (see JointLease). A wait for a later
 * semaphore ends when a lease already held is lost; on any failure the leases already held are
 * released before the error is rethrown. One name gives that semaphore's plain lease.
 * `timeoutMs` applies to each semaphore's wait.
 */
export async function acquireJoint(slots: Pick<SlotBackend, 'acquire'>, names: readonly [string, ...string[]], opts: AcquireOptions): Promise<Lease> {
  const held: Lease[] = [];
  try {
    for (const name of names) {
      const signals = [...(opts.signal ? [opts.signal] : []), ...held.map((lease) => lease.signal)];
      held.push(await slots.acquire(name, { ...opts, ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}) }));
    }
  } catch (error) {
    await Promise.allSettled(held.map((lease) => lease.release()));
    throw error;
  }
  const [first, ...rest] = held as [Lease, ...Lease[]];
  return rest.length === 0 ? first : new JointLease([first, ...rest]);
}
