import type { Lease, SlotClient } from '@smtp-slots/core';

export type HoldPolicy = { kind: 'manual' } | { kind: 'random'; minMs: number; maxMs: number };

/**
 * A sending worker that keeps cycling a mailbox's slots through a real SlotClient: acquire,
 * hold, release, queue again. With a manual policy the test decides when each lease ends.
 */
export class LoadWorker {
  current: Lease | null = null;
  grants = 0;
  private endHold: (() => void) | undefined;
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: SlotClient,
    readonly mailbox: string,
    readonly host: string,
    readonly worker: string,
    private readonly hold: HoldPolicy,
  ) {}

  /** `host·worker`, as the dashboard labels a held slot. */
  get label(): string {
    return `${this.host}·${this.worker}`;
  }

  start(): this {
    this.loop = this.run();
    return this;
  }

  /** Ends the current hold (manual policy); the worker releases and queues again. */
  releaseNow(): void {
    this.endHold?.();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.endHold?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      let lease: Lease;
      try {
        lease = await this.client.acquire(this.mailbox, { worker: this.worker, signal: this.stopped.signal });
      } catch {
        if (this.stopped.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      this.current = lease;
      this.grants++;
      await new Promise<void>((resolve) => {
        this.endHold = resolve;
        lease.signal.addEventListener('abort', () => resolve(), { once: true });
        if (this.hold.kind === 'random') setTimeout(resolve, this.hold.minMs + Math.random() * (this.hold.maxMs - this.hold.minMs));
      });
      this.endHold = undefined;
      this.current = null;
      await lease.release();
    }
  }
}
