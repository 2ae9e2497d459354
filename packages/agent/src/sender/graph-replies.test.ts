import { describe, expect, it } from 'vitest';
import { agentConfigSchema, sharedLimitOf } from '../config.js';
import { graphFailure } from './graph-replies.js';
import { withEnvelopeRecipients } from './mime-recipients.js';
import { classifyFailure } from './reply-classifier.js';

const body = (code: string, message: string) => JSON.stringify({ error: { code, message } });
const disposition = (status: number, code: string, message: string, retryAfter: string | null = null) => {
  const failure = graphFailure(status, body(code, message), retryAfter);
  return { ...classifyFailure(failure.error), retryAfterMs: failure.retryAfterMs };
};

describe('Graph replies through the one classifier', () => {
  it.each([
    [429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', 'concurrency', '432'],
    [429, 'ApplicationThrottled', 'Application is over its RequestsPerMailbox limit.', 'temporary', '451'],
    [503, 'ServiceUnavailable', 'try later', 'temporary', '451'],
    [401, 'InvalidAuthenticationToken', 'Access token has expired.', 'auth', '535'],
    [403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.', 'auth', '530'],
    [403, 'ErrorQuotaExceeded', 'STOREDRV.Submission.Exception:SubmissionQuotaExceededException', 'mailbox-quota', '554'],
    [413, 'RequestBodyTooLarge', 'too large', 'permanent', '552'],
    [400, 'ErrorMimeContentInvalid', 'bad MIME', 'permanent', '550'],
    [500, 'InternalServerError', 'oops', 'temporary', '451'],
  ])('%i %s → %s', (status, code, message, expected, smtp) => {
    const result = disposition(status, code, message);
    expect(result.disposition).toBe(expected);
    expect(result.code).toBe(smtp);
    expect(result.response).toContain(`Graph ${status} ${code}: ${message}`);
  });

  it('throttling carries Retry-After for the mailbox hold; MailboxConcurrency does not', () => {
    expect(disposition(429, 'ApplicationThrottled', 'over its RequestsPerMailbox limit', '120').retryAfterMs).toBe(120_000);
    expect(disposition(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', '1').retryAfterMs).toBeUndefined();
  });
});

describe('Graph mailbox config', () => {
  const parse = (mailbox: Record<string, unknown>) => agentConfigSchema.parse({ mailboxes: [{ address: 'g@contoso.example', ...mailbox }] }).mailboxes[0]!;
  const graph = { type: 'graph', auth: { type: 'oauth2', tenantId: 't', clientId: 'c', clientSecret: 's' } };

  it('defaults the limit to Graph\'s 4 concurrent requests; SMTP stays at 3; an explicit limit wins', () => {
    expect(parse({ upstream: graph }).limit).toBe(4);
    expect(parse({ upstream: graph, limit: 2 }).limit).toBe(2);
    expect(parse({ upstream: { host: 'smtp.office365.com' } }).limit).toBe(3);
    expect(parse({ upstream: graph }).upstream).toMatchObject({ type: 'graph', graphUrl: 'https://graph.microsoft.com', maxRequestBytes: 4 * 1024 * 1024 });
  });

  it('names what is wrong in a Graph upstream', () => {
    const result = agentConfigSchema.safeParse({ mailboxes: [{ address: 'g@contoso.example', upstream: { ...graph, host: 'x' } }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['mailboxes.0.upstream: Unrecognized key: "host"']);
  });

  it('appLimit: a shared semaphore app:<key>, the key defaulting to the client id; one limit per key', () => {
    const shared = (address: string, appLimit: Record<string, unknown>) => ({ address, upstream: { ...graph, appLimit } });
    const config = agentConfigSchema.parse({ mailboxes: [shared('a@contoso.example', { limit: 3 }), shared('b@contoso.example', { limit: 3, key: 'tenant-app' }), { address: 'c@contoso.example', upstream: graph }] });
    expect(config.mailboxes.map(sharedLimitOf)).toEqual([{ name: 'app:c', limit: 3 }, { name: 'app:tenant-app', limit: 3 }, undefined]);
    const result = agentConfigSchema.safeParse({ mailboxes: [shared('x@contoso.example', { limit: 0 })] });
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'mailboxes.0.upstream.appLimit.limit: Too small: expected number to be >=1',
    ]);
    const mismatch = agentConfigSchema.safeParse({ mailboxes: [shared('a@contoso.example', { limit: 3 }), shared('b@contoso.example', { limit: 5 })] });
    expect(mismatch.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'mailboxes.1.upstream.appLimit.limit: 5 differs from mailboxes.0.upstream.appLimit.limit (3) for the same app limit key: give them one limit',
    ]);
    const smtp = agentConfigSchema.safeParse({ mailboxes: [{ address: 'a@contoso.example', upstream: { host: 'smtp.office365.com', appLimit: { limit: 3 } } }] });
    expect(smtp.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['mailboxes.0.upstream: Unrecognized key: "appLimit"']);
  });
});

describe('withEnvelopeRecipients', () => {
  it('adds envelope recipients no header names as Bcc, and leaves a message whose headers name them all', () => {
    const raw = Buffer.from('To: A <a@x.test>\r\nCc: b@x.test\r\nSubject: s\r\n\r\nbody');
    expect(withEnvelopeRecipients(raw, ['a@x.test', 'B@x.test'])).toBe(raw);
    expect(withEnvelopeRecipients(raw, ['a@x.test', 'hidden@x.test']).toString()).toBe(`Bcc: hidden@x.test\r\n${raw.toString()}`);
  });
});
