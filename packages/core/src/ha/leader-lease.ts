import { leaderKey } from '../redis/keys.js';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../errors.js';
import { Redlock, type Lock } from './redlock.js';
import type { RedisClient } from '../redis/connect.js';

export interface LeaderLeaseOptions {
  /**
   * Where the lock lives: the one Redis the service uses (standalone, Sentinel or Cluster), or
   * several independent masters (a redlock majority).
   */
  redis: RedisClient | RedisClient[];
  /** Names the duty, e.g. `housekeeping`; the lock key is `ss:leader:{<name>}`. */
  name: string;
  /** Lock lifetime in Redis. Default 10 000. */
  ttlMs?: number;
  /** Renew this often while leading. Default ttlMs / 3. */
  renewIntervalMs?: number;
  /** Stop acting as leader this long before the lock could expire unrenewed. Default 500. */
  safetyMarginMs?: number;
  /** A follower tries to take over this often (± 25 % jitter). Default ttlMs / 2. */
  campaignIntervalMs?: number;
}

export interface LeaderLeaseEvents {
  /** This process leads; `signal` aborts when it stops leading. */
  elected: [signal: AbortSignal];
  /** This process stopped leading (renewal failed in time, or stop()). */
  revoked: [reason: 'lost' | 'stopped'];
  error: [error: Error];
}

/**
 * Leader election for a duty that at most one of several coordinators should run at a time
 * (housekeeping, periodic sweeps). A redlock lock renewed in the background; the leader's signal
 * aborts at its local deadline (last confirmed renewal + TTL − drift − margin) unless a renewal
 * succeeded before. Like any lease-based election it is safe only for duties that stop when the
 * signal aborts and that tolerate a repeat: make them idempotent.
 *
 * @example
 * const leader = new LeaderLease({ redis, name: 'housekeeping' });
 * leader.on('elected', (signal) => void runHousekeeping(signal));
 * leader.start();
 * // on shutdown: await leader.stop();
 */
export class LeaderLease extends EventEmitter<LeaderLeaseEvents> {
  readonly key: string;
  private readonly redlock: Redlock;
  private readonly ttl: number;
  private readonly renewIntervalMs: number;
  private readonly campaignIntervalMs: number;
  private readonly slackMs: number;
  private lock: Lock | undefined;
  private term: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: LeaderLeaseOptions) {
    super();
    this.key = leaderKey(options.name);
    this.ttl = options.ttlMs ?? 10_000;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.floor(this.ttl / 3);
    this.campaignIntervalMs = options.campaignIntervalMs ?? Math.floor(this.ttl / 2);
    const driftFactor = 0.01;
    this.slackMs = Math.round(driftFactor * this.ttl) + 2 + (options.safetyMarginMs ?? 500);
    if (this.renewIntervalMs >= this.ttl - this.slackMs) throw new InvalidArgumentError('renewIntervalMs must be shorter than ttlMs minus the safety margin');
    const clients = Array.isArray(options.redis) ? options.redis : [options.redis];
    this.redlock = new Redlock(clients, { driftFactor, retryCount: 0 });
  }

  /** True while this process holds the lock and its local deadline has not passed. */
  get isLeader(): boolean {
    return this.term !== undefined && !this.term.signal.aborted;
  }

  /** Aborts when the current term ends; undefined while following. */
  get signal(): AbortSignal | undefined {
    return this.term?.signal;
  }

  /** Starts campaigning (at once, then every campaignIntervalMs while following). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.campaign();
  }

  /** Stops leading or campaigning and releases the lock, so another process takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    const lock = this.lock;
    this.endTerm('stopped');
    if (lock) await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
  }

  private async campaign(): Promise<void> {
    if (!this.running) return;
    const sentAt = performance.now();
    try {
      const lock = await this.redlock.acquire([this.key], this.ttl);
      if (!this.running) {
        await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
        return;
      }
      this.lock = lock;
      this.term = new AbortController();
      this.setDeadline(sentAt);
      this.emit('elected', this.term.signal);
      this.schedule(() => this.renew(), this.renewIntervalMs);
    } catch (error) {
      if (!isContention(error)) this.reportError(error);
      this.schedule(() => this.campaign(), this.campaignIntervalMs * (0.75 + Math.random() / 2));
    }
  }

  private async renew(): Promise<void> {
    if (!this.running || !this.lock || !this.isLeader) return;
    const sentAt = performance.now();
    try {
      this.lock = await this.redlock.extend(this.lock, this.ttl, { retryCount: 0 });
      if (!this.isLeader) return;
      this.setDeadline(sentAt);
      this.schedule(() => this.renew(), this.renewIntervalMs);
    } catch (error) {
      if (!this.isLeader) return;
      if (!isContention(error)) this.reportError(error);
      // Keep trying until the local deadline ends the term.
      this.schedule(() => this.renew(), Math.min(this.renewIntervalMs, 200));
    }
  }

  private setDeadline(sentAt: number): void {
    clearTimeout(this.deadlineTimer);
    const remaining = sentAt + this.ttl - this.slackMs - performance.now();
    this.deadlineTimer = setTimeout(() => {
      this.endTerm('lost');
      this.schedule(() => this.campaign(), this.campaignIntervalMs);
    }, Math.max(0, remaining));
  }

  private endTerm(reason: 'lost' | 'stopped'): void {
    clearTimeout(this.deadlineTimer);
    const term = this.term;
    this.term = undefined;
    this.lock = undefined;
    if (term && !term.signal.aborted) {
      term.abort(new Error(`leadership of ${this.key} ${reason}`));
      this.emit('revoked', reason);
    }
  }

  private schedule(next: () => Promise<void>, delayMs: number): void {
    clearTimeout(this.timer);
    if (this.running) this.timer = setTimeout(() => void next(), delayMs);
  }

  private reportError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }
}

/** Another process holds the lock: the normal answer for a follower, not an error. */
function isContention(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExecutionError' && /quorum/.test(error.message);
}
