import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { Redlock } from './redlock.js';
import { AcquireAbortedError, AcquireTimeoutError, InvalidArgumentError, MailboxPausedError, RedisUnavailableError } from '../errors.js';
import type { AcquireOptions, Lease, SlotClientEvents } from '../slots/slot-client.js';
import type { HolderInfo, LeaseLostReason, MailboxConfig } from '../types.js';
import { createQuorumClients, waitForMajority } from './quorum-clients.js';
import { QuorumLease, type QuorumLeaseContext } from './quorum-lease.js';
import { quorumKeys } from './quorum-keys.js';
import { firstMajority, quorumSize } from './majority.js';
import type { SlotBackend } from '../slots/slot-backend.js';

export interface QuorumSlotsOptions {
  /** Independent Redis masters (no replication between them): 3 or 5. */
  masters: Redis[];
  /** close() also quits the masters (set by `QuorumSlots.connect`). */
  ownsMasters?: boolean;
  holder: Omit<HolderInfo, 'worker'>;
  /** Lease lifetime on every master. Default 15 000. */
  leaseTtlMs?: number;
  /** Default leaseTtlMs / 3. */
  renewIntervalMs?: number;
  /** Local deadline = renewal send time + ttl − drift − margin. Default 1000. */
  safetyMarginMs?: number;
  /** redlock's allowance for clock-rate differences between masters, as a fraction of the TTL. Default 0.01. */
  driftFactor?: number;
  /** A waiter re-checks this often (± 50 % jitter); quorum mode has no push notification. Default 50. */
  pollMs?: number;
  /** Limit when a mailbox has no config. Default 3. */
  defaultLimit?: number;
  /** Highest slot number ever probed (caps the limit). Default 32. */
  maxSlots?: number;
}

const LUA_DIR = new URL('./lua/', import.meta.url);
const lua = (name: string) => readFileSync(new URL(name, LUA_DIR), 'utf8');
// redlock 5.0.0-beta.2 honours only the function form of script overrides (strings are ignored).
const SCRIPTS = {
  acquireScript: () => lua('quorum-acquire-1.lua'),
  extendScript: () => lua('quorum-extend-1.lua'),
  releaseScript: () => lua('quorum-release-1.lua'),
};
const FENCE_RAISE = lua('quorum-fence-raise-1.lua');

interface Probe {
  limit: number;
  paused: boolean;
  reason: string;
  /** Slot numbers 1..maxSlots held on at least one answering master. */
  held: Set<number>;
}

/**
 * Quorum mode: the slot semaphore over N independent Redis masters without Sentinel. Each slot
 * is a redlock resource that a holder owns while a majority of masters hold its lock. Same
 * surface as SlotClient (acquire / tryAcquire / lease signal / release), with different
 * guarantees: no FIFO (waiters poll), several round trips per acquire, and safety that relies on
 * bounded clock drift between masters (see docs/ha.md).
 */
export class QuorumSlots extends EventEmitter<SlotClientEvents> implements SlotBackend {
  readonly redlock: Redlock;
  private readonly masters: Redis[];
  private readonly ttl: number;
  private readonly pollMs: number;
  private readonly defaultLimit: number;
  private readonly maxSlots: number;
  private readonly leaseContext: QuorumLeaseContext;
  private readonly leases = new Set<QuorumLease>();
  private readonly closing = new AbortController();

  constructor(readonly options: QuorumSlotsOptions) {
    super();
    if (options.masters.length < 1) throw new InvalidArgumentError('quorum mode needs masters');
    this.masters = options.masters;
    this.ttl = options.leaseTtlMs ?? 15_000;
    this.pollMs = options.pollMs ?? 50;
    this.defaultLimit = options.defaultLimit ?? 3;
    this.maxSlots = options.maxSlots ?? 32;
    const driftFactor = options.driftFactor ?? 0.01;
    this.redlock = new Redlock(this.masters, { driftFactor, retryCount: 0 }, SCRIPTS);
    for (const master of this.masters) master.defineCommand('quorumFenceRaise', { numberOfKeys: 1, lua: FENCE_RAISE });
    const drift = Math.round(driftFactor * this.ttl) + 2;
    this.leaseContext = {
      redlock: this.redlock,
      leaseTtlMs: this.ttl,
      renewIntervalMs: options.renewIntervalMs ?? Math.floor(this.ttl / 3),
      deadlineSlackMs: drift + (options.safetyMarginMs ?? 1_000),
      onRenewed: (lease) => this.emit('renewed', lease),
      onLost: (lease, reason: LeaseLostReason) => {
        this.leases.delete(lease);
        this.emit('lost', lease, reason);
      },
      onReleased: (lease) => {
        this.leases.delete(lease);
        this.emit('release', lease);
      },
    };
    if (this.leaseContext.deadlineSlackMs >= this.ttl) throw new InvalidArgumentError('leaseTtlMs must exceed safetyMarginMs plus clock drift');
  }

  /** Connects to the masters (`redis://` URLs), waits for a majority, and owns the connections. */
  static async connect(urls: string[], options: Omit<QuorumSlotsOptions, 'masters' | 'ownsMasters'>): Promise<QuorumSlots> {
    const masters = createQuorumClients(urls);
    await waitForMajority(masters).catch((error: unknown) => {
      for (const m of masters) m.disconnect();
      throw error;
    });
    return new QuorumSlots({ ...options, masters, ownsMasters: true });
  }

