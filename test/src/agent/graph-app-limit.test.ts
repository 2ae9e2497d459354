import { randomBytes } from 'node:crypto';
import { GLOBAL_KEYS, MailboxAdmin } from '@smtp-slots/core';
import type { AgentConfigInput } from '@smtp-slots/agent';
import { startExchangeSim, type ExchangeSim, type SimStats } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AgentFleet } from '../support/agent-fleet.js';
import { useAgentScenarios } from '../support/agent-scenario.js';
import { submitMessages, type SubmitResult } from '../support/smtp-submitter.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
const scenarios = useAgentScenarios();
const TENANT = 'contoso.onmicrosoft.com';
const SECRET = 'graph-app-shared-secret';

type MailboxInput = AgentConfigInput['mailboxes'][number];

/** Two Graph mailboxes of one app under one shared limit (`upstream.appLimit`), each with its own limit too. */
function graphMailbox(address: string, sim: ExchangeSim, clientId: string, limit: number, appLimit: number, ratePerMinute = 1_000_000): MailboxInput {
  return {
    address, limit, ratePerMinute, recipientsPerDay: 1_000_000,
    upstream: {
      type: 'graph', graphUrl: sim.httpUrl!, appLimit: { limit: appLimit },
      auth: { type: 'oauth2', tenantId: TENANT, tokenUrl: `${sim.httpUrl}/${TENANT}/oauth2/v2.0/token`, scope: 'https://graph.microsoft.com/.default', clientId, clientSecret: SECRET },
    },
  };
}

interface SharedRun {
  /** The app's client id: the shared limit's default key, unique per run (Redis keeps a limit once registered). */
  clientId: string;
  sim: ExchangeSim;
  fleet: AgentFleet;
  mailboxes: [string, string];
  stats(): Promise<SimStats>;
}

async function startShared(agents: number, limits: { mailbox: number; app: number; latencyMs: number; firstRatePerMinute?: number; leaseTtlMs?: number }): Promise<SharedRun> {
  const run = randomBytes(4).toString('hex');
  const mailboxes: [string, string] = [`orders-${run}@contoso.example`, `billing-${run}@contoso.example`];
  const clientId = `graph-app-${run}`;
  const sim = await startExchangeSim({ oauthOnly: true, apps: [{ clientId, clientSecret: SECRET }], ratePerMinute: 1_000_000, users: mailboxes.map((address) => ({ address })), faults: { latencyMs: limits.latencyMs } });
  scenarios.after(() => sim.stop());
  const fleet = await AgentFleet.start(agents, `app-${run}`, {
    redisUrl: inject('redisUrl'), upstreamPort: sim.smtpPort, mailbox: { address: mailboxes[0], password: 'unused' }, workers: 4,
    ...(limits.leaseTtlMs ? { leaseTtlMs: limits.leaseTtlMs } : {}),
    extra: { mailboxes: mailboxes.map((address, i) => graphMailbox(address, sim, clientId, limits.mailbox, limits.app, i === 0 ? limits.firstRatePerMinute : undefined)) },
  });
  // Agents drain before the simulator stops (clean-ups registered later run first).
  scenarios.after(() => fleet.stop());
  const stats = async () => (await (await fetch(`${sim.httpUrl}/stats?messageIds=true`)).json()) as SimStats;
  return { clientId, sim, fleet, mailboxes, stats };
}

async function waitForAll(shared: SharedRun, submitted: SubmitResult[], timeoutMs: number): Promise<void> {
  const expected = submitted.flatMap((s) => s.accepted);
  await waitFor(async () => {
    const { users } = await shared.stats();
    const received = new Set(shared.mailboxes.flatMap((m) => users[m]?.messageIds ?? []));
    return expected.every((id) => received.has(id));
  }, { timeoutMs, intervalMs: 250, message: 'every message of both mailboxes at the simulator' }).catch((error: Error) => {
    throw new Error(`${error.message}\n${shared.fleet.logs()}`);
  });
  await waitFor(() => shared.fleet.spoolDepth() === 0, { timeoutMs: 10_000, message: 'empty spools' });
}

