import { randomBytes } from 'node:crypto';
import { startExchangeSim, type ExchangeSim } from '@smtp-slots/exchange-sim';
import { RedisProcess, sleep, waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentFleet } from '../support/agent-fleet.js';
import { fetchUserStats, missingIds } from '../support/sim-stats.js';
import { submitMessages } from '../support/smtp-submitter.js';

let fleet: AgentFleet | undefined;
let sim: ExchangeSim | undefined;
let redis: RedisProcess | undefined;
afterEach(async () => {
  await fleet?.stop();
  await sim?.stop();
  await redis?.stop();
  fleet = sim = redis = undefined;
});

describe('agents: Redis stopped mid-run', () => {
  it('relays keep accepting into the spool, no upstream connection without a lease; Redis back → delivery resumes, nothing lost', async () => {
    const run = randomBytes(4).toString('hex');
    const mailbox = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', limit: 3 };
    redis = await RedisProcess.start();
    sim = await startExchangeSim({ users: [{ address: mailbox.address, password: mailbox.password }], limit: 3, ratePerMinute: 1_000_000, faults: { latencyMs: 20 } });
    fleet = await AgentFleet.start(3, `fe-${run}`, { redisUrl: redis.url, upstreamPort: sim.smtpPort, mailbox, workers: 4, leaseTtlMs: 3_000 });
    const httpUrl = sim.httpUrl!;
    const user = () => fetchUserStats(httpUrl, mailbox.address, false);

    const before = await submitMessages({ relays: fleet.relayPorts, count: 300, threads: 12, from: mailbox.address, runId: `${run}a` });
    expect(before.failed).toEqual([]);
    await waitFor(async () => (await user()).accepted >= 60, { timeoutMs: 30_000, intervalMs: 50 });

    await redis.kill();
    // Without renewals every lease reaches its local deadline and its socket is destroyed.
    await waitFor(async () => (await user()).openSessions === 0, { timeoutMs: 10_000, message: 'all upstream sessions closed' });
    const frozen = await user();

    const during = await submitMessages({ relays: fleet.relayPorts, count: 100, threads: 12, from: mailbox.address, runId: `${run}b` });
    expect(during.failed).toEqual([]); // the relays answered 250: the mail is on disk
    await sleep(2_000);
    const still = await user();
    expect(still.sessionsTotal).toBe(frozen.sessionsTotal); // no connection opened without a lease
    expect(still.accepted).toBe(frozen.accepted);
    expect((await fleet.agents[0]!.health()).redis).toBe('down');
    expect(fleet.spoolDepth()).toBeGreaterThanOrEqual(100);

    await redis.restart(); // same port, empty: the agents must wait out the grace period (invariant 5)
    const submitted = [...before.accepted, ...during.accepted];
    await waitFor(async () => missingIds(await fetchUserStats(httpUrl, mailbox.address), submitted).length === 0, {
      timeoutMs: 60_000, intervalMs: 250, message: 'every message delivered after Redis came back',
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${fleet!.logs()}`);
    });
    await waitFor(() => fleet!.spoolDepth() === 0, { timeoutMs: 10_000, message: 'empty spools' });

    const stats = await fetchUserStats(httpUrl, mailbox.address);
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
    expect(stats.peakCountedSessions).toBeLessThanOrEqual(3);
    expect(stats.rejected432).toBe(0);
    // Sockets destroyed at the lease deadline may have been past the final dot: at most one per connection.
    expect(stats.duplicates).toBeLessThanOrEqual(3);
    expect(fleet.deadLetters()).toBe(0);
    console.info(`redis-outage: ${stats.accepted} accepted for ${submitted.length} submitted, ${stats.duplicates} duplicate(s)`);
  });
});
