import type { Logger } from 'pino';
import type { RetryPolicy } from '../config.js';
import type { Attempt } from '../spool/spool-file.js';
import type { Spool, SpoolMessage } from '../spool/spool.js';
import { backoffDelay, lifetimeExceeded } from './backoff.js';
import { pauseReason } from './pause-reason.js';
import { classifyFailure, splitRefusals, type Classification } from './reply-classifier.js';
import type { SenderObserver } from './sender-observer.js';
import type { RecipientRefusal, SendResult } from './upstream-session.js';

/** Mailbox-level reactions the handler triggers; the MailboxSender implements them. */
export interface MailboxActions {
  /** An upstream 432: report feedback (lower the effective limit for a cool-down). */
  concurrencyRejected(response: string): void;
  /** Quota, mailbox full or authentication: stop sending from this mailbox until an operator resumes it. */
  pause(reason: string): Promise<void>;
  /** Count in the Redis counters shown by the coordinator (best effort). */
  count(name: string): void;
  /**
   * `count` of the message's recipients (all when omitted) were counted in the 24 h ledger but
   * never accepted upstream: give them back. Called once per attempt; 0 keeps them all counted.
   */
  recipientsNotAccepted(spoolId: string, count?: number): Promise<void>;
}

/** Whether the session can carry the next message. */
export type Next = 'continue' | 'close';

/**
 * Applies the reply classification to one message: the spool transition, the metrics and the
 * mailbox reactions (table in packages/agent/README.md).
 */
export class OutcomeHandler {
  constructor(
    private readonly mailbox: string,
    private readonly spool: Spool,
    private readonly retry: RetryPolicy,
    private readonly observer: SenderObserver,
    private readonly actions: MailboxActions,
    /** Already bound to the mailbox (a child logger): lines here do not repeat the key. */
    private readonly log: Logger,
  ) {}

  /** Handles the result of `session.send`; `aborted` is true when we destroyed the socket ourselves. */
  async afterSend(message: SpoolMessage, result: SendResult, aborted: boolean): Promise<Next> {
    if (result.kind === 'accepted') {
      await this.actions.recipientsNotAccepted(message.header.id, result.refused.length);
      const { retry, bounce } = splitRefusals(result.refused);
      const bounced = bounce.length > 0 ? { recipients: bounce.map((r) => r.recipient), attempt: refusalAttempt(bounce) } : undefined;
      if (retry.length > 0) {
        const failures = message.header.failures + 1;
        await this.spool.partiallyDelivered(message, { recipients: retry.map((r) => r.recipient), attempt: refusalAttempt(retry), nextAttemptAt: Date.now() + backoffDelay(failures, this.retry) }, bounced, result.response);
        this.observer.deferred(this.mailbox, codeOf(retry));
      } else {
        await this.spool.delivered(message, bounced, result.response);
      }
      if (bounced) this.observer.failed(this.mailbox, codeOf(bounce));
      this.observer.sent(this.mailbox);
      this.actions.count('sent');
      return 'continue';
    }
    if (result.kind === 'recipients-refused') {
      await this.actions.recipientsNotAccepted(message.header.id);
      const { retry, bounce } = splitRefusals(result.refused);
      if (retry.length === 0) {
        await this.spool.bury(message, refusalAttempt(bounce), 'every recipient was refused');
        this.failed(codeOf(bounce));
      } else {
        if (bounce.length > 0) {
          await this.spool.bounceRecipients(message, bounce.map((r) => r.recipient), refusalAttempt(bounce));
          this.observer.failed(this.mailbox, codeOf(bounce));
        }
        const classification: Classification = { disposition: 'temporary', code: codeOf(retry), response: refusalAttempt(retry).response };
        await this.retryLater(message, classification, { recipients: retry.map((r) => r.recipient) });
      }
      return result.reusable ? 'continue' : 'close';
    }
    if (result.kind === 'held-back' || (aborted && !result.dataSent)) {
      // Held back before DATA, or our lease ended (or shutdown hit its deadline) before the message was complete: not its fault.
      await this.actions.recipientsNotAccepted(message.header.id);
      await this.spool.putBack(message);
      return 'close';
    }
    return this.afterFailure(message, classifyFailure(result.error, result.dataSent), result.reusable);
  }

