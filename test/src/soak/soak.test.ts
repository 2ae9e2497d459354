import { randomBytes } from 'node:crypto';
import { startExchangeSim } from '@smtp-slots/exchange-sim';
import { describeOverlaps, MeteredProxy, RedisProcess, sleep, waitFor } from '@smtp-slots/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentFleet, type MailboxUnderTest } from '../support/agent-fleet.js';
import { fetchUserStats, missingIds } from '../support/sim-stats.js';
import { submitMessages } from '../support/smtp-submitter.js';
import { ChaosMonkey } from './chaos.js';
import { overlapNotes } from './overlap-notes.js';
import { countPossibleDuplicates } from './possible-duplicates.js';

// The default suite runs a bounded soak (every fault at least once, under 3 min on a 2-core
// machine); `pnpm soak` runs the long one (SOAK_MESSAGES=5000 SOAK_SECONDS=600).
const LONG = process.env.SOAK_MESSAGES !== undefined;
const MESSAGES = Number(process.env.SOAK_MESSAGES ?? 600);
/** The chaos phase lasts until every accepted message arrived (and one full fault cycle ran), or this long at most. */
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const AGENTS = 5;
const WORKERS = 3;
const LIMIT = 3;
const LEASE_TTL_MS = 3_000;
const WAVES = 10;
/** Between waves of submissions: the bounded run spreads its few messages over the fault cycle. */
const WAVE_PAUSE_MS = LONG ? 1_000 : 3_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('soak: 5 agents under faults', () => {
  it(`${MESSAGES} messages through SIGKILL, SIGSTOP past the lease TTL, Redis restarts, 421 and connection resets: none lost, duplicates all counted, in use ≤ limit`, { timeout: (SECONDS + 70) * 1000 }, async () => {
    const run = randomBytes(4).toString('hex');
    const prefix = `soak-${run}`;
    const mailbox: MailboxUnderTest = { address: `${prefix}@contoso.example`, password: 'upstream-secret', limit: LIMIT };
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.stop());
    // The simulator enforces the limit as Exchange does (432); the proxy in front measures.
    const sim = await startExchangeSim({ limit: LIMIT, ratePerMinute: 1_000_000, faults: { latencyMs: [5, 30] }, users: [{ address: mailbox.address, password: mailbox.password }] });
    cleanups.push(() => sim.stop());
    const proxy = await new MeteredProxy({ host: '127.0.0.1', port: sim.smtpPort }).start();
    cleanups.push(() => proxy.stop());
    // Debug logs carry each connection's slot, fencing token and local port (the overlap report reads them).
    const fleet = await AgentFleet.start(AGENTS, prefix, { redisUrl: redis.url, upstreamPort: proxy.port, mailbox, workers: WORKERS, leaseTtlMs: LEASE_TTL_MS, extra: { logLevel: 'debug' } });
    cleanups.push(() => fleet.stop());
    for (const agent of fleet.agents) cleanups.push(async () => agent.pid !== undefined && agent.running && process.kill(agent.pid, 'SIGCONT'));

    // The submitter reads this array on every attempt: restarted agents' new relay ports go in.
    const relays = fleet.relayPorts;
    const monkey = new ChaosMonkey({ fleet, redis, sim, relays, freezeMs: LEASE_TTL_MS + 1_000 });
    const chaos = monkey.run(2_500, SECONDS * 1000);

    const accepted: string[] = [];
    const resubmitted: string[] = [];
    let refused = 0;
    for (let wave = 0; wave < WAVES; wave += 1) {
      const count = Math.floor(MESSAGES / WAVES) + (wave < MESSAGES % WAVES ? 1 : 0);
      const result = await submitMessages({ relays, count, threads: 6, from: mailbox.address, runId: `${run}w${wave}`, attempts: 20 });
      accepted.push(...result.accepted);
      resubmitted.push(...result.resubmitted);
      refused += result.failed.length;
      await sleep(WAVE_PAUSE_MS);
    }
    const stats = () => fetchUserStats(sim.httpUrl!, mailbox.address);
    await waitFor(async () => (missingIds(await stats(), accepted).length === 0 && monkey.cycles >= 1) || monkey.finished, { timeoutMs: SECONDS * 1000, intervalMs: 1_000 });
    monkey.stop();
    await chaos;
    await waitFor(async () => missingIds(await stats(), accepted).length === 0, { timeoutMs: 45_000, intervalMs: 500, message: 'every accepted message at the upstream' }).catch((error: Error) => {
      throw new Error(`${error.message}\n${fleet.logs(10)}`);
    });
    await waitFor(() => fleet.spoolDepth() === 0, { timeoutMs: 20_000, message: 'empty spools' });

    const final = await stats();
    // The agents' own (lost after the final dot, requeued after a kill) and the applications' (a
    // submission retried on another relay after the first one may have been spooled).
    const possibleDuplicates = countPossibleDuplicates(fleet) + resubmitted.length;
    // Since each agent's start; the max includes a freeze when the frozen agent was not restarted since.
    const [loopP99, loopMax] = await fleet.metricMax(['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']);
    const summary = {
      messages: MESSAGES, accepted: accepted.length, refusedBySubmitter: refused, delivered: final.accepted,
      ...monkey.counts, duplicates: final.duplicates, possibleDuplicates, resubmitted: resubmitted.length,
      peakInUse: proxy.peakInUse(), peakOpen: proxy.peakOpen(), rejected432: final.rejected432, deadLetters: fleet.deadLetters(),
      loopDelayP99Ms: Math.round(1000 * loopP99!), loopDelayMaxMs: Math.round(1000 * loopMax!),
    };
    const width = Math.max(...Object.keys(summary).map((k) => k.length));
    console.log(['soak summary', ...Object.entries(summary).map(([k, v]) => `  ${k.padEnd(width)}  ${String(v).padStart(6)}`)].join('\n'));
    const overlaps = proxy.overlapsAbove(LIMIT);
    if (overlaps.length > 0) console.log(`connections in use above the limit of ${LIMIT}\n${describeOverlaps(overlaps, proxy.wallOffset, overlapNotes(fleet, prefix, monkey, proxy.wallOffset))}`);

    expect(missingIds(final, accepted)).toEqual([]);
    expect(final.duplicates).toBeLessThanOrEqual(possibleDuplicates);
    expect(proxy.peakInUse()).toBeLessThanOrEqual(LIMIT);
    // Open is not in use: an agent frozen (one at a time here) holds the idle sockets of every slot
    // it held (up to min(workers, limit)) open until it resumes and destroys them; the provider
    // counts them, and its 432s are handled as ground truth.
    expect(proxy.peakOpen()).toBeLessThanOrEqual(LIMIT + Math.min(WORKERS, LIMIT));
    expect(fleet.deadLetters()).toBe(0);
    expect(monkey.counts.kills).toBeGreaterThan(0);
    expect(monkey.counts.freezes).toBeGreaterThan(0);
    expect(monkey.counts.redisRestarts).toBeGreaterThan(0);
  });
});
