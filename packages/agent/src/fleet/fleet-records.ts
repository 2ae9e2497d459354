import { DEFAULT_TRAIL_SETTINGS, mailboxKeys, queueHistory, queueSpoolDepth, type HistoryCounter, type RedisClient, type TrailSettings } from '@smtp-slots/core';
import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import type { SenderObserver } from '../sender/sender-observer.js';
import type { Spool } from '../spool/spool.js';
import { HistoryObserver } from './history-observer.js';
import { TrailRecorder } from './trail-recorder.js';
import { RedisWriteBatch } from './write-batch.js';

/** What an agent writes to Redis for the fleet views, all through one write batch. */
export interface FleetRecords {
  readonly batch: RedisWriteBatch;
  /** Adds to a mailbox's stats counter (sent, deferred:<code>, failed:<code>, ...). */
  count(mailbox: string, name: string): void;
  /** The sender observer that also keeps the per-minute history. */
  readonly observer: SenderObserver;
  /** Records each spooled mailbox's depth in this minute's history. */
  spoolDepths(depths: ReadonlyMap<string, number>): void;
  /** Replaces this agent's part of the dead-letter index with what the spool holds. */
  publishDeadLetters(): Promise<number>;
}

/**
 * How long records wait for others before they leave: the trail steps, counters and history of
 * every message of a mailbox within it share one pipeline and one trail script call, so the
 * Redis work per message shrinks as traffic grows. The fleet views lag by at most this much.
 */
export const FLEET_FLUSH_MS = 200;

type Increments = Partial<Record<HistoryCounter, number>>;
const MINUTE_MS = 60_000;

/** The counters named in one flush, each added once with its total. */
function writeCounters(mailbox: string): (pipeline: ChainableCommander, names: string[]) => void {
  return (pipeline, names) => {
    const totals = new Map<string, number>();
    for (const name of names) totals.set(name, (totals.get(name) ?? 0) + 1);
    for (const [name, by] of totals) pipeline.hincrby(mailboxKeys(mailbox).stats, name, by);
  };
}

/** The history increments of one flush, summed per minute. */
function writeHistory(mailbox: string): (pipeline: ChainableCommander, items: Array<{ atMs: number; increments: Increments }>) => void {
  return (pipeline, items) => {
    const byMinute = new Map<number, Record<string, number>>();
    for (const { atMs, increments } of items) {
      const minute = Math.floor(atMs / MINUTE_MS);
      const sum = byMinute.get(minute) ?? {};
      for (const [name, by] of Object.entries(increments)) sum[name] = (sum[name] ?? 0) + (by ?? 0);
      byMinute.set(minute, sum);
    }
    for (const [minute, sum] of byMinute) queueHistory(pipeline, mailbox, minute * MINUTE_MS, sum);
  };
}

/**
 * Wires the trail, history, counters and dead-letter index of one agent: what happens to a
 * mailbox's messages within `flushMs` leaves in one pipeline per mailbox.
 */
export function createFleetRecords(options: {
  redis: RedisClient; agentId: string; trail: TrailSettings; spool: Spool; metrics: SenderObserver; log: Logger; flushMs?: number;
}): FleetRecords {
  const { redis, agentId, spool, log } = options;
  const batch = new RedisWriteBatch(redis, (error) => log.debug({ err: error.message }, 'fleet record not written (best effort)'), options.flushMs ?? FLEET_FLUSH_MS);
  const trail = new TrailRecorder(agentId, options.trail, batch, redis);
  trail.attach(spool);
  return {
    batch,
    count: (mailbox, name) => batch.collect(mailbox, 'counters', name, writeCounters(mailbox)),
    observer: new HistoryObserver(options.metrics, (mailbox, increments) => batch.collect(mailbox, 'history', { atMs: Date.now(), increments }, writeHistory(mailbox))),
    spoolDepths: (depths) => {
      const now = Date.now();
      for (const [mailbox, depth] of depths) batch.add(mailbox, (p) => queueSpoolDepth(p, mailbox, agentId, now, depth));
    },
    publishDeadLetters: () => trail.publishDeadLetters(spool),
  };
}

/** The trail settings of the agent config `trail` block. */
export function trailSettings(config: AgentConfig['trail']): TrailSettings {
  return {
    ...DEFAULT_TRAIL_SETTINGS,
    enabled: config.enabled,
    maxAgeMs: config.maxAgeHours * 3_600_000,
    maxPerMailbox: config.maxPerMailbox,
    recipients: config.recipients,
    subject: config.subject,
  };
}