  /** The session could not be opened (connect, TLS, greeting or AUTH) with `message` claimed. */
  async openFailed(message: SpoolMessage, classification: Classification): Promise<void> {
    if (classification.disposition === 'permanent' || classification.disposition === 'unknown-outcome') {
      // A refusing server is not the message's fault: retry it like a connection error.
      await this.afterFailure(message, { ...classification, disposition: 'temporary' }, false);
      return;
    }
    await this.afterFailure(message, classification, false);
  }

  private async afterFailure(message: SpoolMessage, classification: Classification, reusable: boolean): Promise<Next> {
    const { disposition, code, response } = classification;
    // Every failure but a lost final reply means the upstream took none of the recipients.
    await this.actions.recipientsNotAccepted(message.header.id, disposition === 'unknown-outcome' ? 0 : undefined);
    switch (disposition) {
      case 'concurrency':
        await this.spool.defer(message, attempt(classification), Date.now(), { countsAsFailure: false });
        this.observer.rejection(this.mailbox, code);
        // The feedback script counts `rejections:432` in Redis itself.
        this.actions.concurrencyRejected(response);
        return 'close';
      case 'temporary':
        await this.retryLater(message, classification);
        return 'close';
      case 'unknown-outcome':
        this.observer.possibleDuplicate(this.mailbox);
        this.log.warn({ messageId: message.header.messageId, response }, 'connection lost after the final dot: the message may have been delivered; retrying with the same Message-ID');
        await this.retryLater(message, classification, { possibleDuplicate: true });
        return 'close';
      case 'mailbox-quota':
      case 'auth':
        await this.spool.putBack(message);
        this.observer.rejection(this.mailbox, code);
        this.actions.count(`rejections:${code}`);
        await this.actions.pause(pauseReason(disposition, this.mailbox, response));
        return 'close';
      case 'permanent':
        await this.spool.bury(message, attempt(classification), response);
        this.failed(code);
        return reusable ? 'continue' : 'close';
    }
  }

  private async retryLater(message: SpoolMessage, classification: Classification, options: { recipients?: string[]; possibleDuplicate?: boolean } = {}): Promise<void> {
    if (lifetimeExceeded(message.header, this.retry)) {
      const days = (this.retry.maxLifetimeMs / 86_400_000).toFixed(1);
      await this.spool.bury(message, attempt(classification), `still failing after the retry lifetime (${days} days): ${classification.response}`);
      this.failed(classification.code);
      return;
    }
    const failures = message.header.failures + 1;
    const delayMs = backoffDelay(failures, this.retry);
    await this.spool.defer(message, attempt(classification), Date.now() + delayMs, { countsAsFailure: true, ...options });
    this.log.info({ id: message.header.id, messageId: message.header.messageId, code: classification.code, response: classification.response, failures, retryInMs: delayMs }, 'deferred');
    this.observer.deferred(this.mailbox, classification.code);
    // Coded like `failed:<code>` so the coordinator's messages_deferred_total carries the code.
    this.actions.count(`deferred:${classification.code}`);
  }

  private failed(code: string): void {
    this.observer.failed(this.mailbox, code);
    // The code goes into the counter name so that the coordinator's messages_failed_total carries
    // it (it keeps SMTP codes only, anything else becomes code="other": labels stay bounded).
    this.actions.count(`failed:${code}`);
  }
}

const attempt = (c: Classification): Attempt => ({
  at: new Date().toISOString(),
  kind: c.disposition,
  ...(/^\d{3}$/.test(c.code) ? { code: Number(c.code) } : {}),
  response: c.response,
});

const refusalAttempt = (refused: RecipientRefusal[]): Attempt => ({
  at: new Date().toISOString(),
  kind: 'recipient',
  ...(refused[0]?.error.replyCode ? { code: refused[0].error.replyCode } : {}),
  response: refused.map((r) => `<${r.recipient}>: ${r.error.text.trim()}`).join('\n'),
  recipients: refused.map((r) => r.recipient),
});

const codeOf = (refused: RecipientRefusal[]): string => String(refused[0]?.error.replyCode ?? 'connection');
