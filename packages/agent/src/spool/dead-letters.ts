import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DirSync } from './dir-sync.js';
import { decodeSpoolFile, encodeSpoolFile, readSpoolHeader, writeDurably, type SpoolHeader } from './spool-file.js';
import { plainSpoolIo, type SpoolIo } from './spool-io.js';
import { isSpoolId, SpoolPaths } from './spool-paths.js';

/** A file whose presence asks the agent owning the spool to rescan its directories. */
export const RESCAN_MARKER = 'rescan-requested';

/** A dead letter as operators see it: who, what, and every attempt's full reply. */
export interface DeadLetter {
  id: string;
  mailbox: string;
  messageId: string;
  from: string;
  to: string[];
  size: number;
  subject?: string;
  receivedAt: string;
  /** ISO time of the last attempt (the one that made it dead), or receivedAt without one. */
  failedAt: string;
  reason: string;
  attempts: SpoolHeader['attempts'];
}

export function toDeadLetter(header: SpoolHeader): DeadLetter {
  return {
    id: header.id,
    mailbox: header.mailbox,
    messageId: header.messageId,
    from: header.envelope.from,
    to: header.envelope.to,
    size: header.size,
    ...(header.subject !== undefined ? { subject: header.subject } : {}),
    receivedAt: new Date(header.receivedAt).toISOString(),
    failedAt: header.attempts.at(-1)?.at ?? new Date(header.receivedAt).toISOString(),
    reason: header.deadReason ?? 'unknown',
    attempts: header.attempts,
  };
}

/**
 * Dead-letter operations on a spool directory. They only touch `dead/` and move files into
 * `queued/`, so they are safe while an agent runs on the same spool (it picks changes up on
 * its next scan).
 */
export class DeadLetterStore {
  private readonly paths: SpoolPaths;

  constructor(root: string, private readonly io: SpoolIo = plainSpoolIo) {
    this.paths = new SpoolPaths(root);
  }

  async list(): Promise<DeadLetter[]> {
    const names = (await readdir(this.paths.dir('dead')).catch(() => [])).filter(isSpoolId).sort();
    const letters: DeadLetter[] = [];
    for (const name of names) {
      const header = await readSpoolHeader(this.paths.file('dead', name), this.io).catch(() => undefined);
      if (header) letters.push(toDeadLetter(header));
    }
    return letters;
  }

  /**
   * Moves dead letters back to the queue with a fresh retry budget and lifetime (all when `ids`
   * is omitted). Returns the headers now queued.
   */
  async retry(ids?: string[]): Promise<SpoolHeader[]> {
    const chosen = ids ?? (await this.deadIds()).sort();
    const moved: SpoolHeader[] = [];
    for (const id of chosen) {
      const source = this.paths.file('dead', id);
      const data = await this.io.readFile(source).catch(() => undefined);
      if (!data) continue;
      const { header, raw } = decodeSpoolFile(source, data);
      const next: SpoolHeader = { ...header, rev: header.rev + 1, failures: 0, lifetimeStart: Date.now() };
      delete next.deadReason;
      delete next.nextAttemptAt;
      await writeDurably(this.io, this.paths.tmp(id), this.paths.file('queued', id), encodeSpoolFile(next, raw));
      moved.push(next);
    }
    if (moved.length > 0) await new DirSync(this.paths.dir('queued'), this.io).sync();
    for (const header of moved) await this.io.unlink(this.paths.file('dead', header.id)).catch(() => undefined);
    if (moved.length > 0) {
      await new DirSync(this.paths.dir('dead'), this.io).sync();
      await this.requestRescan();
    }
    return moved;
  }

  /** Deletes dead letters for good (all when `ids` is omitted). Returns the ids removed. */
  async purge(ids?: string[]): Promise<string[]> {
    const chosen = ids ?? (await this.deadIds());
    const removed: string[] = [];
    for (const id of chosen) {
      if (!isSpoolId(id)) continue;
      try {
        await this.io.unlink(this.paths.file('dead', id));
        removed.push(id);
      } catch {
        // Already gone.
      }
    }
    if (removed.length > 0) {
      await new DirSync(this.paths.dir('dead'), this.io).sync();
      await this.requestRescan();
    }
    return removed;
  }

  /** The ids of every dead letter now in the spool. */
  ids(): Promise<string[]> {
    return this.deadIds();
  }

  private async deadIds(): Promise<string[]> {
    return (await readdir(this.paths.dir('dead')).catch(() => [])).filter(isSpoolId);
  }

  /** Tells a running agent (which owns the in-memory index) to re-read the directories. */
  private async requestRescan(): Promise<void> {
    await writeFile(join(this.paths.root, RESCAN_MARKER), '').catch(() => undefined);
  }
}
