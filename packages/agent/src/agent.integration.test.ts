import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailboxAdmin, mailboxKeys } from '@smtp-slots/core';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createAgent, type Agent } from './agent.js';
import type { AgentConfigInput } from './config.js';
import { ScriptedUpstream, type ScriptedUpstreamOptions } from './testing/scripted-upstream.js';

const redis = new Redis(inject('redisUrl'));
const admin = new MailboxAdmin(redis);
const running: Agent[] = [];
const upstreams: ScriptedUpstream[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
  await Promise.all(upstreams.splice(0).map((u) => u.stop()));
});
afterAll(() => redis.quit());

const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL);

const newMailbox = () => `m-${randomBytes(4).toString('hex')}@contoso.example`;

async function upstream(options: ScriptedUpstreamOptions = {}): Promise<ScriptedUpstream> {
  const server = await new ScriptedUpstream(options).start();
  upstreams.push(server);
  return server;
}

function config(mailbox: string, up: ScriptedUpstream, overrides: { mailbox?: Record<string, unknown>; top?: Partial<AgentConfigInput> } = {}): AgentConfigInput {
  return {
    agentId: `agent-${randomBytes(3).toString('hex')}`,
    redis: { url: inject('redisUrl') },
    relay: { port: 0 },
    spool: { dir: mkdtempSync(join(tmpdir(), 'agent-it-')) },
    metrics: { port: 0 },
    slots: { leaseTtlMs: 3_000 },
    sender: { workers: 3, retry: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 } },
    heartbeatMs: 500,
    shutdownTimeoutMs: 3_000,
    logLevel: 'silent',
    mailboxes: [{ address: mailbox, upstream: { host: '127.0.0.1', port: up.port, auth: { user: mailbox, pass: 'pw' } }, limit: 2, ratePerMinute: 1_000_000, ...overrides.mailbox }],
    ...overrides.top,
  };
}

async function start(input: AgentConfigInput): Promise<Agent> {
  const agent = await createAgent(input);
  running.push(agent);
  return agent;
}

