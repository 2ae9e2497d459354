import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisProcess, sleep, waitFor } from '@smtp-slots/testkit';
import { AcquireAbortedError, AcquireTimeoutError, LeaseLostError, MailboxPausedError } from '../errors.js';
import { MailboxAdmin } from '../admin/mailbox-admin.js';
import { SlotClient, type Lease, type SlotClientOptions } from './slot-client.js';
import type { RedisClient } from '../redis/connect.js';
import { randomMailbox } from '../test-support/scripts.js';
import { createTestRedis, onCluster } from '../test-support/test-redis.js';
import type { LeaseLostReason } from '../types.js';

let redis: RedisClient;
let admin: MailboxAdmin;
const clients: SlotClient[] = [];
const connections: RedisClient[] = [];

beforeAll(() => {
  redis = createTestRedis();
  admin = new MailboxAdmin(redis);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of connections.splice(0)) c.disconnect();
});
afterAll(() => redis.disconnect());

/** A client with its own connection, as one agent process would have. */
function client(options: Partial<SlotClientOptions> = {}): SlotClient {
  const connection = createTestRedis();
  connections.push(connection);
  const c = new SlotClient({
    redis: connection,
    holder: { agentId: `agent-${clients.length}`, host: 'test-host', pid: process.pid },
    leaseTtlMs: 2000,
    safetyMarginMs: 500,
    safetyPollMs: 250,
    epochGraceMs: 0, // this Redis is fresh: nobody held a lease before it started
    ...options,
  });
  clients.push(c);
  return c;
}

async function limited(limit: number): Promise<string> {
  const mailbox = randomMailbox();
  await admin.ensureMailbox(mailbox, { limit });
  return mailbox;
}

