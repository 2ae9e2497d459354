import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MailboxAdmin } from '@smtp-slots/core';
import type { ExchangeSim } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { UpstreamInput } from '../support/agent-fleet.js';
import { useAgentScenarios } from '../support/agent-scenario.js';
import { missingIds } from '../support/sim-stats.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
const scenarios = useAgentScenarios();
const TENANT = 'contoso.onmicrosoft.com';
const APP = { clientId: 'graph-app', clientSecret: 'graph-app-secret' };

/** The agents send through the simulator's Graph sendMail with a token from its token endpoint. */
const graphUpstream = (_address: string, sim: ExchangeSim): UpstreamInput => ({
  type: 'graph',
  graphUrl: sim.httpUrl!,
  // The simulator is reached over http on loopback; the token is asked for Graph's real scope.
  auth: { type: 'oauth2', tenantId: TENANT, tokenUrl: `${sim.httpUrl}/${TENANT}/oauth2/v2.0/token`, scope: 'https://graph.microsoft.com/.default', ...APP },
});

describe('agents: Microsoft Graph sendMail transport', () => {
  it('4 agents x 3 workers, one Graph mailbox, 300 messages: all delivered once, at most 4 requests in flight, no MailboxConcurrency 429', async () => {
    const s = await scenarios.start({
      agents: 4, workers: 3, redisUrl: inject('redisUrl'),
      sim: { oauthOnly: true, apps: [APP], faults: { latencyMs: 20 } },
      upstream: graphUpstream,
    });
    const submitted = await s.submit({ count: 300, threads: 20 });
    expect(submitted.failed).toEqual([]);
    await s.waitForDelivery(submitted.accepted, { timeoutMs: 90_000 });
    await s.waitForEmptySpools();
    const stats = await s.stats();
    expect(missingIds(stats, submitted.accepted)).toEqual([]);
    expect(stats.accepted).toBe(300);
    expect(stats.duplicates).toBe(0);
    expect(stats.graph.peakInFlight).toBeLessThanOrEqual(4);
    expect(stats.graph.peakInFlight).toBeGreaterThanOrEqual(2); // the limit was used, not one at a time
    expect(stats.graph.throttledConcurrency).toBe(0);
    expect(stats.sessionsTotal).toBe(0); // nothing went over SMTP
    expect(s.fleet.deadLetters()).toBe(0);
  });

  it('an outside client holding a request slot: 429 MailboxConcurrency is feedback, the effective limit drops to 3, nothing lost', async () => {
    const s = await scenarios.start({
      agents: 2, workers: 4, redisUrl: inject('redisUrl'),
      sim: { oauthOnly: true, apps: [APP], faults: { latencyMs: 30 } },
      upstream: graphUpstream,
    });
    s.sim.setFaults({ graphOutsideInFlight: 1 }, s.mailbox.address);
    const submitted = await s.submit({ count: 120, threads: 10 });
    expect(submitted.failed).toEqual([]);
    await s.waitForDelivery(submitted.accepted, { timeoutMs: 90_000 });
    await s.waitForEmptySpools();
    const stats = await s.stats();
    expect(stats.graph.throttledConcurrency).toBeGreaterThan(0);
    expect(stats.accepted).toBe(120);
    expect(stats.duplicates).toBe(0);
    expect(stats.graph.peakInFlight).toBeLessThanOrEqual(4);
    const snapshot = await new MailboxAdmin(redis).snapshot(s.mailbox.address);
    expect(snapshot?.effectiveLimit).toBe(3);
    expect(snapshot?.counters['rejections:432']).toBe(stats.graph.throttledConcurrency);
    expect(s.fleet.deadLetters()).toBe(0);
  });

  it('a 6 MB message is a dead letter whose reason names the Graph request limit; the rest is delivered', async () => {
    const s = await scenarios.start({
      agents: 1, workers: 2, redisUrl: inject('redisUrl'),
      sim: { oauthOnly: true, apps: [APP] },
      upstream: graphUpstream,
    });
    const small = await s.submit({ count: 2, threads: 1 });
    const big = await s.submit({ count: 1, threads: 1, runId: `${s.run}-big`, bodyBytes: 6 * 1024 * 1024 });
    expect(big.failed).toEqual([]);
    await s.waitForDelivery(small.accepted);
    await waitFor(() => s.fleet.deadLetters() === 1, { timeoutMs: 20_000, message: 'the big message in the dead letters' });
    const agent = s.fleet.agents[0]!;
    const [deadFile] = agent.spoolFiles('dead');
    // The dead letter's header keeps the reason (the 6 MB body follows it).
    const header = readFileSync(join(agent.spoolDir, 'dead', deadFile!)).subarray(0, 64 * 1024).toString('utf8');
    expect(header).toMatch(/above the Graph sendMail request limit of 4194304 bytes/);
    expect((await s.stats()).graph.tooLarge).toBe(0); // refused before sending, not by Graph
  });

  it('a 403 (the app lacks Mail.Send) pauses the mailbox with the reason; the mail stays queued', async () => {
    const s = await scenarios.start({
      agents: 1, workers: 2, redisUrl: inject('redisUrl'),
      sim: { oauthOnly: true, apps: [{ ...APP, permissions: ['SMTP.SendAsApp'] }] },
      upstream: graphUpstream,
    });
    const submitted = await s.submit({ count: 3, threads: 1 });
    expect(submitted.failed).toEqual([]);
    const config = await waitFor(async () => {
      const c = await new MailboxAdmin(redis).getConfig(s.mailbox.address);
      return c?.paused ? c : null;
    }, { timeoutMs: 20_000, message: 'mailbox paused' });
    expect(config.pauseReason).toContain('Graph 403 ErrorAccessDenied');
    expect(s.fleet.spoolDepth()).toBe(3);
    expect(s.fleet.deadLetters()).toBe(0);
  });
});
