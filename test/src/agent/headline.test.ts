import { AgentRegistry } from '@smtp-slots/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';
import { missingIds } from '../support/sim-stats.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
const scenarios = useAgentScenarios();

describe('agents: the headline run', () => {
  it('5 agents × 4 workers, 1,000 messages from 20 SMTP threads, limit 3 at 20 ms latency: never more than 3 sessions, no 432, each Message-ID once', async () => {
    const { run, mailbox, fleet, ...s } = await scenarios.start({
      agents: 5, workers: 4, redisUrl: inject('redisUrl'), mailbox: { limit: 3 }, sim: { limit: 3, faults: { latencyMs: 20 } },
    });

    const submitted = await s.submit({ count: 1_000, threads: 20 });
    expect(submitted.failed).toEqual([]);
    expect(submitted.accepted).toHaveLength(1_000);

    await s.waitForDelivery(submitted.accepted, { message: '1,000 messages at the simulator' });
    await s.waitForEmptySpools();

    const stats = await s.stats();
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
    expect(stats.peakCountedSessions).toBeLessThanOrEqual(3);
    expect(stats.rejected432).toBe(0);
    expect(stats.accepted).toBe(1_000);
    expect(stats.duplicates).toBe(0);
    expect(missingIds(stats, submitted.accepted)).toEqual([]);
    expect(fleet.spoolDepth()).toBe(0);
    expect(fleet.deadLetters()).toBe(0);
    // The agents say the same: 1,000 sent in total, none deferred or failed.
    expect(await fleet.metric('smtp_slots_messages_sent_total')).toBe(1_000);
    expect(await fleet.metric('smtp_slots_messages_failed_total')).toBe(0);

    // Each agent registered itself for the coordinator with a heartbeat.
    const registered = (await new AgentRegistry(redis).list()).filter((a) => a.agentId.startsWith(`fe-${run}-`));
    expect(registered.map((a) => a.agentId).sort()).toEqual([1, 2, 3, 4, 5].map((i) => `fe-${run}-${i}`));
    expect(registered.every((a) => a.alive && a.version === '0.1.0' && a.mailboxes.includes(mailbox.address))).toBe(true);

    // SIGTERM: every agent drains and exits 0, and deregisters.
    expect(await fleet.stop()).toEqual([0, 0, 0, 0, 0]);
    expect((await new AgentRegistry(redis).list()).filter((a) => a.agentId.startsWith(`fe-${run}-`))).toEqual([]);
  });
});
