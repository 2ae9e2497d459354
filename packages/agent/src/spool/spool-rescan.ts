import type { ReadyQueues } from './ready-queues.js';
import type { SpoolEntries } from './spool-entries.js';
import { readSpoolHeader, type SpoolState } from './spool-file.js';
import type { SpoolIo } from './spool-io.js';
import { isSpoolId, type SpoolPaths } from './spool-paths.js';

/** The parts of a spool a rescan reads and corrects. */
export interface RescanTarget {
  paths: SpoolPaths;
  io: SpoolIo;
  entries: SpoolEntries;
  queues: ReadyQueues;
  /** True while this process moves the message's file (or waits to retry a move of it). */
  busy(id: string): boolean;
}

/**
 * Brings the in-memory index in line with changes other processes made (the CLI requeued or
 * purged dead letters, an operator dropped a file into queued/). Cheap: directory listings,
 * headers of new files only. Moves this process makes while the scan runs are never undone by
 * it: entries that changed after a directory was listed, and files being moved or accepted,
 * are left alone, so a message is neither dropped nor handed out twice.
 */
export async function rescanSpool(target: RescanTarget): Promise<void> {
  const { paths, io, entries, queues } = target;
  for (const state of ['queued', 'deferred', 'dead'] as const) {
    const listedAt = entries.changes;
    const names = new Set((await io.list(paths.dir(state))).filter(isSpoolId));
    for (const name of names) {
      if (!changedElsewhere(target, name, state, listedAt)) continue;
      const header = await readSpoolHeader(paths.file(state, name), io).catch(() => undefined);
      if (!header || !changedElsewhere(target, name, state, listedAt)) continue;
      entries.record(name, state, header);
      if (state === 'dead') queues.remove(header.mailbox, name);
      else queues.add(header.mailbox, name, state === 'deferred' ? (header.nextAttemptAt ?? 0) : 0);
    }
    for (const [id, entry] of entries) {
      if (entry.state === state && entry.changed <= listedAt && !names.has(id) && !target.busy(id)) {
        entries.forget(id);
        queues.remove(entry.mailbox, id);
      }
    }
  }
}

/** True when `name`, listed in `state`, is news from another process rather than our own doing. */
function changedElsewhere(target: RescanTarget, name: string, state: SpoolState, listedAt: number): boolean {
  if (target.busy(name)) return false;
  const entry = target.entries.get(name);
  return !entry || (entry.changed <= listedAt && entry.state !== 'sending' && entry.state !== state);
}
