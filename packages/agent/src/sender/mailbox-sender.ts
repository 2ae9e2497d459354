import {
  AcquireAbortedError, MailboxPausedError, type LimitFeedback, type Lease, type MailboxAdmin, type RateLimiter,
  type RecipientLedger, type SlotClient,
} from '@smtp-slots/core';
import type { Logger } from 'pino';
import type { MailboxSettings, RetryPolicy } from '../config.js';
import type { Spool, SpoolMessage } from '../spool/spool.js';
import { connectRetryDelay, slotServiceRetryDelay, WORKER_FAILURE_PAUSE_MS } from './backoff.js';
import { LiveMailboxConfig } from './live-mailbox-config.js';
import { Notifier, sleep } from './notifier.js';
import { OutcomeHandler, type MailboxActions, type Next } from './outcome-handler.js';
import type { HoldReason, SenderObserver } from './sender-observer.js';
import type { AccessTokenProvider } from './token-provider.js';
import type { SendResult, UpstreamSession } from './upstream-session.js';
import { MailboxHold } from './mailbox-hold.js';
import { RecipientReservations } from './recipient-reservations.js';
import { openUnderLease } from './session-opener.js';

/** Shared services a mailbox sender uses (one of each per agent). */
export interface SenderServices {
  spool: Spool;
  slots: SlotClient;
  rate: RateLimiter;
  ledger: RecipientLedger;
  feedback: LimitFeedback;
  admin: MailboxAdmin;
  observer: SenderObserver;
  log: Logger;
  /** Adds to the mailbox's Redis counters (best effort). */
  count: (mailbox: string, name: string) => void;
}

export interface MailboxSenderOptions {
  settings: MailboxSettings;
  workers: number;
  maxMessagesPerConnection: number;
  maxRateWaitMs: number;
  /** Tokens are spaced this fraction wider than the configured rate (see config). */
  rateSafetyFraction: number;
  retry: RetryPolicy;
  ehloName: string;
  tokenProvider?: AccessTokenProvider;
  /** How often the mailbox's runtime config is re-read from Redis. Default 2 000. */
  configRefreshMs?: number;
}

type Admission = 'go' | 'skip' | 'stop';
/** A rate token, or why not: `holdMs` to wait before the next try, `error` when Redis failed. */
type RateDecision = { granted: boolean; holdMs?: number; error?: unknown };
const CONTINUE: Promise<Next> = Promise.resolve('continue');
const GRANTED: Promise<RateDecision> = Promise.resolve({ granted: true });
const NOT_GRANTED: RateDecision = { granted: false };

/**
 * The workers of one mailbox on this agent. Each worker: wait until a message is ready, acquire
 * a slot FIRST, then connect, send ready messages (rate token and recipient budget before each,
 * bounded per connection), QUIT, wait for the socket to close, release the slot.
 */
export class MailboxSender {
  readonly mailbox: string;
  readonly live: LiveMailboxConfig;
  private readonly notifier = new Notifier();
  private readonly outcomes: OutcomeHandler;
  private readonly stopping = new AbortController();
  private readonly hardStop = new AbortController();
  private readonly workers: Array<Promise<void>> = [];
  private busy = 0;
  private readonly hold: MailboxHold;
  private redisRetryAt = 0;
  private redisFailures = 0;
  private connectFailures = 0;
  private readonly reserved = new RecipientReservations();
  /** Bound to `mailbox` once: the lines below never repeat the key (pino would print it twice). */
  private readonly log: Logger;
  private readonly onSpoolReady = (mailbox: string) => mailbox === this.mailbox && this.notifier.notify();

