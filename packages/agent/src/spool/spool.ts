import { EventEmitter } from 'node:events';
import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { SpoolCorruptError, SpoolMessageNotFoundError } from '../errors.js';
import { join } from 'node:path';
import { DeadLetterStore, RESCAN_MARKER, type DeadLetter } from './dead-letters.js';
import { DirSync } from './dir-sync.js';
import { ReadyQueues } from './ready-queues.js';
import {
  decodeSpoolFile, encodeSpoolFile, readSpoolHeader, SPOOL_STATES, writeDurably,
  type Attempt, type SpoolEnvelope, type SpoolHeader, type SpoolState,
} from './spool-file.js';
import { SpoolEntries, type MailboxSpoolStats } from './spool-entries.js';
import { SpoolLock } from './spool-lock.js';
import { quarantine, recoverSpool, type RecoveryReport } from './spool-recovery.js';
import { isSpoolId, newSpoolId, SpoolPaths } from './spool-paths.js';
import { subjectOf } from './subject.js';

/** A message taken for sending: its header and bytes. */
export interface SpoolMessage {
  header: SpoolHeader;
  raw: Buffer;
}

/** How a message left the spool (or part of it did). */
export interface SettledEvent {
  id: string;
  messageId: string;
  status: 'sent' | 'dead';
  header: SpoolHeader;
  /** Recipients the upstream refused for good (sent with some recipients bounced). */
  bounced?: string[];
  /** Recipients still pending in a split copy (its id). */
  deferredCopy?: { id: string; recipients: string[] };
  /** The upstream's 250 reply (sent). */
  reply?: string;
}

/**
 * The durable spool. A message the relay acknowledged is a file here until the upstream
 * accepted it or it moved to the dead letters. States are directories; moves are renames;
 * rewrites go tmp → fsync → rename → fsync(dir) before the old copy is removed.
 *
 * Events: 'accepted' (header), 'ready' (mailbox: it may have a message to send now),
 * 'claimed' (header: taken for sending), 'deferred' (header, attempt: waits for its next try,
 * also a split copy for the recipients still pending), 'dead' (header: a file entered dead/,
 * whole message or the refused recipients' copy), 'requeued' (headers of dead letters retried),
 * 'purged' ({id, mailbox}[]), 'settled' (SettledEvent), 'warning' (an unreadable file was set aside).
 * The fleet trail and the dead-letter index are built from these events.
 */
export class Spool extends EventEmitter {
  private readonly entries = new SpoolEntries();
  private readonly queues = new ReadyQueues((mailbox) => this.emit('ready', mailbox));
  private readonly syncs = new Map<string, DirSync>();
  private readonly moving = new Set<string>();
  readonly deadLetters: DeadLetterStore;
  private closed = false;

  private constructor(
    readonly paths: SpoolPaths,
    private readonly lock: SpoolLock,
  ) {
    super();
    this.deadLetters = new DeadLetterStore(paths.root);
    for (const state of [...SPOOL_STATES, 'tmp'] as const) this.syncs.set(state, new DirSync(paths.dir(state)));
  }

  /** Pid of a previous owner that died without a clean shutdown (its leases may linger). */
  get stalePid(): number | undefined {
    return this.lock.stalePid;
  }

  /** Opens (creating) a spool directory, takes its lock and recovers from any crash. */
  static async open(dir: string): Promise<{ spool: Spool; recovered: RecoveryReport }> {
    const paths = new SpoolPaths(dir);
    await paths.create();
    const lock = await SpoolLock.acquire(dir);
    const spool = new Spool(paths, lock);
    const { messages, report } = await recoverSpool(paths);
    for (const { id, state, header } of messages) {
      spool.setEntry(id, state, header);
      if (state === 'queued') spool.queues.add(header.mailbox, id);
      if (state === 'deferred') spool.queues.add(header.mailbox, id, header.nextAttemptAt ?? 0);
    }
    return { spool, recovered: report };
  }

  // ---- intake ----------------------------------------------------------------------------------

