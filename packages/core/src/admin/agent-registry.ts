import { GLOBAL_KEYS } from '../redis/keys.js';
import { agentHeartbeat, agentList } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';

export interface AgentRecord {
  agentId: string;
  host: string;
  pid: number;
  version: string;
  spoolDepth: number;
  mailboxes: string[];
  /** Wall ms. */
  startedAt: number;
}

export interface AgentStatus extends AgentRecord {
  /** Milliseconds since the last heartbeat (Redis time). */
  lastSeenMs: number;
  /** False once the heartbeat's ttl has passed. */
  alive: boolean;
}

/** Agent heartbeats in `ss:agents`, judged with Redis TIME. Agents silent for a day are forgotten. */
export class AgentRegistry {
  constructor(readonly redis: RedisClient) {}

  async heartbeat(record: AgentRecord, ttlMs: number): Promise<void> {
    await agentHeartbeat(this.redis, record.agentId, record, ttlMs);
  }

  /** Sorted by agent id. */
  async list(): Promise<AgentStatus[]> {
    const { now, records } = await agentList(this.redis);
    const out: AgentStatus[] = [];
    for (const json of records.values()) {
      const { lastSeen, ttlMs, ...record } = JSON.parse(json) as AgentRecord & { lastSeen: number; ttlMs: number };
      const lastSeenMs = Math.max(0, now - lastSeen);
      out.push({ ...record, mailboxes: Array.isArray(record.mailboxes) ? record.mailboxes : [], lastSeenMs, alive: lastSeenMs <= ttlMs });
    }
    return out.sort((a, b) => a.agentId.localeCompare(b.agentId));
  }

  async remove(agentId: string): Promise<void> {
    await this.redis.hdel(GLOBAL_KEYS.agents, agentId);
  }
}
