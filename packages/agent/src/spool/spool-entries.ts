import type { SpoolHeader, SpoolState } from './spool-file.js';

/** What the spool keeps in memory about one message (the file holds the rest). */
export interface SpoolEntry {
  state: SpoolState;
  mailbox: string;
  receivedAt: number;
  /** The index's change counter when this entry last changed (a rescan skips newer entries). */
  changed: number;
}

export interface MailboxSpoolStats {
  queued: number;
  sending: number;
  deferred: number;
  dead: number;
  /** Local epoch ms of the oldest message not yet sent (queued, sending or deferred). */
  oldestReceivedAt?: number;
}

/** The in-memory index of every message file, by spool id. */
export class SpoolEntries extends Map<string, SpoolEntry> {
  /** Bumped on every change; a rescan compares it to tell its own snapshot from later moves. */
  changes = 0;

  record(id: string, state: SpoolState, header: Pick<SpoolHeader, 'mailbox' | 'receivedAt'>): void {
    this.set(id, { state, mailbox: header.mailbox, receivedAt: header.receivedAt, changed: ++this.changes });
  }

  /** Moves an entry to another state in memory (the file moved, or is about to). */
  moveTo(entry: SpoolEntry, state: SpoolState): void {
    entry.state = state;
    entry.changed = ++this.changes;
  }

  forget(id: string): void {
    if (this.delete(id)) this.changes += 1;
  }

  /** Counts per mailbox and state, for metrics and heartbeats. */
  stats(): Map<string, MailboxSpoolStats> {
    const result = new Map<string, MailboxSpoolStats>();
    for (const entry of this.values()) {
      let stats = result.get(entry.mailbox);
      if (!stats) result.set(entry.mailbox, (stats = { queued: 0, sending: 0, deferred: 0, dead: 0 }));
      stats[entry.state] += 1;
      if (entry.state !== 'dead' && (stats.oldestReceivedAt === undefined || entry.receivedAt < stats.oldestReceivedAt)) {
        stats.oldestReceivedAt = entry.receivedAt;
      }
    }
    return result;
  }

  /** Messages not yet sent (dead letters excluded). */
  depth(): number {
    let depth = 0;
    for (const entry of this.values()) if (entry.state !== 'dead') depth += 1;
    return depth;
  }
}
