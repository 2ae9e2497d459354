import { RedisProcess, sleep, waitFor } from '@smtp-slots/testkit';
import { describe, expect, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';

const scenarios = useAgentScenarios();

describe('agents: Redis stopped mid-run', () => {
  it('relays keep accepting into the spool, no upstream connection without a lease; Redis back → delivery resumes, nothing lost', async () => {
    const redis = await RedisProcess.start();
    scenarios.after(() => redis.stop());
    const { run, fleet, ...s } = await scenarios.start({
      agents: 3, workers: 4, redisUrl: redis.url, leaseTtlMs: 3_000, mailbox: { limit: 3 }, sim: { limit: 3, faults: { latencyMs: 20 } },
    });
    const user = () => s.stats(false);

    const before = await s.submit({ count: 300, threads: 12, runId: `${run}a` });
    expect(before.failed).toEqual([]);
    await waitFor(async () => (await user()).accepted >= 60, { timeoutMs: 30_000, intervalMs: 50 });

    await redis.kill();
    // Without renewals every lease reaches its local deadline and its socket is destroyed.
    await waitFor(async () => (await user()).openSessions === 0, { timeoutMs: 10_000, message: 'all upstream sessions closed' });
    const frozen = await user();

    const during = await s.submit({ count: 100, threads: 12, runId: `${run}b` });
    expect(during.failed).toEqual([]); // the relays answered 250: the mail is on disk
    await sleep(2_000);
    const still = await user();
    expect(still.sessionsTotal).toBe(frozen.sessionsTotal); // no connection opened without a lease
    expect(still.accepted).toBe(frozen.accepted);
    expect((await fleet.agents[0]!.health()).redis).toBe('down');
    expect(fleet.spoolDepth()).toBeGreaterThanOrEqual(100);

    await redis.restart(); // same port, empty: the agents must wait out the grace period (invariant 5)
    const submitted = [...before.accepted, ...during.accepted];
    await s.waitForDelivery(submitted, { message: 'every message delivered after Redis came back' });
    await s.waitForEmptySpools();

    const stats = await s.stats();
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
    expect(stats.peakCountedSessions).toBeLessThanOrEqual(3);
    expect(stats.rejected432).toBe(0);
    // Sockets destroyed at the lease deadline may have been past the final dot: at most one per connection.
    expect(stats.duplicates).toBeLessThanOrEqual(3);
    expect(fleet.deadLetters()).toBe(0);
    console.info(`redis-outage: ${stats.accepted} accepted for ${submitted.length} submitted, ${stats.duplicates} duplicate(s)`);
  });
});
