import { TokenRequestError } from './token-provider.js';
import type { SmtpError } from './upstream-session.js';

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

/** `5.2.0` from `554 5.2.0 STOREDRV...`, if the reply has an enhanced status code. */
export function enhancedCode(response: string | undefined): string | undefined {
  return /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '')?.[1];
}

const AUTH_CODES = new Set([530, 534, 535, 538]);
const MESSAGE_STAGES = new Set(['MAIL FROM', 'DATA', 'API']);

/** Maps an upstream failure (reply or connection error) to what to do about it. */
export function classifyFailure(error: SmtpError, stage: 'connect' | 'auth' | 'send', dataSent = false): Classification {
  const reply = error.responseCode;
  const response = (error.response ?? error.message).trim();
  // The token endpoint refused the app's credential: like a refused AUTH, retrying cannot help.
  if ((error as unknown) instanceof TokenRequestError) {
    return { disposition: (error as unknown as TokenRequestError).refused ? 'auth' : 'temporary', code: 'token', response };
  }
  if (!reply) {
    const code = error.code === 'ETIMEDOUT' ? 'timeout' : error.code === 'ETLS' ? 'tls' : error.code === 'EPROTOCOL' ? 'protocol' : stage === 'auth' ? 'token' : 'connection';
    return { disposition: stage === 'send' && dataSent ? 'unknown-outcome' : 'temporary', code, response };
  }
  const code = String(reply);
  const enhanced = enhancedCode(error.response);
  if (reply === 432) return { disposition: 'concurrency', code, response };
  if (AUTH_CODES.has(reply) || (enhanced?.startsWith('5.7.') && (stage === 'auth' || error.command === 'MAIL FROM'))) {
    return { disposition: 'auth', code, response };
  }
  if ((enhanced === '5.2.0' || enhanced === '5.2.2') && (stage !== 'send' || MESSAGE_STAGES.has(error.command ?? 'DATA'))) {
    return { disposition: 'mailbox-quota', code, response };
  }
  if (reply >= 400 && reply < 500) return { disposition: 'temporary', code, response };
  return { disposition: 'permanent', code, response };
}

/** Per-recipient refusals at RCPT TO: 4xx retry later, 5xx bounce that recipient only. */
export function splitRefusals(refused: Array<{ recipient: string; error: SmtpError }>): { retry: typeof refused; bounce: typeof refused } {
  const retry = refused.filter((r) => (r.error.responseCode ?? 400) < 500);
  const bounce = refused.filter((r) => (r.error.responseCode ?? 400) >= 500);
  return { retry, bounce };
}
