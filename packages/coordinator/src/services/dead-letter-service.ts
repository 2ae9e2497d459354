import type {
  AgentCommands, AgentRegistry, CommandAction, CommandStatus, DeadLetterIndex, PublishedDeadLetter,
} from '@smtp-slots/core';
import { DeadLetterNotFoundError } from '../errors.js';

/** A retry or purge not yet carried out by the agent that holds the file. */
export interface PendingAction {
  commandId: string;
  action: CommandAction;
  requestedAt: string;
}

/** A dead letter as GET /api/dead-letters shows it. */
export interface DeadLetterView extends PublishedDeadLetter {
  /** The holding agent's heartbeat is current: a command is carried out within seconds. */
  agentOnline: boolean;
  /** A command waiting for the agent (it is stopped, or has not read it yet); null when none. */
  pending: PendingAction | null;
}

/** What POST /api/dead-letters/retry|purge names: dead letters by id, or every one of a mailbox. */
export type DeadLetterSelection = { ids: string[] } | { mailbox: string; all: true };

/** One command sent, as the 202 reply lists it. */
export interface RequestedCommand extends CommandStatus {
  agentOnline: boolean;
}

/**
 * The fleet's dead letters: listed from the index the agents publish; retry and purge relayed to
 * the agent holding the file through its command stream (the file never leaves its server).
 */
export class DeadLetterService {
  constructor(
    private readonly index: DeadLetterIndex,
    private readonly commands: AgentCommands,
    private readonly agents: AgentRegistry,
  ) {}

  async list(filter: { mailbox?: string | undefined; agent?: string | undefined }): Promise<DeadLetterView[]> {
    const [letters, online] = await Promise.all([this.index.list(), this.onlineAgents()]);
    const chosen = letters.filter((l) => (filter.mailbox === undefined || l.mailbox === filter.mailbox) && (filter.agent === undefined || l.agentId === filter.agent));
    const pending = await this.pendingByAgent([...new Set(chosen.map((l) => l.agentId))]);
    return chosen.map((l) => ({ ...l, agentOnline: online.has(l.agentId), pending: pendingFor(l, pending.get(l.agentId) ?? []) }));
  }

  /** Sends one command per agent concerned. */
  async request(action: CommandAction, selection: DeadLetterSelection): Promise<{ requested: RequestedCommand[]; unknown: string[] }> {
    const [letters, agents] = await Promise.all([this.index.list(), this.agents.list()]);
    const online = new Set(agents.filter((a) => a.alive).map((a) => a.agentId));
    const sent: CommandStatus[] = [];
    let unknown: string[] = [];
    if ('ids' in selection) {
      const byId = new Map(letters.map((l) => [l.id, l]));
      unknown = selection.ids.filter((id) => !byId.has(id));
      const byAgent = new Map<string, string[]>();
      for (const id of selection.ids) {
        const letter = byId.get(id);
        if (letter) byAgent.set(letter.agentId, [...(byAgent.get(letter.agentId) ?? []), id]);
      }
      if (byAgent.size === 0) throw new DeadLetterNotFoundError(`no dead letter with id ${unknown.join(', ')} is listed by any agent`);
      for (const [agentId, ids] of byAgent) sent.push(await this.commands.send({ agentId, action, ids }));
    } else {
      // Agents listing dead letters of the mailbox, and agents serving it now (their index may lag).
      const holders = new Set(letters.filter((l) => l.mailbox === selection.mailbox).map((l) => l.agentId));
      for (const a of agents) if (a.alive && a.mailboxes.includes(selection.mailbox)) holders.add(a.agentId);
      if (holders.size === 0) throw new DeadLetterNotFoundError(`no agent lists dead letters of mailbox ${selection.mailbox} or sends for it`);
      for (const agentId of [...holders].sort()) sent.push(await this.commands.send({ agentId, action, mailbox: selection.mailbox, all: true }));
    }
    return { requested: sent.map((c) => ({ ...c, agentOnline: online.has(c.agentId) })), unknown };
  }

  /** Recent commands with their results (requeued, purged, unknown ids), newest first. */
  async commandStatuses(filter: { agent?: string | undefined }): Promise<CommandStatus[]> {
    const agents = filter.agent !== undefined ? [filter.agent] : await this.knownAgents();
    const all = (await Promise.all(agents.map((a) => this.commands.statuses(a)))).flat();
    return all.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  private async knownAgents(): Promise<string[]> {
    const [letters, agents] = await Promise.all([this.index.list(), this.agents.list()]);
    return [...new Set([...letters.map((l) => l.agentId), ...agents.map((a) => a.agentId)])];
  }

  private async onlineAgents(): Promise<Set<string>> {
    return new Set((await this.agents.list()).filter((a) => a.alive).map((a) => a.agentId));
  }

  private async pendingByAgent(agentIds: string[]): Promise<Map<string, CommandStatus[]>> {
    const statuses = await Promise.all(agentIds.map(async (a) => [a, (await this.commands.statuses(a)).filter((c) => c.status === 'pending')] as const));
    return new Map(statuses);
  }
}

function pendingFor(letter: PublishedDeadLetter, pending: CommandStatus[]): PendingAction | null {
  const match = pending.find((c) => c.ids?.includes(letter.id) || (c.all && c.mailbox === letter.mailbox));
  return match ? { commandId: match.commandId, action: match.action, requestedAt: match.requestedAt } : null;
}
