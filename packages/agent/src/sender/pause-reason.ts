import { enhancedCode } from './reply-classifier.js';

/** Why authentication paused a mailbox, as a bounded metric label (`smtp_slots_mailbox_auth_paused{cause}`). */
export type AuthPauseCause = 'basic-auth-disabled' | 'smtp-auth-disabled' | 'credential-refused' | 'auth-refused';

/** Each cause's reason text starts with its prefix: the metric reads the cause back from the stored reason. */
const PREFIX: Record<AuthPauseCause, string> = {
  'basic-auth-disabled': 'basic authentication is off for this tenant',
  'smtp-auth-disabled': 'SMTP AUTH is disabled for the tenant or mailbox',
  'credential-refused': "the token endpoint refused the app's credential",
  'auth-refused': 'authentication refused',
};

export const AUTH_PAUSE_CAUSES = Object.keys(PREFIX) as AuthPauseCause[];

/**
 * The reason stored with a paused mailbox: what happened, what the operator does about it, then
 * the upstream's full reply. Microsoft 365 names the cause in the enhanced code, so the two
 * tenant-settings refusals get their own remedy (docs/microsoft-365.md).
 */
export function pauseReason(cause: 'auth' | 'mailbox-quota', mailbox: string, response: string): string {
  if (cause === 'mailbox-quota') return `quota or mailbox full: ${response}`;
  const enhanced = enhancedCode(response);
  if (enhanced === '5.7.30') {
    return `${PREFIX['basic-auth-disabled']}: switch mailboxes[].upstream.auth to type oauth2 (docs/microsoft-365.md), restart the agent, then resume the mailbox: ${response}`;
  }
  if (enhanced === '5.7.139') {
    return `${PREFIX['smtp-auth-disabled']}: Set-CASMailbox ${mailbox} -SmtpClientAuthenticationDisabled $false, then resume the mailbox: ${response}`;
  }
  if (/^token request for client \S+ refused/.test(response)) {
    return `${PREFIX['credential-refused']} (client secret wrong or expired, certificate not registered on the app or wrong thumbprint, wrong tenantId or clientId): fix mailboxes[].upstream.auth, restart the agent, then resume the mailbox: ${response}`;
  }
  return `${PREFIX['auth-refused']}: ${response}`;
}

/** The authentication cause of a stored pause reason; undefined for other pauses (quota, an operator's). */
export function authPauseCause(reason: string | undefined): AuthPauseCause | undefined {
  if (!reason) return undefined;
  return AUTH_PAUSE_CAUSES.find((cause) => reason.startsWith(PREFIX[cause]));
}
