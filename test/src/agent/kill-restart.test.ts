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

describe('agents: killed mid-run', () => {
  it('2 of 5 agents SIGKILLed while sending and restarted: nothing lost, peak still ≤ 3, duplicates bounded and explained', async () => {
    const run = randomBytes(4).toString('hex');
    const mailbox = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', limit: 3 };
    sim = await startExchangeSim({ users: [{ address: mailbox.address, password: mailbox.password }], limit: 3, ratePerMinute: 1_000_000, faults: { latencyMs: 20 } });
    fleet = await AgentFleet.start(5, `fe-${run}`, { redisUrl: inject('redisUrl'), upstreamPort: sim.smtpPort, mailbox, workers: 4 });
    const httpUrl = sim.httpUrl!;

    const submitted = await submitMessages({ relays: fleet.relayPorts, count: 1_000, threads: 20, from: mailbox.address, runId: run });
    expect(submitted.failed).toEqual([]);

    await waitFor(async () => (await fetchUserStats(httpUrl, mailbox.address, false)).accepted >= 300, { timeoutMs: 30_000, intervalMs: 50 });
    const [first, second] = fleet.agents;
    await Promise.all([first!.kill(), second!.kill()]);
    const queuedAtKill = first!.spoolFiles('queued').length + first!.spoolFiles('sending').length + second!.spoolFiles('queued').length + second!.spoolFiles('sending').length;
    await sleep(300);
    await Promise.all([first!.restart(), second!.restart()]);

    await waitFor(async () => missingIds(await fetchUserStats(httpUrl, mailbox.address), submitted.accepted).length === 0, {
      timeoutMs: 60_000, intervalMs: 250, message: 'every submitted Message-ID at the simulator',
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${fleet!.logs()}`);
    });
    await waitFor(() => fleet!.spoolDepth() === 0, { timeoutMs: 15_000, message: 'empty spools' });

    const stats = await fetchUserStats(httpUrl, mailbox.address);
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
