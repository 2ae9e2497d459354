import { EventEmitter } from 'node:events';
import type { HolderInfo, LeaseLostReason, RedisLike } from './types.js';
import type { SlotsError } from './errors.js';

export interface SlotClientOptions {
  /** Command connection (the caller owns it). */
  redis: RedisLike;
  /** Connection used only for SUBSCRIBE; defaults to `redis.duplicate()` (then owned and closed by the client). */
  subscriber?: RedisLike;
  holder: Omit<HolderInfo, 'worker'>;
  /** Lease time-to-live in Redis. Default 15 000. */
  leaseTtlMs?: number;
  /** Default leaseTtlMs / 3. */
  renewIntervalMs?: number;
  /** Local deadline = last confirmed renewal (send time) + ttl − margin. Default 1000. */
  safetyMarginMs?: number;
  /** A waiter re-checks this often when no notification arrives. Default 1000. */
  safetyPollMs?: number;
  /** A waiter that neither polls nor is served for this long drops out of the queue. Default max(3 × safetyPollMs, 3000). */
  waiterTtlMs?: number;
  /** Limit used when a mailbox has no config in Redis. Default 3. */
  defaultLimit?: number;
  /** No grant for this long after Redis lost its data (invariant 5). Default leaseTtlMs. */
  epochGraceMs?: number;
}

export interface AcquireOptions {
  worker: string;
  signal?: AbortSignal;
  /** Give up after this long (AcquireTimeoutError). Default: wait until aborted. */
  timeoutMs?: number;
}

/** A held slot. Open the upstream connection only while `signal` is not aborted and `remainingMs() > 0`. */
export interface Lease {
  readonly mailbox: string;
  /** 1..limit */
  readonly slot: number;
  /** Fencing token, monotonic per mailbox (also across a Redis data loss). */
  readonly token: number;
  /** Arrival order of the request (grants are FIFO by ticket). */
  readonly ticket: number;
  /** Aborts (reason: LeaseLostError) when the lease is lost: expired, epoch change, force-release, deadline. */
  readonly signal: AbortSignal;
  /** Monotonic ms (performance.now()) when the grant was confirmed. */
  readonly acquiredAt: number;
  /** Time spent queued before the grant. */
  readonly waitedMs: number;
  /** Milliseconds until the local safety deadline (0 once passed or lost). */
  remainingMs(): number;
  /** Idempotent and owner-checked. Call only after the upstream socket has closed. */
  release(): Promise<void>;
}

export interface SlotClientEvents {
  grant: [lease: Lease];
  release: [lease: Lease];
  lost: [lease: Lease, reason: LeaseLostReason];
  renewed: [lease: Lease];
  error: [error: SlotsError | Error];
}

/**
 * The distributed slot semaphore, one per process. Grants are FIFO across all processes; a release
 * hands the slot to the head waiter inside the same Redis script and notifies it over this
 * client's single subscriber connection.
 */
export class SlotClient extends EventEmitter<SlotClientEvents> {
  constructor(readonly options: SlotClientOptions) {
    super();
  }

  /** Waits for a slot (FIFO). Rejects with AcquireTimeoutError, AcquireAbortedError, MailboxPausedError or RedisUnavailableError. */
  acquire(_mailbox: string, _opts: AcquireOptions): Promise<Lease> {
    throw new Error('not implemented yet');
  }

  /** One round trip: a lease when a slot is free and nobody is queued, otherwise null. */
  tryAcquire(_mailbox: string, _opts: { worker: string }): Promise<Lease | null> {
    throw new Error('not implemented yet');
  }

  /** Releases every held lease, cancels waiters and closes the subscriber (if the client created it). */
  close(): Promise<void> {
    throw new Error('not implemented yet');
  }
}
