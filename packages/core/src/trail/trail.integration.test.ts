import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailboxKeys } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';
import { randomMailbox } from '../test-support/scripts.js';
import { createTestRedis } from '../test-support/test-redis.js';
import { queueHistory, queueSpoolDepth, readHistory } from './history.js';
import { MessageTrail, queueTrailStep, queueTrailSteps, type TrailPatch } from './message-trail.js';
import { protect } from './privacy.js';
import { DEFAULT_TRAIL_SETTINGS, type TrailAttempt, type TrailSettings } from './trail-types.js';

let redis: RedisClient;
beforeAll(() => {
  redis = createTestRedis();
});
afterAll(() => redis.disconnect());

async function record(mailbox: string, id: string, patch: TrailPatch, attempt?: TrailAttempt, settings: TrailSettings = DEFAULT_TRAIL_SETTINGS): Promise<void> {
  const pipeline = redis.pipeline();
  queueTrailStep(redis, pipeline, settings, { mailbox, id, patch, ...(attempt ? { attempt } : {}) });
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
}

const envelope = (mailbox: string, n: number, to = [`rcpt-${n}@fabrikam.test`]): TrailPatch => ({ messageId: `<m${n}@test>`, mailbox, agentId: 'fe-1', sender: mailbox, recipients: to, size: 100 });

describe('trailRecord-3', () => {
  it('merges steps into one record, appends attempts, and finds it by Message-ID or recipient (any case)', async () => {
    const mailbox = randomMailbox();
    await record(mailbox, 's1', { ...envelope(mailbox, 1), status: 'queued' }, { at: 't0', reply: 'accepted', outcome: 'accepted' });
    await record(mailbox, 's1', { ...envelope(mailbox, 1), status: 'deferred' }, { at: 't1', reply: '451 4.3.111 try later', outcome: 'temporary' });
    await record(mailbox, 's1', { ...envelope(mailbox, 1), status: 'sent', queueId: '<q1>' }, { at: 't2', reply: '250 2.0.0 OK', outcome: 'sent' });
    const trail = new MessageTrail(redis);
    const [byId] = await trail.search({ q: '<M1@TEST>', mailbox, limit: 10 });
    expect(byId).toMatchObject({ id: 's1', status: 'sent', queueId: '<q1>', recipients: ['rcpt-1@fabrikam.test'] });
    expect(byId!.attempts.map((a) => a.outcome)).toEqual(['accepted', 'temporary', 'sent']);
    expect(byId!.updatedMs).toBeGreaterThanOrEqual(byId!.acceptedMs);
    expect((await trail.search({ q: 'Rcpt-1@Fabrikam.test', mailbox, limit: 10 })).map((r) => r.id)).toEqual(['s1']);
    expect(await trail.search({ q: 'nobody@fabrikam.test', mailbox, limit: 10 })).toEqual([]);
    expect((await trail.search({ mailbox, status: 'deferred', limit: 10 }))).toEqual([]);
  });

  it('several steps in one call apply in order, as the same steps one call each would', async () => {
    const mailbox = randomMailbox();
    const pipeline = redis.pipeline();
    queueTrailSteps(redis, pipeline, DEFAULT_TRAIL_SETTINGS, mailbox, [
      { id: 'a', patch: { ...envelope(mailbox, 1), status: 'queued' }, attempt: { at: 't0', reply: 'accepted', outcome: 'accepted' } },
      { id: 'b', patch: { ...envelope(mailbox, 2), status: 'queued' } },
      { id: 'a', patch: { ...envelope(mailbox, 1, ['other@fabrikam.test']), status: 'sending' } },
      { id: 'c', patch: { ...envelope(mailbox, 3), status: 'queued' } },
      { id: 'a', patch: { ...envelope(mailbox, 1, ['other@fabrikam.test']), status: 'sent' }, attempt: { at: 't1', reply: '250 2.0.0 OK', outcome: 'sent' } },
    ]);
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    const trail = new MessageTrail(redis);
    const [a] = await trail.search({ q: '<m1@test>', mailbox, limit: 10 });
    expect(a).toMatchObject({ id: 'a', status: 'sent', recipients: ['other@fabrikam.test'] });
    expect(a!.attempts.map((x) => x.outcome)).toEqual(['accepted', 'sent']);
    expect((await trail.search({ q: 'other@fabrikam.test', mailbox, limit: 10 })).map((r) => r.id)).toEqual(['a']);
    expect(await trail.search({ q: 'rcpt-1@fabrikam.test', mailbox, limit: 10 })).toEqual([]); // the replaced recipient left the index
    expect(await redis.hlen(mailboxKeys(mailbox).trail)).toBe(3);
    expect(await redis.zcard(mailboxKeys(mailbox).trailIndex)).toBe(6); // Message-ID and one recipient each
  });

  it('keeps at most maxPerMailbox entries and drops their search terms with them', async () => {
    const mailbox = randomMailbox();
    const settings = { ...DEFAULT_TRAIL_SETTINGS, maxPerMailbox: 3 };
    for (let n = 0; n < 5; n++) await record(mailbox, `s${n}`, { ...envelope(mailbox, n), status: 'queued' }, undefined, settings);
    const k = mailboxKeys(mailbox);
    expect(await redis.hkeys(k.trail)).toEqual(expect.arrayContaining(['s2', 's3', 's4']));
    expect(await redis.hlen(k.trail)).toBe(3);
    expect(await redis.zcard(k.trailIndex)).toBe(6); // Message-ID and one recipient for each of three
    expect(await new MessageTrail(redis).search({ q: '<m0@test>', mailbox, limit: 10 })).toEqual([]);
  });

  it('drops entries not updated within maxAgeMs', async () => {
    const mailbox = randomMailbox();
    await record(mailbox, 'old', { ...envelope(mailbox, 1), status: 'sent' });
    await new Promise((r) => setTimeout(r, 30));
    await record(mailbox, 'new', { ...envelope(mailbox, 2), status: 'queued' }, undefined, { ...DEFAULT_TRAIL_SETTINGS, maxAgeMs: 20 });
    expect(await redis.hkeys(mailboxKeys(mailbox).trail)).toEqual(['new']);
  });

  it('hashed recipients are not readable in Redis but a search for the plain address still finds them', async () => {
    const mailbox = randomMailbox();
    const hashed = protect('Secret.Person@Fabrikam.test', 'hashed')!;
    expect(hashed).toMatch(/^sha256:[0-9a-f]{32}$/);
    await record(mailbox, 's1', { ...envelope(mailbox, 1, [hashed]), status: 'queued' });
    expect(JSON.stringify(await redis.hgetall(mailboxKeys(mailbox).trail))).not.toContain('secret.person');
    expect((await new MessageTrail(redis).search({ q: 'secret.person@fabrikam.test', mailbox, limit: 10 })).map((r) => r.id)).toEqual(['s1']);
  });
});

