import { sleep, waitFor } from '@smtp-slots/testkit';
import { describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';
import { missingIds } from '../support/sim-stats.js';

const scenarios = useAgentScenarios();

describe('agents: killed mid-run', () => {
  it('2 of 5 agents SIGKILLed while sending and restarted: nothing lost, peak still ≤ 3, duplicates bounded and explained', async () => {
    const { fleet, ...s } = await scenarios.start({
      agents: 5, workers: 4, redisUrl: inject('redisUrl'), mailbox: { limit: 3 }, sim: { limit: 3, faults: { latencyMs: 20 } },
    });

    const submitted = await s.submit({ count: 1_000, threads: 20 });
    expect(submitted.failed).toEqual([]);

    await waitFor(async () => (await s.stats(false)).accepted >= 300, { timeoutMs: 30_000, intervalMs: 50 });
    const [first, second] = fleet.agents;
    await Promise.all([first!.kill(), second!.kill()]);
    const queuedAtKill = first!.spoolFiles('queued').length + first!.spoolFiles('sending').length + second!.spoolFiles('queued').length + second!.spoolFiles('sending').length;
    await sleep(300);
    await Promise.all([first!.restart(), second!.restart()]);

    await s.waitForDelivery(submitted.accepted);
    await s.waitForEmptySpools(15_000);

    const stats = await s.stats();
    expect(queuedAtKill).toBeGreaterThan(0); // the kill really interrupted work
    expect(missingIds(stats, submitted.accepted)).toEqual([]);
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
    expect(stats.peakCountedSessions).toBeLessThanOrEqual(3);
    expect(stats.rejected432).toBe(0);
    // A duplicate needs a message whose 250 from the upstream arrived but whose spool file was not
    // yet removed when the process died: at most one per connection the killed agents held (≤ 3).
    expect(stats.duplicates).toBeLessThanOrEqual(3);
    expect(fleet.deadLetters()).toBe(0);
    const reclaimed = [first!, second!].filter((a) => a.log().includes("freed slots still held by this agent's previous (killed) process")).length;
    console.info(`kill-restart: ${reclaimed} restarted agent(s) freed slots of their killed predecessor;`);
    console.info(`kill-restart: ${stats.accepted} accepted, ${stats.duplicates} duplicate(s) ${JSON.stringify(stats.duplicateMessageIds)}, ${queuedAtKill} messages in the killed spools`);
    expect(await fleet.stop()).toEqual([0, 0, 0, 0, 0]);
  });
});