  /** Stores a new message durably; resolves only once it survives a crash or power loss. */
  async accept(input: { mailbox: string; envelope: SpoolEnvelope; raw: Buffer; messageId: string; origin: 'relay' | 'api' }): Promise<SpoolHeader> {
    const id = newSpoolId();
    const now = Date.now();
    const subject = subjectOf(input.raw);
    const header: SpoolHeader = {
      id, rev: 0, mailbox: input.mailbox, envelope: input.envelope, messageId: input.messageId, size: input.raw.length,
      receivedAt: now, lifetimeStart: now, origin: input.origin, attempts: [], failures: 0,
      ...(subject !== undefined ? { subject } : {}),
    };
    await writeDurably(this.paths.tmp(id), this.paths.file('queued', id), encodeSpoolFile(header, input.raw));
    await this.sync('queued');
    this.entries.set(id, { state: 'queued', mailbox: header.mailbox, receivedAt: now });
    this.queues.add(header.mailbox, id);
    this.emit('accepted', header);
    return header;
  }

  // ---- the sender's side -------------------------------------------------------------------------

  readyCount(mailbox: string): number {
    return this.queues.readyCount(mailbox);
  }

  waitForReady(mailbox: string, signal?: AbortSignal): Promise<void> {
    return this.queues.waitForReady(mailbox, signal);
  }

  /** Wakes a mailbox's waiting workers (a hold ended, a pause lifted). */
  poke(mailbox: string): void {
    this.queues.poke(mailbox);
  }

  /** Takes the next ready message of a mailbox into `sending/`. */
  async claim(mailbox: string): Promise<SpoolMessage | undefined> {
    for (;;) {
      const id = this.queues.shift(mailbox);
      if (id === undefined) return undefined;
      const entry = this.entries.get(id);
      if (!entry || entry.state === 'sending' || entry.state === 'dead') continue;
      const from = entry.state;
      entry.state = 'sending';
      this.moving.add(id);
      try {
        await rename(this.paths.file(from, id), this.paths.file('sending', id));
        const data = await readFile(this.paths.file('sending', id));
        const message = decodeSpoolFile(this.paths.file('sending', id), data);
        this.emit('claimed', message.header);
        return message;
      } catch (error) {
        if (!isGoneOrCorrupt(error)) {
          // A passing I/O error (EMFILE, EIO) says nothing about the message: keep it where it was.
          await rename(this.paths.file('sending', id), this.paths.file(from, id)).catch(() => undefined);
          entry.state = from;
          this.queues.add(mailbox, id, Date.now() + 1_000);
          throw error;
        }
        // The file vanished (purged by an operator) or is corrupt: set it aside, take the next.
        this.entries.delete(id);
        await quarantine(this.paths, 'sending', id);
        this.emit('warning', error);
      } finally {
        this.moving.delete(id);
      }
    }
  }

  /** The upstream accepted the message for every recipient: it leaves the spool. */
  async delivered(message: SpoolMessage, bounced?: { recipients: string[]; attempt: Attempt }, reply?: string): Promise<void> {
    const { header } = message;
    if (bounced && bounced.recipients.length > 0) await this.writeSplit(message, 'dead', bounced.recipients, bounced.attempt);
    await this.drop('sending', header.id);
    this.emit('settled', { id: header.id, messageId: header.messageId, status: 'sent', header, bounced: bounced?.recipients, ...(reply !== undefined ? { reply } : {}) } satisfies SettledEvent);
  }

  /**
   * Some recipients were accepted, others failed temporarily (and maybe others for good): the
   * pending ones continue in a deferred copy with the same Message-ID.
   */
  async partiallyDelivered(
    message: SpoolMessage,
    pending: { recipients: string[]; attempt: Attempt; nextAttemptAt: number },
    bounced?: { recipients: string[]; attempt: Attempt },
    reply?: string,
  ): Promise<void> {
    const { header } = message;
    if (bounced && bounced.recipients.length > 0) await this.writeSplit(message, 'dead', bounced.recipients, bounced.attempt);
    const copy = await this.writeSplit(message, 'deferred', pending.recipients, pending.attempt, pending.nextAttemptAt);
    await this.drop('sending', header.id);
    this.emit('settled', {
      id: header.id, messageId: header.messageId, status: 'sent', header, bounced: bounced?.recipients,
      deferredCopy: { id: copy.id, recipients: pending.recipients }, ...(reply !== undefined ? { reply } : {}),
    } satisfies SettledEvent);
  }