describe('agents: Graph mailboxes under one app limit (upstream.appLimit)', () => {
  it('two mailboxes (limit 4 each) under appLimit 3: at most 3 requests in flight across both, all delivered once', async () => {
    const shared = await startShared(2, { mailbox: 4, app: 3, latencyMs: 30 });
    const [a, b] = shared.mailboxes;
    const app = shared.clientId;
    const relays = shared.fleet.relayPorts;
    const submitted = await Promise.all([
      submitMessages({ relays, from: a, runId: `${a}-run`, count: 100, threads: 6 }),
      submitMessages({ relays, from: b, runId: `${b}-run`, count: 100, threads: 6 }),
    ]);
    expect(submitted.flatMap((s) => s.failed)).toEqual([]);
    await waitForAll(shared, submitted, 90_000);
    const stats = await shared.stats();
    expect(stats.apps[shared.clientId]?.peakInFlight).toBeLessThanOrEqual(3);
    expect(stats.apps[shared.clientId]?.peakInFlight).toBeGreaterThanOrEqual(2); // both mailboxes took part of it
    expect([stats.users[a]?.accepted, stats.users[b]?.accepted]).toEqual([100, 100]);
    expect(stats.totals.duplicates).toBe(0);
    expect(stats.totals.graphThrottledConcurrency).toBe(0);
    expect(shared.fleet.deadLetters()).toBe(0);
    // The shared limit lives in Redis like a mailbox: the coordinator lists and shows it.
    expect(await new MailboxAdmin(redis).snapshot(`app:${app}`)).toMatchObject({ config: { limit: 3 }, inUse: 0 });
    expect(await redis.sismember(GLOBAL_KEYS.mailboxes, `app:${app}`)).toBe(1);
  });

  it('no deadlock: two agents, mailboxes A and B sharing an app limit of 1, traffic for both through both agents in opposite order', async () => {
    const shared = await startShared(2, { mailbox: 2, app: 1, latencyMs: 10 });
    const [a, b] = shared.mailboxes;
    const [first, second] = shared.fleet.relayPorts as [number, number];
    const submitted = await Promise.all([
      submitMessages({ relays: [first, second], from: a, runId: `${a}-run`, count: 60, threads: 4 }),
      submitMessages({ relays: [second, first], from: b, runId: `${b}-run`, count: 60, threads: 4 }),
    ]);
    expect(submitted.flatMap((s) => s.failed)).toEqual([]);
    await waitForAll(shared, submitted, 90_000);
    const stats = await shared.stats();
    expect(stats.apps[shared.clientId]?.peakInFlight).toBe(1);
    expect([stats.users[a]?.accepted, stats.users[b]?.accepted]).toEqual([60, 60]);
    expect(stats.totals.duplicates).toBe(0);
  });

  it('a request waiting for its rate token does not keep the shared slot: the other mailbox goes meanwhile', async () => {
    // Mailbox A's tokens are ~4 s apart, a wait short enough for maxRateWaitMs (5 s) and the lease (10 s):
    // A's second message would wait for its token in place.
    const shared = await startShared(1, { mailbox: 2, app: 1, latencyMs: 10, firstRatePerMinute: 15, leaseTtlMs: 10_000 });
    const [a, b] = shared.mailboxes;
    const relays = shared.fleet.relayPorts;
    const received = async (mailbox: string) => (await shared.stats()).users[mailbox]?.messageIds ?? [];
    const fromA = await submitMessages({ relays, from: a, runId: `${a}-run`, count: 2, threads: 2 });
    expect(fromA.failed).toEqual([]);
    await waitFor(async () => (await received(a)).length === 1, { intervalMs: 50, message: "A's first message at the simulator" });
    const fromB = await submitMessages({ relays, from: b, runId: `${b}-run`, count: 1, threads: 1 });
    expect(fromB.failed).toEqual([]);
    await waitFor(async () => (await received(b)).length === 1, { timeoutMs: 15_000, intervalMs: 50, message: "B's message at the simulator" });
    // B did not wait behind A's rate wait under the one shared slot.
    expect(await received(a)).toHaveLength(1);
    await waitForAll(shared, [fromA, fromB], 30_000);
    const stats = await shared.stats();
    expect([stats.users[a]?.accepted, stats.users[b]?.accepted]).toEqual([2, 1]);
    expect(stats.totals.duplicates).toBe(0);
  });
});