describe('history', () => {
  it('sums per minute over writers, averages slot waits, and reports every minute asked for', async () => {
    const mailbox = randomMailbox();
    const now = Date.UTC(2026, 0, 1, 10, 0, 30); // minute 0 of an hour: the range crosses into the previous hour
    const pipeline = redis.pipeline();
    queueHistory(pipeline, mailbox, now, { sent: 2, slotGrants: 2, slotWaitMs: 3000 });
    queueHistory(pipeline, mailbox, now, { sent: 1, rejections432: 1 });
    queueHistory(pipeline, mailbox, now - 60_000, { failed: 1, deferred: 2 });
    queueSpoolDepth(pipeline, mailbox, 'fe-1', now, 4);
    queueSpoolDepth(pipeline, mailbox, 'fe-2', now, 5);
    await pipeline.exec();
    const points = await readHistory(redis, mailbox, 3, now);
    expect(points.map((p) => p.at)).toEqual(['2026-01-01T09:58:00.000Z', '2026-01-01T09:59:00.000Z', '2026-01-01T10:00:00.000Z']);
    expect(points[0]).toMatchObject({ sent: 0, failed: 0, spoolDepth: null });
    expect(points[1]).toMatchObject({ failed: 1, deferred: 2 });
    expect(points[2]).toMatchObject({ sent: 3, rejections432: 1, slotGrants: 2, slotWaitSeconds: 1.5, spoolDepth: 9 });
    expect(await redis.pttl(`ss:{${mailbox}}:history:${Math.floor(now / 3_600_000)}`)).toBeGreaterThan(48 * 3_600_000);
  });
});
