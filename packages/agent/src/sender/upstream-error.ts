import { AgentError } from '../errors.js';

/**
 * Where in talking to the upstream a failure happened. SMTP: the connection (TCP, TLS from the
 * first byte, waiting for the greeting), then one stage per command; `data` covers the DATA
 * command and the reply to the final dot. `request` is one HTTP request of an API transport.
 */
export type UpstreamStage =
  | 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'auth'
  | 'mail' | 'rcpt' | 'data' | 'rset' | 'quit'
  | 'request';

/**
 * Why there was no reply: the connection broke or timed out, TLS failed, the server broke the
 * protocol, we aborted, no token (endpoint unreachable), or the token endpoint refused the app's
 * credential (`token-refused`: only a config change helps, like a refused AUTH).
 */
export type UpstreamFault = 'connection' | 'timeout' | 'tls' | 'protocol' | 'aborted' | 'token' | 'token-refused';

/** `5.2.0` from `554 5.2.0 STOREDRV...`, if the reply has an enhanced status code. */
export function enhancedCode(response: string | undefined): string | undefined {
  return /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '')?.[1];
}

/**
 * The upstream refused (`replyCode` set: it answered) or could not be talked to (`fault` set).
 * Every transport throws this one error and reply-classifier.ts turns it into a Disposition.
 *
 * A transport over HTTP (Microsoft Graph sendMail) throws it with stage `request`: a response
 * becomes `UpstreamError.refused('request', { code, text })` with `code` the SMTP reply code of
 * the same meaning (401 → 535 authentication, 429 or 503 → 451 try later, a quota error → 554
 * with its 5.2.x enhanced code in `text`, other 4xx → 550), `text` carrying the HTTP status and
 * the service's error code and message; no response at all becomes a `fault`.
 */
export class UpstreamError extends AgentError {
  /** The reply's code when the upstream answered (for an API: the mapped SMTP code). */
  readonly replyCode: number | undefined;
  /** The reply's enhanced status code (RFC 3463), e.g. `5.7.139`. */
  readonly enhancedCode: string | undefined;
  /** The full reply text, or what went wrong when there was no reply. */
  readonly text: string;
  /** Why there was no reply; undefined when the upstream answered. */
  readonly fault: UpstreamFault | undefined;

  private constructor(
    readonly stage: UpstreamStage,
    failure: { reply: { code: number; text: string } } | { fault: UpstreamFault; text: string },
    options?: { cause?: unknown },
  ) {
    const text = 'reply' in failure ? failure.reply.text : failure.text;
    super('UPSTREAM_FAILED', text, options);
    this.replyCode = 'reply' in failure ? failure.reply.code : undefined;
    this.enhancedCode = 'reply' in failure ? enhancedCode(text) : undefined;
    this.fault = 'fault' in failure ? failure.fault : undefined;
    this.text = text;
  }

  /** The upstream answered `reply` (text: every line, codes included) at `stage`. */
  static refused(stage: UpstreamStage, reply: { code: number; text: string }): UpstreamError {
    return new UpstreamError(stage, { reply });
  }

  /** No usable reply at `stage`. */
  static fault(stage: UpstreamStage, fault: UpstreamFault, text: string, options?: { cause?: unknown }): UpstreamError {
    return new UpstreamError(stage, { fault, text }, options);
  }

  /** `error` as an UpstreamError: itself, or (anything else thrown at `stage`) a `fault`. */
  static from(error: unknown, stage: UpstreamStage, fault: UpstreamFault): UpstreamError {
    if (error instanceof UpstreamError) return error;
    return UpstreamError.fault(stage, fault, error instanceof Error ? error.message : String(error), { cause: error });
  }

  /** The same failure as seen by a command waiting at `stage` (a broken connection fails every pending command). */
  at(stage: UpstreamStage): UpstreamError {
    if (stage === this.stage) return this;
    const failure = this.replyCode !== undefined ? { reply: { code: this.replyCode, text: this.text } } : { fault: this.fault ?? 'connection', text: this.text };
    return new UpstreamError(stage, failure, { cause: this.cause });
  }
}
