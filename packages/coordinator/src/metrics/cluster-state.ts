import type { AgentRegistry, DeadLetterIndex, MailboxAdmin, MailboxSnapshot } from '@smtp-slots/core';

/** What the metrics need of one mailbox. */
export interface MailboxFigures {
  mailbox: string;
  limit: number;
  effectiveLimit: number;
  inUse: number;
  waiting: number;
  paused: boolean;
  rateTokensAvailable: number;
  /** Configured messages per minute. */
  ratePerMinute: number;
  recipients24h: number;
  /** Configured recipients per rolling 24 h. */
  recipientsPerDay: number;
  counters: Record<string, number>;
  /** Dead letters of this mailbox over every agent (from the agents' published index). */
  deadLetters: number;
}

export interface AgentFigures {
  agentId: string;
  alive: boolean;
  /** Since the last heartbeat, by Redis time. */
  lastSeenSeconds: number;
  spoolDepth: number;
}

export interface ClusterState {
  mailboxes: MailboxFigures[];
  agents: AgentFigures[];
}

const LIST_PAGE = 1000;

/** Reads the whole cluster's state from Redis: every mailbox's figures and every agent. */
export class ClusterStateReader {
  constructor(
    private readonly admin: MailboxAdmin,
    private readonly agents: AgentRegistry,
    private readonly deadLetters: DeadLetterIndex,
  ) {}

  async read(): Promise<ClusterState> {
    const [names, agents, letters] = await Promise.all([this.allMailboxes(), this.agents.list(), this.deadLetters.list()]);
    const dead = new Map<string, number>();
    for (const letter of letters) dead.set(letter.mailbox, (dead.get(letter.mailbox) ?? 0) + 1);
    const mailboxes: MailboxFigures[] = [];
    for (const snapshot of await this.admin.snapshots(names)) {
      if (snapshot !== null) mailboxes.push(toFigures(snapshot, dead.get(snapshot.mailbox) ?? 0));
    }
    return {
      mailboxes,
      agents: agents.map((agent) => ({ agentId: agent.agentId, alive: agent.alive, lastSeenSeconds: agent.lastSeenMs / 1000, spoolDepth: agent.spoolDepth })),
    };
  }

  private async allMailboxes(): Promise<string[]> {
    const names = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.admin.listMailboxes({ count: LIST_PAGE, ...(cursor !== undefined ? { cursor } : {}) });
      for (const name of page.mailboxes) names.add(name);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return [...names];
  }
}

function toFigures(snapshot: MailboxSnapshot, deadLetters: number): MailboxFigures {
  return {
    mailbox: snapshot.mailbox,
    limit: snapshot.config.limit,
    effectiveLimit: snapshot.effectiveLimit,
    inUse: snapshot.inUse,
    waiting: snapshot.waiters.length,
    paused: snapshot.config.paused,
    rateTokensAvailable: snapshot.rate.availableNow,
    ratePerMinute: snapshot.config.ratePerMinute,
    recipients24h: snapshot.recipients.used24h,
    recipientsPerDay: snapshot.config.recipientsPerDay,
    counters: snapshot.counters,
    deadLetters,
  };
}
