import type { Lease } from '@smtp-slots/core';
import type { SpoolMessage } from '../spool/spool.js';
import { connectRetryDelay, WORKER_FAILURE_PAUSE_MS } from './backoff.js';
import type { MessageAdmission, RateDecision } from './message-admission.js';
import { sleep } from './notifier.js';
import type { Next, OutcomeHandler } from './outcome-handler.js';
import type { MailboxScope } from './sender-services.js';
import type { SlotServiceErrors } from './slot-service-errors.js';
import { openUnderLease, type MailSession } from './session-opener.js';
import { UpstreamSession, type SendResult } from './upstream-session.js';

const CONTINUE: Promise<Next> = Promise.resolve('continue');
const GRANTED: Promise<RateDecision> = Promise.resolve({ granted: true });
const NOT_GRANTED: RateDecision = { granted: false };

/** What one lease run keeps while it sends: the messages delivered and the spool writes still running. */
interface RunState {
  sent: number;
  bookkeeping: Set<Promise<unknown>>;
}

/**
 * The life of one upstream connection under one lease, in order: the lease is held, the session
 * opened, ready messages sent (at most `maxMessagesPerConnection`) and each one settled, then QUIT,
 * the socket closed, and only then the lease released (invariant 1: the slot is free only once
 * the connection is gone).
 */
export class LeaseRunner {
  private connectFailures = 0;

  constructor(
    private readonly scope: MailboxScope,
    private readonly admission: MessageAdmission,
    private readonly outcomes: OutcomeHandler,
    private readonly serviceErrors: SlotServiceErrors,
    /** Aborts when shutdown's deadline passes: sockets still open are destroyed. */
    private readonly hardStop: AbortSignal,
  ) {}

  /**
   * Uses a granted lease and releases it; never throws (messages of a failed run stay in the
   * spool). `first`: a message already claimed and admitted for this lease.
   */
  async run(lease: Lease, worker: string, first?: SpoolMessage): Promise<void> {
    const { services: { observer }, mailbox, log, stopping } = this.scope;
    observer.slotGranted(mailbox, lease.waitedMs / 1000);
    const onLost = () => observer.leaseLost(mailbox, String((lease.signal.reason as { reason?: string } | undefined)?.reason ?? 'lost'));
    lease.signal.addEventListener('abort', onLost, { once: true });
    const state: RunState = { sent: 0, bookkeeping: new Set() };
    let failed = false;
    try {
      await this.sendUnder(lease, state, first);
    } catch (error) {
      log.error({ worker, err: (error as Error).message }, 'sender worker failed; messages stay in the spool');
      failed = true;
    } finally {
      lease.signal.removeEventListener('abort', onLost);
      await lease.release().catch((error: Error) => log.warn({ err: error.message }, 'slot release failed (the lease will expire)'));
      observer.slotReleased(mailbox);
    }
    // The spool records deliveries after the slot is free: nothing upstream waits for them.
    await Promise.all(state.bookkeeping);
    if (failed) await sleep(WORKER_FAILURE_PAUSE_MS, stopping);
  }

  /** Session, messages, settling, QUIT and close: everything the lease covers. */
  private async sendUnder(lease: Lease, state: RunState, first: SpoolMessage | undefined): Promise<void> {
    // `first` was claimed before the slot came; a pause or hold set meanwhile (another worker's
    // 429, connect failure or 535) must keep it from going out: back to the queue, slot released.
    if (first && this.admission.heldBack()) {
      await this.admission.giveBack(first);
      return;
    }
    const signal = AbortSignal.any([lease.signal, this.hardStop]);
    const max = this.scope.options.maxMessagesPerConnection;
    let session: MailSession | undefined;
    // The next message is claimed and admitted while the current one is in flight, and its
    // MAIL FROM and RCPT TO follow the current final dot on the wire: spool, Redis and SMTP round
    // trips overlap the upstream's latency instead of adding to it. At most two messages are in
    // flight; the second one's bytes wait until the first is settled and went well.
    let next: Promise<SpoolMessage | undefined> = first ? Promise.resolve(first) : this.admission.next(signal);
    let inFlight: Promise<Next> | undefined;
    let lastToken: Promise<RateDecision> = GRANTED;
    try {
      for (let taken = 1; ; taken += 1) {
        const message = await next;
        next = Promise.resolve(undefined);
        if (!message) break;
        if (!session) {
          session = await this.openSession(message, lease, signal);
          if (!session) break;
        }
        const previous = inFlight ?? CONTINUE;
        // The rate token is taken while MAIL FROM and RCPT TO are on the wire, and after the token
        // of the message before: the upstream sees the tokens' spacing, and the Redis round trip
        // hides behind the SMTP ones. When the message before closes the session, the wait for
        // this token ends (no token spent, no connection kept open for it).
        const closing = new AbortController();
        previous.then((verdict) => verdict === 'close' && closing.abort(), () => closing.abort());
        const waitSignal = AbortSignal.any([signal, closing.signal]);
        const token: Promise<RateDecision> = (lastToken = lastToken.then((before) => (before.granted ? this.admission.take(lease, message, waitSignal) : NOT_GRANTED)));
        const sending = session.send(message.header.envelope, message.raw, {
          data: token.then((t) => t.granted),
          body: previous.then((verdict) => verdict === 'continue', () => false),
        });
        if (taken < max) next = this.admission.next(signal);
        const current = previous.then(
          (verdict) => this.settle(message, sending, token, verdict, signal, state),
          // The one before failed in its bookkeeping: this one has not been sent (its gate stayed shut).
          () => this.settle(message, sending, token, 'close', signal, state),
        );
        // `current` becomes the one the finally block waits for before the session closes, even
        // when waiting for the one before throws.
        const before = inFlight;
        inFlight = current;
        if (before && (await before) === 'close') break;
      }
    } finally {
      try {
        try {
          await inFlight;
        } finally {
          // The slot is released only after the socket has closed (invariant 1): close it first, so
          // that nothing else in this block can throw past it and release with the socket open.
          if (session) await this.close(session, signal, state);
        }
      } finally {
        const prefetched = await next.catch((error: Error) => {
          this.bookkeepingFailed(error);
          return undefined;
        });
        if (prefetched) await this.admission.giveBack(prefetched);
      }
    }
  }

