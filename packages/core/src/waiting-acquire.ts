import { performance } from 'node:perf_hooks';
import { AcquireAbortedError, AcquireTimeoutError, RedisUnavailableError, WaiterGoneError } from './errors.js';
import type { GrantReply, WaitReply } from './scripts.js';
import type { Lease } from './slot-client.js';

/** What a queued acquire needs from its client. */
export interface WaiterDriver {
  readonly safetyPollMs: number;
  /** acquire-12.lua with this waiter's id; waitMs 0 = no timeout. */
  enqueue(id: string, waitMs: number, ticket: number): Promise<WaitReply>;
  /** check-12.lua: claims a handed-off slot or refreshes the queue place. */
  check(id: string): Promise<WaitReply>;
  /** cancel-12.lua: leave the queue, or release a slot granted meanwhile. */
  cancel(id: string): Promise<void>;
  /** Turns a confirmed grant into a held lease (sentAt: when the confirming call was sent). */
  granted(id: string, grant: GrantReply, sentAt: number, waitedMs: number): Lease;
  /** Releases a slot that was granted after the acquire had already given up. */
  discard(id: string, grant: GrantReply): Promise<void>;
  done(id: string): void;
  onError(error: Error): void;
}

/**
 * One acquire() from enqueue to grant: waits for the push notification, polls slowly in case
 * it was lost (or sooner when a lease is due to expire), and confirms a handed-off slot with
 * one call whose send time starts the local deadline. At most one Redis call is in flight.
 */
export class WaitingAcquire {
  private readonly startedAt = performance.now();
  private ticket = 0;
  private inFlight = false;
  private checkAgain = false;
  private enqueued = false;
  private finished = false;
  private lastRedisError: Error | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.giveUp(new AcquireAbortedError(this.mailbox, { cause: this.signal?.reason }));

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
        const waited = performance.now() - this.startedAt;
        this.giveUp(this.lastRedisError
          ? new RedisUnavailableError(`no slot for ${this.mailbox}: redis unavailable`, { cause: this.lastRedisError })
          : new AcquireTimeoutError(this.mailbox, waited));
      }, this.timeoutMs);
    }
    void this.step();
  }

  /** A grant (or pause) notification arrived for this waiter. */
  notify(): void {
    if (this.finished) return;
    if (this.inFlight) this.checkAgain = true;
    else void this.step();
  }

  /** Stops waiting (client closing). */
  abort(error: Error): void {
    this.giveUp(error);
  }

  private async step(): Promise<void> {
    if (this.finished || this.inFlight) return;
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
    if (this.finished) return this.cleanUp(reply);
    if (reply) return this.handle(reply, sentAt);

    if (failure instanceof WaiterGoneError) {
      // Dropped (stopped polling for too long) or the pickup time passed: queue again, same ticket.
      this.enqueued = false;
      return void this.step();
    }
    if (failure instanceof RedisUnavailableError) {
      this.lastRedisError = failure;
      this.driver.onError(failure);
      return this.schedule(Math.min(this.driver.safetyPollMs, 250));
    }
    // Paused, or a reply that cannot be retried: give up (leaving the queue is harmless if not in it).
    this.giveUp(failure instanceof Error ? failure : new Error(String(failure)));
  }

  private handle(reply: WaitReply, sentAt: number): void {
    this.lastRedisError = undefined;
    if ('granted' in reply) {
      this.finish();
      this.resolve(this.driver.granted(this.id, reply.granted, sentAt, performance.now() - this.startedAt));
      return;
    }
    if (!this.enqueued) {
      this.enqueued = true;
      this.ticket = reply.queued.ticket;
    }
    if (this.checkAgain) return void this.step();
    const next = reply.queued.nextCheckMs;
    this.schedule(next >= 0 ? Math.min(this.driver.safetyPollMs, next + 2) : this.driver.safetyPollMs);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.step(), delayMs);
  }

  private giveUp(error: Error): void {
    if (this.finished) return;
    this.finish();
    this.reject(error);
    if (!this.inFlight) this.cleanUp(undefined);
  }

  /** After giving up: release what a late reply granted, or leave the queue. */
  private cleanUp(reply: WaitReply | undefined): void {
    const work = reply && 'granted' in reply
      ? this.driver.discard(this.id, reply.granted)
      : this.driver.cancel(this.id);
    work.catch((error: unknown) => this.driver.onError(error instanceof Error ? error : new Error(String(error))));
  }

  private finish(): void {
    this.finished = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.timeoutTimer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.driver.done(this.id);
  }
}
