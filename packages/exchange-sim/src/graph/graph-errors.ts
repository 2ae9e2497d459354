/** Graph error bodies (`{ error: { code, message } }`) as Microsoft Graph words them for sendMail. */
export const GraphError = {
  unauthorized: { code: 'InvalidAuthenticationToken', message: 'Access token is empty, expired or not valid for this resource.' },
  accessDenied: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' },
  mailboxConcurrency: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' },
  requestRate: { code: 'ApplicationThrottled', message: 'Application is over its RequestsPerMailbox limit (10,000 requests per 10 minutes).' },
  tooLarge: (limit: number) => ({ code: 'RequestBodyTooLarge', message: `The request body is larger than the limit of ${limit} bytes (about 4 MB); send large messages through an upload session.` }),
  invalidUser: (user: string) => ({ code: 'ErrorInvalidUser', message: `The requested user '${user}' is invalid.` }),
  notMime: { code: 'ErrorMimeContentInvalid', message: 'Send the message as base64-encoded MIME with Content-Type: text/plain.' },
  notBase64: { code: 'ErrorMimeContentInvalidBase64String', message: 'Invalid base64 string for MIME content.' },
  quotaExceeded: { code: 'ErrorQuotaExceeded', message: 'STOREDRV.Submission.Exception:SubmissionQuotaExceededException' },
  mailboxFull: { code: 'ErrorQuotaExceeded', message: 'The mailbox is full: QuotaExceededException.MapiExceptionShutoffQuotaExceeded' },
} as const;
