import type { MailboxState } from './mailbox-state.js';
import { readMessageId } from './message-id.js';
import { Reply, ReplyCode } from './replies.js';
import type { SimState } from './sim-state.js';

/** What to do with a message whose DATA has ended. */
export type SubmissionOutcome =
  | { kind: 'accept'; message: string }
  /** Accepted and recorded, but the connection is cut before the reply (outcome unknown to the client). */
  | { kind: 'drop' }
  | { kind: 'reject'; responseCode: number; message: string };

export interface Submission {
  sessionId: string;
  from: string;
  to: string[];
  raw: Buffer;
}

/**
 * Decides the reply to the end of DATA, in the order Exchange applies its checks: the
 * front-end concurrency ranking first, then injected faults, then the store's quotas.
 * Updates the user's counters and records accepted messages.
 */
export function decideSubmission(sim: SimState, mailbox: MailboxState, submission: Submission): SubmissionOutcome {
  const { hostname, now } = sim.options;
  const user = mailbox.user;
  const rank = mailbox.ranking.rankOf(submission.sessionId);
  if (rank !== undefined && rank > user.limit) {
    mailbox.count('rejected432');
    return reject(ReplyCode.concurrencyLimit, Reply.concurrencyLimit(hostname));
  }
  if (sim.faults.takeDisconnect(user.address)) {
    mailbox.count('disconnected421');
    return reject(ReplyCode.serviceUnavailable, Reply.serviceUnavailable(hostname));
  }
  if (sim.faults.rollTransient(user.address)) {
    mailbox.count('transient451');
    return reject(ReplyCode.transient, Reply.transient);
  }
  const size = submission.raw.length;
  const quota = user.mailboxQuotaBytes;
  if (sim.faults.get(user.address).mailboxFull || (quota !== undefined && mailbox.log.bytes + size > quota)) {
    mailbox.count('rejectedMailboxFull');
    return reject(ReplyCode.mailboxFull, Reply.mailboxFull);
  }
  if (sim.faults.get(user.address).contentRejected) {
    mailbox.count('rejectedContent');
    return reject(ReplyCode.corruptContent, Reply.corruptContent);
  }
  const at = now();
  if (!mailbox.recipients.allows(submission.to.length, at)) {
    mailbox.count('rejectedQuota');
    return reject(ReplyCode.submissionQuota, Reply.submissionQuota);
  }

  const messageId = readMessageId(submission.raw);
  const previousCopies = mailbox.log.record(messageId, size);
  mailbox.recipients.record(submission.to.length, at);
  const { releaseAt } = mailbox.schedule.schedule(at);
  sim.emitMessage({
    user: user.address,
    messageId,
    from: submission.from,
    to: submission.to,
    size,
    raw: submission.raw,
    acceptedAt: at,
    releaseAt,
    previousCopies,
    via: 'smtp',
  });
  if (sim.faults.takeDropAfterAccept(user.address)) {
    mailbox.count('droppedAfterAccept');
    return { kind: 'drop' };
  }
  return { kind: 'accept', message: Reply.queued(messageId, hostname) };
}

function reject(responseCode: number, message: string): SubmissionOutcome {
  return { kind: 'reject', responseCode, message };
}
