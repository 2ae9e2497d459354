import { randomBytes } from 'node:crypto';
import { MailboxAdmin, SlotClient } from '@smtp-slots/core';
import { waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createAgent } from '../agent.js';
import { agentTestConfig } from '../testing/agent-test-config.js';
import { ScriptedUpstream } from '../testing/scripted-upstream.js';

const redis = new Redis(inject('redisUrl'));
const admin = new MailboxAdmin(redis);
afterAll(() => redis.quit());

const spoolState = async (metricsPort: number, mailbox: string, state: string) => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`smtp_slots_spool_messages{mailbox="${mailbox}"`) && l.includes(`state="${state}"`));
  return Number(line?.split(' ').pop() ?? NaN);
};

describe('one message per lease: the worker claims its message before it queues for the slot', () => {
  it('a message claimed while waiting for a slot goes back to the queue when the mailbox is paused, and is sent once after resume', async () => {
    const mailbox = `m-${randomBytes(4).toString('hex')}@contoso.example`;
    const up = await new ScriptedUpstream({ users: { [mailbox]: 'pw' } }).start();
    const outside = new SlotClient({ redis: new Redis(inject('redisUrl')), holder: { agentId: 'outside', host: 'test', pid: process.pid }, leaseTtlMs: 3_000 });
    const agent = await createAgent(agentTestConfig({
      redisUrl: inject('redisUrl'), mailbox, upstreamPort: up.port, spoolPrefix: 'claim-first-',
      mailboxOverrides: { limit: 1, maxMessagesPerConnection: 1 },
    }));
    try {
      await admin.ensureMailbox(mailbox, { limit: 1 });
      const held = await outside.acquire(mailbox, { worker: 'outside' });
      const receipt = await agent.send({ from: mailbox, to: 'r@fabrikam.example', subject: 's', text: 'b' });
      // Claimed (in `sending/`) and queued for the slot the outside holder has.
      await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 1, { message: 'a worker waiting for the slot' });
      expect(await spoolState(agent.metricsPort!, mailbox, 'sending')).toBe(1);
      await admin.pause(mailbox, 'test pause');
      await waitFor(async () => (await spoolState(agent.metricsPort!, mailbox, 'queued')) === 1, { message: 'the claimed message back in the queue' });
      expect(await spoolState(agent.metricsPort!, mailbox, 'sending')).toBe(0);
      await held.release();
      await admin.resume(mailbox);
      expect(await receipt.delivered()).toMatchObject({ status: 'sent' });
      expect(up.counts().get(receipt.messageId)).toBe(1);
    } finally {
      await agent.stop();
      await outside.close();
      await up.stop();
    }
  });

  it('a hold set while other workers wait for the slot keeps their claimed messages from going out until it ends; none is lost', async () => {
    const mailbox = `m-${randomBytes(4).toString('hex')}@contoso.example`;
    // No valid password yet: the first login is refused with a temporary 454, which holds the mailbox (connect backoff, 1 s).
    const users: Record<string, string> = {};
    const up = await new ScriptedUpstream({ users, authRefusal: { code: 454, text: '4.7.0 Temporary authentication failure' } }).start();
    const outside = new SlotClient({ redis: new Redis(inject('redisUrl')), holder: { agentId: 'outside', host: 'test', pid: process.pid }, leaseTtlMs: 3_000 });
    const agent = await createAgent(agentTestConfig({
      redisUrl: inject('redisUrl'), mailbox, upstreamPort: up.port, spoolPrefix: 'claim-first-',
      mailboxOverrides: { limit: 1, maxMessagesPerConnection: 1 },
    }));
    try {
      await admin.ensureMailbox(mailbox, { limit: 1 });
      const held = await outside.acquire(mailbox, { worker: 'outside' });
      const receipts = await Promise.all([1, 2].map((i) => agent.send({ from: mailbox, to: 'r@fabrikam.example', subject: `s${i}`, text: 'b' })));
      // Both claimed and queued for the one slot.
      await waitFor(async () => (await admin.snapshot(mailbox))?.waiters.length === 2, { message: 'two workers waiting for the slot' });
      await held.release();
      // The first worker's login fails and holds the mailbox; the second one, granted the slot
      // next, gives its message back instead of connecting during the hold.
      await waitFor(() => up.authFailures >= 1, { message: 'the first login refused' });
      await waitFor(async () => (await spoolState(agent.metricsPort!, mailbox, 'sending')) === 0 && (await admin.snapshot(mailbox))?.leases.length === 0, { message: 'both messages back in the queue, the slot free' });
      expect(up.authFailures).toBe(1);
      expect(up.sessions).toBe(1);
      users[mailbox] = 'pw';
      for (const receipt of receipts) expect(await receipt.delivered()).toMatchObject({ status: 'sent' });
      for (const receipt of receipts) expect(up.counts().get(receipt.messageId)).toBe(1);
      expect(up.authFailures).toBe(1);
    } finally {
      await agent.stop();
      await outside.close();
      await up.stop();
    }
  });
});
