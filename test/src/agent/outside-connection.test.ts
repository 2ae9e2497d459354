import { randomBytes } from 'node:crypto';
import { MailboxAdmin } from '@smtp-slots/core';
import { startExchangeSim, type ExchangeSim } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { AgentFleet } from '../support/agent-fleet.js';
import { fetchUserStats, missingIds } from '../support/sim-stats.js';
import { submitMessages } from '../support/smtp-submitter.js';

let fleet: AgentFleet | undefined;
let sim: ExchangeSim | undefined;
const redis = new Redis(inject('redisUrl'));
afterEach(async () => {
  await fleet?.stop();
  await sim?.stop();
  fleet = sim = undefined;
});
afterAll(() => redis.quit());

describe('agents: someone outside uses the mailbox', () => {
  it('432s appear, the messages are retried automatically, the effective limit drops to 2, everything is delivered once', async () => {
    const run = randomBytes(4).toString('hex');
    const mailbox = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', limit: 3 };
    sim = await startExchangeSim({ users: [{ address: mailbox.address, password: mailbox.password }], limit: 3, ratePerMinute: 1_000_000, faults: { latencyMs: 20 } });
    fleet = await AgentFleet.start(2, `fe-${run}`, { redisUrl: inject('redisUrl'), upstreamPort: sim.smtpPort, mailbox, workers: 4 });
    const httpUrl = sim.httpUrl!;

    const submitted = await submitMessages({ relays: fleet.relayPorts, count: 300, threads: 20, from: mailbox.address, runId: run });
    expect(submitted.failed).toEqual([]);
    await waitFor(async () => (await fetchUserStats(httpUrl, mailbox.address, false)).accepted >= 50, { timeoutMs: 30_000, intervalMs: 50 });
    // An Outlook session that was there first: it outranks ours, so our newest session is over the limit.
    sim.occupy(mailbox.address, 1, { front: true });

    await waitFor(async () => missingIds(await fetchUserStats(httpUrl, mailbox.address), submitted.accepted).length === 0, {
      timeoutMs: 60_000, intervalMs: 250, message: 'every message delivered',
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${fleet!.logs()}`);
    });
    await waitFor(() => fleet!.spoolDepth() === 0, { timeoutMs: 10_000, message: 'empty spools' });

    const stats = await fetchUserStats(httpUrl, mailbox.address);
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
