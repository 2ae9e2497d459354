/**
 * Reply texts as Exchange Online's SMTP AUTH submission endpoint (smtp.office365.com:587) words
 * them. Each is the text after the three-digit code; smtp-server's own enhanced status codes stay
 * off, so these strings are sent verbatim.
 */
export const Reply = {
  concurrencyLimit: (hostname: string) =>
    `4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=${hostname}]`,
  submissionQuota: '5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException',
  mailboxFull:
    '5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded',
  authUnsuccessful: '5.7.3 Authentication unsuccessful',
  basicAuthDisabled: '5.7.30 Basic authentication is not supported for Client Submission.',
  smtpAuthDisabled:
    '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
  notAuthenticated: '5.7.57 Client not authenticated to send mail',
  sendAsDenied: '5.7.60 SMTP; Client does not have permissions to send as this sender',
  corruptContent: '5.6.0 Corrupt message content; STOREDRV.Submission.Exception:ConversionFailedException; Failed to process message due to a permanent exception',
  recipientNotFound: '5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
  transient: '4.3.111 Temporary server error. Please try again later',
  serviceUnavailable: (hostname: string) =>
    `4.3.2 Service not available, closing transmission channel [Hostname=${hostname}]`,
  queued: (messageId: string | undefined, hostname: string) =>
    `2.0.0 OK${messageId ? ` ${messageId}` : ''} [Hostname=${hostname}] Queued mail for delivery`,
} as const;

/** SMTP reply codes paired with the texts above. */
export const ReplyCode = {
  concurrencyLimit: 432,
  submissionQuota: 554,
  mailboxFull: 554,
  authUnsuccessful: 535,
  basicAuthDisabled: 550,
  smtpAuthDisabled: 535,
  sendAsDenied: 550,
  corruptContent: 554,
  recipientNotFound: 550,
  transient: 451,
  serviceUnavailable: 421,
} as const;
