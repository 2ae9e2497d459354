import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailboxAdmin } from '@smtp-slots/core';
import { selfSignedCertificate, type ExchangeSim } from '@smtp-slots/exchange-sim';
import { sleep, waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { useAgentScenarios } from '../support/agent-scenario.js';

const scenarios = useAgentScenarios();
const TENANT = 'contoso.onmicrosoft.com';
const tokenUrl = (sim: ExchangeSim) => `${sim.httpUrl}/${TENANT}/oauth2/v2.0/token`;
const sha256Thumbprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

/** The private key in a file only the test knows, referenced as `file:` like an operator would. */
function keyFile(pem: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'smtp-slots-key-')), 'app.key');
  writeFileSync(file, pem, { mode: 0o600 });
  return `file:${file}`;
}

function useAdmin() {
  const redis = new Redis(inject('redisUrl'));
  scenarios.after(() => redis.quit());
  return new MailboxAdmin(redis);
}

describe('agents: Microsoft 365 OAuth2 sign-in', () => {
  it('certificate credential: the agents get tokens with a signed assertion and deliver everything', async () => {
    const cert = await selfSignedCertificate('smtp-slots-e2e.contoso.test');
    const key = keyFile(cert.key);
    const s = await scenarios.start({
      agents: 2, workers: 2, redisUrl: inject('redisUrl'),
      sim: { oauthOnly: true, apps: [{ clientId: 'cert-app', certificates: [cert.cert] }] },
      auth: (address, sim) => ({
        type: 'oauth2', user: address, tenantId: TENANT, tokenUrl: tokenUrl(sim), clientId: 'cert-app',
        certificate: { privateKey: key, thumbprintSha256: sha256Thumbprint(cert.cert) },
      }),
    });
    const submitted = await s.submit({ count: 20, threads: 4 });
    expect(submitted.failed).toEqual([]);
    await s.waitForDelivery(submitted.accepted);
    const totals = s.sim.stats().totals;
    expect(totals.tokensIssued).toBeGreaterThanOrEqual(1);
    expect(totals.tokensRefused).toBe(0);
    expect(totals.authFailures).toBe(0);
    expect(s.fleet.deadLetters()).toBe(0);
  });

  it('a certificate the app does not have: the mailbox is paused with a clear reason, the alert metric says why, mail stays queued', async () => {
    const registered = await selfSignedCertificate('registered.contoso.test');
    const other = await selfSignedCertificate('not-registered.contoso.test');
    const key = keyFile(other.key);
    const admin = useAdmin();
    const s = await scenarios.start({
      agents: 2, workers: 2, redisUrl: inject('redisUrl'),
      sim: { oauthOnly: true, apps: [{ clientId: 'cert-app', certificates: [registered.cert] }] },
      auth: (address, sim) => ({
        type: 'oauth2', user: address, tenantId: TENANT, tokenUrl: tokenUrl(sim), clientId: 'cert-app',
        certificate: { privateKey: key, thumbprintSha256: sha256Thumbprint(other.cert) },
      }),
    });
    const submitted = await s.submit({ count: 5, threads: 2 });
    expect(submitted.failed).toEqual([]);
    const config = await waitFor(async () => {
      const c = await admin.getConfig(s.mailbox.address);
      return c?.paused ? c : null;
    }, { timeoutMs: 20_000, message: 'mailbox paused' });
    expect(config.pauseReason).toMatch(/^the token endpoint refused the app's credential .*fix mailboxes\[\]\.upstream\.auth/);
    expect(config.pauseReason).toContain('AADSTS700027');
    expect(config.pauseReason).not.toContain('PRIVATE KEY');
    await waitFor(async () => (await s.fleet.metric('smtp_slots_mailbox_auth_paused', { cause: 'credential-refused' })) >= 1, { timeoutMs: 10_000, message: 'auth-paused metric' });
    await sleep(500);
    expect((await s.stats(false)).accepted).toBe(0);
    expect(s.fleet.spoolDepth()).toBe(5);
    expect(s.fleet.deadLetters()).toBe(0);
  });

  it('password mailbox whose user is switched to Basic-auth-off: paused with the 5.7.30 reason, mail queued, sent after the switch to OAuth2 and a restart', async () => {
    const admin = useAdmin();
    const s = await scenarios.start({
      agents: 1, workers: 2, redisUrl: inject('redisUrl'),
      sim: { apps: [{ clientId: 'smtp-app', clientSecret: 'app-secret-value' }] },
    });
    const first = await s.submit({ count: 3, threads: 1 });
    await s.waitForDelivery(first.accepted);

    // The tenant turns Basic authentication off.
    s.sim.setFaults({ basicAuthDisabled: true }, s.mailbox.address);
    const queued = await s.submit({ count: 10, threads: 2, runId: `${s.run}-after` });
    expect(queued.failed).toEqual([]);
    const config = await waitFor(async () => {
      const c = await admin.getConfig(s.mailbox.address);
      return c?.paused ? c : null;
    }, { timeoutMs: 20_000, message: 'mailbox paused' });
    expect(config.pauseReason).toMatch(/^basic authentication is off for this tenant: switch mailboxes\[\]\.upstream\.auth to type oauth2/);
    expect(config.pauseReason).toContain('550 5.7.30 Basic authentication is not supported for Client Submission.');
    expect(await s.fleet.metric('smtp_slots_mailbox_auth_paused', { cause: 'basic-auth-disabled' })).toBe(1);
    expect(await s.fleet.metric('smtp_slots_mailbox_paused')).toBe(1);
    expect(s.fleet.spoolDepth()).toBe(10);
    expect(s.fleet.deadLetters()).toBe(0);

    // The operator switches the config to OAuth2, restarts the agent and resumes the mailbox.
    const agent = s.fleet.agents[0]!;
    expect((await agent.stop())?.code).toBe(0);
    const file = parse(readFileSync(agent.configFile, 'utf8')) as { mailboxes: Array<{ upstream: { auth: unknown } }> };
    file.mailboxes[0]!.upstream.auth = { type: 'oauth2', user: s.mailbox.address, tenantId: TENANT, tokenUrl: tokenUrl(s.sim), clientId: 'smtp-app', clientSecret: 'app-secret-value' };
    writeFileSync(agent.configFile, stringify(file));
    await agent.restart();
    expect(s.fleet.spoolDepth()).toBe(10);
    await admin.resume(s.mailbox.address);

    await s.waitForDelivery(queued.accepted);
    await s.waitForEmptySpools();
    const stats = await s.stats();
    expect(stats.duplicates).toBe(0);
    expect(stats.accepted).toBe(13);
    expect(s.fleet.deadLetters()).toBe(0);
    await waitFor(async () => (await s.fleet.metric('smtp_slots_mailbox_auth_paused')) === 0, { timeoutMs: 10_000, message: 'auth-paused metric back to 0' });
  });
});
