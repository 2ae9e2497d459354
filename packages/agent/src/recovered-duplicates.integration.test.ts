import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum, parseMetrics, waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createAgent, type Agent } from './agent.js';
import { Spool } from './spool/spool.js';
import { ScriptedUpstream } from './testing/scripted-upstream.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('start-up recovery', () => {
  it('counts each message found in flight in smtp_slots_possible_duplicates_total of its mailbox', async () => {
    const mailbox = `m-${randomBytes(4).toString('hex')}@contoso.example`;
    const other = `o-${randomBytes(4).toString('hex')}@contoso.example`;
    const dir = mkdtempSync(join(tmpdir(), 'agent-recovery-'));
    // A previous process claimed two messages of `mailbox` and one of `other`, then died.
    const { spool } = await Spool.open(dir);
    for (const [n, from] of [mailbox, mailbox, other, mailbox].entries()) {
      const messageId = `<recovery-${n}@e2e.smtp-slots.test>`;
      await spool.accept({ mailbox: from, envelope: { from, to: ['r@fabrikam.example'] }, raw: Buffer.from(`Message-ID: ${messageId}\r\nSubject: m${n}\r\n\r\nbody\r\n`), messageId, origin: 'api' });
    }
    await spool.claim(mailbox);
    await spool.claim(mailbox);
    await spool.claim(other);
    writeFileSync(join(dir, 'agent.lock'), '999999\n'); // its owner is gone

    const up = await new ScriptedUpstream({ users: { [mailbox]: 'pw', [other]: 'pw' } }).start();
    cleanups.push(() => up.stop());
    const upstream = (address: string) => ({ address, upstream: { host: '127.0.0.1', port: up.port, auth: { user: address, pass: 'pw' } }, ratePerMinute: 1_000_000 });
    const agent: Agent = await createAgent({
      agentId: `agent-${randomBytes(3).toString('hex')}`, redis: { url: inject('redisUrl') }, relay: { port: 0 }, metrics: { port: 0 },
      spool: { dir }, logLevel: 'silent', mailboxes: [upstream(mailbox), upstream(other)],
    });
    cleanups.push(() => agent.stop());
    await waitFor(() => agent.spoolDepth() === 0, { message: 'the recovered messages sent' });
    const samples = parseMetrics(await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text());
    expect(metricSum(samples, 'smtp_slots_possible_duplicates_total', { mailbox })).toBe(2);
    expect(metricSum(samples, 'smtp_slots_possible_duplicates_total', { mailbox: other })).toBe(1);
  });
});
