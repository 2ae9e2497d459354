import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCommands, DeadLetterIndex, type PublishedDeadLetter } from '@smtp-slots/core';
import { mailboxPath, randomMailbox, startTestCoordinator, type TestCoordinator } from './testing/fixture.js';

let coordinator: TestCoordinator;
beforeAll(async () => {
  coordinator = await startTestCoordinator();
});
afterAll(() => coordinator.close());

const letter = (agentId: string, mailbox: string, id: string): PublishedDeadLetter => ({
  id, agentId, mailbox, messageId: `<${id}@test>`, recipients: ['r@fabrikam.test'], failedAt: new Date().toISOString(),
  reason: '554 5.6.0 Corrupt message content', attempts: [{ at: new Date().toISOString(), reply: '554 5.6.0 Corrupt message content', outcome: 'permanent' }],
});

describe('fleet API: bad input', () => {
  it.each([
    ['/api/messages?limit=0', /limit: must be an integer between 1 and 500 \(got "?0"?\)/],
    ['/api/messages?status=lost', /status: must be one of queued, deferred, sending, sent, dead, purged \(got "lost"\)/],
    ['/api/messages?color=red', /color/],
    ['/api/dead-letters?agent=', /agent: must not be empty/],
    [`${mailboxPath('a@b.test')}/history?minutes=abc`, /minutes: must be an integer between 1 and 2880 \(got "?abc"?\)/],
    [`${mailboxPath('a@b.test')}/history?minutes=2881`, /minutes: must be an integer between 1 and 2880/],
  ])('GET %s answers 400 naming the field', async (path, message) => {
    const { status, body } = await coordinator.call('GET', path);
    expect(status).toBe(400);
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.message).toMatch(message);
  });

  it('retry and purge need the admin token and a selection of ids or a mailbox with all: true', async () => {
    expect((await coordinator.call('POST', '/api/dead-letters/retry', { body: { ids: ['x'] } })).status).toBe(401);
    expect((await coordinator.call('POST', '/api/dead-letters/purge', { token: 'wrong', body: { ids: ['x'] } })).status).toBe(403);
    for (const body of [{}, { ids: [] }, { mailbox: 'a@b.test' }, { mailbox: 'a@b.test', all: false }, { ids: ['../etc'] }]) {
      const reply = await coordinator.call('POST', '/api/dead-letters/purge', { token: true, body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.code).toBe('INVALID_INPUT');
    }
    const unknown = await coordinator.call('POST', '/api/dead-letters/retry', { token: true, body: { ids: ['no-such-id'] } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND', message: expect.stringContaining('no-such-id') });
  });
});

describe('fleet API: dead letters of agents', () => {
  it('lists every agent\'s dead letters with filters; a retry for an agent that is not running is shown as pending', async () => {
    const mailbox = randomMailbox('dl');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 3, ratePerMinute: 30, recipientsPerDay: 10_000 });
    const index = new DeadLetterIndex(coordinator.redis);
    const agentA = `agent-a-${mailbox}`;
    const agentB = `agent-b-${mailbox}`;
    await index.replace(agentA, [letter(agentA, mailbox, 'a1'), letter(agentA, mailbox, 'a2')]);
    await index.replace(agentB, [letter(agentB, mailbox, 'b1')]);
    const list = await coordinator.call('GET', `/api/dead-letters?mailbox=${encodeURIComponent(mailbox)}`);
    expect(list.body.deadLetters.map((d: { id: string }) => d.id)).toEqual(['a1', 'a2', 'b1']);
    expect(list.body.deadLetters[0]).toMatchObject({ agentId: agentA, mailbox, reason: '554 5.6.0 Corrupt message content', agentOnline: false, pending: null });
    expect((await coordinator.call('GET', `/api/dead-letters?mailbox=${encodeURIComponent(mailbox)}&agent=${agentB}`)).body.deadLetters.map((d: { id: string }) => d.id)).toEqual(['b1']);

    const retry = await coordinator.call('POST', '/api/dead-letters/retry', { token: true, body: { ids: ['a2', 'b1', 'gone'] } });
    expect(retry.status).toBe(202);
    expect(retry.body.unknown).toEqual(['gone']);
    expect(retry.body.requested).toMatchObject([
      { agentId: agentA, action: 'retry', ids: ['a2'], status: 'pending', agentOnline: false },
      { agentId: agentB, action: 'retry', ids: ['b1'], status: 'pending', agentOnline: false },
    ]);
    const after = (await coordinator.call('GET', `/api/dead-letters?mailbox=${encodeURIComponent(mailbox)}`)).body.deadLetters;
    expect(after.map((d: { id: string; pending: { action: string } | null }) => [d.id, d.pending?.action ?? null])).toEqual([['a1', null], ['a2', 'retry'], ['b1', 'retry']]);
    // The command waits in agent A's stream for it to read.
    const waiting = await AgentCommands.read(coordinator.redis, agentA, '0', 1);
    expect(waiting.map((w) => w.command)).toMatchObject([{ action: 'retry', ids: ['a2'], commandId: retry.body.requested[0].commandId }]);

    const purgeAll = await coordinator.call('POST', '/api/dead-letters/purge', { token: true, body: { mailbox, all: true } });
    expect(purgeAll.status).toBe(202);
    expect(purgeAll.body.requested.map((r: { agentId: string; all: boolean }) => [r.agentId, r.all])).toEqual([[agentA, true], [agentB, true]]);
    const metrics = (await coordinator.call('GET', '/metrics')).body as string;
    expect(metrics).toContain(`smtp_slots_dead_letters{mailbox="${mailbox}"} 3`);
    const commands = (await coordinator.call('GET', `/api/dead-letters/commands?agent=${agentA}`)).body.commands;
    expect(commands.map((c: { action: string; status: string }) => [c.action, c.status])).toEqual([['purge', 'pending'], ['retry', 'pending']]);
  });
});
