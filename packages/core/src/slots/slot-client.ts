import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { AcquireAbortedError, InvalidArgumentError, type SlotsError } from '../errors.js';
import { incrementCounter } from '../admin/counters.js';
import { publishEvent } from '../events.js';
import { HeldLease, type LeaseDriver } from './held-lease.js';
import { ClientNotifier, type ClientNotification } from './notifier.js';
import { acquireSlot, cancelWaiter, checkWaiter, releaseLease, renewLease, replyTime, type GrantReply, type SlotScriptContext, type WaitReply } from '../redis/scripts.js';
import { ServerClock } from './server-clock.js';
import { settlesWithin } from '../redis/shutdown-deadline.js';
import type { HolderInfo, Lease, LeaseLostReason } from '../types.js';
import { failCommandsLostOnReconnect } from '../redis/lost-commands.js';
import { RunIdClaim } from './run-id-claim.js';
import { WaitingAcquire, type WaiterDriver } from './waiting-acquire.js';
import type { RedisClient } from '../redis/connect.js';

export interface SlotClientOptions {
  /**
   * Command connection (the caller owns it). Created with SLOT_CONNECTION_OPTIONS, the scripts
   * learn the server's run id once per connection instead of reading INFO on every acquire.
   */
  redis: RedisClient;
  /** Connection used only for SUBSCRIBE; defaults to `redis.duplicate()` (then owned and closed by the client). */
  subscriber?: RedisClient;
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

export type { Lease } from '../types.js';

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
 *
 * @example
 * const slots = new SlotClient({ redis, holder: { agentId: 'a1', host: 'web1', pid: process.pid } });
 * const lease = await slots.acquire('news@example.com', { worker: 'w1', timeoutMs: 60_000 });
 * const socket = connect(587, 'smtp.office365.com');
 * lease.signal.addEventListener('abort', () => socket.destroy()); // lost: stop at once
 * try { await sendBatch(socket, () => lease.remainingMs() > 0); } finally { await closed(socket); await lease.release(); }
 */
export class SlotClient extends EventEmitter<SlotClientEvents> {
  /** Random id of this client; names its notification channel. */
  readonly clientId = randomBytes(8).toString('hex');
  private readonly redis: RedisClient;
  private readonly holder: Omit<HolderInfo, 'worker'>;
  private readonly timings: { leaseTtlMs: number; renewIntervalMs: number; safetyMarginMs: number };
  private readonly safetyPollMs: number;
  private readonly waiterTtlMs: number;
  private readonly ctx: SlotScriptContext;
  private readonly runIdClaim: RunIdClaim;
  private readonly notifier: ClientNotifier;
  private readonly waiters = new Map<string, WaitingAcquire>();
  private readonly leases = new Map<string, HeldLease>();
  private readonly leaseDriver: LeaseDriver;
  /**
   * One clock bound per mailbox: on a Cluster each mailbox lives on its own master, whose clock
   * may differ from another master's, and a bound learnt on one must not date a grant of another.
   */
  private readonly clocks = new Map<string, ServerClock>();
  /** Mailboxes whose last reply showed somebody waiting: their releases put the waiter's push first. */
  private readonly queued = new Set<string>();
  private sequence = 0;
  private closed = false;
  private releasing: Promise<unknown> = Promise.resolve();

