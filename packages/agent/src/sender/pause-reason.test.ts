import { describe, expect, it } from 'vitest';
import { authPauseCause, pauseReason } from './pause-reason.js';

describe('pauseReason', () => {
  it('5.7.139 names the Set-CASMailbox command for the mailbox and keeps the full reply', () => {
    const reply = '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant';
    const reason = pauseReason('auth', 'sales@contoso.example', reply);
    expect(reason).toContain('Set-CASMailbox sales@contoso.example -SmtpClientAuthenticationDisabled $false');
    expect(reason.endsWith(reply)).toBe(true);
  });

  it('a refused token request names the credential to fix', () => {
    const refusal = 'token request for client app-1 refused (invalid_client: AADSTS700027: Client assertion failed signature validation.)';
    const reason = pauseReason('auth', 'a@contoso.example', refusal);
    expect(reason).toMatch(/^the token endpoint refused the app's credential .*certificate not registered on the app.*fix mailboxes\[\]\.upstream\.auth/);
    expect(reason.endsWith(refusal)).toBe(true);
  });

  it('the metric reads the cause back from the stored reason; quota and operator pauses have none', () => {
    expect(authPauseCause(pauseReason('auth', 'a@x', '550 5.7.30 Basic authentication is not supported for Client Submission.'))).toBe('basic-auth-disabled');
    expect(authPauseCause(pauseReason('auth', 'a@x', '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled'))).toBe('smtp-auth-disabled');
    expect(authPauseCause(pauseReason('auth', 'a@x', 'token request for client c refused (invalid_client: AADSTS7000215)'))).toBe('credential-refused');
    expect(authPauseCause(pauseReason('auth', 'a@x', '535 5.7.3 Authentication unsuccessful'))).toBe('auth-refused');
    expect(authPauseCause(pauseReason('mailbox-quota', 'a@x', '554 5.2.2 mailbox full'))).toBeUndefined();
    expect(authPauseCause('paused by the operator for maintenance')).toBeUndefined();
    expect(authPauseCause(undefined)).toBeUndefined();
  });

  it('other refusals keep the plain cause and the reply', () => {
    expect(pauseReason('auth', 'a@contoso.example', '535 5.7.3 Authentication unsuccessful')).toBe('authentication refused: 535 5.7.3 Authentication unsuccessful');
    expect(pauseReason('mailbox-quota', 'a@contoso.example', '554 5.2.2 mailbox full')).toBe('quota or mailbox full: 554 5.2.2 mailbox full');
  });
});
