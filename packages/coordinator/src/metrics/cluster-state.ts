import type { AgentRegistry, DeadLetterIndex, MailboxAdmin, MailboxFigures as CoreFigures } from '@smtp-slots/core';

/** What the metrics need of one mailbox: core's figures plus its dead letters. */
export interface MailboxFigures extends CoreFigures {
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
    // Every name comes from the registry, so each has figures (defaults when it has no config).
    const mailboxes = (await this.admin.figures(names)).map((figures) => Object.assign(figures, { deadLetters: dead.get(figures.mailbox) ?? 0 }));
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
