import type { LimitFeedback, MailboxAdmin, MessageBudget, RecipientLedger, SlotClient } from '@smtp-slots/core';
import type { Logger } from 'pino';
import type { MailboxSettings, RetryPolicy } from '../config.js';
import type { Spool } from '../spool/spool.js';
import type { LiveMailboxConfig } from './live-mailbox-config.js';
import type { MailboxHold } from './mailbox-hold.js';
import type { SenderObserver } from './sender-observer.js';
import type { AccessTokenProvider } from './token-provider.js';

/** Shared services a mailbox sender uses (one of each per agent). */
export interface SenderServices {
  spool: Spool;
  slots: SlotClient;
  /** A message's rate token and recipients in one call. */
  budget: MessageBudget;
  /** Gives back recipients the upstream never accepted. */
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
  /** A limit shared with other mailboxes (`upstream.appLimit`): a slot of it is needed too. */
  sharedLimit?: { name: string; limit: number };
  /** How often the mailbox's runtime config is re-read from Redis. Default 2 000. */
  configRefreshMs?: number;
}

/** What the parts of one mailbox's sender (worker loop, lease runs, admission) share. */
export interface MailboxScope {
  /** The mailbox address, lower case. */
  readonly mailbox: string;
  readonly services: SenderServices;
  readonly options: MailboxSenderOptions;
  readonly live: LiveMailboxConfig;
  /** What a lease needs a slot of, in the one fixed order: the mailbox, then its shared limit. */
  readonly semaphores: readonly [string, ...string[]];
  readonly hold: MailboxHold;
  /** Bound to `mailbox` once: lines logged with it never repeat the key (pino would print it twice). */
  readonly log: Logger;
  /** Aborts when the sender stops taking messages. */
  readonly stopping: AbortSignal;
}
