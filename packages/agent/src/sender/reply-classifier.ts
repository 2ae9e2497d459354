import type { UpstreamError, UpstreamStage } from './upstream-error.js';

export { enhancedCode } from './upstream-error.js';

/**
 * What a failed attempt means for the message and the mailbox. The table lives in
 * packages/agent/README.md ("Reply classification"); keep both in step.
 */
export type Disposition =
  /** 432 4.3.2: someone outside the system uses the mailbox. Requeue without spending retry budget; lower the effective limit. */
  | 'concurrency'
  /** Other 4xx, 421, connection errors, timeouts: retry with exponential backoff until the lifetime ends. */
  | 'temporary'
  /** The connection broke after the final dot with no reply: it may have been delivered. Retry with the same Message-ID; count a possible duplicate. */
  | 'unknown-outcome'
  /** 5.2.0 quota / 5.2.2 mailbox full for the sending mailbox: pause the mailbox, keep the message. */
  | 'mailbox-quota'
  /** 530/535/5.7.x while authenticating or at MAIL FROM: pause the mailbox (XOAUTH2: one forced token renewal first). */
  | 'auth'
  /** Any other 5xx for the message: dead letter with the full reply. */
  | 'permanent';

export interface Classification {
  disposition: Disposition;
  /** Bounded label for metrics: the 3-digit reply code, or connection/timeout/tls/protocol/token. */
  code: string;
  /** The full reply text, or the error message when there was no reply. */
  response: string;
}

const AUTH_CODES = new Set([530, 534, 535, 538]);
/** Opening the session, before authentication. */
const OPENING = new Set<UpstreamStage>(['connect', 'greeting', 'ehlo', 'starttls']);
/** Where a 5.2.0/5.2.2 refers to the sending mailbox (not to a recipient's). */
const QUOTA_STAGES = new Set<UpstreamStage>(['mail', 'data', 'request']);
const FAULT_LABELS = new Set(['timeout', 'tls', 'protocol']);

/**
 * The one place where an upstream failure (a reply or no reply, from any transport) becomes what
 * to do about it. `dataSent`: every byte of the message had been handed over.
 */
export function classifyFailure(error: UpstreamError, dataSent = false): Classification {
  const { stage, replyCode: reply, enhancedCode: enhanced } = error;
  const phase = stage === 'auth' ? 'auth' : OPENING.has(stage) ? 'connect' : 'send';
  const response = error.text.trim();
  if (error.fault === 'token-refused') return { disposition: 'auth', code: 'token', response };
  if (reply === undefined) {
    const code = error.fault && FAULT_LABELS.has(error.fault) ? error.fault : phase === 'auth' ? 'token' : 'connection';
    return { disposition: phase === 'send' && dataSent ? 'unknown-outcome' : 'temporary', code, response };
  }
  const code = String(reply);
  if (reply === 432) return { disposition: 'concurrency', code, response };
  if (AUTH_CODES.has(reply) || (enhanced?.startsWith('5.7.') && (phase === 'auth' || stage === 'mail'))) {
    return { disposition: 'auth', code, response };
  }
  if ((enhanced === '5.2.0' || enhanced === '5.2.2') && (phase !== 'send' || QUOTA_STAGES.has(stage))) {
    return { disposition: 'mailbox-quota', code, response };
  }
  if (reply >= 400 && reply < 500) return { disposition: 'temporary', code, response };
  return { disposition: 'permanent', code, response };
}

/** Per-recipient refusals at RCPT TO: 4xx retry later, 5xx bounce that recipient only. */
export function splitRefusals<T extends { error: UpstreamError }>(refused: T[]): { retry: T[]; bounce: T[] } {
  const retry = refused.filter((r) => (r.error.replyCode ?? 400) < 500);
  const bounce = refused.filter((r) => (r.error.replyCode ?? 400) >= 500);
  return { retry, bounce };
}
