import { AgentStoppedError } from './errors.js';
import type { Attempt } from './spool/spool-file.js';
import type { SettledEvent } from './spool/spool.js';

/** How a message sent through the library API ended. */
export interface DeliveryReport {
  status: 'sent' | 'dead';
  messageId: string;
  /** Recipients refused for good (status 'sent' with some recipients bounced). */
  bounced: string[];
  /** Recipients still pending in a deferred copy (they are retried; not awaited here). */
  pending: string[];
  /** Why it is dead (status 'dead'). */
  reason?: string;
  attempts: Attempt[];
}

/** Connects spool 'settled' events to the promises `receipt.delivered()` hands out. */
export class DeliveryTracker {
  private readonly waiting = new Map<string, { resolve: (report: DeliveryReport) => void; reject: (error: Error) => void }>();

  track(id: string): Promise<DeliveryReport> {
    const promise = new Promise<DeliveryReport>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    // Nobody may ever await it: never let it become an unhandled rejection.
    promise.catch(() => undefined);
    return promise;
  }

  settled(event: SettledEvent): void {
    const entry = this.waiting.get(event.id);
    if (!entry) return;
    this.waiting.delete(event.id);
    entry.resolve({
      status: event.status,
      messageId: event.messageId,
      bounced: event.bounced ?? [],
      pending: event.deferredCopy?.recipients ?? [],
      ...(event.header.deadReason ? { reason: event.header.deadReason } : {}),
      attempts: event.header.attempts,
    });
  }

  /** The agent stopped: pending messages stay in the spool and go out after a restart. */
  stopped(): void {
    for (const entry of this.waiting.values()) entry.reject(new AgentStoppedError());
    this.waiting.clear();
  }
}
