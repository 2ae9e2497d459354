import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../config.js';
import { backoffDelay, lifetimeExceeded } from './backoff.js';
import { classifyFailure, splitRefusals } from './reply-classifier.js';
import { ClientCredentialsTokenProvider, TokenRequestError } from './token-provider.js';
import { UpstreamError, type UpstreamFault, type UpstreamStage } from './upstream-error.js';

const STAGES: Record<string, UpstreamStage> = { DATA: 'data', 'MAIL FROM': 'mail', 'RCPT TO': 'rcpt', 'AUTH LOGIN': 'auth' };
const reply = (response: string, command = 'DATA'): UpstreamError =>
  UpstreamError.refused(STAGES[command]!, { code: Number(response.slice(0, 3)), text: response });
const connection = (fault: UpstreamFault = 'connection', stage: UpstreamStage = 'data'): UpstreamError =>
  UpstreamError.fault(stage, fault, 'Connection closed unexpectedly');

describe('reply classification (the table in README.md)', () => {
  it.each([
    ['432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information.', 'DATA', 'concurrency'],
    ['421 4.3.2 Service not available, closing transmission channel', 'DATA', 'temporary'],
    ['451 4.7.500 Server busy. Please try again later', 'MAIL FROM', 'temporary'],
    ['554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException', 'DATA', 'mailbox-quota'],
    ['554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException', 'DATA', 'mailbox-quota'],
    ['535 5.7.3 Authentication unsuccessful', 'AUTH LOGIN', 'auth'],
    ['530 5.7.57 Client not authenticated to send mail', 'MAIL FROM', 'auth'],
    ['550 5.7.60 SMTP; Client does not have permissions to send as this sender', 'MAIL FROM', 'auth'],
    ['550 5.6.211 Invalid MIME content', 'DATA', 'permanent'],
    ['552 5.3.4 Message size exceeds fixed maximum message size', 'DATA', 'permanent'],
  ])('%s at %s → %s', (text, command, disposition) => {
    expect(classifyFailure(reply(text, command)).disposition).toBe(disposition);
  });

  it('a connection error before the final dot is temporary, after it the outcome is unknown', () => {
    expect(classifyFailure(connection(), false)).toMatchObject({ disposition: 'temporary', code: 'connection' });
    expect(classifyFailure(connection(), true)).toMatchObject({ disposition: 'unknown-outcome', code: 'connection' });
    expect(classifyFailure(connection('timeout', 'connect'))).toMatchObject({ disposition: 'temporary', code: 'timeout' });
  });

  it('an API transport\'s mapped reply at stage request counts like one at DATA; the stage decides what a reply means', () => {
    const at = (stage: UpstreamStage, text: string) => classifyFailure(UpstreamError.refused(stage, { code: Number(text.slice(0, 3)), text })).disposition;
    expect(at('request', '554 5.2.0 ErrorQuotaExceeded')).toBe('mailbox-quota');
    expect(at('rcpt', '554 5.2.0 ErrorQuotaExceeded')).toBe('permanent');
    expect(at('greeting', '554 5.2.2 mailbox full')).toBe('mailbox-quota');
    expect(at('ehlo', '550 5.7.1 not for you')).toBe('permanent');
    expect(at('mail', '550 5.7.1 not for you')).toBe('auth');
    expect(classifyFailure(UpstreamError.fault('auth', 'connection', 'Connection closed unexpectedly'))).toMatchObject({ disposition: 'temporary', code: 'token' });
    expect(classifyFailure(UpstreamError.fault('starttls', 'tls', 'no STARTTLS'), true)).toMatchObject({ disposition: 'temporary', code: 'tls' });
  });

  it('a refused token request pauses like a refused AUTH; an unreachable token endpoint is temporary', () => {
    const refused = new TokenRequestError('token request for client app refused (invalid_client: AADSTS700027: ...)', true);
    const unreachable = new TokenRequestError('token endpoint https://login.example unreachable: ECONNREFUSED', false);
    const asUpstream = (error: TokenRequestError) => UpstreamError.from(error, 'auth', error.refused ? 'token-refused' : 'token');
    expect(classifyFailure(asUpstream(refused))).toEqual({ disposition: 'auth', code: 'token', response: refused.message });
    expect(classifyFailure(asUpstream(unreachable))).toMatchObject({ disposition: 'temporary', code: 'token' });
  });

  it('keeps the full reply text and a bounded code label', () => {
    const text = '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception';
    expect(classifyFailure(reply(text))).toEqual({ disposition: 'mailbox-quota', code: '554', response: text });
  });

  it('splits recipient refusals: 4xx retried, 5xx bounced', () => {
    const refused = [
      { recipient: 'a@x.example', error: reply('550 5.1.10 RESOLVER.ADR.RecipientNotFound', 'RCPT TO') },
      { recipient: 'b@x.example', error: reply('452 4.5.3 Too many recipients', 'RCPT TO') },
    ];
    const { retry, bounce } = splitRefusals(refused);
    expect(retry.map((r) => r.recipient)).toEqual(['b@x.example']);
    expect(bounce.map((r) => r.recipient)).toEqual(['a@x.example']);
  });
});

describe('backoff', () => {
  const policy = agentConfigSchema.parse({ mailboxes: [{ address: 'a@b.example', upstream: { host: 'h' } }] }).sender.retry;

  it('grows exponentially to its cap, with bounded jitter', () => {
    const exact = (failures: number) => backoffDelay(failures, policy, () => 0.5);
    expect([1, 2, 3, 4].map(exact)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(exact(20)).toBe(900_000);
    expect(backoffDelay(1, policy, () => 0)).toBe(24_000);
    expect(backoffDelay(1, policy, () => 1)).toBe(36_000);
  });

  it('ends retrying after the maximum lifetime', () => {
    const header = { lifetimeStart: 1_000 } as never;
    expect(lifetimeExceeded(header, policy, 1_000 + policy.maxLifetimeMs - 1)).toBe(false);
    expect(lifetimeExceeded(header, policy, 1_000 + policy.maxLifetimeMs)).toBe(true);
  });
});

describe('ClientCredentialsTokenProvider', () => {
  it('caches the token until it is due for renewal, renews on demand, and never leaks the secret in errors', async () => {
    let issued = 0;
    let refuse = false;
    const server = createServer((_req, res) => {
      issued += 1;
      if (refuse) return res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }));
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `t${issued}`, expires_in: 3600 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    try {
      const provider = new ClientCredentialsTokenProvider({ tokenUrl, clientId: 'app', clientSecret: 'very-secret', scope: 's', refreshAheadMs: 300_000 });
      const [a, b] = await Promise.all([provider.getToken(), provider.getToken()]);
      expect([a, b]).toEqual(['t1', 't1']); // one request for concurrent callers
      expect(await provider.getToken()).toBe('t1');
      expect(await provider.getToken({ forceRenew: true })).toBe('t2');
      refuse = true;
      const error = await provider.getToken({ forceRenew: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenRequestError);
      expect((error as Error).message).toContain('invalid_client');
      expect((error as Error).message).not.toContain('very-secret');
    } finally {
      server.close();
    }
  });
});
