import type { RedisLike } from './types.js';

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

/** Agent heartbeats in `ss:agents`, judged with Redis TIME. */
export class AgentRegistry {
  constructor(readonly redis: RedisLike) {}

  heartbeat(_record: AgentRecord, _ttlMs: number): Promise<void> {
    throw new Error('not implemented yet');
  }

  list(): Promise<AgentStatus[]> {
    throw new Error('not implemented yet');
  }

  remove(_agentId: string): Promise<void> {
    throw new Error('not implemented yet');
  }
}