describe('SlotClient', () => {
  it('a waiter in the releasing client takes the slot from the release reply, without the push', async () => {
    // The subscriber listens on another redis-server: pushes never arrive, and the safety poll
    // (also the one due at the holder's expiry) is far beyond the acquire's timeout, so only the
    // release reply can serve the waiter.
    const elsewhere = await RedisProcess.start();
    const subscriber = new Redis(elsewhere.url);
    await subscriber.ping(); // connected and ready before it enters subscriber mode
    const a = client({ subscriber, leaseTtlMs: 120_000, safetyMarginMs: 1000, safetyPollMs: 60_000, waiterTtlMs: 120_000 });
    try {
      const mailbox = await limited(1);
      const held = await a.acquire(mailbox, { worker: 'first' });
      const next = a.acquire(mailbox, { worker: 'second', timeoutMs: 10_000 });
      await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
      await held.release();
      const lease = await next;
      expect(lease.slot).toBe(1);
      expect(lease.token).toBeGreaterThan(held.token);
      expect(lease.remainingMs()).toBeGreaterThan(0);
      expect((await admin.snapshot(mailbox))?.leases.map((l) => l.holder.worker)).toEqual(['second']);
      await lease.release();
    } finally {
      await a.close();
      subscriber.disconnect();
      await elsewhere.stop();
    }
  });

  it('hands a released slot to a waiter in another client (push, FIFO)', async () => {
    const mailbox = await limited(1);
    const a = client();
    const b = client();
    const held = await a.acquire(mailbox, { worker: 'a' });
    const first = b.acquire(mailbox, { worker: 'b1' });
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
    const second = b.acquire(mailbox, { worker: 'b2' });
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 2);
    await held.release();
    const next = await first;
    expect(next.slot).toBe(1);
    expect(next.ticket).toBeGreaterThan(held.ticket);
    expect(next.token).toBeGreaterThan(held.token);
    expect(next.waitedMs).toBeGreaterThan(0);
    await next.release();
    expect((await second).ticket).toBeGreaterThan(next.ticket);
    expect(held.signal.aborted).toBe(false); // a release is not a loss
  });

  it.skipIf(onCluster)('a subscriber connection that is still connecting when the first waiter queues still gets the push', async () => {
    // ioredis writes SUBSCRIBE before its ready check (INFO) is answered; the check then fails in
    // subscriber mode and the connection is reset. The safety poll is far beyond the test's
    // timeout, so only the push can serve the waiter.
    const subscriber = new Redis(inject('redisUrl'), { lazyConnect: true });
    const mailbox = await limited(1);
    const held = await client().acquire(mailbox, { worker: 'holder' });
    const b = client({ subscriber, leaseTtlMs: 120_000, safetyMarginMs: 1000, safetyPollMs: 60_000, waiterTtlMs: 120_000 });
    try {
      let waiting: Promise<Lease> | undefined;
      subscriber.once('connect', () => void (waiting = b.acquire(mailbox, { worker: 'waiter' })));
      await subscriber.connect();
      await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
      await held.release();
      const lease = await waiting!;
      expect(lease.slot).toBe(1);
      expect(lease.token).toBeGreaterThan(held.token);
      await lease.release();
    } finally {
      await b.close();
      subscriber.disconnect();
    }
  });

  it('times out, aborts, and in both cases leaves the queue', async () => {
    const mailbox = await limited(1);
    const c = client();
    await c.acquire(mailbox, { worker: 'holder' });
    await expect(c.acquire(mailbox, { worker: 'late', timeoutMs: 300 })).rejects.toBeInstanceOf(AcquireTimeoutError);
    const controller = new AbortController();
    const aborted = c.acquire(mailbox, { worker: 'aborted', signal: controller.signal });
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AcquireAbortedError);
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 0);
  });

  it('renews: a lease outlives its TTL while the holder is alive', async () => {
    const mailbox = await limited(1);
    const c = client({ leaseTtlMs: 1200, safetyMarginMs: 200, renewIntervalMs: 300 });
    let renewals = 0;
    c.on('renewed', () => (renewals += 1));
    const lease = await c.acquire(mailbox, { worker: 'w' });
    await sleep(2500); // over twice the TTL
    expect(lease.signal.aborted).toBe(false);
    expect(lease.remainingMs()).toBeGreaterThan(0);
    expect(renewals).toBeGreaterThanOrEqual(3);
    expect((await admin.snapshot(mailbox))?.leases.map((l) => l.token)).toEqual([lease.token]);
  });

  it('force-release aborts the holder at once (push) and serves the next waiter', async () => {
    const mailbox = await limited(1);
    const a = client();
    const b = client();
    const lost: LeaseLostReason[] = [];
    a.on('lost', (_lease, reason) => lost.push(reason));
    const held = await a.acquire(mailbox, { worker: 'stuck' });
    const waiting = b.acquire(mailbox, { worker: 'next' });
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
    expect(await admin.forceRelease(mailbox, held.slot)).toBe(true);
    await waitFor(() => held.signal.aborted);
    expect(held.signal.reason).toBeInstanceOf(LeaseLostError);
    expect((held.signal.reason as LeaseLostError).reason).toBe('force-release');
    expect(held.remainingMs()).toBe(0);
    expect(lost).toEqual(['force-release']);
    expect((await waiting).slot).toBe(held.slot);
    await held.release(); // no-op after a loss
  });

  it('pausing fails waiting and new acquires with MailboxPausedError; holders keep their lease', async () => {
    const mailbox = await limited(1);
    const c = client();
    const held = await c.acquire(mailbox, { worker: 'holder' });
    const waiting = c.acquire(mailbox, { worker: 'waiter' });
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
    await admin.pause(mailbox, 'quota exceeded');
    await expect(waiting).rejects.toBeInstanceOf(MailboxPausedError);
    await expect(c.acquire(mailbox, { worker: 'new' })).rejects.toMatchObject({ code: 'MAILBOX_PAUSED', reason: 'quota exceeded' });
    expect(held.signal.aborted).toBe(false);
    await held.release();
    await admin.resume(mailbox);
    expect((await c.acquire(mailbox, { worker: 'after' })).slot).toBe(1);
  });

  it('tryAcquire answers null when full or when others queue; close releases leases and rejects waiters', async () => {
    const mailbox = await limited(2);
    const a = client();
    const b = client();
    const l1 = await a.tryAcquire(mailbox, { worker: '1' });
    const l2 = await a.tryAcquire(mailbox, { worker: '2' });
    expect([l1?.slot, l2?.slot]).toEqual([1, 2]);
    expect(await b.tryAcquire(mailbox, { worker: '3' })).toBeNull();
    const waiting = b.acquire(mailbox, { worker: '4' });
    await a.close();
    const granted = await waiting;
    expect([1, 2]).toContain(granted.slot);
    expect(await a.acquire(mailbox, { worker: 'x' }).catch((e: unknown) => e)).toBeInstanceOf(AcquireAbortedError);
    const pending = Promise.allSettled([b.acquire(mailbox, { worker: '5' }), b.acquire(mailbox, { worker: '6' })]);
    await b.close();
    for (const outcome of await pending) {
      expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(AcquireAbortedError);
    }
    await waitFor(async () => {
      const s = await admin.snapshot(mailbox);
      return s?.inUse === 0 && s.waiters.length === 0;
    });
  });
});