  constructor(options: SlotClientOptions) {
    super();
    const leaseTtlMs = options.leaseTtlMs ?? 15_000;
    const safetyMarginMs = options.safetyMarginMs ?? Math.min(1000, leaseTtlMs / 4);
    const renewIntervalMs = options.renewIntervalMs ?? leaseTtlMs / 3;
    if (!(renewIntervalMs > 0 && safetyMarginMs >= 0 && renewIntervalMs < leaseTtlMs - safetyMarginMs)) {
      throw new InvalidArgumentError('need 0 < renewIntervalMs < leaseTtlMs - safetyMarginMs');
    }
    this.redis = options.redis;
    this.holder = { agentId: options.holder.agentId || hostname(), host: options.holder.host || hostname(), pid: options.holder.pid };
    this.timings = { leaseTtlMs, renewIntervalMs, safetyMarginMs };
    this.safetyPollMs = options.safetyPollMs ?? 1000;
    this.waiterTtlMs = options.waiterTtlMs ?? Math.max(3 * this.safetyPollMs, 3000);
    if (this.waiterTtlMs <= this.safetyPollMs) throw new InvalidArgumentError('waiterTtlMs must exceed safetyPollMs');
    this.runIdClaim = new RunIdClaim(options.redis);
    failCommandsLostOnReconnect(options.redis);
    this.ctx = { defaultLimit: options.defaultLimit ?? 3, graceMs: options.epochGraceMs ?? leaseTtlMs, runIdClaim: () => this.runIdClaim.current() };
    this.notifier = new ClientNotifier(options.redis, options.subscriber, this.clientId, (n) => this.onNotification(n), (e) => this.emitError(e));
    this.leaseDriver = {
      renew: async (lease) => {
        const sentAt = performance.now();
        const expiresAt = await renewLease(this.redis, lease.mailbox, this.ctx, lease.ref, leaseTtlMs);
        this.clockOf(lease.mailbox).observe(expiresAt - leaseTtlMs, sentAt);
      },
      release: async (lease) => {
        const sentAt = performance.now();
        const { handedOff, handOffs } = await releaseLease(this.redis, lease.mailbox, this.ctx, lease.ref, this.queued.has(lease.mailbox));
        if (handedOff > 0) this.queued.add(lease.mailbox);
        else this.queued.delete(lease.mailbox);
        // The head waiter may be ours: use the grant from the reply (its send time bounds the
        // grant's Redis time) instead of waiting for the push, which then finds nobody.
        for (const { waiterId, grant } of handOffs) this.waiters.get(waiterId)?.handedOver(grant, sentAt);
      },
      onRenewed: (lease) => this.emit('renewed', lease),
      onLost: (lease, reason) => this.onLost(lease, reason),
      onReleased: (lease) => {
        this.leases.delete(lease.id);
        this.emit('release', lease);
      },
      onError: (error) => this.emitError(error),
    };
  }

  /** Waits for a slot (FIFO). Rejects with AcquireTimeoutError, AcquireAbortedError, MailboxPausedError or RedisUnavailableError. */
  acquire(mailbox: string, opts: AcquireOptions): Promise<Lease> {
    if (this.closed) return Promise.reject(new AcquireAbortedError(mailbox, { cause: new Error('client closed') }));
    return new Promise<Lease>((resolve, reject) => {
      const id = this.nextId();
      const waiter = new WaitingAcquire(id, mailbox, this.waiterDriver(mailbox, opts.worker), resolve, reject, opts.signal, opts.timeoutMs);
      this.waiters.set(id, waiter);
      waiter.start();
    });
  }

  /** One round trip: a lease when a slot is free and nobody is queued, otherwise null. */
  async tryAcquire(mailbox: string, opts: { worker: string }): Promise<Lease | null> {
    if (this.closed) throw new AcquireAbortedError(mailbox, { cause: new Error('client closed') });
    await this.notifier.ready(this.safetyPollMs);
    const id = this.nextId();
    const sentAt = performance.now();
    const reply = this.observed(mailbox, await acquireSlot(this.redis, mailbox, this.ctx, this.acquireArgs(id, opts.worker, -1, 0)), sentAt);
    return 'granted' in reply ? this.adopt(mailbox, id, opts.worker, reply.granted, sentAt, 0) : null;
  }

  /** Releases every held lease, cancels waiters and closes the subscriber (if the client created it). */
  async close(): Promise<void> {
    await this.closeWithin(Infinity);
  }

