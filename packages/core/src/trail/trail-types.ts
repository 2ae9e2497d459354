/** Where a message is in its life, as the fleet-wide trail shows it. */
export type TrailStatus = 'queued' | 'deferred' | 'sending' | 'sent' | 'dead' | 'purged';
export const TRAIL_STATUSES: readonly TrailStatus[] = ['queued', 'deferred', 'sending', 'sent', 'dead', 'purged'];

/** One delivery attempt (or operator action) in a message's trail. */
export interface TrailAttempt {
  /** ISO time (the agent's clock). */
  at: string;
  /** The upstream's full reply text, or the connection error, or the operator action. */
  reply: string;
  /** sent, deferred, concurrency, dead, recipient-refused, possible-duplicate, retried, purged, ... */
  outcome: string;
}

/** Envelope data of one message, never its body. Recipients and subject may be hashed or absent (privacy settings). */
export interface TrailRecord {
  /** Spool id on the agent that holds the message. */
  id: string;
  messageId: string;
  mailbox: string;
  agentId: string;
  status: TrailStatus;
  sender?: string;
  recipients?: string[];
  subject?: string;
  size?: number;
  /** Queue id the upstream named in its 250 reply, when it named one. */
  queueId?: string;
  /** A previous attempt may have delivered it already (connection lost after the final dot). */
  possibleDuplicate?: boolean;
  /** Spool id this copy was split from (recipients with different outcomes). */
  splitFrom?: string;
  attempts: TrailAttempt[];
  /** Redis ms of the first and last record. */
  acceptedMs: number;
  updatedMs: number;
}

/** Bounds and privacy of the trail (agent config `trail`). */
export interface TrailSettings {
  enabled: boolean;
  /** Entries not updated for this long are dropped. */
  maxAgeMs: number;
  /** At most this many entries per mailbox (the oldest go first). */
  maxPerMailbox: number;
  /** Attempts kept per entry (the oldest go first). */
  maxAttempts: number;
  /** `hashed`: stored (and searched) as a SHA-256 digest; `off`: not stored. */
  recipients: PrivacyMode;
  subject: PrivacyMode;
}

export type PrivacyMode = 'plain' | 'hashed' | 'off';

export const DEFAULT_TRAIL_SETTINGS: Readonly<TrailSettings> = Object.freeze({
  enabled: true,
  maxAgeMs: 7 * 86_400_000,
  maxPerMailbox: 10_000,
  maxAttempts: 20,
  recipients: 'plain',
  subject: 'plain',
});
