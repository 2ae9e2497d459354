import { enhancedCode } from './reply-classifier.js';

/**
 * The reason stored with a paused mailbox: what happened, what the operator does about it, then
 * the upstream's full reply. Microsoft 365 names the cause in the enhanced code, so the two
 * tenant-settings refusals get their own remedy (docs/microsoft-365.md).
 */
export function pauseReason(cause: 'auth' | 'mailbox-quota', mailbox: string, response: string): string {
  if (cause === 'mailbox-quota') return `quota or mailbox full: ${response}`;
  const enhanced = enhancedCode(response);
  if (enhanced === '5.7.30') {
    return `basic authentication is off for this tenant: switch mailboxes[].upstream.auth to type oauth2 (docs/microsoft-365.md), restart the agent, then resume the mailbox: ${response}`;
  }
  if (enhanced === '5.7.139') {
    return `SMTP AUTH is disabled for the tenant or mailbox: Set-CASMailbox ${mailbox} -SmtpClientAuthenticationDisabled $false, then resume the mailbox: ${response}`;
  }
  if (/^token request for client \S+ refused/.test(response)) {
    return `the token endpoint refused the app's credential (client secret wrong or expired, certificate not registered on the app or wrong thumbprint, wrong tenantId or clientId): fix mailboxes[].upstream.auth, restart the agent, then resume the mailbox: ${response}`;
  }
  return `authentication refused: ${response}`;
}
