import { randomBytes } from 'node:crypto';
import { startExchangeSim, type ExchangeSim } from '@smtp-slots/exchange-sim';
import { sleep, waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { AgentFleet } from '../support/agent-fleet.js';
import { fetchUserStats, missingIds } from '../support/sim-stats.js';
import { submitMessages } from '../support/smtp-submitter.js';

let fleet: AgentFleet | undefined;
let sim: ExchangeSim | undefined;
afterEach(async () => {
  await fleet?.stop();
  await sim?.stop();
  fleet = sim = undefined;
});

describe('agents: shared rate limit and recipient budget', () => {
  it('the per-minute rate is never exceeded as the simulator counts it', async () => {
    const run = randomBytes(4).toString('hex');
    // The simulator's clock runs 12× fast: its "30 per minute" window is 5 real seconds, i.e. 360/min real.
    const speed = 12;
    const start = Date.now();
    const mailbox = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', limit: 3, ratePerMinute: 30 * speed };
    sim = await startExchangeSim({
      users: [{ address: mailbox.address, password: mailbox.password }], limit: 3, ratePerMinute: 30, faults: { latencyMs: 10 },
      now: () => start + (Date.now() - start) * speed,
    });
    fleet = await AgentFleet.start(2, `fe-${run}`, { redisUrl: inject('redisUrl'), upstreamPort: sim.smtpPort, mailbox, workers: 4 });
    const submitted = await submitMessages({ relays: fleet.relayPorts, count: 60, threads: 20, from: mailbox.address, runId: run });
    expect(submitted.failed).toEqual([]);

    const httpUrl = sim.httpUrl!;
    await waitFor(async () => missingIds(await fetchUserStats(httpUrl, mailbox.address), submitted.accepted).length === 0, {
      timeoutMs: 40_000, intervalMs: 250, message: 'all 60 delivered',
    });
    const stats = await fetchUserStats(httpUrl, mailbox.address);
    // Any message beyond 30 in a (simulated) minute would have been carried over and counted here.
    expect(stats.delayed).toBe(0);
    expect(stats.pendingRelease).toBe(0);
    expect(stats.accepted).toBe(60);
    expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
  });

  it('an exhausted recipient budget holds the mailbox: no 554 5.2.0 is provoked, and the metrics show it', async () => {
    const run = randomBytes(4).toString('hex');
    const mailbox = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', limit: 3, recipientsPerDay: 20 };
    sim = await startExchangeSim({ users: [{ address: mailbox.address, password: mailbox.password }], limit: 3, ratePerMinute: 1_000_000, recipientsPerDay: 20 });
    fleet = await AgentFleet.start(2, `fe-${run}`, { redisUrl: inject('redisUrl'), upstreamPort: sim.smtpPort, mailbox, workers: 4 });
    // 8 messages × 3 recipients = 24 recipients for a budget of 20: the 7th message no longer fits.
    const submitted = await submitMessages({
      relays: fleet.relayPorts, count: 8, threads: 4, from: mailbox.address, runId: run,
      recipients: (n) => [0, 1, 2].map((r) => `rcpt-${n}-${r}@fabrikam.example`),
    });
    expect(submitted.failed).toEqual([]);

    const httpUrl = sim.httpUrl!;
    await waitFor(async () => (await fleet!.metric('smtp_slots_mailbox_held', { reason: 'recipients' })) >= 1, { timeoutMs: 20_000, message: 'mailbox held for its recipient budget' });
    await waitFor(async () => (await fetchUserStats(httpUrl, mailbox.address, false)).accepted === 6, { timeoutMs: 10_000, message: '6 messages (18 recipients) sent' });
    await sleep(1_500); // the hold keeps holding: nothing else goes out
    const stats = await fetchUserStats(httpUrl, mailbox.address, false);
    expect(stats.accepted).toBe(6);
    expect(stats.recipients24h).toBe(18);
    expect(stats.rejectedQuota).toBe(0); // never knowingly tripped 554 5.2.0
    expect(fleet.spoolDepth()).toBe(2); // held, not lost and not dead
    expect(fleet.deadLetters()).toBe(0);
    expect(await fleet.metric('smtp_slots_recipients_24h')).toBeGreaterThanOrEqual(18);
  });
});
