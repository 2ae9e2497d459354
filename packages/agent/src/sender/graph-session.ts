import type { GraphUpstreamSettings } from '../config.js';
import type { AccessTokenProvider } from './token-provider.js';
import { UpstreamError } from './upstream-error.js';
import type { SendResult } from './upstream-session.js';
import { graphFailure } from './graph-replies.js';
import { withEnvelopeRecipients } from './mime-recipients.js';

type Envelope = { from: string; to: string[] };

export interface GraphSessionOptions {
  /** The lease's signal: aborting cancels the request in flight. */
  signal: AbortSignal;
  tokenProvider: AccessTokenProvider;
  forceNewToken?: boolean;
  /** The lease's write fence (`Lease.checkLive`): asked before every request. */
  writeFence?: () => boolean;
  /** 429/503 with Retry-After: hold the whole mailbox that long. */
  onThrottled?: (retryAfterMs: number) => void;
}

/**
 * One lease's use of Microsoft Graph `sendMail`: the same contract as an SMTP session (send
 * never throws, quit/destroy end it), so the lease run does not care which transport it drives.
 * The lease covers the request in flight: Graph counts concurrent requests per mailbox
 * (MailboxConcurrency, 4), and the slot semaphore is what keeps us under it.
 */
export class GraphSession {
  private token: string;
  private readonly inFlight = new AbortController();

  private constructor(private readonly settings: GraphUpstreamSettings, private readonly options: GraphSessionOptions, token: string) {
    this.token = token;
  }

  /** Gets a token (the only step before the first request); fails with an UpstreamError at stage `auth`. */
  static async open(settings: GraphUpstreamSettings, options: GraphSessionOptions): Promise<GraphSession> {
    try {
      return new GraphSession(settings, options, await options.tokenProvider.getToken({ forceRenew: options.forceNewToken ?? false }));
    } catch (error) {
      const refused = (error as { refused?: boolean }).refused === true;
      throw UpstreamError.from(error, 'auth', refused ? 'token-refused' : 'token');
    }
  }

  async send(envelope: Envelope, raw: Buffer, gates: { data?: Promise<boolean>; body?: Promise<boolean> } = {}): Promise<SendResult> {
    if (!(await (gates.data ?? true)) || !(await (gates.body ?? true))) return { kind: 'held-back', reusable: false };
    const body = withEnvelopeRecipients(raw, envelope.to).toString('base64');
    if (body.length > this.settings.maxRequestBytes) {
      // Never a silent failure: the dead letter says which limit and by how much.
      const text = `552 5.3.4 message is ${body.length} bytes as base64 MIME, above the Graph sendMail request limit of ${this.settings.maxRequestBytes} bytes (mailboxes[].upstream.maxRequestBytes); upload sessions for larger messages are not supported: send it through SMTP or make it smaller`;
      return { kind: 'failed', error: UpstreamError.refused('request', { code: 552, text }), dataSent: false, reusable: true };
    }
    let renewed = false;
    for (;;) {
      const outcome = await this.post(envelope.from, body);
      if ('accepted' in outcome) return { kind: 'accepted', response: outcome.accepted, accepted: [...envelope.to], refused: [] };
      // A 401 may be an expired or revoked token: one forced renewal, then it counts.
      if (outcome.status === 401 && !renewed) {
        renewed = true;
        try {
          this.token = await this.options.tokenProvider.getToken({ forceRenew: true });
          continue;
        } catch (error) {
          const refused = (error as { refused?: boolean }).refused === true;
          return { kind: 'failed', error: UpstreamError.from(error, 'auth', refused ? 'token-refused' : 'token'), dataSent: false, reusable: false };
        }
      }
      if (outcome.retryAfterMs !== undefined && !outcome.concurrency) this.options.onThrottled?.(outcome.retryAfterMs);
      return { kind: 'failed', error: outcome.error, dataSent: outcome.dataSent, reusable: outcome.status !== undefined };
    }
  }

  /** Nothing to close: HTTP connections are pooled. */
  async quit(): Promise<void> {
    await this.destroy();
  }

  async destroy(): Promise<void> {
    this.inFlight.abort();
  }

  private async post(user: string, body: string): Promise<
    | { accepted: string }
    | { error: UpstreamError; status?: number; dataSent: boolean; retryAfterMs?: number; concurrency?: boolean }
  > {
    if (this.options.writeFence && !this.options.writeFence()) {
      this.inFlight.abort();
      return { error: UpstreamError.fault('request', 'aborted', 'the lease ended before this request'), dataSent: false };
    }
    const url = `${this.settings.graphUrl.replace(/\/+$/, '')}/v1.0/users/${encodeURIComponent(user)}/sendMail`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'text/plain' },
        body,
        signal: AbortSignal.any([this.options.signal, this.inFlight.signal, AbortSignal.timeout(this.settings.requestTimeoutMs)]),
      });
    } catch (error) {
      // No response: the request may have reached Graph (outcome unknown, same Message-ID on retry).
      const timedOut = (error as Error).name === 'TimeoutError';
      return { error: UpstreamError.fault('request', timedOut ? 'timeout' : 'connection', `Graph sendMail: ${(error as Error).message}`, { cause: error }), dataSent: true };
    }
    const text = await response.text().catch(() => '');
    if (response.status === 202 || response.status === 200) return { accepted: `${response.status} Accepted by Microsoft Graph sendMail` };
    return { ...graphFailure(response.status, text, response.headers.get('retry-after')), status: response.status, dataSent: false };
  }
}
