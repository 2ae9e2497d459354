import { DEFAULT_TRAIL_SETTINGS, mailboxKeys, queueHistory, queueSpoolDepth, type RedisClient, type TrailSettings } from '@smtp-slots/core';
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
 * Wires the trail, history, counters and dead-letter index of one agent: the outcome of a
 * message (spool event, counter, history) is queued in the same turn of the event loop and so
 * leaves in one pipeline per mailbox.
 */
export function createFleetRecords(options: {
  redis: RedisClient; agentId: string; trail: TrailSettings; spool: Spool; metrics: SenderObserver; log: Logger;
}): FleetRecords {
  const { redis, agentId, spool, log } = options;
  const batch = new RedisWriteBatch(redis, (error) => log.debug({ err: error.message }, 'fleet record not written (best effort)'));
  const trail = new TrailRecorder(agentId, options.trail, batch, redis);
  trail.attach(spool);
  return {
    batch,
    count: (mailbox, name) => batch.add(mailbox, (p) => p.hincrby(mailboxKeys(mailbox).stats, name, 1)),
    observer: new HistoryObserver(options.metrics, (mailbox, increments) => batch.add(mailbox, (p) => queueHistory(p, mailbox, Date.now(), increments))),
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
