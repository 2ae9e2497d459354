import { DEFAULT_MAILBOX_CONFIG } from '@smtp-slots/core';
import { LiveMailboxConfig } from './live-mailbox-config.js';
import { LeaseRunner } from './lease-run.js';
import { MailboxHold } from './mailbox-hold.js';
import { MessageAdmission } from './message-admission.js';
import { Notifier } from './notifier.js';
import { OutcomeHandler, type MailboxActions } from './outcome-handler.js';
import { RecipientReservations } from './recipient-reservations.js';
import type { HoldReason } from './sender-observer.js';
import type { MailboxScope, MailboxSenderOptions, SenderServices } from './sender-services.js';
import { SlotServiceErrors } from './slot-service-errors.js';
import { WorkerLoop } from './worker-loop.js';

export type { MailboxSenderOptions, SenderServices } from './sender-services.js';

/**
 * The sender of one mailbox on this agent, put together from its parts: the worker loop
 * (worker-loop.ts) acquires a slot FIRST, then a lease run (lease-run.ts) connects, sends ready
 * messages admitted by message-admission.ts (rate token and recipient budget in one call before each,
 * bounded per connection), QUITs, waits for the socket to close and releases the slot.
 */
export class MailboxSender {
  readonly mailbox: string;
  readonly live: LiveMailboxConfig;
  /** The shared limit's config (registered in Redis with its limit, like a mailbox). */
  private readonly shared: LiveMailboxConfig | undefined;
  private readonly notifier = new Notifier();
  private readonly stopping = new AbortController();
  private readonly hardStop = new AbortController();
  private readonly hold: MailboxHold;
  private readonly loop: WorkerLoop;
  private readonly onSpoolReady = (mailbox: string) => mailbox === this.mailbox && this.notifier.notify();

  constructor(private readonly services: SenderServices, private readonly options: MailboxSenderOptions) {
    const { settings } = options;
    const mailbox = settings.address.toLowerCase();
    this.mailbox = mailbox;
    this.hold = new MailboxHold(mailbox, services.observer, () => this.notifier.notify());
    const log = services.log.child({ mailbox });
    this.live = new LiveMailboxConfig(services.admin, mailbox, { limit: settings.limit, ratePerMinute: settings.ratePerMinute, recipientsPerDay: settings.recipientsPerDay }, (config, previous) => {
      if (config.paused !== previous.paused) {
        services.observer.paused(mailbox, config.paused);
        if (config.paused) log.error({ reason: config.pauseReason }, 'mailbox paused: no mail is sent until it is resumed');
        else log.info('mailbox resumed');
      }
      this.notifier.notify();
    });
    const { sharedLimit } = options;
    this.shared = sharedLimit && new LiveMailboxConfig(services.admin, sharedLimit.name, { ...DEFAULT_MAILBOX_CONFIG, limit: sharedLimit.limit });
    // Always the mailbox first, then the shared limit: no holder of a shared slot ever waits for a mailbox slot.
    const semaphores: [string, ...string[]] = sharedLimit ? [mailbox, sharedLimit.name] : [mailbox];
    const scope: MailboxScope = { mailbox, services, options, live: this.live, semaphores, hold: this.hold, log, stopping: this.stopping.signal };
    const reserved = new RecipientReservations(services.ledger, (error) => log.warn({ err: error.message }, 'could not give unsent recipients back to the 24 h ledger (retried with the next message)'));
    const actions: MailboxActions = {
      concurrencyRejected: (response) => {
        void services.feedback.report432(mailbox).then(
          ({ effectiveLimit }) => log.warn({ effectiveLimit, response }, 'upstream 432: someone outside smtp-slots uses this mailbox; effective limit lowered'),
          (error: Error) => log.warn({ err: error.message }, 'could not record 432 feedback'),
        );
      },
      pause: async (reason) => {
        this.live.markPaused(reason);
        await services.admin.pause(mailbox, reason).catch((error: Error) => log.error({ err: error.message }, 'could not store the pause in Redis'));
      },
      count: (name) => services.count(mailbox, name),
      recipientsNotAccepted: (id, count) => reserved.notAccepted(id, count),
    };
    const outcomes = new OutcomeHandler(mailbox, services.spool, options.retry, services.observer, actions, log);
    const serviceErrors = new SlotServiceErrors(this.live, this.stopping.signal, log);
    const admission = new MessageAdmission(scope, reserved);
    const runner = new LeaseRunner(scope, admission, outcomes, serviceErrors, this.hardStop.signal);
    this.loop = new WorkerLoop(scope, runner, admission, serviceErrors, this.notifier);
  }

  start(): void {
    this.live.start(this.options.configRefreshMs ?? 2_000);
    this.shared?.start(this.options.configRefreshMs ?? 2_000);
    this.services.spool.on('ready', this.onSpoolReady);
    this.loop.start(this.options.workers);
  }

  /** Why this mailbox does not send right now (for /healthz and tests), or undefined. */
  status(): { paused: boolean; pauseReason?: string; hold?: HoldReason; busyWorkers: number } {
    const { paused, pauseReason } = this.live.current;
    const hold = this.hold.remainingMs() > 0 ? this.hold.reason : undefined;
    return { paused, ...(pauseReason ? { pauseReason } : {}), ...(hold ? { hold } : {}), busyWorkers: this.loop.busy };
  }

  /**
   * Stops taking messages; messages in flight finish, sessions QUIT and slots are released.
   * After `timeoutMs` the remaining sockets are destroyed (their messages stay in the spool).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping.abort();
    this.notifier.notify();
    const timer = setTimeout(() => this.hardStop.abort(), timeoutMs);
    await this.loop.finished();
    clearTimeout(timer);
    this.live.stop();
    this.shared?.stop();
    this.services.spool.off('ready', this.onSpoolReady);
    this.hold.clear();
  }
}
