import type { HistoryCounter } from '@smtp-slots/core';
import type { HoldReason, SenderObserver } from '../sender/sender-observer.js';

/** Adds to a mailbox's per-minute history (the caller queues it on the write batch). */
export type HistorySink = (mailbox: string, increments: Partial<Record<HistoryCounter, number>>) => void;

/**
 * Passes every sender observation on to `inner` (the metrics) and folds the ones the history
 * charts need into the per-minute counters in Redis.
 */
export class HistoryObserver implements SenderObserver {
  constructor(private readonly inner: SenderObserver, private readonly history: HistorySink) {}

  slotGranted(mailbox: string, waitedSeconds: number): void {
    this.inner.slotGranted(mailbox, waitedSeconds);
    this.history(mailbox, { slotGrants: 1, slotWaitMs: waitedSeconds * 1000 });
  }
  sent(mailbox: string): void {
    this.inner.sent(mailbox);
    this.history(mailbox, { sent: 1 });
  }
  deferred(mailbox: string, code: string): void {
    this.inner.deferred(mailbox, code);
    this.history(mailbox, { deferred: 1 });
  }
  failed(mailbox: string, code: string): void {
    this.inner.failed(mailbox, code);
    this.history(mailbox, { failed: 1 });
  }
  rejection(mailbox: string, code: string): void {
    this.inner.rejection(mailbox, code);
    if (code === '432') this.history(mailbox, { rejections432: 1 });
  }
  slotReleased(mailbox: string): void {
    this.inner.slotReleased(mailbox);
  }
  leaseLost(mailbox: string, reason: string): void {
    this.inner.leaseLost(mailbox, reason);
  }
  possibleDuplicate(mailbox: string): void {
    this.inner.possibleDuplicate(mailbox);
  }
  held(mailbox: string, reason: HoldReason, held: boolean): void {
    this.inner.held(mailbox, reason, held);
  }
  paused(mailbox: string, paused: boolean): void {
    this.inner.paused(mailbox, paused);
  }
  connectionClosed(mailbox: string, messages: number): void {
    this.inner.connectionClosed(mailbox, messages);
  }
}
