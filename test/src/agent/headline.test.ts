import { randomBytes } from 'node:crypto';
import { AgentRegistry } from '@smtp-slots/core';
import { startExchangeSim, type ExchangeSim } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { AgentFleet } from '../support/agent-fleet.js';
import { fetchUserStats, missingIds } from '../support/sim-stats.js';
import { submitMessages } from '../support/smtp-submitter.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
let fleet: AgentFleet | undefined;
let sim: ExchangeSim | undefined;
afterEach(async () => {
  await fleet?.stop();
  await sim?.stop();
  fleet = sim = undefined;
});

describe('agents: the headline run', () => {
  it('5 agents × 4 workers, 1,000 messages from 20 SMTP threads, limit 3 at 20 ms latency: never more than 3 sessions, no 432, each Message-ID once', async () => {
    const run = randomBytes(4).toString('hex');
    const mailbox = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', limit: 3 };
    sim = await startExchangeSim({ users: [{ address: mailbox.address, password: mailbox.password }], limit: 3, ratePerMinute: 1_000_000, faults: { latencyMs: 20 } });
    fleet = await AgentFleet.start(5, `fe-${run}`, { redisUrl: inject('redisUrl'), upstreamPort: sim.smtpPort, mailbox, workers: 4 });

    const submitted = await submitMessages({ relays: fleet.relayPorts, count: 1_000, threads: 20, from: mailbox.address, runId: run });
    expect(submitted.failed).toEqual([]);
    expect(submitted.accepted).toHaveLength(1_000);

    const httpUrl = sim.httpUrl!;
    await waitFor(async () => (await fetchUserStats(httpUrl, mailbox.address, false)).accepted >= 1_000, {
      timeoutMs: 60_000, intervalMs: 250, message: '1,000 messages at the simulator',
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${fleet!.logs()}`);
    });
    await waitFor(() => fleet!.spoolDepth() === 0, { timeoutMs: 10_000, message: 'empty spools' });

    const stats = await fetchUserStats(httpUrl, mailbox.address);
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
