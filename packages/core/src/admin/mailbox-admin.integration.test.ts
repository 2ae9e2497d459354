import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry } from './agent-registry.js';
import { incrementCounter } from './counters.js';
import { InvalidArgumentError, LimitExceededError } from '../errors.js';
import { parseEvent } from '../events.js';
import { EVENTS_CHANNEL, GLOBAL_KEYS, mailboxKeys } from '../redis/keys.js';
import { LimitFeedback } from '../limits/limit-feedback.js';
import { MailboxAdmin } from './mailbox-admin.js';
import { RateLimiter } from '../limits/rate-limiter.js';
import { RecipientLedger } from '../limits/recipient-ledger.js';
import { SlotClient } from '../slots/slot-client.js';
import type { RedisClient } from '../redis/connect.js';
import { randomMailbox } from '../test-support/scripts.js';
import { createTestRedis } from '../test-support/test-redis.js';
import type { SlotEvent } from '../types.js';
import { waitFor } from '@smtp-slots/testkit';

let redis: RedisClient;
let admin: MailboxAdmin;
beforeAll(() => {
  redis = createTestRedis();
  admin = new MailboxAdmin(redis);
});
afterAll(() => redis.disconnect());

describe('MailboxAdmin', () => {
  it('ensureMailbox fills in defaults without overwriting; setConfig validates and registers', async () => {
    const mailbox = randomMailbox();
    expect(await admin.getConfig(mailbox)).toBeNull();
    expect(await admin.ensureMailbox(mailbox, { limit: 2 })).toEqual({ limit: 2, ratePerMinute: 30, recipientsPerDay: 10_000, paused: false });
    expect((await admin.ensureMailbox(mailbox, { limit: 5 })).limit).toBe(2);
    expect(await admin.setConfig(mailbox, { limit: 4, ratePerMinute: 20 })).toMatchObject({ limit: 4, ratePerMinute: 20 });
    await expect(admin.setConfig(mailbox, { limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await admin.pause(mailbox, 'auth failed');
    expect(await admin.getConfig(mailbox)).toMatchObject({ paused: true, pauseReason: 'auth failed' });
    await admin.resume(mailbox);
    expect(await admin.getConfig(mailbox)).toMatchObject({ paused: false });
  });

  it('lists registered mailboxes page by page', async () => {
    const prefix = `list-${Date.now()}`;
    const names = Array.from({ length: 5 }, (_, i) => `${prefix}-${i}@example.test`);
    for (const name of names) await admin.ensureMailbox(name, {});
    const seen: string[] = [];
    let cursor: string | undefined;
    let total = 0;
    do {
      const page = await admin.listMailboxes({ match: `${prefix}-*`, count: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.mailboxes);
      total = page.total;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(names);
    expect(total).toBeGreaterThanOrEqual(5);
  });

  it('snapshot shows holders, FIFO waiters, rate, recipients, 432 feedback and counters (Redis time), and events are published', async () => {
    const mailbox = randomMailbox();
    await admin.ensureMailbox(mailbox, { limit: 2, ratePerMinute: 6 });
    const listener = createTestRedis();
    const events: SlotEvent[] = [];
    listener.on('message', (_ch, msg) => {
      const e = parseEvent(msg);
      if (e?.mailbox === mailbox) events.push(e);
    });
    await listener.subscribe(EVENTS_CHANNEL);
    const client = new SlotClient({ redis, holder: { agentId: 'agent-x', host: 'host-x', pid: 7 }, leaseTtlMs: 5000, epochGraceMs: 0 });
    const lease = await client.acquire(mailbox, { worker: 'w1' });
    const waiting = client.acquire(mailbox, { worker: 'w3' });
    await waitFor(async () => (await admin.snapshot(mailbox))?.inUse === 2);
    const third = client.acquire(mailbox, { worker: 'w4' });
    await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1);
    await new RateLimiter(redis).take(mailbox, 6);
    await new RecipientLedger(redis).reserve(mailbox, 12, 10_000);
    await incrementCounter(redis, mailbox, 'sent', 3);
    expect(await new LimitFeedback(redis).report432(mailbox)).toEqual({ effectiveLimit: 1 });

    const s = (await admin.snapshot(mailbox))!;
    expect(s.mailbox).toBe(mailbox);
    expect(s.config.limit).toBe(2);
    expect(s.effectiveLimit).toBe(1);
    expect(s.feedback?.limit).toBe(1);
    expect(s.feedback!.until).toBeGreaterThan(s.now);
    expect(s.inUse).toBe(2);
    expect(s.leases[0]).toMatchObject({ slot: 1, token: lease.token, holder: { agentId: 'agent-x', host: 'host-x', pid: 7, worker: 'w1' } });
    expect(s.leases[0]!.expiresAt).toBeGreaterThan(s.now);
    expect(s.waiters).toEqual([expect.objectContaining({ holder: expect.objectContaining({ worker: 'w4' }) })]);
    expect(s.waiters[0]!.deadline).toBeGreaterThan(s.now);
    expect(s.rate).toEqual({ perMinute: 6, availableNow: 0, nextFreeInMs: expect.any(Number) });
    expect(s.rate.nextFreeInMs).toBeGreaterThan(9000);
    expect(s.recipients).toEqual({ perDay: 10_000, used24h: 12 });
    expect(s.counters).toMatchObject({ grants: 2, sent: 3, 'rejections:432': 1 });
    expect(await admin.snapshot(randomMailbox())).toBeNull();

    await lease.release();
    await (await waiting).release();
    await (await third).release();
    await waitFor(() => events.filter((e) => e.type === 'release').length === 3);
    // effective limit 1 after the 432: the waiter is served only once both holders released
    expect(events.map((e) => e.type)).toEqual(['grant', 'grant', 'rejection', 'release', 'release', 'grant', 'release']);
    expect(events[0]).toMatchObject({ slot: 1, token: lease.token, holder: { worker: 'w1' } });
    await client.close();
    listener.disconnect();
  });

  it('snapshots reads many mailboxes at once, in order, with the figures snapshot shows', async () => {
    const [busy, unknown, registered, ledger] = [randomMailbox(), randomMailbox(), randomMailbox(), randomMailbox()];
    await admin.ensureMailbox(busy, { limit: 2 });
    await admin.ensureMailbox(ledger, {});
    await redis.sadd(GLOBAL_KEYS.mailboxes, registered);
    const client = new SlotClient({ redis, holder: { agentId: 'agent-b', host: 'host-b', pid: 8 }, epochGraceMs: 0 });
    const lease = await client.acquire(busy, { worker: 'w1' });
    await new RecipientLedger(redis).reserve(ledger, 5, 10_000);
    // A bucket whose last possible entry left the 24 h window still sits in the ledger until the
    // next reservation prunes it: it must not count.
    const k = mailboxKeys(ledger);
    const old = Math.floor((Date.now() - 25 * 3_600_000) / 60_000) * 60_000;
    await redis.multi().zadd(k.recipients, old, old).hincrby(k.recipientCounts, String(old), 7).hincrby(k.recipientCounts, 'total', 7).exec();

    const many = await admin.snapshots([ledger, unknown, busy, registered]);
    expect(many.map((s) => s?.mailbox ?? null)).toEqual([ledger, null, busy, registered]);
    expect(many[0]!.recipients.used24h).toBe(5);
    expect(many[2]).toMatchObject({ inUse: 1, effectiveLimit: 2, leases: [expect.objectContaining({ slot: 1, token: lease.token })] });
    expect(many[3]).toMatchObject({ configured: false, inUse: 0, waiters: [] });
    const one = (await admin.snapshot(busy))!;
    expect({ ...many[2]!, now: 0 }).toEqual({ ...one, now: 0 });
    await client.close();
  });
});

describe('MailboxAdmin.figures', () => {
  it('counts in Redis what snapshots() shows: leases, waiters, the 432 cut, pause, rate, ledger, counters', async () => {
    const [busy, cut, paused, ledger, unknown] = [randomMailbox(), randomMailbox(), randomMailbox(), randomMailbox(), randomMailbox()];
    await admin.ensureMailbox(busy, { limit: 1 });
    await admin.ensureMailbox(cut, { limit: 3, ratePerMinute: 12 });
    await admin.ensureMailbox(paused, { recipientsPerDay: 50 });
    await admin.pause(paused, 'quota');
    await admin.ensureMailbox(ledger, {});
    const client = new SlotClient({ redis, holder: { agentId: 'agent-f', host: 'host-f', pid: 9 }, epochGraceMs: 0 });
    await client.acquire(busy, { worker: 'w1' });
    // Stays queued until close() aborts it.
    client.acquire(busy, { worker: 'w2' }).catch(() => undefined);
    await waitFor(async () => ((await admin.snapshot(busy))?.waiters.length ?? 0) === 1);
    await client.acquire(cut, { worker: 'w1' });
    await new LimitFeedback(redis).report432(cut);
    await new RateLimiter(redis).take(cut, 12);
    await new RecipientLedger(redis).reserve(ledger, 5, 10_000);
    const k = mailboxKeys(ledger);
    const old = Math.floor((Date.now() - 25 * 3_600_000) / 60_000) * 60_000;
    await redis.multi().zadd(k.recipients, old, old).hincrby(k.recipientCounts, String(old), 7).hincrby(k.recipientCounts, 'total', 7).exec();
    await incrementCounter(redis, ledger, 'deferred:451', 2);

    const names = [busy, cut, paused, ledger, unknown];
    const figures = await admin.figures(names);
    const fromSnapshots = (await admin.snapshots(names)).map((s, i) => ({
      mailbox: names[i],
      limit: s?.config.limit ?? 3,
      effectiveLimit: s?.effectiveLimit ?? 3,
      inUse: s?.inUse ?? 0,
      waiting: s?.waiters.length ?? 0,
      paused: s?.config.paused ?? false,
      rateTokensAvailable: s?.rate.availableNow ?? 1,
      ratePerMinute: s?.config.ratePerMinute ?? 30,
      recipients24h: s?.recipients.used24h ?? 0,
      recipientsPerDay: s?.config.recipientsPerDay ?? 10_000,
      counters: Object.fromEntries(Object.entries(s?.counters ?? {}).filter(([name]) => name !== 'releases')),
    }));
    expect(figures).toEqual(fromSnapshots);
    expect(figures.map((f) => [f.inUse, f.waiting, f.effectiveLimit, f.paused, f.rateTokensAvailable, f.recipients24h])).toEqual([
      [1, 1, 1, false, 1, 0],
      [1, 0, 2, false, 0, 0],
      [0, 0, 3, true, 1, 0],
      [0, 0, 3, false, 1, 5],
      [0, 0, 3, false, 1, 0],
    ]);
    expect(figures[3]!.counters).toEqual({ 'deferred:451': 2 });
    await client.close();
  });
});

describe('RateLimiter / RecipientLedger', () => {
  it('answers allowed or retry-after', async () => {
    const mailbox = randomMailbox();
    const rate = new RateLimiter(redis);
    expect(await rate.take(mailbox, 30)).toEqual({ allowed: true, retryAfterMs: 0 });
    const next = await rate.take(mailbox, 30);
    expect(next.allowed).toBe(false);
    expect(next.retryAfterMs).toBeGreaterThan(1900);
    const ledger = new RecipientLedger(redis);
    expect(await ledger.reserve(mailbox, 9, 10)).toMatchObject({ allowed: true, retryAfterMs: 0, used: 9 });
    const denied = await ledger.reserve(mailbox, 2, 10);
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeGreaterThan(86_000_000);
    expect(await ledger.used(mailbox)).toBe(9);
    await expect(ledger.reserve(mailbox, 11, 10)).rejects.toBeInstanceOf(LimitExceededError);
  });
});

describe('AgentRegistry', () => {
  it('lists agents with their age by Redis time and says which are alive', async () => {
    const registry = new AgentRegistry(redis);
    const id = `agent-${Date.now()}`;
    const record = { agentId: id, host: 'h', pid: 1, version: '0.1.0', spoolDepth: 4, mailboxes: ['a@example.test'], startedAt: Date.now() };
    await registry.heartbeat(record, 60_000);
    await registry.heartbeat({ ...record, agentId: `${id}-old` }, 1);
    await new Promise((r) => setTimeout(r, 10));
    const listed = (await registry.list()).filter((a) => a.agentId.startsWith(id));
    expect(listed).toEqual([
      { ...record, lastSeenMs: expect.any(Number), alive: true },
      { ...record, agentId: `${id}-old`, lastSeenMs: expect.any(Number), alive: false },
    ]);
    await registry.remove(`${id}-old`);
    expect((await registry.list()).filter((a) => a.agentId.startsWith(id))).toHaveLength(1);
  });
});
