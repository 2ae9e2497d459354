import type { AgentRegistry, AgentStatus } from '@smtp-slots/core';

/** An agent as GET /api/agents shows it: its last heartbeat and whether it is still alive. */
export type AgentView = AgentStatus;

/** Agents known from their heartbeats in Redis. */
export class AgentService {
  constructor(private readonly registry: AgentRegistry) {}

  async list(): Promise<AgentView[]> {
    const agents = await this.registry.list();
    return agents
      .map((agent) => ({
        agentId: agent.agentId,
        host: agent.host,
        pid: agent.pid,
        version: agent.version,
        spoolDepth: agent.spoolDepth,
        mailboxes: [...agent.mailboxes],
        startedAt: agent.startedAt,
        lastSeenMs: agent.lastSeenMs,
        alive: agent.alive,
      }))
      .sort((a, b) => a.agentId.localeCompare(b.agentId));
  }
}
