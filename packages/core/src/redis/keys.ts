/**
 * The one place that names Redis keys. Every key of a mailbox carries the hash tag `{<mailbox>}`
 * so that each script touches a single Cluster slot.
 */
export interface MailboxKeys {
  /** hash: limit, ratePerMinute, recipientsPerDay, paused, pauseReason */
  config: string;
  /** hash: slot number → lease JSON */
  leases: string;
  /** zset: slot number scored by expiry (Redis ms) */
  expiry: string;
  /** hash: lease id → slot number */
  owners: string;
  /** zset: waiter id scored by ticket (FIFO) */
  waiters: string;
  /** zset: waiter id scored by its deadline (Redis ms) */
  waiterDeadlines: string;
  /** hash: waiter id → waiter JSON */
  waiterInfo: string;
  /** string: last fencing token */
  fence: string;
  /** string: last ticket (arrival order) */
  ticket: string;
  /** hash: run (redis run_id), id, grace (Redis ms) */
  epoch: string;
  /** hash: 432 feedback state: limit, until, raiseEveryMs, lastCut */
  feedback: string;
  /** hash: counters */
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

export function mailboxKeys(mailbox: string): MailboxKeys {
  const p = `ss:{${mailbox}}:`;
  return {
    config: `${p}config`,
    leases: `${p}leases`,
    expiry: `${p}expiry`,
    owners: `${p}owners`,
    waiters: `${p}waiters`,
    waiterDeadlines: `${p}wdeadline`,
    waiterInfo: `${p}winfo`,
    fence: `${p}fence`,
    ticket: `${p}ticket`,
    epoch: `${p}epoch`,
    feedback: `${p}feedback`,
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
  return `ss:{${mailbox}}:history:${hour}`;
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
  const p = `ss:agent:{${agentId}}:`;
  return { deadLetters: `${p}dead`, commands: `${p}commands`, commandCursor: `${p}cmdpos`, commandResults: `${p}cmdresults` };
}

/**
 * The keys every slot script receives, in the order `lua/includes/state.lua` reads them.
 * Scripts take all of them because any call may sweep, promote waiters or open a new epoch.
 */
export function stateKeys(mailbox: string): string[] {
  const k = mailboxKeys(mailbox);
  return [k.config, k.leases, k.expiry, k.owners, k.waiters, k.waiterDeadlines, k.waiterInfo, k.fence, k.ticket, k.epoch, k.feedback, k.stats];
}

export const GLOBAL_KEYS = Object.freeze({
  /** set of mailbox addresses */
  mailboxes: 'ss:mailboxes',
  /** hash: agent id → heartbeat JSON */
  agents: 'ss:agents',
  /** pub/sub channel for SlotEvent JSON */
  events: 'ss:events',
  /** set of agent ids that have published dead letters (kept after the agent's heartbeat is gone) */
  deadLetterAgents: 'ss:deadletter-agents',
});

export const EVENTS_CHANNEL = GLOBAL_KEYS.events;

/** Pub/sub channel of one SlotClient: grants and revocations for its waiters and leases. */
export function clientChannel(clientId: string): string {
  return `ss:notify:${clientId}`;
}

/** Extracts the mailbox from any of its keys (inverse of mailboxKeys). */
export function mailboxFromKey(key: string): string | null {
  const match = /^ss:\{(.*)\}:[a-z]+$/.exec(key);
  return match ? match[1]! : null;
}
