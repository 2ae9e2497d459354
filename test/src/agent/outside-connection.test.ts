import { MailboxAdmin } from '@smtp-slots/core';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
const scenarios = useAgentScenarios();

describe('agents: someone outside uses the mailbox', () => {
  it('432s appear, the messages are retried automatically, the effective limit drops to 2, everything is delivered once', async () => {
    const { mailbox, sim, fleet, ...s } = await scenarios.start({
      agents: 2, workers: 4, redisUrl: inject('redisUrl'), mailbox: { limit: 3 }, sim: { limit: 3, faults: { latencyMs: 20 } },
    });

    const submitted = await s.submit({ count: 300, threads: 20 });
    expect(submitted.failed).toEqual([]);
    await waitFor(async () => (await s.stats(false)).accepted >= 50, { timeoutMs: 30_000, intervalMs: 50 });
    // An Outlook session that was there first: it outranks ours, so our newest session is over the limit.
    sim.occupy(mailbox.address, 1, { front: true });

    await s.waitForDelivery(submitted.accepted, { message: 'every message delivered' });
    await s.waitForEmptySpools();

    const stats = await s.stats();
    expect(stats.rejected432).toBeGreaterThan(0);
    expect(stats.duplicates).toBe(0);
    expect(stats.accepted).toBe(300);
    // The agents counted the same 432s and learned the lower limit (it rises again after a cool-down).
    expect(await fleet.metric('smtp_slots_upstream_rejections_total', { code: '432' })).toBe(stats.rejected432);
    const snapshot = await new MailboxAdmin(redis).snapshot(mailbox.address);
    expect(snapshot?.effectiveLimit).toBe(2);
    expect(snapshot?.counters['rejections:432']).toBe(stats.rejected432);
    // A 432 costs the message no retry budget and never makes it a dead letter.
    expect(fleet.deadLetters()).toBe(0);
    sim.releaseOccupied(mailbox.address);
  });
});
