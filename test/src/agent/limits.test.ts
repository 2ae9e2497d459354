import { sleep, waitFor } from '@smtp-slots/testkit';
import { describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';

const scenarios = useAgentScenarios();

describe('agents: shared rate limit and recipient budget', () => {
  it('the per-minute rate is never exceeded as the simulator counts it', async () => {
    // The simulator's clock runs 6× fast: its "30 per minute" window is 10 real seconds, i.e. 180/min
    // real, one message per 333 ms. Faster, a send delayed by more than one spacing on a busy machine
    // (tokens are spaced in Redis time, arrivals are counted at the simulator) looked like an overrun.
    const speed = 6;
    const start = Date.now();
    const s = await scenarios.start({
      agents: 2, workers: 4, redisUrl: inject('redisUrl'), mailbox: { limit: 3, ratePerMinute: 30 * speed },
      sim: { limit: 3, ratePerMinute: 30, faults: { latencyMs: 10 }, now: () => start + (Date.now() - start) * speed },
    });
    const submitted = await s.submit({ count: 60, threads: 20 });
    expect(submitted.failed).toEqual([]);

    await s.waitForDelivery(submitted.accepted, { timeoutMs: 60_000, message: 'all 60 delivered' });
    const stats = await s.stats();
    // Any message beyond 30 in a (simulated) minute would have been carried over and counted here.
    expect(stats.delayed).toBe(0);
    expect(stats.pendingRelease).toBe(0);
    expect(stats.accepted).toBe(60);
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
  });

  it('an exhausted recipient budget holds the mailbox: no 554 5.2.0 is provoked, and the metrics show it', async () => {
    const { fleet, ...s } = await scenarios.start({
      agents: 2, workers: 4, redisUrl: inject('redisUrl'), mailbox: { limit: 3, recipientsPerDay: 20 }, sim: { limit: 3, recipientsPerDay: 20 },
    });
    // 8 messages × 3 recipients = 24 recipients for a budget of 20: the 7th message no longer fits.
    const submitted = await s.submit({ count: 8, threads: 4, recipients: (n) => [0, 1, 2].map((r) => `rcpt-${n}-${r}@fabrikam.example`) });
    expect(submitted.failed).toEqual([]);

    await waitFor(async () => (await fleet.metric('smtp_slots_mailbox_held', { reason: 'recipients' })) >= 1, { timeoutMs: 20_000, message: 'mailbox held for its recipient budget' });
    await waitFor(async () => (await s.stats(false)).accepted === 6, { timeoutMs: 10_000, message: '6 messages (18 recipients) sent' });
    await sleep(1_500); // the hold keeps holding: nothing else goes out
    const stats = await s.stats(false);
    expect(stats.accepted).toBe(6);
    expect(stats.recipients24h).toBe(18);
    expect(stats.rejectedQuota).toBe(0); // never knowingly tripped 554 5.2.0
    expect(fleet.spoolDepth()).toBe(2); // held, not lost and not dead
    expect(fleet.deadLetters()).toBe(0);
    expect(await fleet.metric('smtp_slots_recipients_24h')).toBeGreaterThanOrEqual(18);
  });
});
