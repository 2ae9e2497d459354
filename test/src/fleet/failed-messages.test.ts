import type { AcceptedMessage } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';
import { startE2eCoordinator } from '../support/coordinator-client.js';
import { submitMessages } from '../support/smtp-submitter.js';

const scenarios = useAgentScenarios();

interface DeadLetterJson { id: string; agentId: string; mailbox: string; messageId: string; recipients: string[]; reason: string; pending: { action: string } | null; agentOnline: boolean }

describe('fleet: failed messages are visible and resendable from the coordinator', () => {
  it('554 at DATA on agent A and 550 for one recipient on agent B: listed within 5 s, one retry delivers both, a stopped agent retries on restart, the trail shows every attempt', async () => {
    const redisUrl = inject('redisUrl');
    const s = await scenarios.start({ agents: 2, workers: 1, redisUrl });
    const api = await startE2eCoordinator(redisUrl);
    scenarios.after(() => api.coordinator.close());
    const [agentA, agentB] = s.fleet.agents as [NonNullable<(typeof s.fleet.agents)[0]>, NonNullable<(typeof s.fleet.agents)[0]>];
    const idA = `fe-${s.run}-1`;
    const idB = `fe-${s.run}-2`;
    const delivered: AcceptedMessage[] = [];
    s.sim.onMessage((m) => delivered.push(m));
    const deliveriesOf = (messageId: string) => delivered.filter((m) => m.messageId === messageId);
    const from = s.mailbox.address;
    const deadLetters = async (): Promise<DeadLetterJson[]> => (await api.call('GET', `/api/dead-letters?mailbox=${encodeURIComponent(from)}`)).body.deadLetters;
    const listedWithin5s = async (messageId: string, files: () => number) => {
      await waitFor(() => files() > 0, { timeoutMs: 30_000, message: `a dead letter file for ${messageId}\n${s.fleet.logs()}` });
      return waitFor(async () => (await deadLetters()).find((d) => d.messageId === messageId), { timeoutMs: 5_000, intervalMs: 100, message: `${messageId} in GET /api/dead-letters` });
    };

    // Agent A: a dropped connection first (retried), then the upstream refuses the content at the end of DATA.
    s.sim.setFaults({ disconnectNext: 1, contentRejected: true }, from);
    const a = await submitMessages({ relays: [agentA.relayPort], from, runId: `${s.run}-a`, count: 1, threads: 1 });
    const messageA = a.accepted[0]!;
    const deadA = await listedWithin5s(messageA, () => agentA.spoolFiles('dead').length);
    expect(deadA).toMatchObject({ agentId: idA, mailbox: from, recipients: ['rcpt-0@fabrikam.example'] });
    expect(deadA.reason).toMatch(/^554 5\.6\.0 Corrupt message content; STOREDRV\.Submission\.Exception:ConversionFailedException/);
    s.sim.setFaults({ contentRejected: null }, from);

    // Agent B: one of two recipients does not exist; the other gets the message.
    s.sim.setFaults({ unknownRecipients: ['gone@fabrikam.example'] }, from);
    const b = await submitMessages({ relays: [agentB.relayPort], from, runId: `${s.run}-b`, count: 1, threads: 1, recipients: () => ['ok@fabrikam.example', 'gone@fabrikam.example'] });
    const messageB = b.accepted[0]!;
    const deadB = await listedWithin5s(messageB, () => agentB.spoolFiles('dead').length);
    expect(deadB).toMatchObject({ agentId: idB, recipients: ['gone@fabrikam.example'] });
    expect(deadB.reason).toContain('550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup');
    expect(deliveriesOf(messageB).map((m) => m.to)).toEqual([['ok@fabrikam.example']]);
    expect(deliveriesOf(messageA)).toEqual([]);

    // The upstream is fixed: one retry for both, relayed to the agent holding each file.
    s.sim.setFaults({ unknownRecipients: null }, from);
    const retry = await api.call('POST', '/api/dead-letters/retry', { ids: [deadA.id, deadB.id] }, true);
    expect(retry.status).toBe(202);
    expect(retry.body.requested.map((r: { agentId: string }) => r.agentId).sort()).toEqual([idA, idB].sort());
    await waitFor(() => deliveriesOf(messageA).length === 1 && deliveriesOf(messageB).length === 2, { timeoutMs: 5_000, intervalMs: 100, message: `both retried messages at the simulator\n${s.fleet.logs()}` });
    expect(deliveriesOf(messageB)[1]!.to).toEqual(['gone@fabrikam.example']);
    await waitFor(async () => (await deadLetters()).length === 0, { timeoutMs: 5_000, message: 'the retried dead letters leave the list' });
    const commands = (await api.call('GET', '/api/dead-letters/commands')).body.commands as { agentId: string; status: string; requeued: string[] }[];
    // Other test files share this Redis: only this test's two agents' commands count.
    const ours = commands.filter((c) => c.agentId === idA || c.agentId === idB);
    expect(ours.filter((c) => c.status === 'done').map((c) => c.requeued).flat().sort()).toEqual([deadA.id, deadB.id].sort());

    // A retry for a stopped agent waits, shown as pending, and is carried out after its restart.
    s.sim.setFaults({ contentRejected: true }, from);
    const c = await submitMessages({ relays: [agentA.relayPort], from, runId: `${s.run}-c`, count: 1, threads: 1 });
    const messageC = c.accepted[0]!;
    const deadC = await listedWithin5s(messageC, () => agentA.spoolFiles('dead').length);
    expect((await agentA.stop(20_000))?.code).toBe(0);
    s.sim.setFaults({ contentRejected: null }, from);
    const pendingRetry = await api.call('POST', '/api/dead-letters/retry', { ids: [deadC.id] }, true);
    expect(pendingRetry.status).toBe(202);
    expect(pendingRetry.body.requested).toMatchObject([{ agentId: idA, status: 'pending', agentOnline: false, ids: [deadC.id] }]);
    expect((await deadLetters()).find((d) => d.id === deadC.id)).toMatchObject({ agentOnline: false, pending: { action: 'retry' } });
    expect(deliveriesOf(messageC)).toEqual([]);
    await agentA.restart();
    await waitFor(() => deliveriesOf(messageC).length === 1, { timeoutMs: 10_000, intervalMs: 100, message: `the pending retry carried out after the restart\n${s.fleet.logs()}` });
    await waitFor(async () => (await deadLetters()).length === 0, { timeoutMs: 5_000, message: 'the dead letter leaves the list' });
    const after = (await api.call('GET', `/api/dead-letters/commands?agent=${idA}`)).body.commands as { commandId: string; status: string; requeued?: string[] }[];
    expect(after.find((x) => x.commandId === pendingRetry.body.requested[0].commandId)).toMatchObject({ status: 'done', requeued: [deadC.id] });

    // The trail shows every attempt of a delivered message, fleet-wide.
    const trail = await api.call('GET', `/api/messages?q=${encodeURIComponent(messageA)}`);
    expect(trail.status).toBe(200);
    expect(trail.body.messages).toHaveLength(1);
    const [message] = trail.body.messages;
    expect(message).toMatchObject({ messageId: messageA, mailbox: from, agentId: idA, status: 'sent' });
    expect(message.attempts.map((x: { outcome: string }) => x.outcome)).toEqual(['accepted', 'temporary', 'dead', 'retried', 'sent']);
    expect(message.attempts[1].reply).toMatch(/^421 4\.3\.2 Service not available/);
    expect(message.attempts[2].reply).toMatch(/^554 5\.6\.0/);
    expect(message.attempts[4].reply).toMatch(/^250 2\.0\.0 OK/);
    const byRecipient = await api.call('GET', `/api/messages?q=gone@fabrikam.example&mailbox=${encodeURIComponent(from)}`);
    // The message as first sent (to both) and the copy for the refused recipient, retried and sent.
    const found = byRecipient.body.messages as { id: string; messageId: string; status: string; recipients: string[]; splitFrom?: string }[];
    expect(found.map((m) => [m.messageId, m.status, m.recipients]).sort()).toEqual([
      [messageB, 'sent', ['gone@fabrikam.example']],
      [messageB, 'sent', ['ok@fabrikam.example', 'gone@fabrikam.example']],
    ]);
    expect(found.find((m) => m.recipients.length === 1)).toMatchObject({ id: deadB.id, splitFrom: expect.any(String) });

    // The agents' per-minute history: every coordinator reads the same points from Redis. The
    // agents write it within their fleet records' flush interval of the last delivery.
    const historyOf = () => api.call('GET', `/api/mailboxes/${encodeURIComponent(from)}/history?minutes=10`);
    const sentIn = (body: { points?: { sent: number }[] }) => (body.points ?? []).reduce((sum, p) => sum + p.sent, 0);
    const history = await waitFor(async () => {
      const reply = await historyOf();
      return reply.status !== 200 || sentIn(reply.body) >= 4 ? reply : null;
    }, { timeoutMs: 5_000, message: 'the last delivery in the history' }).catch(() => historyOf());
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ mailbox: from, minutes: 10 });
    const points = history.body.points as { at: string; sent: number; failed: number; slotGrants: number; spoolDepth: number | null }[];
    expect(points).toHaveLength(10);
    const total = (key: 'sent' | 'failed' | 'slotGrants') => points.reduce((sum, p) => sum + p[key], 0);
    expect(total('sent')).toBe(4); // B to ok@, then A, B's copy to gone@, and C, retried
    expect(total('failed')).toBe(3); // A and C at DATA, gone@ at RCPT
    expect(total('slotGrants')).toBeGreaterThanOrEqual(4);
    expect(points.some((p) => p.spoolDepth !== null)).toBe(true);
    expect((await api.call('GET', `/api/mailboxes/${encodeURIComponent(from)}/history?minutes=2881`)).body.error.message).toMatch(/minutes: must be an integer between 1 and 2880 \(got "?2881"?\)/);
  });
});