  constructor(private readonly services: SenderServices, private readonly options: MailboxSenderOptions) {
    const { settings } = options;
    this.mailbox = settings.address.toLowerCase();
    this.hold = new MailboxHold(this.mailbox, services.observer, () => this.notifier.notify());
    const log = services.log.child({ mailbox: this.mailbox });
    this.log = log;
    this.live = new LiveMailboxConfig(services.admin, this.mailbox, { limit: settings.limit, ratePerMinute: settings.ratePerMinute, recipientsPerDay: settings.recipientsPerDay }, (config, previous) => {
      if (config.paused !== previous.paused) {
        services.observer.paused(this.mailbox, config.paused);
        if (config.paused) log.error({ reason: config.pauseReason }, 'mailbox paused: no mail is sent until it is resumed');
        else log.info('mailbox resumed');
      }
      this.notifier.notify();
    });
    const actions: MailboxActions = {
      concurrencyRejected: (response) => {
        void services.feedback.report432(this.mailbox).then(
          ({ effectiveLimit }) => log.warn({ effectiveLimit, response }, 'upstream 432: someone outside smtp-slots uses this mailbox; effective limit lowered'),
          (error: Error) => log.warn({ err: error.message }, 'could not record 432 feedback'),
        );
      },
      pause: async (reason) => {
        this.live.markPaused(reason);
        await services.admin.pause(this.mailbox, reason).catch((error: Error) => log.error({ err: error.message }, 'could not store the pause in Redis'));
      },
      count: (name) => services.count(this.mailbox, name),
      recipientsUnused: (id) => this.reserved.keep(id),
    };
    this.outcomes = new OutcomeHandler(this.mailbox, services.spool, options.retry, services.observer, actions, log);
  }

  start(): void {
    this.live.start(this.options.configRefreshMs ?? 2_000);
    this.services.spool.on('ready', this.onSpoolReady);
    for (let i = 1; i <= this.options.workers; i += 1) this.workers.push(this.runWorker(`w${i}`));
  }

  /** Why this mailbox does not send right now (for /healthz and tests), or undefined. */
  status(): { paused: boolean; pauseReason?: string; hold?: HoldReason; busyWorkers: number } {
    const { paused, pauseReason } = this.live.current;
    const hold = this.hold.remainingMs() > 0 ? this.hold.reason : undefined;
    return { paused, ...(pauseReason ? { pauseReason } : {}), ...(hold ? { hold } : {}), busyWorkers: this.busy };
  }

  /**
   * Stops taking messages; messages in flight finish, sessions QUIT and slots are released.
   * After `timeoutMs` the remaining sockets are destroyed (their messages stay in the spool).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping.abort();
    this.notifier.notify();
    const all = Promise.allSettled(this.workers);
    const timer = setTimeout(() => this.hardStop.abort(), timeoutMs);
    await all;
    clearTimeout(timer);
    this.live.stop();
    this.services.spool.off('ready', this.onSpoolReady);
    this.hold.clear();
  }

  private async runWorker(worker: string): Promise<void> {
    const { slots, observer } = this.services;
    const { log } = this;
    while (!this.stopping.signal.aborted) {
      const waitMs = this.gate();
      if (waitMs > 0) {
        await this.notifier.wait(waitMs, this.stopping.signal);
        continue;
      }
      this.busy += 1;
      let lease: Lease;
      try {
        lease = await slots.acquire(this.mailbox, { worker, signal: this.stopping.signal });
        this.redisFailures = 0;
      } catch (error) {
        this.busy -= 1;
        this.notifier.notify();
        this.onAcquireError(error);
        continue;
      }
      observer.slotGranted(this.mailbox, lease.waitedMs / 1000);
      const onLost = () => observer.leaseLost(this.mailbox, String((lease.signal.reason as { reason?: string } | undefined)?.reason ?? 'lost'));
      lease.signal.addEventListener('abort', onLost, { once: true });
      try {
        await this.useLease(lease);
      } catch (error) {
        log.error({ worker, err: (error as Error).message }, 'sender worker failed; messages stay in the spool');
        await sleep(WORKER_FAILURE_PAUSE_MS, this.stopping.signal);
      } finally {
        lease.signal.removeEventListener('abort', onLost);
        await lease.release().catch((error: Error) => log.warn({ err: error.message }, 'slot release failed (the lease will expire)'));
        observer.slotReleased(this.mailbox);
        this.busy -= 1;
        this.notifier.notify();
      }
    }
  }

  /** Milliseconds to wait before a worker may ask for a slot; 0 when it may. */
  private gate(): number {
    const now = Date.now();
    if (this.live.current.paused) return 2_000;
    if (this.hold.remainingMs() > 0) return this.hold.remainingMs();
    if (this.redisRetryAt > now) return this.redisRetryAt - now;
    // Workers already acquiring or sending will take the ready messages; don't queue for nothing.
    if (this.services.spool.readyCount(this.mailbox) <= this.busy) return 30_000;
    return 0;
  }

