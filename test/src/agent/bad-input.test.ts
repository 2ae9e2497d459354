import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RedisProcess, smtpDialog, waitFor } from '@smtp-slots/testkit';
import { resolvePackageCli } from '@smtp-slots/testkit/launch';
import nodemailer from 'nodemailer';
import { describe, expect, inject, it } from 'vitest';
import { useAgentScenarios, type ScenarioOptions } from '../support/agent-scenario.js';

const scenarios = useAgentScenarios();

/**
 * Holds a port bound on 0 (the OS picks it, nobody else can take it meanwhile) where Redis is not:
 * every connection is reset, so clients see ECONNRESET as from a dead node. Call release() right
 * before starting Redis on the port.
 */
async function holdDeadRedisPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let released = false;
  const release = () => (released ? Promise.resolve() : new Promise<void>((resolve) => {
    released = true;
    server.close(() => resolve());
  }));
  return { port, release };
}

async function startOne(redisUrl: string, extra: ScenarioOptions['extra'] = {}) {
  const scenario = await scenarios.start({ agents: 1, redisUrl, extra });
  return { ...scenario, agent: scenario.fleet.agents[0]! };
}

describe('agents: bad input gives a clear error and loses nothing', () => {
  it('refuses unknown senders, oversized messages and malformed addresses, and still delivers the good mail', async () => {
    const { mailbox, agent, fleet, ...s } = await startOne(inject('redisUrl'), { relay: { host: '127.0.0.1', maxMessageBytes: 10_000 } });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: agent.relayPort, secure: false, ignoreTLS: true });

    const unknown = await transport.sendMail({ from: 'intruder@evil.example', to: 'a@fabrikam.example', text: 'x' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ responseCode: 550 });
    expect((unknown as Error).message).toMatch(/is not a mailbox this relay sends for/);

    const big = await transport.sendMail({ from: mailbox.address, to: 'a@fabrikam.example', text: 'y'.repeat(20_000) }).catch((e: unknown) => e);
    expect(big).toMatchObject({ responseCode: 552 });
    expect((big as Error).message).toMatch(/exceeds/);

    const replies = await smtpDialog(agent.relayPort, ['EHLO client', 'MAIL FROM:<no-at-sign>', `MAIL FROM:<someone@nodot>`, `MAIL FROM:<${mailbox.address}>`, 'RCPT TO:<bad@nodot>', 'QUIT']);
    expect(replies[1]).toMatch(/^501 /);
    expect(replies[2]).toMatch(/^553 5\.1\.7 Bad sender address syntax/);
    expect(replies[3]).toMatch(/^250 /);
    expect(replies[4]).toMatch(/^553 5\.1\.3 Bad recipient address syntax/);

    const good = await s.submit({ count: 3, threads: 1 });
    await s.waitForDelivery(good.accepted, { timeoutMs: 20_000 });
    const stats = await s.stats(false);
    expect(stats.accepted).toBe(3);
    expect(stats.rejectedSender).toBe(0);
    expect(await fleet.metric('smtp_slots_relay_messages_total', { result: 'unknown_sender' })).toBe(1);
    expect(await fleet.metric('smtp_slots_relay_messages_total', { result: 'too_big' })).toBe(1);
    transport.close();
  });

  it('an invalid config exits 2 and lists every problem with its path (with and without --check)', () => {
    const agentCli = resolvePackageCli('@smtp-slots/agent', import.meta.url);
    const dir = mkdtempSync(join(tmpdir(), 'agent-bad-config-'));
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, [
      'relay: { host: 0.0.0.0, port: 70000 }',
      `spool: { dir: ${join(dir, 'spool')} }`,
      'mailboxes:',
      '  - address: not-an-address',
      '    upstream: { port: 587, auth: { user: u, pass: "${NOT_SET_ANYWHERE}" } }',
      '    limit: 0',
    ].join('\n'));
    for (const args of [['--config', file, '--check'], ['--config', file]]) {
      const result = spawnSync(process.execPath, [agentCli, ...args], { encoding: 'utf8', env: { ...process.env, NOT_SET_ANYWHERE: 'pw' } });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('relay.port');
      expect(result.stderr).toContain('relay.users: relay.host 0.0.0.0 is not a loopback address');
      expect(result.stderr).toContain('mailboxes.0.address: must be an e-mail address');
      expect(result.stderr).toContain('mailboxes.0.upstream.host');
      expect(result.stderr).toContain('mailboxes.0.limit');
    }
    expect(existsSync(join(dir, 'spool'))).toBe(false); // nothing was started
    const missing = spawnSync(process.execPath, [agentCli, '--config', file, '--check'], { encoding: 'utf8', env: { ...process.env, NOT_SET_ANYWHERE: undefined } });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('mailboxes.0.upstream.auth.pass: environment variable NOT_SET_ANYWHERE is not set');
  });

  it('with Redis unreachable at start the agent says so, spools what it accepts, and delivers once Redis is there', async () => {
    const { port, release } = await holdDeadRedisPort();
    scenarios.after(release);
    const { agent, ...s } = await startOne(`redis://127.0.0.1:${port}`);
    const health = await agent.health();
    expect(health.redis).toBe('down');
    await waitFor(() => /Redis unreachable: mail is accepted and spooled, but nothing is sent until Redis is back/.test(agent.log()), { message: 'a clear log line' });

    const submitted = await s.submit({ count: 5, threads: 2 });
    expect(submitted.accepted).toHaveLength(5);
    expect(agent.spoolFiles('queued').length + agent.spoolFiles('sending').length).toBe(5);
    expect((await s.stats(false)).sessionsTotal).toBe(0);

    await release();
    const redis = await RedisProcess.start({ port });
    scenarios.after(() => redis.stop());
    await s.waitForDelivery(submitted.accepted, { timeoutMs: 30_000, message: 'delivered after Redis started' });
    expect((await agent.health()).redis).toBe('up');
  });
});
