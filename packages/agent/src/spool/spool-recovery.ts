import { readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { DirSync } from './dir-sync.js';
import { decodeSpoolFile, encodeSpoolFile, readSpoolHeader, SPOOL_STATES, writeDurably, type SpoolHeader, type SpoolState } from './spool-file.js';
import { isSpoolId, type SpoolPaths } from './spool-paths.js';

/** What start-up found: messages that were in flight, files set aside as unreadable. */
export interface RecoveryReport {
  requeued: number;
  /** The mailbox of each requeued message (each is a possible duplicate). */
  requeuedMailboxes: string[];
  /** One line per file moved to corrupt/. */
  corrupt: string[];
}

/** A message that survived recovery, in the state it now has on disk. */
export interface RecoveredMessage {
  id: string;
  state: Exclude<SpoolState, 'sending'>;
  header: SpoolHeader;
}

/** Moves an unreadable file to corrupt/ so that it neither blocks the spool nor gets lost. */
export async function quarantine(paths: SpoolPaths, state: SpoolState, id: string): Promise<void> {
  await rename(paths.file(state, id), `${paths.dir('corrupt')}/${id}`).catch(() => undefined);
}

/**
 * Brings a spool directory into a consistent state after any stop, clean or not: writes in
 * progress (tmp/) never got a 250 and go; an id found in two states (a crash between writing a
 * new copy and removing the old one) keeps its newest copy; messages in flight go back to queued/.
 * Returns every message, in FIFO order.
 */
export async function recoverSpool(paths: SpoolPaths): Promise<{ messages: RecoveredMessage[]; report: RecoveryReport }> {
  await rm(paths.dir('tmp'), { recursive: true, force: true });
  await paths.create();
  const found = new Map<string, Array<{ state: SpoolState; header: SpoolHeader }>>();
  const corrupt: string[] = [];
  for (const state of SPOOL_STATES) {
    for (const name of (await readdir(paths.dir(state))).filter(isSpoolId)) {
      try {
        const header = await readSpoolHeader(paths.file(state, name));
        found.set(name, [...(found.get(name) ?? []), { state, header }]);
      } catch (error) {
        corrupt.push((error as Error).message);
        await quarantine(paths, state, name);
      }
    }
  }
  const messages: RecoveredMessage[] = [];
  let requeued = 0;
  const requeuedMailboxes: string[] = [];
  for (const [id, copies] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    copies.sort((a, b) => b.header.rev - a.header.rev || Number(a.state === 'sending') - Number(b.state === 'sending'));
    const [winner, ...stale] = copies as [{ state: SpoolState; header: SpoolHeader }, ...Array<{ state: SpoolState; header: SpoolHeader }>];
    for (const copy of stale) await unlink(paths.file(copy.state, id));
    let state = winner.state;
    if (state === 'sending') {
      // It was in flight when the previous process stopped: the upstream may have taken it, so
      // it goes back to queued/ marked as a possible duplicate (same Message-ID). The marked copy
      // has a higher rev, so a crash before the unlink leaves the marked one the winner.
      const { header, raw } = decodeSpoolFile(paths.file('sending', id), await readFile(paths.file('sending', id)));
      winner.header = { ...header, rev: header.rev + 1, possibleDuplicate: true };
      await writeDurably(paths.tmp(id), paths.file('queued', id), encodeSpoolFile(winner.header, raw));
      await unlink(paths.file('sending', id));
      state = 'queued';
      requeued += 1;
      requeuedMailboxes.push(header.mailbox);
    }
    messages.push({ id, state, header: winner.header });
  }
  for (const state of SPOOL_STATES) await new DirSync(paths.dir(state)).sync();
  return { messages, report: { requeued, requeuedMailboxes, corrupt } };
}
