import { performance } from 'node:perf_hooks';
import { AcquireAbortedError, AcquireTimeoutError, RedisUnavailableError, WaiterGoneError } from '../errors.js';
import type { GrantReply, WaitReply } from '../redis/scripts.js';
import type { Lease } from '../types.js';

/** What a queued acquire needs from its client. */
export interface WaiterDriver {
  readonly safetyPollMs: number;
  readonly safetyMarginMs: number;
  /** acquire-12.lua with this waiter's id; waitMs 0 = no timeout. */
  enqueue(id: string, waitMs: number, ticket: number): Promise<WaitReply>;
  /** check-12.lua: picks up a handed-off slot or refreshes the queue place. */
  check(id: string): Promise<WaitReply>;
  /** cancel-12.lua: leave the queue, or release a slot granted meanwhile. */
  cancel(id: string): Promise<void>;
  /** Local monotonic time no later than a Redis time, if the client can bound it. */
  toLocal(serverMs: number): number | undefined;
  /** Turns a grant into a held lease (confirmedAt: local time no later than `grant.now`). */
  granted(id: string, grant: GrantReply, confirmedAt: number, waitedMs: number): Lease;
  done(id: string): void;
  onError(error: Error): void;
}

/**
 * One acquire() from enqueue to grant. The grant normally arrives as a push on the client's
 * channel and is used at once; a slow safety poll (sooner when a lease is due to expire) covers
 * lost pushes. At most one Redis call is in flight.
 */
export class WaitingAcquire {
  private readonly startedAt = performance.now();
  private state: 'waiting' | 'granted' | 'abandoned' = 'waiting';
  private ticket = 0;
  private enqueued = false;
  private inFlight = false;
  private checkAgain = false;
  private lastRedisError: Error | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.abandon(new AcquireAbortedError(this.mailbox, { cause: this.signal?.reason }));
  private settle!: () => void;
  /** Resolves once Redis holds nothing of this acquire but a lease handed to the caller. */
  readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(
    readonly id: string,
    readonly mailbox: string,
    private readonly driver: WaiterDriver,
    private readonly resolve: (lease: Lease) => void,
    private readonly reject: (error: Error) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly timeoutMs: number | undefined,
  ) {}

  start(): void {
    if (this.signal?.aborted) return this.onAbort();
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.timeoutMs !== undefined) {
      this.timeoutTimer = setTimeout(() => {
        this.abandon(this.lastRedisError
          ? new RedisUnavailableError(`no slot for ${this.mailbox}: redis unavailable`, { cause: this.lastRedisError })
          : new AcquireTimeoutError(this.mailbox, performance.now() - this.startedAt));
      }, this.timeoutMs);
    }
    void this.step();
  }

  /** A slot was handed to this waiter (push). Used at once when the client can bound its deadline. */
  pushed(grant: GrantReply): void {
    if (this.state !== 'waiting') return;
    const confirmedAt = this.driver.toLocal(grant.now);
    if (confirmedAt === undefined) return this.poke();
    this.grant(grant, confirmedAt);
  }

  /** A slot was handed to this waiter by a release this client sent at `confirmedAt` (local, before Redis' `grant.now`). */
  handedOver(grant: GrantReply, confirmedAt: number): void {
    if (this.state !== 'waiting') return;
    this.grant(grant, confirmedAt);
  }

  /** Something changed (pause, or a push that cannot be used directly): ask Redis now. */
  poke(): void {
    if (this.state !== 'waiting') return;
    if (this.inFlight) this.checkAgain = true;
    else void this.step();
  }

  /** Stops waiting (client closing). */
  abort(error: Error): void {
    this.abandon(error);
  }

  private async step(): Promise<void> {
    if (this.state !== 'waiting' || this.inFlight) return;
    clearTimeout(this.pollTimer);
    this.inFlight = true;
    this.checkAgain = false;
    const sentAt = performance.now();
    let reply: WaitReply | undefined;
    let failure: unknown;
    try {
      if (this.enqueued) {
        reply = await this.driver.check(this.id);
      } else {
        const left = this.timeoutMs === undefined ? 0 : Math.max(1, Math.ceil(this.timeoutMs - (sentAt - this.startedAt)));
        reply = await this.driver.enqueue(this.id, left, this.ticket);
      }
    } catch (error) {
      failure = error;
    }
    this.inFlight = false;
    const state = this.currentState(); // may have changed while awaiting
    if (state === 'granted') return; // a push won the race; this reply is the same lease or stale
    if (state === 'abandoned') return this.cleanUp();
    if (reply) return this.handle(reply, sentAt);

    if (failure instanceof WaiterGoneError) {
      // Dropped after not polling for too long: queue again with the same ticket (same place).
      this.enqueued = false;
      return void this.step();
    }
    if (failure instanceof RedisUnavailableError) {
      this.lastRedisError = failure;
      this.driver.onError(failure);
      return this.schedule(Math.min(this.driver.safetyPollMs, 250));
    }
    // Paused, or a reply that cannot be retried (leaving the queue is harmless if not in it).
    this.abandon(failure instanceof Error ? failure : new Error(String(failure)));
  }

  private currentState(): 'waiting' | 'granted' | 'abandoned' {
    return this.state;
  }

  private handle(reply: WaitReply, sentAt: number): void {
    this.lastRedisError = undefined;
    if ('granted' in reply) return this.grant(reply.granted, sentAt);
    if (!this.enqueued) {
      this.enqueued = true;
      this.ticket = reply.queued.ticket;
    }
    if (this.checkAgain) return void this.step();
    const next = reply.queued.nextCheckMs;
    this.schedule(next >= 0 ? Math.min(this.driver.safetyPollMs, next + 2) : this.driver.safetyPollMs);
  }

  private grant(grant: GrantReply, confirmedAt: number): void {
    if (confirmedAt + (grant.expiresAt - grant.now) - this.driver.safetyMarginMs <= performance.now()) {
      // This process was too slow (stopped, starved) to use the grant safely: ask Redis again;
      // the check extends the lease if it still exists, or queues us again with our ticket.
      this.enqueued = true;
      this.ticket = grant.ticket;
      return this.inFlight ? void (this.checkAgain = true) : void this.step();
    }
    this.state = 'granted';
    this.stopWaiting();
    this.settle();
    this.resolve(this.driver.granted(this.id, grant, confirmedAt, performance.now() - this.startedAt));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.step(), delayMs);
  }

  private abandon(error: Error): void {
    if (this.state !== 'waiting') return;
    this.state = 'abandoned';
    this.stopWaiting();
    this.reject(error);
    if (!this.inFlight) this.cleanUp();
  }

  /** After giving up: leave the queue, or release a slot granted meanwhile (one script does both). */
  private cleanUp(): void {
    this.driver.cancel(this.id)
      .catch((error: unknown) => this.driver.onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => this.settle());
  }

  private stopWaiting(): void {
    clearTimeout(this.pollTimer);
    clearTimeout(this.timeoutTimer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.driver.done(this.id);
  }
}
