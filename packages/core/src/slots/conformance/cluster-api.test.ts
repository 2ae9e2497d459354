import { RedisCluster, waitFor } from '@smtp-slots/testkit';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../admin/agent-registry.js';
import { incrementCounter } from '../../admin/counters.js';
import { publishEvent } from '../../events.js';
import { createRedisClient, type RedisClient } from '../../redis/connect.js';
import { EVENTS_CHANNEL, mailboxKeys } from '../../redis/keys.js';
import { LimitFeedback } from '../../limits/limit-feedback.js';
import { MailboxAdmin } from '../../admin/mailbox-admin.js';
import { RateLimiter } from '../../limits/rate-limiter.js';
import { RecipientLedger } from '../../limits/recipient-ledger.js';
import { SlotClient } from '../slot-client.js';

/**
 * Every public call of core, on a real 3-master Cluster, for mailboxes whose hash slots live on
 * different masters. A script touching a key outside its mailbox's slot fails here with
 * CROSSSLOT or "non local key".
 */
describe('core API on a Redis Cluster', { timeout: 60_000 }, () => {
  let cluster: RedisCluster;
  let redis: RedisClient;
  const mailboxes: string[] = [];

  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3 });
    redis = createRedisClient({ cluster: cluster.startupNodes });
    // One mailbox per master.
    const owners = new Set<number>();
    while (mailboxes.length < 3) {
      const mailbox = `cluster-${randomUUID()}@example.test`;
      const owner = (await cluster.masterFor(mailboxKeys(mailbox).state)).port;
      if (!owners.has(owner)) {
        owners.add(owner);
        mailboxes.push(mailbox);
      }
    }
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it('admin: ensure, configure, pause/resume, list, snapshot', async () => {
    const admin = new MailboxAdmin(redis);
    for (const mailbox of mailboxes) {
      expect((await admin.ensureMailbox(mailbox, { limit: 2 })).limit).toBe(2);
      expect((await admin.setConfig(mailbox, { limit: 3, ratePerMinute: 20 })).ratePerMinute).toBe(20);
      await admin.pause(mailbox, 'maintenance');
      expect((await admin.getConfig(mailbox))?.paused).toBe(true);
      await admin.resume(mailbox);
      expect((await admin.snapshot(mailbox))?.config.paused).toBe(false);
    }
    const listed = await admin.listMailboxes({ match: 'cluster-*' });
    expect(listed.mailboxes).toEqual(expect.arrayContaining(mailboxes));
  });

  it('slots: acquire, snapshot, force-release, FIFO hand-off', async () => {
    const admin = new MailboxAdmin(redis);
    const slots = new SlotClient({ redis, holder: { agentId: 'cluster-agent', host: 'h', pid: 1 }, leaseTtlMs: 3_000, safetyPollMs: 250 });
    try {
      for (const mailbox of mailboxes) {
        await admin.ensureMailbox(mailbox, { limit: 1 });
        await admin.setConfig(mailbox, { limit: 1 });
        const first = await waitFor(() => slots.tryAcquire(mailbox, { worker: 'a' }), { message: 'a grant after the start grace' });
        const queued = slots.acquire(mailbox, { worker: 'b', timeoutMs: 10_000 });
        await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1, { message: 'b queued' });
        const snapshot = (await admin.snapshot(mailbox))!;
        expect(snapshot.leases.map((l) => l.holder.worker)).toEqual(['a']);
        expect(await admin.forceRelease(mailbox, first.slot)).toBe(true);
        await waitFor(() => first.signal.aborted, { message: 'the forced-out holder to notice' });
        const second = await queued;
        expect(second.slot).toBe(1);
        await second.release();
      }
    } finally {
      await slots.close();
    }
  });

  it('limits, feedback, counters, events and the agent registry', async () => {
    const events = redis.duplicate();
    const seen: string[] = [];
    events.on('message', (_channel: string, message: string) => seen.push(message));
    await events.subscribe(EVENTS_CHANNEL);
    try {
      for (const mailbox of mailboxes) {
        const rate = new RateLimiter(redis);
        expect((await rate.take(mailbox, 30)).allowed).toBe(true);
        expect((await rate.take(mailbox, 30)).allowed).toBe(false); // GCRA: no burst by default
        const ledger = new RecipientLedger(redis);
        expect((await ledger.reserve(mailbox, 5, 10)).allowed).toBe(true);
        expect((await ledger.reserve(mailbox, 6, 10)).allowed).toBe(false);
        expect(await ledger.used(mailbox)).toBe(5);
        expect((await new LimitFeedback(redis).report432(mailbox)).effectiveLimit).toBeLessThan(3);
        expect(await incrementCounter(redis, mailbox, 'sent', 2)).toBe(2);
        await publishEvent(redis, { type: 'config', mailbox, at: Date.now() });
      }
      await waitFor(() => mailboxes.every((m) => seen.some((e) => e.includes(m))), { message: 'events from every mailbox' });
      const registry = new AgentRegistry(redis);
      await registry.heartbeat({ agentId: 'cluster-agent', host: 'h', pid: 1, version: 'test', spoolDepth: 0, mailboxes, startedAt: Date.now() }, 5_000);
      expect((await registry.list()).find((a) => a.agentId === 'cluster-agent')?.alive).toBe(true);
      await registry.remove('cluster-agent');
    } finally {
      events.disconnect();
    }
  });
});