  private onAcquireError(error: unknown): void {
    if (error instanceof AcquireAbortedError || this.stopping.signal.aborted) return;
    if (error instanceof MailboxPausedError) {
      this.live.markPaused(error.reason);
      return;
    }
    // Redis unavailable (or any failure of the slot service): fail closed and retry with backoff.
    this.redisFailures += 1;
    this.redisRetryAt = Date.now() + slotServiceRetryDelay(this.redisFailures);
    if (this.redisFailures === 1 || this.redisFailures % 20 === 0) {
      this.log.warn({ err: (error as Error).message, failures: this.redisFailures }, 'cannot get a slot: mail stays in the spool and no upstream connection is opened');
    }
  }

  private async useLease(lease: Lease): Promise<void> {
    const { observer } = this.services;
    const signal = AbortSignal.any([lease.signal, this.hardStop.signal]);
    const max = this.options.maxMessagesPerConnection;
    const bookkeeping = new Set<Promise<unknown>>();
    const counter = { sent: 0 };
    let session: UpstreamSession | undefined;
    // The next message is claimed and admitted while the current one is in flight, and its
    // MAIL FROM and RCPT TO follow the current final dot on the wire: spool, Redis and SMTP round
    // trips overlap the upstream's latency instead of adding to it. At most two messages are in
    // flight; the second one's bytes wait until the first is settled and went well.
    let next: Promise<SpoolMessage | undefined> = this.prepare(signal);
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
        const token: Promise<RateDecision> = (lastToken = lastToken.then((before) => (before.granted ? this.waitForRateToken(lease, waitSignal) : NOT_GRANTED)));
        const sending = session.send(message.header.envelope, message.raw, {
          data: token.then((t) => t.granted),
          body: previous.then((verdict) => verdict === 'continue', () => false),
        });
        if (taken < max) next = this.prepare(signal);
        const current = previous.then(
          (verdict) => this.settle(message, sending, token, verdict, signal, counter, bookkeeping),
          // The one before failed in its bookkeeping: this one has not been sent (its gate stayed shut).
          () => this.settle(message, sending, token, 'close', signal, counter, bookkeeping),
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
          if (session) {
            if (signal.aborted) await session.destroy();
            else await session.quit();
            observer.connectionClosed(this.mailbox, counter.sent);
          }
        }
      } finally {
        const prefetched = await next.catch((error: Error) => {
          this.bookkeepingFailed(error);
          return undefined;
        });
        if (prefetched) await this.giveBack(prefetched, undefined, 0, true);
        await Promise.all(bookkeeping);
      }
    }
  }

  /** What became of one message, once the one before it is settled (`previous`). */
  private async settle(
    message: SpoolMessage,
    sending: Promise<SendResult>,
    token: Promise<RateDecision>,
    previous: Next,
    signal: AbortSignal,
    counter: { sent: number },
    bookkeeping: Set<Promise<unknown>>,
  ): Promise<Next> {
    const [result, decision] = await Promise.all([sending, token]);
    const nothingSent = result.kind === 'held-back' || result.kind === 'recipients-refused' || (result.kind === 'failed' && !result.dataSent);
    if (result.kind === 'held-back' || (previous === 'close' && nothingSent)) {
      // Nothing of the message went out (no rate token, or the session is closing): back to the
      // queue, recipients stay reserved, no attempt counted.
      if (decision.error !== undefined) this.onAcquireError(decision.error);
      await this.giveBack(message, decision.holdMs ? 'rate' : undefined, decision.holdMs ?? 0, true);
      return 'close';
    }
    if (result.kind === 'accepted') counter.sent += 1;
    if (result.kind === 'accepted' && result.refused.length === 0) {
      // Off the upstream's critical path: the next message's bytes wait for this verdict, not for the spool.
      const done = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.outcomes.afterSend(message, result, false))
        .catch((error: Error) => this.bookkeepingFailed(error));
      bookkeeping.add(done);
      void done.finally(() => bookkeeping.delete(done));
      return 'continue';
    }
    return this.outcomes.afterSend(message, result, signal.aborted);
  }

  /** Claims the next ready message and reserves its recipients; undefined when there is none to send now. */
  private async prepare(signal: AbortSignal): Promise<SpoolMessage | undefined> {
    for (;;) {
      if (this.stopping.signal.aborted || signal.aborted) return undefined;
      if (this.live.current.paused || this.hold.remainingMs() > 0) return undefined;
      const message = await this.services.spool.claim(this.mailbox);
      if (!message) return undefined;
      const admission = await this.reserveRecipients(message);
      if (admission === 'go') return message;
      if (admission === 'stop') return undefined;
    }
  }

  private bookkeepingFailed(error: Error): void {
    // The upstream has the message; the spool could not record it: it may be sent again after a restart.
    this.log.error({ err: error.message }, 'could not remove a delivered message from the spool');
  }

  /** The recipient budget for one message, before anything goes upstream. */
  private async reserveRecipients(message: SpoolMessage): Promise<Admission> {
    const { spool, ledger } = this.services;
    const { log } = this;
    const config = this.live.current;
    const { id, envelope } = message.header;
    const recipients = envelope.to.length;
    if (recipients > config.recipientsPerDay) {
      await spool.bury(message, undefined, `${recipients} recipients exceed the whole daily recipient budget of ${config.recipientsPerDay}`);
      this.services.observer.failed(this.mailbox, 'budget');
      return 'skip';
    }
    // Taken before and given back unsent (prefetched when the connection closed): already counted.
    if (this.reserved.reuse(id)) return 'go';
    try {
      const budget = await ledger.reserve(this.mailbox, recipients, config.recipientsPerDay);
      if (budget.allowed) return 'go';
      // Never knowingly trip 554 5.2.0: hold the mailbox until the rolling window frees enough.
      log.warn({ used24h: budget.used, perDay: config.recipientsPerDay, retryAfterMs: budget.retryAfterMs }, 'recipient budget exhausted: holding the mailbox');
      return this.giveBack(message, 'recipients', budget.retryAfterMs);
    } catch (error) {
      this.onAcquireError(error);
      return this.giveBack(message);
    }
  }

  /**
   * A token of the shared per-minute rate. Short waits happen in place (holding the slot); a
   * long one frees the slot instead (`holdMs`).
   */
  private async waitForRateToken(lease: Lease, signal: AbortSignal): Promise<RateDecision> {
    try {
      for (;;) {
        if (signal.aborted || this.stopping.signal.aborted) return { granted: false };
        const decision = await this.services.rate.take(this.mailbox, this.live.current.ratePerMinute * (1 - this.options.rateSafetyFraction));
        if (decision.allowed) return { granted: true };
        if (decision.retryAfterMs <= this.options.maxRateWaitMs && decision.retryAfterMs < lease.remainingMs()) {
          await sleep(decision.retryAfterMs, AbortSignal.any([signal, this.stopping.signal]));
          if (signal.aborted || this.stopping.signal.aborted) return { granted: false };
          continue;
        }
        return { granted: false, holdMs: decision.retryAfterMs };
      }
    } catch (error) {
      return { granted: false, error };
    }
  }

  private async giveBack(message: SpoolMessage, hold?: HoldReason, holdMs = 0, recipientsReserved = false): Promise<Admission> {
    if (recipientsReserved) this.reserved.keep(message.header.id);
    await this.services.spool.putBack(message);
    if (hold) this.hold.hold(hold, holdMs);
    return 'stop';
  }

  /** Opens the upstream session under the lease; on failure handles `message` and returns undefined. */
  private async openSession(message: SpoolMessage, lease: Lease, signal: AbortSignal): Promise<UpstreamSession | undefined> {
    const { settings, tokenProvider, ehloName } = this.options;
    const opened = await openUnderLease(settings.upstream, lease, signal, { ehloName, ...(tokenProvider ? { tokenProvider } : {}) });
    if ('session' in opened) {
      this.connectFailures = 0;
      return opened.session;
    }
    if ('aborted' in opened) {
      await this.giveBack(message, undefined, 0, true);
      return undefined;
    }
    const { failure, stage } = opened;
    this.log.warn({ stage, code: failure.code, response: failure.response }, 'upstream session could not be opened');
    await this.outcomes.openFailed(message, failure);
    if (failure.disposition === 'temporary' || failure.disposition === 'permanent') {
      this.connectFailures += 1;
      this.hold.hold('connect', connectRetryDelay(this.connectFailures, this.options.retry));
    }
    return undefined;
  }
}
