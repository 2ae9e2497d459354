import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '@smtp-slots/core';

type Write = (pipeline: ChainableCommander) => void;

/** What the batch has sent so far (the bench reports the cost per message from it). */
export interface WriteBatchStats {
  pipelines: number;
  commands: number;
}

/**
 * Collects the agent's best-effort Redis writes (counters, trail, history, dead-letter index) and
 * sends everything queued in one turn of the event loop as one pipeline per key group. The
 * outcome of a message (spool event, counter, history) is queued in the same turn, so recording
 * it costs one round trip, not one per write. Groups are hash tags: each pipeline stays in one
 * Cluster slot.
 */
export class RedisWriteBatch {
  private pending = new Map<string, Write[]>();
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  readonly stats: WriteBatchStats = { pipelines: 0, commands: 0 };

  constructor(
    private readonly redis: RedisClient,
    /** A write failed (Redis away, a bug): counted and logged by the caller, never thrown. */
    private readonly onError: (error: Error) => void,
  ) {}

  /** Queues a write for the key group `tag` (a mailbox address or an agent id). */
  add(tag: string, write: Write): void {
    let writes = this.pending.get(tag);
    if (!writes) this.pending.set(tag, (writes = []));
    writes.push(write);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Sends what is queued now and waits for every pipeline still in flight. */
  async flush(): Promise<void> {
    this.scheduled = false;
    const groups = [...this.pending.values()];
    this.pending = new Map();
    for (const writes of groups) {
      const pipeline = this.redis.pipeline();
      for (const write of writes) write(pipeline);
      this.stats.pipelines += 1;
      this.stats.commands += pipeline.length;
      const sent = this.exec(pipeline);
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    }
    await Promise.all([...this.inFlight]);
  }

  private async exec(pipeline: ChainableCommander): Promise<void> {
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed?.[0]) this.onError(failed[0]);
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
