import type { MailboxConfig, MailboxSnapshot, RedisLike } from './types.js';

export interface ListMailboxesOptions {
  cursor?: string;
  count?: number;
  match?: string;
}

export interface ListMailboxesResult {
  mailboxes: string[];
  nextCursor: string | null;
  total: number;
}

/** Configuration and operator actions for mailboxes (coordinator, agent start-up). */
export class MailboxAdmin {
  constructor(readonly redis: RedisLike) {}

  /** Registers the mailbox and fills in missing config fields; never overwrites existing ones. */
  ensureMailbox(_mailbox: string, _defaults: Partial<MailboxConfig>): Promise<MailboxConfig> {
    throw new Error('not implemented yet');
  }

  getConfig(_mailbox: string): Promise<MailboxConfig | null> {
    throw new Error('not implemented yet');
  }

  /** Raising the limit serves waiters at once; lowering never revokes a lease (invariant 6). */
  setConfig(_mailbox: string, _patch: Partial<Omit<MailboxConfig, 'paused' | 'pauseReason'>>): Promise<MailboxConfig> {
    throw new Error('not implemented yet');
  }

  pause(_mailbox: string, _reason: string): Promise<void> {
    throw new Error('not implemented yet');
  }

  resume(_mailbox: string): Promise<void> {
    throw new Error('not implemented yet');
  }

  /** Frees a slot; its holder is notified at once (and in any case fails its next renewal). */
  forceRelease(_mailbox: string, _slot: number): Promise<boolean> {
    throw new Error('not implemented yet');
  }

  listMailboxes(_opts: ListMailboxesOptions = {}): Promise<ListMailboxesResult> {
    throw new Error('not implemented yet');
  }

  snapshot(_mailbox: string): Promise<MailboxSnapshot | null> {
    throw new Error('not implemented yet');
  }
}
