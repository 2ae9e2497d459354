import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentKeys, DeadLetterIndex, mailboxKeys, MessageTrail, readHistory } from '@smtp-slots/core';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createAgent, type Agent } from '../agent.js';
import { ScriptedUpstream } from '../testing/scripted-upstream.js';

const redis = new Redis(inject('redisUrl'));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => redis.quit());

async function agentWith(trail: Record<string, unknown>, upstream: ScriptedUpstream): Promise<{ agent: Agent; mailbox: string }> {
  const mailbox = `fleet-${randomBytes(4).toString('hex')}@contoso.example`;
  const agent = await createAgent({
    agentId: `agent-${randomBytes(3).toString('hex')}`,
    redis: { url: inject('redisUrl') },
    spool: { dir: mkdtempSync(join(tmpdir(), 'agent-fleet-')) },
    metrics: { enabled: false },
    heartbeatMs: 200,
    logLevel: 'silent',
    trail,
    mailboxes: [{ address: mailbox, upstream: { host: '127.0.0.1', port: upstream.port }, ratePerMinute: 1_000_000 }],
  }, { relay: false });
  cleanups.push(() => agent.stop());
  return { agent, mailbox };
}

async function scripted(options: ConstructorParameters<typeof ScriptedUpstream>[0]): Promise<ScriptedUpstream> {
  const server = await new ScriptedUpstream(options).start();
  cleanups.push(() => server.stop());
  return server;
}

describe('fleet records written by a real agent', () => {
  it('hashed recipients and subject: nothing readable in Redis, the plain address still finds the message and its dead letter', async () => {
    const upstream = await scripted({ onRecipient: (to) => (to === 'gone@fabrikam.example' ? { code: 550, text: '5.1.1 RESOLVER.ADR.RecipientNotFound; not found' } : undefined) });
    const { agent, mailbox } = await agentWith({ recipients: 'hashed', subject: 'hashed' }, upstream);
    const receipt = await agent.send({ from: mailbox, to: ['ok@fabrikam.example', 'gone@fabrikam.example'], subject: 'Payroll for Jane Doe', text: 'body' });
    await receipt.delivered();
    const trail = new MessageTrail(redis);
    const found = await waitFor(async () => {
      const records = await trail.search({ q: 'Gone@Fabrikam.example', mailbox, limit: 10 });
      return records.length === 2 && records.every((r) => r.status === 'sent' || r.status === 'dead') ? records : null;
    }, { message: 'the message and its dead copy in the trail' });
    expect(found.map((r) => r.status).sort()).toEqual(['dead', 'sent']);
    for (const r of found) {
      expect(r.subject).toMatch(/^sha256:[0-9a-f]{32}$/);
      for (const to of r.recipients ?? []) expect(to).toMatch(/^sha256:/);
    }
    const stored = JSON.stringify([await redis.hgetall(mailboxKeys(mailbox).trail), await redis.zrange(mailboxKeys(mailbox).trailIndex, 0, -1), await redis.hgetall(agentKeys(agent.agentId).deadLetters)]);
    expect(stored).not.toMatch(/fabrikam|Payroll/i);
    const [dead] = (await new DeadLetterIndex(redis).list()).filter((l) => l.agentId === agent.agentId);
    expect(dead).toMatchObject({ mailbox, messageId: receipt.messageId, reason: expect.stringContaining('550 5.1.1') });
    expect(dead!.recipients).toEqual([found[0]!.recipients!.length === 1 ? found[0]!.recipients![0] : found[1]!.recipients![0]]);
  });

  it('trail off: no trail keys, but the history and the counters still count', async () => {
    const upstream = await scripted({});
    const { agent, mailbox } = await agentWith({ enabled: false }, upstream);
    await (await agent.send({ from: mailbox, to: 'a@fabrikam.example', subject: 's', text: 'b' })).delivered();
    await waitFor(async () => (await redis.hget(mailboxKeys(mailbox).stats, 'sent')) === '1', { message: 'the sent counter' });
    expect(await redis.exists(mailboxKeys(mailbox).trail, mailboxKeys(mailbox).trailIndex, mailboxKeys(mailbox).trailOrder)).toBe(0);
    const points = await readHistory(redis, mailbox, 2, Date.now());
    expect(points.reduce((sum, p) => sum + p.sent, 0)).toBe(1);
    expect(points.reduce((sum, p) => sum + p.slotGrants, 0)).toBeGreaterThanOrEqual(1);
  });
});
