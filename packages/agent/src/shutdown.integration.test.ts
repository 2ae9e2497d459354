import { randomBytes } from 'node:crypto';
import { settlesWithin } from '@smtp-slots/core';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from './agent.js';
import type { AgentConfigInput } from './config.js';
import { agentTestConfig } from './testing/agent-test-config.js';
import { ScriptedUpstream, type ScriptedUpstreamOptions } from './testing/scripted-upstream.js';

const SHUTDOWN_TIMEOUT_MS = 2_000;
/** stop() must be back by then: the deadline, the dropped connections' 200 ms, the workers' 1 s grace, and a loaded machine. */
const STOP_BOUND_MS = SHUTDOWN_TIMEOUT_MS + 6_000;
const LIMIT = 1;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Setup {
  redis: RedisProcess;
  up: ScriptedUpstream;
  mailbox: string;
  config: AgentConfigInput;
  start(): Promise<Agent>;
}

/** Its own redis-server (the test freezes it), a scripted upstream, and the config of an agent using both. */
async function setup(upstream: (hooks: { freeze: () => void }) => ScriptedUpstreamOptions = () => ({})): Promise<Setup> {
  const redis = await RedisProcess.start();
  let frozen = false;
  /** SIGSTOP, the first time only: the next agent must find Redis answering. */
  const freeze = () => {
    if (frozen) return;
    frozen = true;
    redis.pause();
  };
  cleanups.push(() => redis.stop());
  const mailbox = `m-${randomBytes(4).toString('hex')}@contoso.example`;
  const up = await new ScriptedUpstream({ users: { [mailbox]: 'pw' }, ...upstream({ freeze }) }).start();
  cleanups.push(() => up.stop());
  const config = agentTestConfig({
    redisUrl: redis.url, mailbox, upstreamPort: up.port, spoolPrefix: 'agent-shutdown-', mailboxOverrides: { limit: LIMIT },
    top: { sender: { workers: 1, retry: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 } }, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS },
  });
  return {
    redis, up, mailbox, config,
    start: async () => {
      const agent = await createAgent(config);
      cleanups.push(() => agent.stop());
      return agent;
    },
  };
}

const mail = (from: string, n: number) => ({ from, to: `r${n}@fabrikam.example`, subject: `m${n}`, text: `body ${n}` });

async function busyWorkers(agent: Agent, mailbox: string): Promise<number> {
  const health = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/healthz`)).json() as { mailboxes: Record<string, { busyWorkers: number }> };
  return health.mailboxes[mailbox]?.busyWorkers ?? 0;
}

/**
 * After the frozen Redis answers again: a new agent on the same spool delivers what the stopped
 * one left there, never over the limit (the stopped agent's leases expire, nobody else's slot is used).
 */
async function resumeAndDeliver(s: Setup, messageIds: string[]): Promise<void> {
  s.redis.resume();
  const again = await s.start();
  await waitFor(() => messageIds.every((id) => (s.up.counts().get(id) ?? 0) >= 1) && again.spoolDepth() === 0, { timeoutMs: 20_000, message: 'every message delivered by the next agent' });
  expect(s.up.peak).toBeLessThanOrEqual(LIMIT);
}

describe('agent stop() when Redis stops answering (SIGSTOP)', () => {
  it('during acquire: stop() resolves, the message stays in the spool and is sent after SIGCONT', async () => {
    const s = await setup();
    const agent = await s.start();
    s.redis.pause();
    const receipt = await agent.send(mail(s.mailbox, 1));
    // The worker asked for a slot: its acquire waits for the frozen Redis.
    await waitFor(async () => (await busyWorkers(agent, s.mailbox)) >= 1, { message: 'a worker acquiring' });
    expect(await settlesWithin(agent.stop(), STOP_BOUND_MS)).toBe(true);
    expect(agent.spoolDepth()).toBe(1);
    expect(s.up.sessions).toBe(0);
    await resumeAndDeliver(s, [receipt.messageId]);
  });

  it('during renew: the socket goes at the lease deadline, stop() resolves, the message is sent again after SIGCONT', async () => {
    // Frozen while the message is on the wire; the reply takes longer than a renewal interval.
    const s = await setup(({ freeze }) => ({ latencyMs: 2_500, onRecipient: () => void freeze() }));
    const agent = await s.start();
    const receipt = await agent.send(mail(s.mailbox, 1));
    await waitFor(() => s.up.sessions >= 1 && s.up.open === 1, { message: 'the upstream session open' });
    // The first renewal (at a third of the TTL) is sent to the frozen server.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await settlesWithin(agent.stop(), STOP_BOUND_MS)).toBe(true);
    expect(s.up.open).toBe(0);
    await resumeAndDeliver(s, [receipt.messageId]);
  });

  it('during release: the message was accepted, stop() resolves, nothing is sent twice', async () => {
    // Frozen just before the upstream's 250: the QUIT and the release go to the frozen server.
    const s = await setup(({ freeze }) => ({ onMessage: () => void freeze() }));
    const agent = await s.start();
    const receipt = await agent.send(mail(s.mailbox, 1));
    await receipt.delivered();
    expect(await settlesWithin(agent.stop(), STOP_BOUND_MS)).toBe(true);
    expect(agent.spoolDepth()).toBe(0);
    await resumeAndDeliver(s, [receipt.messageId]);
    expect(s.up.counts().get(receipt.messageId)).toBe(1);
  });

  it('during shutdown itself: frozen right after stop() began, stop() still resolves; queued mail stays in the spool', async () => {
    const s = await setup(() => ({ latencyMs: 500 }));
    const agent = await s.start();
    const sent = await Promise.all([1, 2, 3].map((n) => agent.send(mail(s.mailbox, n))));
    await waitFor(() => s.up.attempts.size >= 1, { message: 'the first message at the upstream' });
    const stopping = agent.stop();
    // Every Redis call of the shutdown (release, leaving the registry, QUIT) meets a frozen server.
    s.redis.pause();
    expect(await settlesWithin(stopping, STOP_BOUND_MS)).toBe(true);
    expect(s.up.open).toBe(0);
    await resumeAndDeliver(s, sent.map((r) => r.messageId));
  });
});