  /** Opens the upstream session under the lease; on failure handles `message` and returns undefined. */
  private async openSession(message: SpoolMessage, lease: Lease, signal: AbortSignal): Promise<MailSession | undefined> {
    const { options: { settings, tokenProvider, ehloName, retry }, hold, log } = this.scope;
    const onThrottled = (retryAfterMs: number) => hold.hold('throttled', retryAfterMs);
    const opened = await openUnderLease(settings.upstream, lease, signal, { ehloName, onThrottled, ...(tokenProvider ? { tokenProvider } : {}) });
    if ('session' in opened) {
      this.connectFailures = 0;
      const localPort = opened.session instanceof UpstreamSession ? opened.session.localPort : undefined;
      log.debug({ slot: lease.slot, fencingToken: lease.token, localPort }, 'upstream connection opened under a lease');
      return opened.session;
    }
    if ('aborted' in opened) {
      await this.admission.giveBack(message);
      return undefined;
    }
    const { failure, stage } = opened;
    log.warn({ stage, code: failure.code, response: failure.response }, 'upstream session could not be opened');
    await this.outcomes.openFailed(message, failure);
    if (failure.disposition === 'temporary' || failure.disposition === 'permanent') {
      this.connectFailures += 1;
      hold.hold('connect', connectRetryDelay(this.connectFailures, retry));
    }
    return undefined;
  }

  /** What became of one message, once the one before it is settled (`previous`). */
  private async settle(
    message: SpoolMessage,
    sending: Promise<SendResult>,
    token: Promise<RateDecision>,
    previous: Next,
    signal: AbortSignal,
    state: RunState,
  ): Promise<Next> {
    const [result, decision] = await Promise.all([sending, token]);
    const nothingSent = result.kind === 'held-back' || result.kind === 'recipients-refused' || (result.kind === 'failed' && !result.dataSent);
    if (result.kind === 'held-back' || (previous === 'close' && nothingSent)) {
      // Nothing of the message went out (no rate token, or the session is closing): back to the
      // queue, its recipients out of the ledger, no attempt counted.
      if (decision.error !== undefined) this.serviceErrors.failed(decision.error);
      await this.admission.giveBack(message, decision.hold, decision.holdMs ?? 0);
      return 'close';
    }
    if (result.kind === 'accepted') state.sent += 1;
    if (result.kind === 'accepted' && result.refused.length === 0) {
      // Off the upstream's critical path: the next message's bytes wait for this verdict, not for the spool.
      const done = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.outcomes.afterSend(message, result, false))
        .catch((error: Error) => this.bookkeepingFailed(error));
      state.bookkeeping.add(done);
      void done.finally(() => state.bookkeeping.delete(done));
      return 'continue';
    }
    return this.outcomes.afterSend(message, result, signal.aborted);
  }

  /** QUIT (or, when the lease ended or shutdown's deadline passed, destroy) and wait for the socket to close. */
  private async close(session: MailSession, signal: AbortSignal, state: RunState): Promise<void> {
    if (signal.aborted) await session.destroy();
    else await session.quit();
    this.scope.services.observer.connectionClosed(this.scope.mailbox, state.sent);
  }

  private bookkeepingFailed(error: Error): void {
    // The upstream has the message; the spool could not record it: it may be sent again after a restart.
    this.scope.log.error({ err: error.message }, 'could not remove a delivered message from the spool');
  }
}
