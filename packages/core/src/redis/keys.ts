/**
 * The one place that names Redis keys and channels; the Lua scripts take every key in KEYS and
 * the mailbox and events channel in ARGV, so no script spells a key of its own. Every key of a
 * mailbox carries the hash tag `{<mailbox>}` so that each script touches a single Cluster slot.
 */
export const KEY_PREFIX = 'ss:';

export interface MailboxKeys {
  /**
   * hash: the mailbox's config (limit, ratePerMinute, recipientsPerDay, paused, pauseReason) and
   * its slot state (run, epoch, grace, fence, ticket, waiting, fbLimit, fbUntil, fbEvery,
   * fbLastCut, grants, releases, and `leases`: JSON of every lease), so that a grant or a release
   * reads it in one command and writes it in one more (see lua/includes/slot-state.lua).
   */
  state: string;
  /** zset: waiter id scored by ticket (FIFO) */
  waiters: string;
  /** zset: waiter id scored by its deadline (Redis ms) */
  waiterDeadlines: string;
  /** hash: waiter id → waiter JSON */
  waiterInfo: string;
  /** hash: counters (sent, deferred:<code>, expired, rejections:432, ...) */
  stats: string;
  /** string: GCRA theoretical arrival time (Redis ms) */
  rate: string;
  /** zset: recipient buckets scored by bucket start (Redis ms) */
  recipients: string;
  /** hash: bucket start → recipients, plus `total` */
  recipientCounts: string;
  /** hash: trail entry id (spool id) → message trail record JSON */
  trail: string;
  /** zset: trail entry id scored by its last update (Redis ms); bounds the trail by age and count */
  trailOrder: string;
  /** zset, score 0: `<search term>\0<entry id>` (Message-ID, recipients as stored), read by lex range */
  trailIndex: string;
}

/** `ss:{<mailbox>}:`, the start of every key of one mailbox. */
export function mailboxKeyPrefix(mailbox: string): string {
  return `${KEY_PREFIX}{${mailbox}}:`;
}

export function mailboxKeys(mailbox: string): MailboxKeys {
  const p = mailboxKeyPrefix(mailbox);
  return {
    state: `${p}state`,
    waiters: `${p}waiters`,
    waiterDeadlines: `${p}wdeadline`,
    waiterInfo: `${p}winfo`,
    stats: `${p}stats`,
    rate: `${p}rate`,
    recipients: `${p}rcpt`,
    recipientCounts: `${p}rcptn`,
    trail: `${p}trail`,
    trailOrder: `${p}trailt`,
    trailIndex: `${p}trailx`,
  };
}

/**
 * hash of one hour of a mailbox's per-minute history: `<minute of hour>:<counter>` → value.
 * `hour` is the epoch hour (ms / 3,600,000); each key expires on its own after the retention.
 */
export function historyKey(mailbox: string, hour: number): string {
  return `${mailboxKeyPrefix(mailbox)}history:${hour}`;
}

/** Keys of one agent, hash-tagged by its id (the coordinator writes commands, the agent reads them). */
export interface AgentKeys {
  /** hash: spool id → published dead letter JSON (the spool file stays the source of truth) */
  deadLetters: string;
  /** stream: retry/purge commands for this agent */
  commands: string;
  /** string: id of the last command stream entry the agent carried out */
  commandCursor: string;
  /** hash: command id → command status JSON (pending, then the agent's result) */
  commandResults: string;
}

export function agentKeys(agentId: string): AgentKeys {
  const p = `${KEY_PREFIX}agent:{${agentId}}:`;
  return { deadLetters: `${p}dead`, commands: `${p}commands`, commandCursor: `${p}cmdpos`, commandResults: `${p}cmdresults` };
}

/**
 * The keys every slot script receives, in the order `lua/includes/slot-state.lua` reads them.
 * Scripts take all of them because any call may sweep, promote waiters or open a new epoch.
 */
export function stateKeys(mailbox: string): string[] {
  const k = mailboxKeys(mailbox);
  return [k.state, k.waiters, k.waiterDeadlines, k.waiterInfo, k.stats];
}

/**
 * The keys figuresMany-n.lua reads of one mailbox, in its order, pushed onto `out`: a scrape
 * builds them for every mailbox, so only these six strings are made (same names as mailboxKeys).
 */
export function pushFigureKeys(out: string[], mailbox: string): void {
  const p = mailboxKeyPrefix(mailbox);
  out.push(`${p}state`, `${p}wdeadline`, `${p}stats`, `${p}rate`, `${p}rcpt`, `${p}rcptn`);
}

export const GLOBAL_KEYS = Object.freeze({
  /** set of mailbox addresses */
  mailboxes: `${KEY_PREFIX}mailboxes`,
  /** hash: agent id → heartbeat JSON */
  agents: `${KEY_PREFIX}agents`,
  /** pub/sub channel for SlotEvent JSON */
  events: `${KEY_PREFIX}events`,
  /** set of agent ids that have published dead letters (kept after the agent's heartbeat is gone) */
  deadLetterAgents: `${KEY_PREFIX}deadletter-agents`,
});

export const EVENTS_CHANNEL = GLOBAL_KEYS.events;

/** string: the redlock lock of a LeaderLease duty (ha/leader-lease.ts). */
export function leaderKey(name: string): string {
  return `${KEY_PREFIX}leader:{${name}}`;
}

/** Pub/sub channel of one SlotClient: grants and revocations for its waiters and leases. */
export function clientChannel(clientId: string): string {
  return `${KEY_PREFIX}notify:${clientId}`;
}

/** Extracts the mailbox from any of its keys (inverse of mailboxKeys). */
export function mailboxFromKey(key: string): string | null {
  if (!key.startsWith(`${KEY_PREFIX}{`)) return null;
  const match = /^\{(.*)\}:[a-z]+$/.exec(key.slice(KEY_PREFIX.length));
  return match ? match[1]! : null;
}