  /** Puts a message back unchanged (never attempted: shutdown, lease lost before DATA, a hold). */
  async putBack(message: SpoolMessage, notBefore = 0): Promise<void> {
    const { id, mailbox } = message.header;
    this.moving.add(id);
    try {
      await rename(this.paths.file('sending', id), this.paths.file('queued', id));
    } finally {
      this.moving.delete(id);
    }
    this.setEntry(id, 'queued', message.header);
    if (notBefore > Date.now()) this.queues.add(mailbox, id, notBefore);
    else this.queues.addFirst(mailbox, id);
  }

  /** Records an attempt and schedules the next one (a temporary failure). */
  async defer(
    message: SpoolMessage,
    attempt: Attempt,
    nextAttemptAt: number,
    options: { countsAsFailure: boolean; possibleDuplicate?: boolean; recipients?: string[] },
  ): Promise<SpoolHeader> {
    const header: SpoolHeader = {
      ...message.header,
      envelope: options.recipients ? { ...message.header.envelope, to: options.recipients } : message.header.envelope,
      rev: message.header.rev + 1,
      attempts: [...message.header.attempts, attempt],
      failures: message.header.failures + (options.countsAsFailure ? 1 : 0),
      nextAttemptAt,
      possibleDuplicate: message.header.possibleDuplicate || options.possibleDuplicate || undefined,
    };
    await this.rewrite('sending', 'deferred', header, message.raw);
    this.queues.add(header.mailbox, header.id, nextAttemptAt);
    this.emit('deferred', header, attempt);
    return header;
  }

  /** A permanent failure: the message moves to the dead letters with every attempt's reply. */
  async bury(message: SpoolMessage, attempt: Attempt | undefined, reason: string): Promise<SpoolHeader> {
    const header: SpoolHeader = {
      ...message.header,
      rev: message.header.rev + 1,
      attempts: attempt ? [...message.header.attempts, attempt] : message.header.attempts,
      deadReason: reason,
    };
    delete header.nextAttemptAt;
    await this.rewrite('sending', 'dead', header, message.raw);
    this.emit('dead', header);
    this.emit('settled', { id: header.id, messageId: header.messageId, status: 'dead', header } satisfies SettledEvent);
    return header;
  }

  /** Records recipients refused for good as a dead letter of their own (the message goes on for the rest). */
  async bounceRecipients(message: SpoolMessage, recipients: string[], attempt: Attempt): Promise<SpoolHeader> {
    return this.writeSplit(message, 'dead', recipients, attempt);
  }

  // ---- dead letters ----------------------------------------------------------------------------

  listDead(): Promise<DeadLetter[]> {
    return this.deadLetters.list();
  }

  /** Requeues dead letters (all when `ids` is omitted) with a fresh retry budget. */
  async retryDead(ids?: string[]): Promise<string[]> {
    const moved = await this.deadLetters.retry(ids);
    for (const header of moved) {
      this.setEntry(header.id, 'queued', header);
      this.queues.add(header.mailbox, header.id);
    }
    if (moved.length > 0) this.emit('requeued', moved);
    return moved.map((h) => h.id);
  }

  async purgeDead(ids?: string[]): Promise<string[]> {
    const removed = await this.deadLetters.purge(ids);
    const gone = removed.map((id) => ({ id, mailbox: this.entries.get(id)?.mailbox ?? '' }));
    for (const id of removed) this.entries.delete(id);
    if (gone.length > 0) this.emit('purged', gone);
    return removed;
  }

  // ---- observation -----------------------------------------------------------------------------

  /** Counts per mailbox and state, for metrics and heartbeats. */
  stats(): Map<string, MailboxSpoolStats> {
    return this.entries.stats();
  }

  /** Messages not yet sent (dead letters excluded). */
  depth(): number {
    return this.entries.depth();
  }