  /**
   * `close()` that resolves within `timeoutMs` even when Redis does not answer: what was not
   * released by then expires after its TTL (safe: an unreleased lease only holds capacity back),
   * and the subscriber is dropped. Resolves true when everything was released in time.
   */
  async closeWithin(timeoutMs: number): Promise<boolean> {
    const startedAt = performance.now();
    if (!this.closed) {
      this.closed = true;
      const waiters = [...this.waiters.values()];
      for (const waiter of waiters) waiter.abort(new AcquireAbortedError(waiter.mailbox, { cause: new Error('client closed') }));
      this.releasing = Promise.all([...waiters.map((w) => w.settled), ...[...this.leases.values()].map((lease) => lease.release())]);
    }
    const released = await settlesWithin(this.releasing, timeoutMs);
    await this.notifier.close(released ? timeoutMs - (performance.now() - startedAt) : 0);
    this.runIdClaim.dispose();
    return released;
  }

  /** Leases this client holds right now. */
  heldLeases(): Lease[] {
    return [...this.leases.values()];
  }

  private nextId(): string {
    this.sequence += 1;
    return `${this.clientId}:${this.sequence}`;
  }

  private acquireArgs(id: string, worker: string, waitMs: number, ticket: number) {
    return {
      id,
      holder: { ...this.holder, worker, channel: this.notifier.channel },
      leaseTtlMs: this.timings.leaseTtlMs,
      waiterTtlMs: this.waiterTtlMs,
      waitMs,
      ticket,
    };
  }

  private waiterDriver(mailbox: string, worker: string): WaiterDriver {
    return {
      safetyPollMs: this.safetyPollMs,
      safetyMarginMs: this.timings.safetyMarginMs,
      enqueue: async (id, waitMs, ticket) => {
        await this.notifier.ready(this.safetyPollMs);
        const sentAt = performance.now();
        return this.observed(mailbox, await acquireSlot(this.redis, mailbox, this.ctx, this.acquireArgs(id, worker, waitMs, ticket)), sentAt);
      },
      check: async (id) => {
        const sentAt = performance.now();
        return this.observed(mailbox, await checkWaiter(this.redis, mailbox, this.ctx, id, this.timings.leaseTtlMs), sentAt);
      },
      cancel: async (id) => void (await cancelWaiter(this.redis, mailbox, this.ctx, id)),
      toLocal: (serverMs) => this.clockOf(mailbox).toLocal(serverMs),
      granted: (id, grant, confirmedAt, waitedMs) => this.adopt(mailbox, id, worker, grant, confirmedAt, waitedMs),
      done: (id) => this.waiters.delete(id),
      onError: (error) => this.emitError(error),
    };
  }

  private observed(mailbox: string, reply: WaitReply, sentAt: number): WaitReply {
    this.clockOf(mailbox).observe(replyTime(reply), sentAt);
    if ('queued' in reply && reply.queued.position > 0) this.queued.add(mailbox);
    return reply;
  }

  private clockOf(mailbox: string): ServerClock {
    let clock = this.clocks.get(mailbox);
    if (!clock) this.clocks.set(mailbox, (clock = new ServerClock()));
    return clock;
  }

  private adopt(mailbox: string, id: string, worker: string, grant: GrantReply, confirmedAt: number, waitedMs: number): HeldLease {
    const lease = new HeldLease(mailbox, id, worker, grant, confirmedAt, waitedMs, this.timings, this.leaseDriver);
    this.leases.set(id, lease);
    this.emit('grant', lease);
    return lease;
  }

  private onNotification(n: ClientNotification): void {
    if (n.type === 'revoke') this.leases.get(n.id)?.lose('force-release');
    else if (n.type === 'grant') this.waiters.get(n.id)?.pushed({ slot: n.slot, token: n.token, expiresAt: n.expiresAt, epoch: n.epoch, ticket: n.ticket, now: n.now });
    else this.waiters.get(n.id)?.poke();
  }

  private onLost(lease: HeldLease, reason: LeaseLostReason): void {
    this.leases.delete(lease.id);
    this.emit('lost', lease, reason);
    // Best effort: the dashboard shows lost leases; Redis may be the reason they were lost.
    const holder = { ...this.holder, worker: lease.worker };
    void Promise.all([
      publishEvent(this.redis, { type: 'lost', mailbox: lease.mailbox, slot: lease.slot, token: lease.token, holder, code: reason, at: Date.now() }),
      incrementCounter(this.redis, lease.mailbox, 'lost'),
    ]).catch(() => undefined);
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
