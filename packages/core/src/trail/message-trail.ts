import type { ChainableCommander } from 'ioredis';
import { GLOBAL_KEYS, mailboxKeys } from '../redis/keys.js';
import { queueScript } from '../redis/scripts.js';
import type { RedisClient } from '../redis/connect.js';
import { searchTerms } from './privacy.js';
import type { TrailAttempt, TrailRecord, TrailSettings, TrailStatus } from './trail-types.js';

/** Fields a step of a message's life sets (the rest of the record stays as it was). */
export type TrailPatch = Partial<Omit<TrailRecord, 'id' | 'attempts' | 'acceptedMs' | 'updatedMs'>>;

/** One step of a message's life in its mailbox's trail. */
export interface TrailStep {
  id: string;
  patch: TrailPatch;
  attempt?: TrailAttempt;
}

/** Steps per script call: bounds the arguments (and the work) of one call. */
const STEPS_PER_CALL = 100;

/**
 * Queues one trail step on `pipeline` (a pipeline of `redis` whose other commands touch the same
 * mailbox's keys, so it stays within one Cluster slot). The script bounds the trail by age and
 * count in the same call.
 */
export function queueTrailStep(
  redis: RedisClient, pipeline: ChainableCommander, settings: TrailSettings,
  step: { mailbox: string } & TrailStep,
): void {
  queueTrailSteps(redis, pipeline, settings, step.mailbox, [step]);
}

/** Queues steps of one mailbox's messages, in order, as few script calls (see queueTrailStep). */
export function queueTrailSteps(redis: RedisClient, pipeline: ChainableCommander, settings: TrailSettings, mailbox: string, steps: readonly TrailStep[]): void {
  const k = mailboxKeys(mailbox);
  for (let at = 0; at < steps.length; at += STEPS_PER_CALL) {
    const args: Array<string | number> = [settings.maxAgeMs, settings.maxPerMailbox, settings.maxAttempts];
    for (const step of steps.slice(at, at + STEPS_PER_CALL)) args.push(step.id, JSON.stringify(step.patch), step.attempt ? JSON.stringify(step.attempt) : '');
    queueScript(redis, pipeline, 'trailRecord', [k.trail, k.trailOrder, k.trailIndex], args);
  }
}

export interface TrailQuery {
  /** A Message-ID or a recipient address (exact, case-insensitive; hashed recipients match too). */
  q?: string | undefined;
  mailbox?: string | undefined;
  status?: TrailStatus | undefined;
  limit: number;
}

/** Bounds a search over every mailbox: registries larger than this need `mailbox`. */
const MAX_MAILBOXES_SEARCHED = 10_000;

/** Reads trail records, newest update first. */
export class MessageTrail {
  constructor(private readonly redis: RedisClient) {}

  async search(query: TrailQuery): Promise<TrailRecord[]> {
    const mailboxes = query.mailbox !== undefined ? [query.mailbox] : await this.allMailboxes();
    // With a status filter, read more than `limit` per mailbox so filtering leaves enough.
    const perMailbox = query.status ? Math.min(query.limit * 10, 5_000) : query.limit;
    const found = await Promise.all(mailboxes.map((m) => this.inMailbox(m, query.q, perMailbox)));
    return found
      .flat()
      .filter((r) => query.status === undefined || r.status === query.status)
      .sort((a, b) => b.updatedMs - a.updatedMs)
      .slice(0, query.limit);
  }

  private async inMailbox(mailbox: string, q: string | undefined, limit: number): Promise<TrailRecord[]> {
    const k = mailboxKeys(mailbox);
    let ids: string[];
    if (q === undefined) {
      ids = await this.redis.zrevrange(k.trailOrder, 0, limit - 1);
    } else {
      const pipeline = this.redis.pipeline();
      for (const term of searchTerms(q)) pipeline.zrangebylex(k.trailIndex, `[${term}\0`, `[${term}\0\xff`, 'LIMIT', 0, limit);
      const replies = (await pipeline.exec()) ?? [];
      ids = [...new Set(replies.flatMap(([error, members]) => (error ? [] : (members as string[]).map((m) => m.slice(m.lastIndexOf('\0') + 1)))))];
    }
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(k.trail, ...ids);
    return values.flatMap((json, i) => (json ? [normalise(ids[i]!, mailbox, JSON.parse(json) as Partial<TrailRecord>)] : []));
  }

  private async allMailboxes(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, names] = await this.redis.sscan(GLOBAL_KEYS.mailboxes, cursor, 'COUNT', 1000);
      out.push(...names);
      cursor = next;
    } while (cursor !== '0' && out.length < MAX_MAILBOXES_SEARCHED);
    return out;
  }
}

/** Lua's cjson writes an empty array as `{}`; records from older agents may lack fields. */
function normalise(id: string, mailbox: string, raw: Partial<TrailRecord>): TrailRecord {
  return {
    ...raw,
    id,
    mailbox: raw.mailbox ?? mailbox,
    messageId: raw.messageId ?? '',
    agentId: raw.agentId ?? '',
    status: raw.status ?? 'queued',
    ...(raw.recipients !== undefined ? { recipients: Array.isArray(raw.recipients) ? raw.recipients : [] } : {}),
    attempts: Array.isArray(raw.attempts) ? raw.attempts : [],
    acceptedMs: Number(raw.acceptedMs ?? 0),
    updatedMs: Number(raw.updatedMs ?? 0),
  };
}
