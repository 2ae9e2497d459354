import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '@smtp-slots/core';

type Write = (pipeline: ChainableCommander) => void;
/** Writes every item one kind collected in a flush, in the order queued (e.g. one script call for many trail steps). */
export type CollectedWrite<T> = (pipeline: ChainableCommander, items: T[]) => void;

/** What the batch has sent so far (the bench reports the cost per message from it). */
export interface WriteBatchStats {
  pipelines: number;
  commands: number;
}

interface Group {
  writes: Write[];
  collected: Map<string, { items: unknown[]; write: CollectedWrite<unknown> }>;
}

/**
 * Collects the agent's best-effort Redis writes (counters, trail, history, dead-letter index) and
 * sends everything queued within `delayMs` (one turn of the event loop with 0) as one pipeline
 * per key group. Items `collect`ed under one kind leave as one write per flush (counters summed,
 * trail steps in one script call), so a flush costs about the same for one message or fifty.
 * Groups are hash tags: each pipeline stays in one Cluster slot.
 */
export class RedisWriteBatch {
  private pending = new Map<string, Group>();
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  readonly stats: WriteBatchStats = { pipelines: 0, commands: 0 };

  constructor(
    private readonly redis: RedisClient,
    /** A write failed (Redis away, a bug): counted and logged by the caller, never thrown. */
    private readonly onError: (error: Error) => void,
    private readonly delayMs = 0,
  ) {}

  /** Queues a write for the key group `tag` (a mailbox address or an agent id). */
  add(tag: string, write: Write): void {
    this.group(tag).writes.push(write);
  }

  /** Queues `item` of `kind` for the key group `tag`; `write` sends all of one flush's items of that kind together. */
  collect<T>(tag: string, kind: string, item: T, write: CollectedWrite<T>): void {
    const { collected } = this.group(tag);
    let entry = collected.get(kind);
    if (!entry) collected.set(kind, (entry = { items: [], write: write as CollectedWrite<unknown> }));
    entry.items.push(item);
  }

  /** Sends what is queued now and waits for every pipeline still in flight. */
  async flush(): Promise<void> {
    this.scheduled = false;
    const groups = [...this.pending.values()];
    this.pending = new Map();
    for (const { writes, collected } of groups) {
      const pipeline = this.redis.pipeline();
      for (const write of writes) write(pipeline);
      for (const { items, write } of collected.values()) write(pipeline, items);
      this.stats.pipelines += 1;
      this.stats.commands += pipeline.length;
      const sent = this.exec(pipeline);
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    }
    await Promise.all([...this.inFlight]);
  }

  private group(tag: string): Group {
    let group = this.pending.get(tag);
    if (!group) this.pending.set(tag, (group = { writes: [], collected: new Map() }));
    if (!this.scheduled) {
      this.scheduled = true;
      const flush = () => void this.flush();
      if (this.delayMs > 0) setTimeout(flush, this.delayMs).unref();
      else setImmediate(flush);
    }
    return group;
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
