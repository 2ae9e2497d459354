import { GraphMailbox, type GraphStats } from './graph/graph-mailbox.js';
import { MessageLog } from './message-log.js';
import type { ResolvedUser } from './options.js';
import { RecipientLedger } from './recipient-ledger.js';
import { ReleaseSchedule } from './release-schedule.js';
import { SessionRanking } from './session-ranking.js';

/** Live figures for one user (mailbox). Every count is since start or the last reset. */
export interface UserStats {
  address: string;
  /** Concurrent sessions allowed before 432s. */
  limit: number;
  /** Authenticated SMTP sessions open now. */
  openSessions: number;
  /** Most authenticated SMTP sessions open at once (what Exchange limits). */
  peakConcurrency: number;
  /** Successful AUTHs. */
  sessionsTotal: number;
  /** Sessions held "from outside" through the admin API. */
  externalSessions: number;
  /** Dropped sessions still counting during the ghost period. */
  ghostSessions: number;
  /** openSessions + externalSessions + ghostSessions: what the limit applies to. */
  countedSessions: number;
  peakCountedSessions: number;
  /** Messages answered 250 (plus those cut off by the drop-after-accept fault). */
  accepted: number;
  /** Distinct Message-IDs, in the order first received (omitted when not asked for). */
  messageIds?: string[];
  /** Extra copies of Message-IDs already received. */
  duplicates: number;
  duplicateMessageIds: string[];
  withoutMessageId: number;
  acceptedBytes: number;
  /** Accepted messages whose release the 30/min carry-over pushed back. */
  delayed: number;
  /** Accepted messages not released yet. */
  pendingRelease: number;
  maxReleaseDelayMs: number;
  ratePerMinute: number;
  recipients24h: number;
  recipientsPerDay: number;
  mailboxQuotaBytes: number | null;
  rejected432: number;
  rejectedQuota: number;
  rejectedMailboxFull: number;
  rejectedContent: number;
  rejectedRecipients: number;
  transient451: number;
  disconnected421: number;
  droppedAfterAccept: number;
  rejectedSender: number;
  authFailures: number;
  /** Graph sendMail figures (in flight, throttling, refusals). */
  graph: GraphStats;
}

export type CounterName =
  | 'sessionsTotal'
  | 'rejected432'
  | 'rejectedQuota'
  | 'rejectedMailboxFull'
  | 'rejectedContent'
  | 'rejectedRecipients'
  | 'transient451'
  | 'disconnected421'
  | 'droppedAfterAccept'
  | 'rejectedSender'
  | 'authFailures';

const zeroCounters = (): Record<CounterName, number> => ({
  sessionsTotal: 0,
  rejected432: 0,
  rejectedQuota: 0,
  rejectedMailboxFull: 0,
  rejectedContent: 0,
  rejectedRecipients: 0,
  transient451: 0,
  disconnected421: 0,
  droppedAfterAccept: 0,
  rejectedSender: 0,
  authFailures: 0,
});

/** Everything the simulator tracks for one user. */
export class MailboxState {
  readonly ranking: SessionRanking;
  readonly schedule: ReleaseSchedule;
  readonly recipients: RecipientLedger;
  readonly log = new MessageLog();
  readonly graph = new GraphMailbox();
  counters = zeroCounters();

  constructor(
    readonly user: ResolvedUser,
    private readonly now: () => number,
  ) {
    this.ranking = new SessionRanking(now);
    this.schedule = new ReleaseSchedule(user.ratePerMinute);
    this.recipients = new RecipientLedger(user.recipientsPerDay);
  }

  count(name: CounterName): void {
    this.counters[name]++;
  }

  snapshot(withMessageIds: boolean): UserStats {
    const now = this.now();
    const counts = this.ranking.counts();
    return {
      address: this.user.address,
      limit: this.user.limit,
      openSessions: counts.sessions,
      peakConcurrency: this.ranking.peakSessions,
      sessionsTotal: this.counters.sessionsTotal,
      externalSessions: counts.external,
      ghostSessions: counts.ghosts,
      countedSessions: counts.counted,
      peakCountedSessions: this.ranking.peakCounted,
      accepted: this.log.accepted,
      ...(withMessageIds ? { messageIds: this.log.messageIds() } : {}),
      duplicates: this.log.duplicates(),
      duplicateMessageIds: this.log.duplicateMessageIds(),
      withoutMessageId: this.log.withoutMessageId,
      acceptedBytes: this.log.bytes,
      delayed: this.schedule.delayed,
      pendingRelease: this.schedule.pending(now),
      maxReleaseDelayMs: this.schedule.maxDelayMs,
      ratePerMinute: this.user.ratePerMinute,
      recipients24h: this.recipients.used(now),
      recipientsPerDay: this.user.recipientsPerDay,
      mailboxQuotaBytes: this.user.mailboxQuotaBytes ?? null,
      rejected432: this.counters.rejected432,
      rejectedQuota: this.counters.rejectedQuota,
      rejectedMailboxFull: this.counters.rejectedMailboxFull,
      rejectedContent: this.counters.rejectedContent,
      rejectedRecipients: this.counters.rejectedRecipients,
      transient451: this.counters.transient451,
      disconnected421: this.counters.disconnected421,
      droppedAfterAccept: this.counters.droppedAfterAccept,
      rejectedSender: this.counters.rejectedSender,
      authFailures: this.counters.authFailures,
      graph: this.graph.snapshot(),
    };
  }

  /** Clears counters, messages and the rate/quota windows; open sessions stay (peaks restart from them). */
  reset(): void {
    this.counters = zeroCounters();
    this.log.reset();
    this.schedule.reset();
    this.recipients.reset();
    this.ranking.resetPeaks();
    this.graph.reset();
  }
}
