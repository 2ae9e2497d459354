import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { describe, expect, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';

const scenarios = useAgentScenarios();
const SHUTDOWN_TIMEOUT_MS = 3_000;

describe('agent process: SIGTERM while Redis is frozen (SIGSTOP)', () => {
  it('exits 0 by itself within shutdownTimeoutMs; after SIGCONT and a restart every message is delivered, never over the limit', async () => {
    const redis = await RedisProcess.start();
    scenarios.after(() => redis.stop());
    const { fleet, ...s } = await scenarios.start({
      agents: 1, workers: 3, redisUrl: redis.url, leaseTtlMs: 4_000, mailbox: { limit: 2 },
      sim: { limit: 2, faults: { latencyMs: 400 } }, extra: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS },
    });
    const agent = fleet.agents[0]!;
    const submitted = await s.submit({ count: 40, threads: 4 });
    expect(submitted.failed).toEqual([]);
    await waitFor(async () => (await s.stats(false)).openSessions > 0, { timeoutMs: 20_000, message: 'upstream sessions open' });

    redis.pause(); // leases held, renewals and releases due: none of them will be answered
    // SIGKILL only if it is still running long after its own deadline (then the exit is not 0).
    const exit = await agent.stop(SHUTDOWN_TIMEOUT_MS + 15_000);
    expect(exit, agent.tail()).toEqual({ code: 0, signal: null });
    expect(agent.log()).toContain('shutdown deadline reached with Redis calls unanswered');
    expect((await s.stats(false)).openSessions).toBe(0);

    redis.resume();
    await agent.restart();
    await s.waitForDelivery(submitted.accepted);
    await s.waitForEmptySpools();
    const stats = await s.stats();
    expect(stats.peakConcurrency).toBeLessThanOrEqual(2);
    expect(stats.peakCountedSessions).toBeLessThanOrEqual(2);
    // Sockets destroyed while a reply was due may have been past the final dot: at most one per connection.
    expect(stats.duplicates).toBeLessThanOrEqual(2);
    expect(fleet.deadLetters()).toBe(0);
  });
});