  /** Waits for a slot (no FIFO: the first poller to find a free slot wins it). */
  async acquire(mailbox: string, opts: AcquireOptions): Promise<Lease> {
    const started = performance.now();
    const timeout = opts.timeoutMs !== undefined ? AbortSignal.timeout(opts.timeoutMs) : undefined;
    const stop = AbortSignal.any([this.closing.signal, ...(opts.signal ? [opts.signal] : []), ...(timeout ? [timeout] : [])]);
    for (;;) {
      if (stop.aborted) {
        const byTimeout = timeout?.aborted && !opts.signal?.aborted && !this.closing.signal.aborted;
        throw byTimeout ? new AcquireTimeoutError(mailbox, performance.now() - started) : new AcquireAbortedError(mailbox);
      }
      const lease = await this.attempt(mailbox, started);
      if (lease) return this.adopt(lease, stop);
      await pause(this.pollMs * (0.5 + Math.random()), stop);
    }
  }

  /** One probe and at most one lock attempt: a lease, or null when no slot is free. */
  async tryAcquire(mailbox: string, _opts: { worker: string }): Promise<Lease | null> {
    if (this.closing.signal.aborted) throw new AcquireAbortedError(mailbox);
    const lease = await this.attempt(mailbox, performance.now(), 1);
    return lease ? this.adopt(lease, this.closing.signal) : null;
  }

  /**
   * Writes limit / paused to the config hash on every master; needs a majority. Readers take the
   * minimum limit of a majority, so a lowered limit applies as soon as a majority has it.
   */
  async setConfig(mailbox: string, patch: Partial<Pick<MailboxConfig, 'limit' | 'paused' | 'pauseReason'>>): Promise<void> {
    const fields: Record<string, string> = {};
    if (patch.limit !== undefined) {
      if (!Number.isInteger(patch.limit) || patch.limit < 1 || patch.limit > this.maxSlots) {
        throw new InvalidArgumentError(`limit must be an integer in 1..${this.maxSlots}`);
      }
      fields['limit'] = String(patch.limit);
    }
    if (patch.paused !== undefined) fields['paused'] = patch.paused ? '1' : '0';
    if (patch.pauseReason !== undefined) fields['pauseReason'] = patch.pauseReason;
    const key = quorumKeys(mailbox).config;
    await firstMajority(this.masters.map((m) => m.hset(key, fields))).catch((error: unknown) => {
      throw new RedisUnavailableError(`config of ${mailbox} not written to a majority of masters`, { cause: error });
    });
  }

  /** Releases every held lease, stops waiters and closes owned connections. */
  async close(): Promise<void> {
    this.closing.abort();
    const held = [...this.leases];
    for (const lease of held) lease.lose('closed');
    await Promise.all(held.map((l) => l.release()));
    if (this.options.ownsMasters) await Promise.all(this.masters.map((m) => m.quit().catch(() => m.disconnect())));
  }

  private adopt(lease: QuorumLease, stop: AbortSignal): QuorumLease {
    if (stop.aborted) {
      void lease.release();
      throw new AcquireAbortedError(lease.mailbox);
    }
    this.leases.add(lease);
    this.emit('grant', lease);
    return lease;
  }

  /** Probes a majority for free slots and tries to lock up to `candidates` of them. */
  private async attempt(mailbox: string, started: number, candidates = 2): Promise<QuorumLease | null> {
    const probe = await this.probe(mailbox);
    if (probe.paused) throw new MailboxPausedError(mailbox, probe.reason);
    // Slots above a lowered limit still count: lowering never revokes, it only stops new grants.
    if (probe.held.size >= probe.limit) return null;
    const free = shuffle(range(1, probe.limit).filter((s) => !probe.held.has(s))).slice(0, candidates);
    const keys = quorumKeys(mailbox);
    for (const slot of free) {
      const sentAt = performance.now();
      const lock = await this.redlock.acquire([keys.slot(slot)], this.ttl).catch(() => null);
      if (!lock) continue;
      const token = await this.fence(keys.fence).catch(async (error: unknown) => {
        await this.redlock.release(lock, { retryCount: 0 }).catch(() => undefined);
        throw error;
      });
      return new QuorumLease(this.leaseContext, { mailbox, slot, token, lock, sentAt, waitedMs: performance.now() - started });
    }
    return null;
  }

  private async probe(mailbox: string): Promise<Probe> {
    const keys = quorumKeys(mailbox);
    const slotKeys = range(1, this.maxSlots).map((n) => keys.slot(n));
    const answers = await firstMajority(this.masters.map(async (m) => {
      const [config, slots] = await Promise.all([m.hmget(keys.config, 'limit', 'paused', 'pauseReason'), m.mget(slotKeys)]);
      return { config, slots };
    })).catch((error: unknown) => {
      throw new RedisUnavailableError(`fewer than ${quorumSize(this.masters.length)} of ${this.masters.length} quorum masters answered`, { cause: error });
    });
    const probe: Probe = { limit: this.maxSlots, paused: false, reason: '', held: new Set() };
    for (const { config, slots } of answers) {
      const limit = config[0] ? Number(config[0]) : this.defaultLimit;
      probe.limit = Math.min(probe.limit, Number.isInteger(limit) && limit > 0 ? limit : this.defaultLimit);
      if (config[1] === '1') {
        probe.paused = true;
        probe.reason = config[2] ?? '';
      }
      slots.forEach((value, i) => value !== null && probe.held.add(i + 1));
    }
    return probe;
  }

  /**
   * Fencing token: INCR on every master, take the maximum of a majority, write it back to a
   * majority. Any later grant's majority overlaps the write-back, so tokens of successive holders
   * increase; two grants racing on different slots may get the same token.
   */
  private async fence(key: string): Promise<number> {
    const counts = await firstMajority(this.masters.map((m) => m.incr(key)));
    const token = Math.max(...counts);
    type Raise = { quorumFenceRaise(key: string, token: number): Promise<number> };
    await firstMajority(this.masters.map((m) => (m as unknown as Raise).quorumFenceRaise(key, token)));
    return token;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
