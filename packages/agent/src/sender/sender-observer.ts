/** Why a mailbox is held on this agent although messages are ready. */
/** `throttled`: the upstream asked for a pause (Graph 429/503 Retry-After). */
export type HoldReason = 'rate' | 'recipients' | 'connect' | 'throttled';

/**
 * What the sender reports as it works (the agent's metrics implement it). Labels stay bounded:
 * mailbox addresses from the config and SMTP reply codes, never recipients or message ids.
 */
export interface SenderObserver {
  slotGranted(mailbox: string, waitedSeconds: number): void;
  slotReleased(mailbox: string): void;
  leaseLost(mailbox: string, reason: string): void;
  sent(mailbox: string): void;
  deferred(mailbox: string, code: string): void;
  failed(mailbox: string, code: string): void;
  rejection(mailbox: string, code: string): void;
  possibleDuplicate(mailbox: string): void;
  held(mailbox: string, reason: HoldReason, held: boolean): void;
  paused(mailbox: string, paused: boolean): void;
  connectionClosed(mailbox: string, messages: number): void;
}

/** An observer that ignores everything (library use without metrics). */
export const NO_OBSERVER: SenderObserver = {
  slotGranted: () => undefined,
  slotReleased: () => undefined,
  leaseLost: () => undefined,
  sent: () => undefined,
  deferred: () => undefined,
  failed: () => undefined,
  rejection: () => undefined,
  possibleDuplicate: () => undefined,
  held: () => undefined,
  paused: () => undefined,
  connectionClosed: () => undefined,
};
