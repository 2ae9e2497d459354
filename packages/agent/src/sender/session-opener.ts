import type { Lease } from '@smtp-slots/core';
import type { MailboxUpstream } from '../config.js';
import { GraphSession } from './graph-session.js';
import { classifyFailure, type Classification } from './reply-classifier.js';
import type { AccessTokenProvider } from './token-provider.js';
import { UpstreamError, type UpstreamStage } from './upstream-error.js';
import { UpstreamSession } from './upstream-session.js';

/** What a lease run sends through: an SMTP connection or a Graph client. */
export type MailSession = UpstreamSession | GraphSession;

export type OpenResult =
  | { session: MailSession }
  /** The lease ended (or shutdown) before a session could be opened: nothing was attempted. */
  | { aborted: true }
  | { failure: Classification; stage: UpstreamStage };

/**
 * Opens the upstream session under a live lease (invariant 1: no connection without one).
 * XOAUTH2: a refused token may just be stale, so the token is renewed once before giving up.
 */
export async function openUnderLease(
  upstream: MailboxUpstream,
  lease: Lease,
  signal: AbortSignal,
  options: { ehloName: string; tokenProvider?: AccessTokenProvider; onThrottled?: (retryAfterMs: number) => void },
): Promise<OpenResult> {
  let forceNewToken = false;
  // Every byte (every Graph request) goes out only after the lease's deadline is checked by the clock.
  const writeFence = () => lease.checkLive();
  for (;;) {
    if (signal.aborted || lease.remainingMs() <= 0) return { aborted: true };
    try {
      if (upstream.type === 'graph') {
        if (!options.tokenProvider) throw UpstreamError.fault('auth', 'token', 'no token provider for Graph');
        const { tokenProvider, onThrottled } = options;
        return { session: await GraphSession.open(upstream, { signal, tokenProvider, forceNewToken, writeFence, ...(onThrottled ? { onThrottled } : {}) }) };
      }
      const session = await UpstreamSession.open(upstream, {
        signal, name: options.ehloName, forceNewToken, writeFence, ...(options.tokenProvider ? { tokenProvider: options.tokenProvider } : {}),
      });
      return { session };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (signal.aborted) return { aborted: true };
      const failure = classifyFailure(error);
      if (failure.disposition === 'auth' && upstream.auth?.type === 'oauth2' && !forceNewToken) {
        forceNewToken = true;
        continue;
      }
      return { failure, stage: error.stage };
    }
  }
}
