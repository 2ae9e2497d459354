import type { MailboxAdmin, MailboxConfig } from '@smtp-slots/core';

/**
 * A mailbox's settings as Redis has them (operators change them at runtime through the
 * coordinator), refreshed in the background. Until Redis answers, the agent's own config
 * serves as the value.
 */
export class LiveMailboxConfig {
  private value: MailboxConfig;
  private registered = false;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly admin: MailboxAdmin,
    readonly mailbox: string,
    private readonly defaults: Pick<MailboxConfig, 'limit' | 'ratePerMinute' | 'recipientsPerDay'>,
    private readonly onChange: (config: MailboxConfig, previous: MailboxConfig) => void = () => undefined,
  ) {
    this.value = { ...defaults, paused: false };
  }

  get current(): MailboxConfig {
    return this.value;
  }

  /** Refreshes every `intervalMs`; the first successful round registers the mailbox (ensureMailbox). */
  start(intervalMs: number): void {
    const tick = () => {
      void this.refresh().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One round trip now (also used after a pause/resume we caused). Never throws. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Marks the mailbox paused locally right away (the Redis write may still be in flight). */
  markPaused(reason: string): void {
    this.set({ ...this.value, paused: true, pauseReason: reason });
  }

  private async load(): Promise<void> {
    try {
      const config = this.registered ? await this.admin.getConfig(this.mailbox) : await this.admin.ensureMailbox(this.mailbox, this.defaults);
      this.registered = true;
      // A Redis that lost its data has no config: register again with our defaults.
      if (config === null) {
        this.registered = false;
        return;
      }
      this.set(config);
    } catch {
      // Redis unreachable: keep the last known value; the sender fails closed on its own.
    }
  }

  private set(config: MailboxConfig): void {
    const previous = this.value;
    this.value = config;
    if (previous.paused !== config.paused || previous.limit !== config.limit || previous.ratePerMinute !== config.ratePerMinute || previous.recipientsPerDay !== config.recipientsPerDay) {
      this.onChange(config, previous);
    }
  }
}
