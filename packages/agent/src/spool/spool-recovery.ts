import { rm } from 'node:fs/promises';
import { DirSync } from './dir-sync.js';
import { decodeSpoolFile, encodeSpoolFile, readSpoolHeader, SPOOL_STATES, writeDurably, type SpoolHeader, type SpoolState } from './spool-file.js';
import { plainSpoolIo, type SpoolIo } from './spool-io.js';
import { isSpoolId, type SpoolPaths } from './spool-paths.js';

/** What start-up found: messages that were in flight, files set aside as unreadable. */
export interface RecoveryReport {
  requeued: number;
  /** The mailbox of each requeued message (each is a possible duplicate). */
  requeuedMailboxes: string[];
  /** Split copies dropped because their parent never committed the split (it is retried whole). */
  uncommittedSplits: number;
  /** One line per file moved to corrupt/. */
  corrupt: string[];
}

/** A message that survived recovery, in the state it now has on disk. */
export interface RecoveredMessage {
  id: string;
  state: Exclude<SpoolState, 'sending'>;
  header: SpoolHeader;
}

interface Copy {
  state: SpoolState;
  header: SpoolHeader;
}

/** Moves an unreadable file to corrupt/ so that it neither blocks the spool nor gets lost. */
export async function quarantine(paths: SpoolPaths, state: SpoolState, id: string, io: SpoolIo = plainSpoolIo): Promise<void> {
  await io.rename(paths.file(state, id), `${paths.dir('corrupt')}/${id}`).catch(() => undefined);
}

/**
 * Brings a spool directory into a consistent state after any stop, clean or not: writes in
 * progress (tmp/) never got a 250 and go; an id found in two states (a crash between writing a
 * new copy and removing the old one) keeps its newest copy; split copies whose parent never
 * reached the split's rev go; messages in flight go back to queued/. Every step is idempotent,
 * so a crash during recovery is recovered by the next start. Returns every message, in FIFO order.
 */
export async function recoverSpool(paths: SpoolPaths, io: SpoolIo = plainSpoolIo): Promise<{ messages: RecoveredMessage[]; report: RecoveryReport }> {
  await rm(paths.dir('tmp'), { recursive: true, force: true });
  await paths.create();
  const { winners, corrupt } = await newestCopies(paths, io);
  let uncommittedSplits = 0;
  for (const [id, winner] of winners) {
    const { splitFrom, splitRev } = winner.header;
    const parent = splitFrom === undefined ? undefined : winners.get(splitFrom);
    if (parent && splitRev !== undefined && parent.header.rev < splitRev) {
      await io.unlink(paths.file(winner.state, id));
      winners.delete(id);
      uncommittedSplits += 1;
    }
  }
  const messages: RecoveredMessage[] = [];
  let requeued = 0;
  const requeuedMailboxes: string[] = [];
  for (const [id, winner] of [...winners].sort(([a], [b]) => a.localeCompare(b))) {
    let state = winner.state;
    if (state === 'sending') {
      // It was in flight when the previous process stopped: the upstream may have taken it, so
      // it goes back to queued/ marked as a possible duplicate (same Message-ID). The marked copy
      // has a higher rev, so a crash before the unlink leaves the marked one the winner.
      const { header, raw } = decodeSpoolFile(paths.file('sending', id), await io.readFile(paths.file('sending', id)));
      winner.header = { ...header, rev: header.rev + 1, possibleDuplicate: true };
      await writeDurably(io, paths.tmp(id), paths.file('queued', id), encodeSpoolFile(winner.header, raw));
      await new DirSync(paths.dir('queued'), io).sync();
      await io.unlink(paths.file('sending', id));
      state = 'queued';
      requeued += 1;
      requeuedMailboxes.push(header.mailbox);
    }
    messages.push({ id, state, header: winner.header });
  }
  for (const state of SPOOL_STATES) await new DirSync(paths.dir(state), io).sync();
  return { messages, report: { requeued, requeuedMailboxes, uncommittedSplits, corrupt } };
}

/** Reads every header; of an id found in several states the newest copy wins, the others go. */
async function newestCopies(paths: SpoolPaths, io: SpoolIo): Promise<{ winners: Map<string, Copy>; corrupt: string[] }> {
  const found = new Map<string, Copy[]>();
  const corrupt: string[] = [];
  for (const state of SPOOL_STATES) {
    for (const name of (await io.list(paths.dir(state))).filter(isSpoolId)) {
      try {
        const header = await readSpoolHeader(paths.file(state, name), io);
        found.set(name, [...(found.get(name) ?? []), { state, header }]);
      } catch (error) {
        corrupt.push((error as Error).message);
        await quarantine(paths, state, name, io);
      }
    }
  }
  const winners = new Map<string, Copy>();
  for (const [id, copies] of found) {
    // Equal revs (a rename interrupted between two directories cannot make them, but an operator's copy can): not sending wins.
    copies.sort((a, b) => b.header.rev - a.header.rev || Number(a.state === 'sending') - Number(b.state === 'sending'));
    const [winner, ...stale] = copies as [Copy, ...Copy[]];
    for (const copy of stale) await io.unlink(paths.file(copy.state, id));
    winners.set(id, winner);
  }
  return { winners, corrupt };
}
