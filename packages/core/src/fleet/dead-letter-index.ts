import type { ChainableCommander } from 'ioredis';
import { agentKeys, GLOBAL_KEYS } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';
import type { TrailAttempt } from '../trail/trail-types.js';

/** A dead letter as an agent publishes it for the fleet (the file stays on the agent's disk). */
export interface PublishedDeadLetter {
  /** Spool id on the agent. */
  id: string;
  agentId: string;
  mailbox: string;
  messageId: string;
  /** As stored by the trail privacy setting (plain, hashed, or empty when off). */
  recipients: string[];
  subject?: string;
  /** ISO time it became a dead letter (the agent's clock). */
  failedAt: string;
  /** The full final reply text. */
  reason: string;
  attempts: TrailAttempt[];
}

/**
 * The fleet-wide index of dead letters: one hash per agent, written by the agent that holds the
 * files. It is a view: on start and after every rescan the agent replaces its hash with what its
 * spool holds, so the index heals from anything missed while Redis was away.
 */
export class DeadLetterIndex {
  constructor(private readonly redis: RedisClient) {}

  /** Replaces everything `agentId` published with `letters`. */
  async replace(agentId: string, letters: readonly PublishedDeadLetter[]): Promise<void> {
    const key = agentKeys(agentId).deadLetters;
    const tx = this.redis.multi().del(key);
    if (letters.length > 0) tx.hset(key, Object.fromEntries(letters.map((l) => [l.id, JSON.stringify(l)])));
    await tx.exec();
    await this.redis.sadd(GLOBAL_KEYS.deadLetterAgents, agentId);
  }

  /** Queues a new dead letter on a pipeline of the agent's own keys. */
  static queuePublish(pipeline: ChainableCommander, letter: PublishedDeadLetter): void {
    pipeline.hset(agentKeys(letter.agentId).deadLetters, letter.id, JSON.stringify(letter));
  }

  /** Queues the removal of dead letters that were requeued or purged. */
  static queueRemove(pipeline: ChainableCommander, agentId: string, ids: readonly string[]): void {
    if (ids.length > 0) pipeline.hdel(agentKeys(agentId).deadLetters, ...ids);
  }

  /** Marks `agentId` as one whose dead letters are listed (kept when its heartbeat is gone). */
  async register(agentId: string): Promise<void> {
    await this.redis.sadd(GLOBAL_KEYS.deadLetterAgents, agentId);
  }

  /** Every published dead letter, oldest failure first. */
  async list(): Promise<PublishedDeadLetter[]> {
    const agents = await this.redis.smembers(GLOBAL_KEYS.deadLetterAgents);
    const hashes = await Promise.all(agents.map((agentId) => this.redis.hgetall(agentKeys(agentId).deadLetters)));
    const letters = hashes.flatMap((hash) => Object.values(hash).map((json) => JSON.parse(json) as PublishedDeadLetter));
    return letters.sort((a, b) => a.failedAt.localeCompare(b.failedAt) || a.id.localeCompare(b.id));
  }
}