  /** Rescans when another process (the CLI) asked for it; a cheap check otherwise. */
  async rescanIfRequested(): Promise<boolean> {
    try {
      await unlink(join(this.paths.root, RESCAN_MARKER));
    } catch {
      return false;
    }
    await this.rescan();
    return true;
  }

  /**
   * Picks up changes made by other processes (the CLI requeued or purged dead letters, an
   * operator dropped a file into queued/). Cheap: directory listings, headers of new files only.
   */
  async rescan(): Promise<void> {
    for (const state of ['queued', 'deferred', 'dead'] as const) {
      const names = new Set((await readdir(this.paths.dir(state))).filter(isSpoolId));
      for (const name of names) {
        const entry = this.entries.get(name);
        if (this.moving.has(name) || entry?.state === 'sending' || entry?.state === state) continue;
        const header = await readSpoolHeader(this.paths.file(state, name)).catch(() => undefined);
        if (!header || this.moving.has(name)) continue;
        this.setEntry(name, state, header);
        if (state === 'dead') this.queues.remove(header.mailbox, name);
        else this.queues.add(header.mailbox, name, state === 'deferred' ? (header.nextAttemptAt ?? 0) : 0);
      }
      for (const [id, entry] of this.entries) {
        if (entry.state === state && !names.has(id) && !this.moving.has(id)) {
          this.entries.delete(id);
          this.queues.remove(entry.mailbox, id);
        }
      }
    }
  }

  /** Stops handing out messages and releases the spool lock. Files stay as they are. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queues.close();
    await this.lock.release();
  }

  // ---- internals -------------------------------------------------------------------------------

  private setEntry(id: string, state: SpoolState, header: SpoolHeader): void {
    this.entries.record(id, state, header);
  }

  private sync(state: SpoolState | 'tmp'): Promise<void> {
    return this.syncs.get(state)!.sync();
  }

  /** Durable replace: the new copy is safe on disk before the old one goes. */
  private async rewrite(from: SpoolState, to: SpoolState, header: SpoolHeader, raw: Buffer): Promise<void> {
    this.moving.add(header.id);
    try {
      await writeDurably(this.paths.tmp(header.id), this.paths.file(to, header.id), encodeSpoolFile(header, raw));
      await this.sync(to);
      this.setEntry(header.id, to, header);
      await unlink(this.paths.file(from, header.id));
      await this.sync(from);
    } finally {
      this.moving.delete(header.id);
    }
  }

  /** Writes a copy of a message for some of its recipients (a bounce record or the pending rest). */
  private async writeSplit(message: SpoolMessage, state: 'dead' | 'deferred', recipients: string[], attempt: Attempt, nextAttemptAt?: number): Promise<SpoolHeader> {
    const id = newSpoolId();
    const { header: parent } = message;
    const header: SpoolHeader = {
      ...parent, id, rev: 0, splitFrom: parent.id, envelope: { ...parent.envelope, to: recipients },
      attempts: [...parent.attempts, attempt],
      failures: state === 'deferred' ? parent.failures + 1 : parent.failures,
    };
    if (state === 'dead') header.deadReason = `recipients refused: ${attempt.response}`;
    if (nextAttemptAt !== undefined) header.nextAttemptAt = nextAttemptAt;
    await writeDurably(this.paths.tmp(id), this.paths.file(state, id), encodeSpoolFile(header, message.raw));
    await this.sync(state);
    this.setEntry(id, state, header);
    if (state === 'deferred') {
      this.queues.add(header.mailbox, id, nextAttemptAt ?? 0);
      this.emit('deferred', header, attempt);
    } else {
      this.emit('dead', header);
    }
    return header;
  }

  private async drop(state: SpoolState, id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.state !== state) throw new SpoolMessageNotFoundError(id, state);
    this.entries.delete(id);
    await unlink(this.paths.file(state, id));
    await this.sync(state);
  }

}

function isGoneOrCorrupt(error: unknown): boolean {
  return error instanceof SpoolCorruptError || (error as NodeJS.ErrnoException).code === 'ENOENT';
}
