import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecipientLedger } from '@smtp-slots/core';
import { getFreePort, metricSum, parseMetrics, waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createAgent, type Agent } from './agent.js';
import type { AgentConfigInput } from './config.js';
import { ScriptedUpstream, type ScriptedUpstreamOptions } from './testing/scripted-upstream.js';

// The 24 h recipient ledger counts what the upstream accepted: reservations of recipients it never
// accepted go back, so the ledger over-counts by at most the messages in flight.
const redis = new Redis(inject('redisUrl'));
const ledger = new RecipientLedger(redis);
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => redis.quit());

const newMailbox = () => `m-${randomBytes(4).toString('hex')}@contoso.example`;
const recipients = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@fabrikam.example`);

async function upstream(mailbox: string, options: ScriptedUpstreamOptions = {}): Promise<number> {
  const server = await new ScriptedUpstream({ users: { [mailbox]: 'pw' }, ...options }).start();
  cleanups.push(() => server.stop());
  return server.port;
}

async function start(mailbox: string, port: number): Promise<Agent> {
  const config: AgentConfigInput = {
    agentId: `agent-${randomBytes(3).toString('hex')}`,
    redis: { url: inject('redisUrl') },
    relay: { port: 0 },
    spool: { dir: mkdtempSync(join(tmpdir(), 'agent-ledger-')) },
    metrics: { port: 0 },
    slots: { leaseTtlMs: 3_000 },
    // Deferred messages stay deferred while the test reads the ledger.
    sender: { workers: 2, retry: { initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: 0 } },
    shutdownTimeoutMs: 3_000,
    logLevel: 'silent',
    mailboxes: [{ address: mailbox, upstream: { host: '127.0.0.1', port, auth: { user: mailbox, pass: 'pw' } }, limit: 2, ratePerMinute: 1_000_000 }],
  };
  const agent = await createAgent(config);
  cleanups.push(() => agent.stop());
  return agent;
}

async function deferred(agent: Agent, mailbox: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
  return metricSum(parseMetrics(text), 'smtp_slots_messages_deferred_total', { mailbox });
}

describe('recipient reservations in the 24 h ledger', () => {
  it('an upstream refusing connections: the 5 recipients of the deferred messages are not counted', async () => {
    const mailbox = newMailbox();
    const closed = await getFreePort(); // nobody listens: connection refused
    const agent = await start(mailbox, closed);
    await agent.send({ from: mailbox, to: recipients(3), subject: 'a', text: 'a' });
    await agent.send({ from: mailbox, to: recipients(2), subject: 'b', text: 'b' });
    await waitFor(async () => (await deferred(agent, mailbox)) >= 2, { timeoutMs: 20_000, message: 'both messages deferred' });
    expect(agent.spoolDepth()).toBe(2);
    expect(await ledger.used(mailbox)).toBe(0);
  });

  it('a recipient refused with 550 is not counted; the accepted ones are', async () => {
    const mailbox = newMailbox();
    const port = await upstream(mailbox, { onRecipient: (to) => (to === 'r1@fabrikam.example' ? { code: 550, text: '5.1.1 User unknown' } : undefined) });
    const agent = await start(mailbox, port);
    const receipt = await agent.send({ from: mailbox, to: recipients(3), subject: 'c', text: 'c' });
    expect(await receipt.delivered()).toMatchObject({ status: 'sent', bounced: ['r1@fabrikam.example'] });
    await waitFor(async () => (await ledger.used(mailbox)) === 2, { message: 'two recipients counted' });
  });

  it('a message refused at the end of DATA (451) gives its recipients back; a lost final reply keeps them counted', async () => {
    const mailbox = newMailbox();
    const port = await upstream(mailbox, { onMessage: ({ subject }) => (subject === 'refused' ? { code: 451, text: '4.3.0 try later' } : 'drop') });
    const agent = await start(mailbox, port);
    await agent.send({ from: mailbox, to: recipients(4), subject: 'refused', text: 'x' });
    await waitFor(async () => (await deferred(agent, mailbox)) >= 1, { timeoutMs: 20_000, message: 'the refused message deferred' });
    expect(await ledger.used(mailbox)).toBe(0);
    // Dropped after the final dot: maybe delivered, so it stays counted (never under-count).
    await agent.send({ from: mailbox, to: recipients(2), subject: 'maybe', text: 'y' });
    await waitFor(async () => (await deferred(agent, mailbox)) >= 2, { timeoutMs: 20_000, message: 'the dropped message deferred' });
    expect(await ledger.used(mailbox)).toBe(2);
  });
});