const metrics = async (agent: Agent) => (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
const mail = (from: string, n: number, extra: Record<string, unknown> = {}) => ({ from, to: `r${n}@fabrikam.example`, subject: `m${n}`, text: `body ${n}`, ...extra });

describe('agent (library API, real Redis, real SMTP upstream)', () => {
  it('sends through the spool: send() resolves when spooled, delivered() when the upstream said 250', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'pw' } });
    const agent = await start(config(mailbox, up));
    const receipt = await agent.send(mail(mailbox, 1));
    expect(receipt.messageId).toMatch(/^<.+>$/);
    const report = await receipt.delivered();
    expect(report).toMatchObject({ status: 'sent', messageId: receipt.messageId, bounced: [] });
    expect(up.counts().get(receipt.messageId)).toBe(1);
    expect(agent.spoolDepth()).toBe(0);
    expect(await metrics(agent)).toMatch(new RegExp(`smtp_slots_messages_sent_total\\{mailbox="${mailbox}",agent="[^"]+"\\} 1`));
  });

  // Skipped (and listed as skipped) when promtool is missing: apt-get install prometheus.
  it.skipIf(!hasPromtool)(`/metrics passes promtool check metrics${hasPromtool ? '' : ' (skipped: /usr/bin/promtool not installed, apt-get install prometheus)'}`, async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'pw' } });
    const agent = await start(config(mailbox, up));
    expect(await (await agent.send(mail(mailbox, 1))).delivered()).toMatchObject({ status: 'sent' });
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: await metrics(agent), encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('never has more connections open than the limit, across agents and workers', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'pw' }, latencyMs: 15 });
    const agents = await Promise.all([1, 2, 3].map(() => start(config(mailbox, up, { mailbox: { limit: 2, maxMessagesPerConnection: 5 } }))));
    const receipts = await Promise.all(Array.from({ length: 60 }, (_, n) => agents[n % 3]!.send(mail(mailbox, n))));
    await Promise.all(receipts.map((r) => r.delivered()));
    expect(up.peak).toBeLessThanOrEqual(2);
    expect(up.received).toHaveLength(60);
    expect(new Set(up.received.map((m) => m.messageId)).size).toBe(60);
    // Connections are reused: far fewer sessions than messages.
    expect(up.sessions).toBeLessThan(30);
    await waitFor(async () => (await admin.snapshot(mailbox))?.inUse === 0, { message: 'all slots released' });
  });

  it('classifies replies: 451 retried, 550 dead with the full reply, recipient 550 bounces that recipient only', async () => {
    const mailbox = newMailbox();
    const up = await upstream({
      users: { [mailbox]: 'pw' },
      onMessage: ({ subject, attempt }) => {
        if (subject === 'temp' && attempt < 3) return { code: 451, text: '4.7.500 Server busy, please try again later' };
        if (subject === 'perm') return { code: 550, text: '5.6.211 Invalid MIME content' };
        return undefined;
      },
      onRecipient: (rcpt) => (rcpt.startsWith('gone') ? { code: 550, text: '5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found' } : undefined),
    });
    const agent = await start(config(mailbox, up));
    const temp = await agent.send({ from: mailbox, to: 'a@x.example', subject: 'temp', text: 't' });
    const perm = await agent.send({ from: mailbox, to: 'a@x.example', subject: 'perm', text: 'p' });
    const mixed = await agent.send({ from: mailbox, to: ['ok@x.example', 'gone@x.example'], subject: 'mixed', text: 'm' });

    expect(await temp.delivered()).toMatchObject({ status: 'sent' });
    expect(up.attempts.get(temp.messageId)).toBe(3);
    const dead = await perm.delivered();
    expect(dead.status).toBe('dead');
    expect(dead.attempts.at(-1)?.response).toBe('550 5.6.211 Invalid MIME content');
    expect(await mixed.delivered()).toMatchObject({ status: 'sent', bounced: ['gone@x.example'] });
    expect(up.received.find((m) => m.subject === 'mixed')?.to).toEqual(['ok@x.example']);

    const letters = await agent.deadLetters.list();
    expect(letters.map((l) => l.to)).toEqual(expect.arrayContaining([['a@x.example'], ['gone@x.example']]));
    expect(letters.find((l) => l.to[0] === 'gone@x.example')?.attempts.at(-1)?.response).toContain('RecipientNotFound');
    const text = await metrics(agent);
    expect(text).toMatch(/smtp_slots_messages_deferred_total\{mailbox="[^"]+",code="451",agent="[^"]+"\} 2/);
    expect(text).toMatch(/smtp_slots_messages_failed_total\{mailbox="[^"]+",code="550",agent="[^"]+"\} 2/);
    // The shared counters (read by the coordinator's messages_failed_total) carry the code too; they
    // count dead messages, the bounced recipient of a delivered message is not one.
    await waitFor(async () => (await redis.hget(mailboxKeys(mailbox).stats, 'failed:550')) === '1', { message: 'the dead message counted as failed:550 in Redis' });
    await waitFor(async () => (await redis.hget(mailboxKeys(mailbox).stats, 'deferred:451')) === '2', { message: 'the two 451 retries counted as deferred:451 in Redis' });
    expect(await redis.hget(mailboxKeys(mailbox).stats, 'deferred')).toBeNull();
  });

  it('a connection lost after the final dot is retried with the same Message-ID and counted as a possible duplicate', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'pw' }, onMessage: ({ attempt }) => (attempt === 1 ? 'drop' : undefined) });
    const agent = await start(config(mailbox, up));
    const receipt = await agent.send(mail(mailbox, 1));
    expect(await receipt.delivered()).toMatchObject({ status: 'sent' });
    expect(up.counts().get(receipt.messageId)).toBe(2);
    expect(await metrics(agent)).toMatch(/smtp_slots_possible_duplicates_total\{mailbox="[^"]+",agent="[^"]+"\} 1/);
  });

  it('pauses the mailbox (not the message) when authentication is refused', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'right' } });
    const agent = await start(config(mailbox, up));
    const receipt = await agent.send(mail(mailbox, 1));
    await waitFor(async () => (await admin.getConfig(mailbox))?.paused, { message: 'mailbox paused' });
    expect((await admin.getConfig(mailbox))?.pauseReason).toContain('535');
    expect(agent.spoolDepth()).toBe(1);
    expect(await metrics(agent)).toMatch(/smtp_slots_mailbox_paused\{mailbox="[^"]+",agent="[^"]+"\} 1/);
    expect(up.received).toHaveLength(0);
    void receipt;
  });

  it('a tenant without basic authentication (550 5.7.30) pauses the mailbox with the remedy: switch to oauth2', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'right' }, authRefusal: { code: 550, text: '5.7.30 Basic authentication is not supported for Client Submission' } });
    const agent = await start(config(mailbox, up));
    void agent.send(mail(mailbox, 1));
    await waitFor(async () => (await admin.getConfig(mailbox))?.paused, { message: 'mailbox paused' });
    const reason = (await admin.getConfig(mailbox))?.pauseReason;
    expect(reason).toContain('oauth2');
    expect(reason).toContain('550 5.7.30 Basic authentication is not supported for Client Submission');
    expect(agent.spoolDepth()).toBe(1);
    expect(up.received).toHaveLength(0);
  });

  it('XOAUTH2: a refused token is renewed once through the client-credentials flow, then the message goes out', async () => {
    const mailbox = newMailbox();
    const { createServer } = await import('node:http');
    let issued = 0;
    const tokenServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        issued += 1;
        expect(form.get('grant_type')).toBe('client_credentials');
        expect(form.get('client_secret')).toBe('s3cret');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `token-${issued}`, expires_in: 3600, token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
    const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as { port: number }).port}/token`;
    try {
      // Only the second token is valid: the first attempt fails with 535 and forces a renewal.
      const up = await upstream({ tokens: { [mailbox]: ['token-2'] } });
      const agent = await start(config(mailbox, up, {
        mailbox: { upstream: { host: '127.0.0.1', port: up.port, auth: { type: 'oauth2', user: mailbox, clientId: 'app', clientSecret: 's3cret', tokenUrl } } },
      }));
      const receipt = await agent.send(mail(mailbox, 1));
      expect(await receipt.delivered()).toMatchObject({ status: 'sent' });
      expect(issued).toBe(2);
      expect(up.authFailures).toBe(1);
    } finally {
      tokenServer.close();
    }
  });

  it('STARTTLS with requireTLS against the Exchange simulator; 554 5.2.2 mailbox full pauses the mailbox and keeps the message', async () => {
    const { startExchangeSim } = await import('@smtp-slots/exchange-sim');
    const mailbox = newMailbox();
    const sim = await startExchangeSim({ users: [{ address: mailbox, password: 'pw' }], starttls: true, ratePerMinute: 1_000_000 });
    try {
      const up = { port: sim.smtpPort } as ScriptedUpstream;
      const agent = await start(config(mailbox, up, { mailbox: { upstream: { host: '127.0.0.1', port: sim.smtpPort, requireTLS: true, rejectUnauthorized: false, auth: { user: mailbox, pass: 'pw' } } } }));
      const first = await agent.send(mail(mailbox, 1));
      expect(await first.delivered()).toMatchObject({ status: 'sent' });
      expect(sim.userStats(mailbox)?.messageIds).toEqual([first.messageId]);

      sim.setFaults({ mailboxFull: true }, mailbox);
      await agent.send(mail(mailbox, 2));
      await waitFor(async () => (await admin.getConfig(mailbox))?.paused, { message: 'mailbox paused' });
      expect((await admin.getConfig(mailbox))?.pauseReason).toMatch(/554 5\.2\.2/);
      expect(agent.spoolDepth()).toBe(1);
      expect(await agent.deadLetters.list()).toEqual([]);
    } finally {
      await Promise.all(running.splice(0).map((a) => a.stop()));
      await sim.stop();
    }
  });

  it('log lines name the mailbox once (the child binding is not repeated in the line)', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'pw' }, onMessage: ({ attempt }) => (attempt < 2 ? { code: 451, text: '4.7.500 Server busy, please try again later' } : undefined) });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const agent = await createAgent(config(mailbox, up), { logger });
    running.push(agent);
    await (await agent.send(mail(mailbox, 1))).delivered();
    const deferred = lines.filter((line) => line.includes('"msg":"deferred"'));
    expect(deferred).toHaveLength(1);
    for (const line of lines.filter((l) => l.includes('"mailbox"'))) expect(line.split('"mailbox":').length - 1, line).toBe(1);
  });

  it('/healthz stays 200 and /readyz answers 503 while Redis is frozen (SIGSTOP), 200 after SIGCONT', async () => {
    const own = await RedisProcess.start();
    try {
      const mailbox = newMailbox();
      const up = await upstream({ users: { [mailbox]: 'pw' } });
      const agent = await start(config(mailbox, up, { top: { redis: { url: own.url } } }));
      const call = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${agent.metricsPort}${path}`);
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      await waitFor(async () => (await call('/readyz')).status === 200, { timeoutMs: 15_000, message: '/readyz ready' });
      expect(await call('/readyz')).toEqual({ status: 200, body: { status: 'ready', redis: 'up', spool: 'writable' } });
      own.pause();
      try {
        expect(await call('/readyz')).toMatchObject({ status: 503, body: { status: 'unavailable', redis: 'down', error: { code: 'REDIS_UNAVAILABLE' } } });
        expect((await call('/healthz')).status).toBe(200);
      } finally {
        own.resume();
      }
      await waitFor(async () => (await call('/readyz')).status === 200, { timeoutMs: 15_000, message: '/readyz after SIGCONT' });
    } finally {
      await Promise.all(running.splice(0).map((a) => a.stop()));
      await own.stop();
    }
  });

  it('stop() finishes what is in flight, releases every slot and leaves the rest in the spool', async () => {
    const mailbox = newMailbox();
    const up = await upstream({ users: { [mailbox]: 'pw' }, latencyMs: 100 });
    const input = config(mailbox, up, { mailbox: { limit: 2 } });
    const agent = await start(input);
    await Promise.all(Array.from({ length: 30 }, (_, n) => agent.send(mail(mailbox, n))));
    await waitFor(() => up.received.length >= 2);
    await agent.stop();
    running.splice(running.indexOf(agent), 1);
    await waitFor(() => up.open === 0, { message: 'the upstream saw every connection close' });
    expect((await admin.snapshot(mailbox))?.leases).toEqual([]);
    const dir = (input.spool as { dir: string }).dir;
    const left = readdirSync(join(dir, 'queued')).length + readdirSync(join(dir, 'deferred')).length;
    expect(readdirSync(join(dir, 'sending'))).toHaveLength(0);
    expect(left + up.received.length).toBe(30);

    // A new agent on the same spool sends the rest.
    const again = await start({ ...input, agentId: `${input.agentId}-2` });
    await waitFor(() => up.received.length === 30, { timeoutMs: 20_000, message: 'the rest delivered' });
    await waitFor(() => again.spoolDepth() === 0, { message: 'an empty spool' });
    expect(new Set(up.received.map((m) => m.messageId)).size).toBe(30);
  });
});
