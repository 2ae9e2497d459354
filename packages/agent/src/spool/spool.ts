import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { SpoolCorruptError, SpoolMessageNotFoundError, SpoolWriteError } from '../errors.js';
import { DeadLetterStore, RESCAN_MARKER, type DeadLetter } from './dead-letters.js';
import { DirSync } from './dir-sync.js';
import { PendingMoves, type PendingMoveDelays } from './pending-moves.js';
import { ReadyQueues } from './ready-queues.js';
import {
  decodeSpoolFile, encodeSpoolFile, SPOOL_STATES, writeDurably,
  type Attempt, type SpoolEnvelope, type SpoolHeader, type SpoolState,
} from './spool-file.js';
import { SpoolEntries, type MailboxSpoolStats } from './spool-entries.js';
import { SpoolHealth } from './spool-health.js';
import { ioErrorCode, isDiskFull, plainSpoolIo, type SpoolIo } from './spool-io.js';
import { SpoolLock } from './spool-lock.js';
import { quarantine, recoverSpool, type RecoveryReport } from './spool-recovery.js';
import { rescanSpool } from './spool-rescan.js';
import { newSpoolId, SpoolPaths } from './spool-paths.js';
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
  /** Recipients still pending: the message goes on for them (deferred, same id). */
  deferredCopy?: { id: string; recipients: string[] };
  /** The upstream's 250 reply (sent). */
  reply?: string;
}

export interface SpoolOptions {
  /** File operations (tests pass one with a step hook to inject crashes and errors). */
  io?: SpoolIo;
  /** Backoff of state moves retried after an I/O error. Default 1 s doubling to 30 s. */
  retryDelays?: PendingMoveDelays;
}

/** Size of the file the writability probe writes: about one ordinary message. */
const PROBE_BYTES = 64 * 1024;

/**
 * The durable spool. A message the relay acknowledged is a file here until the upstream
 * accepted it or it moved to the dead letters. States are directories; moves are renames;
 * rewrites go tmp → fsync → rename → fsync(dir) before the old copy is removed. A move that
 * fails with an I/O error after the outcome is known is retried until it succeeds (PendingMoves).
 *
 * Events: 'accepted' (header), 'ready' (mailbox: it may have a message to send now),
 * 'claimed' (header: taken for sending), 'deferred' (header, attempt: waits for its next try,
 * also the rest of a message after some recipients were accepted), 'dead' (header: a file
 * entered dead/, whole message or the refused recipients' copy), 'requeued' (headers of dead
 * letters retried), 'purged' ({id, mailbox}[]), 'settled' (SettledEvent), 'warning' (an
 * unreadable file was set aside). I/O errors are reported by `health`. The fleet trail and the
 * dead-letter index are built from these events; each is emitted once its move is durable.
 */
export class Spool extends EventEmitter {
  private readonly entries = new SpoolEntries();
  private readonly queues = new ReadyQueues((mailbox) => this.emit('ready', mailbox));
  private readonly syncs = new Map<string, DirSync>();
  /** Ids whose files this process is moving right now (a rescan leaves them alone). */
  private readonly moving = new Set<string>();
  private readonly moves: PendingMoves;
  readonly deadLetters: DeadLetterStore;
  /** Whether messages can be made durable now (the relay, /readyz and metrics read it). */
  readonly health = new SpoolHealth();
  private closed = false;

  private constructor(
    readonly paths: SpoolPaths,
    private readonly lock: SpoolLock,
    private readonly io: SpoolIo,
    retryDelays: PendingMoveDelays,
  ) {
    super();
    this.deadLetters = new DeadLetterStore(paths.root, io);
    for (const state of [...SPOOL_STATES, 'tmp'] as const) this.syncs.set(state, new DirSync(paths.dir(state), io));
    this.moves = new PendingMoves(retryDelays, (error) => this.ioFailed(error, 'settle'));
  }

  /** Pid of a previous owner that died without a clean shutdown (its leases may linger). */
  get stalePid(): number | undefined {
    return this.lock.stalePid;
  }

  /** Opens (creating) a spool directory, takes its lock and recovers from any crash. */
  static async open(dir: string, options: SpoolOptions = {}): Promise<{ spool: Spool; recovered: RecoveryReport }> {
    const io = options.io ?? plainSpoolIo;
    const paths = new SpoolPaths(dir);
    await paths.create();
    const lock = await SpoolLock.acquire(dir);
    const spool = new Spool(paths, lock, io, options.retryDelays ?? { initialMs: 1_000, maxMs: 30_000 });
    try {
      const { messages, report } = await recoverSpool(paths, io);
      for (const { id, state, header } of messages) {
        spool.entries.record(id, state, header);
        if (state === 'queued') spool.queues.add(header.mailbox, id);
        if (state === 'deferred') spool.queues.add(header.mailbox, id, header.nextAttemptAt ?? 0);
      }
      return { spool, recovered: report };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  // ---- intake ----------------------------------------------------------------------------------

  /**
   * Stores a new message durably; resolves only once it survives a crash or power loss. Rejects
   * with SpoolWriteError when it cannot (disk full, I/O error): then nothing of it stays behind.
   */
  async accept(input: { mailbox: string; envelope: SpoolEnvelope; raw: Buffer; messageId: string; origin: 'relay' | 'api' }): Promise<SpoolHeader> {
    const id = newSpoolId();
    const now = Date.now();
    const subject = subjectOf(input.raw);
    const header: SpoolHeader = {
      id, rev: 0, mailbox: input.mailbox, envelope: input.envelope, messageId: input.messageId, size: input.raw.length,
      receivedAt: now, lifetimeStart: now, origin: input.origin, attempts: [], failures: 0,
      ...(subject !== undefined ? { subject } : {}),
    };
    // Until the entry exists, a rescan must not pick the new file up as someone else's.
    this.moving.add(id);
    try {
      await writeDurably(this.io, this.paths.tmp(id), this.paths.file('queued', id), encodeSpoolFile(header, input.raw));
      await this.sync('queued');
    } catch (error) {
      // Not durable, so not accepted: a copy left in queued/ would be sent although the client
      // was told to retry (a duplicate).
      await this.io.unlink(this.paths.file('queued', id)).catch(() => undefined);
      this.moving.delete(id);
      this.ioFailed(error, 'accept');
      throw new SpoolWriteError(ioErrorCode(error), isDiskFull(error), error);
    }
    this.moving.delete(id);
    this.health.succeeded();
    this.entries.record(id, 'queued', header);
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
      this.entries.moveTo(entry, 'sending');
      this.moving.add(id);
      try {
        await this.io.rename(this.paths.file(from, id), this.paths.file('sending', id));
        const data = await this.io.readFile(this.paths.file('sending', id));
        const message = decodeSpoolFile(this.paths.file('sending', id), data);
        this.emit('claimed', message.header);
        return message;
      } catch (error) {
        if (!isGoneOrCorrupt(error)) {
          // A passing I/O error (EMFILE, EIO) says nothing about the message: keep it where it was.
          this.ioFailed(error, 'claim');
          await this.io.rename(this.paths.file('sending', id), this.paths.file(from, id)).catch(() => undefined);
          this.entries.moveTo(entry, from);
          this.queues.add(mailbox, id, Date.now() + 1_000);
          throw error;
        }
        // The file vanished (purged by an operator) or is corrupt: set it aside, take the next.
        this.entries.forget(id);
        await quarantine(this.paths, 'sending', id, this.io);
        this.emit('warning', error);
      } finally {
        this.moving.delete(id);
      }
    }
  }

  /** The upstream accepted the message for every recipient (but `bounced`): it leaves the spool. */
  async delivered(message: SpoolMessage, bounced?: { recipients: string[]; attempt: Attempt }, reply?: string): Promise<void> {
    const { header } = message;
    const bounceId = bounced && bounced.recipients.length > 0 ? newSpoolId() : undefined;
    await this.settle(header.id, async () => {
      const copy = bounceId && bounced ? await this.writeSplit(bounceId, message, bounced.recipients, bounced.attempt) : undefined;
      // The unlink commits the outcome: before it, a crash retries the whole message.
      await this.drop('sending', header.id);
      if (copy) this.emit('dead', copy);
      this.emit('settled', { id: header.id, messageId: header.messageId, status: 'sent', header, bounced: bounced?.recipients, ...(reply !== undefined ? { reply } : {}) } satisfies SettledEvent);
    });
  }

  /**
   * Some recipients were accepted, others failed temporarily (and maybe others for good): the
   * message goes on, same id and Message-ID, for the pending ones only. The rewrite commits the
   * split in one rename, so a crash never makes the accepted recipients receive it again.
   */
  async partiallyDelivered(
    message: SpoolMessage,
    pending: { recipients: string[]; attempt: Attempt; nextAttemptAt: number },
    bounced?: { recipients: string[]; attempt: Attempt },
    reply?: string,
  ): Promise<void> {
    const { header: parent } = message;
    const bounceId = bounced && bounced.recipients.length > 0 ? newSpoolId() : undefined;
    const header: SpoolHeader = {
      ...parent,
      envelope: { ...parent.envelope, to: pending.recipients },
      rev: parent.rev + 1,
      attempts: [...parent.attempts, pending.attempt],
      failures: parent.failures + 1,
      nextAttemptAt: pending.nextAttemptAt,
    };
    await this.settle(parent.id, async () => {
      const copy = bounceId && bounced ? await this.writeSplit(bounceId, message, bounced.recipients, bounced.attempt) : undefined;
      await this.rewrite('sending', 'deferred', header, message.raw);
      this.queues.add(header.mailbox, header.id, pending.nextAttemptAt);
      if (copy) this.emit('dead', copy);
      this.emit('settled', {
        id: parent.id, messageId: parent.messageId, status: 'sent', header: parent, bounced: bounced?.recipients,
        deferredCopy: { id: parent.id, recipients: pending.recipients }, ...(reply !== undefined ? { reply } : {}),
      } satisfies SettledEvent);
      // After 'settled': the message's last word is that it waits for the pending recipients.
      this.emit('deferred', header, pending.attempt);
    });
  }

  /** Puts a message back unchanged (never attempted: shutdown, lease lost before DATA, a hold). */
  async putBack(message: SpoolMessage, notBefore = 0): Promise<void> {
    const { id, mailbox } = message.header;
    await this.settle(id, async () => {
      await this.io.rename(this.paths.file('sending', id), this.paths.file('queued', id)).catch(async (error: NodeJS.ErrnoException) => {
        // A retried rename may have happened already.
        if (error.code !== 'ENOENT' || !(await this.io.exists(this.paths.file('queued', id)))) throw error;
      });
      this.entries.record(id, 'queued', message.header);
      if (notBefore > Date.now()) this.queues.add(mailbox, id, notBefore);
      else this.queues.addFirst(mailbox, id);
    });
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
    await this.settle(header.id, async () => {
      await this.rewrite('sending', 'deferred', header, message.raw);
      this.queues.add(header.mailbox, header.id, nextAttemptAt);
      this.emit('deferred', header, attempt);
    });
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
    await this.settle(header.id, async () => {
      await this.rewrite('sending', 'dead', header, message.raw);
      this.emit('dead', header);
      this.emit('settled', { id: header.id, messageId: header.messageId, status: 'dead', header } satisfies SettledEvent);
    });
    return header;
  }

  /**
   * Records recipients refused for good as a dead letter of their own (the message goes on for
   * the rest). The copy counts only once the message's next rewrite (defer or bury) commits.
   */
  async bounceRecipients(message: SpoolMessage, recipients: string[], attempt: Attempt): Promise<void> {
    const id = newSpoolId();
    await this.settle(message.header.id, async () => {
      this.emit('dead', await this.writeSplit(id, message, recipients, attempt));
    });
  }

  // ---- dead letters ----------------------------------------------------------------------------

  listDead(): Promise<DeadLetter[]> {
    return this.deadLetters.list();
  }

  /** Requeues dead letters (all when `ids` is omitted) with a fresh retry budget. */
  async retryDead(ids?: string[]): Promise<string[]> {
    const moved = await this.deadLetters.retry(ids);
    for (const header of moved) {
      this.entries.record(header.id, 'queued', header);
      this.queues.add(header.mailbox, header.id);
    }
    if (moved.length > 0) this.emit('requeued', moved);
    return moved.map((h) => h.id);
  }

  async purgeDead(ids?: string[]): Promise<string[]> {
    const removed = await this.deadLetters.purge(ids);
    const gone = removed.map((id) => ({ id, mailbox: this.entries.get(id)?.mailbox ?? '' }));
    for (const id of removed) this.entries.forget(id);
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

  /** Messages whose state move waits for a retry after an I/O error. */
  pendingMoves(): number {
    return this.moves.size;
  }

  /**
   * While the spool is unwritable: tries a probe write of about one message, and when it
   * succeeds marks the spool writable and retries the pending moves at once. Cheap otherwise.
   */
  async checkWritable(): Promise<boolean> {
    if (this.health.writable && this.moves.size === 0) return true;
    const probe = this.paths.tmp('probe');
    try {
      await this.io.writeNew(probe, Buffer.alloc(PROBE_BYTES));
      await this.io.unlink(probe);
    } catch (error) {
      this.ioFailed(error, 'probe');
      return false;
    }
    this.health.succeeded();
    this.moves.retryNow();
    return true;
  }

  /** Rescans when another process (the CLI) asked for it; a cheap check otherwise. */
  async rescanIfRequested(): Promise<boolean> {
    try {
      await this.io.unlink(join(this.paths.root, RESCAN_MARKER));
    } catch {
      return false;
    }
    await this.rescan();
    return true;
  }

  /**
   * Picks up changes made by other processes (the CLI requeued or purged dead letters, an
   * operator dropped a file into queued/); see rescanSpool.
   */
  rescan(): Promise<void> {
    return rescanSpool({
      paths: this.paths, io: this.io, entries: this.entries, queues: this.queues,
      busy: (id) => this.moving.has(id) || this.moves.has(id),
    });
  }

  /** Stops handing out messages and releases the spool lock. Files stay as they are. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queues.close();
    this.moves.close();
    await this.lock.release();
  }

  // ---- internals -------------------------------------------------------------------------------

  private sync(state: SpoolState | 'tmp'): Promise<void> {
    return this.syncs.get(state)!.sync();
  }

  /** Counted and logged through `health` (a full disk fails every write: one line per episode). */
  private ioFailed(error: unknown, operation: string): void {
    this.health.failed(error, operation);
  }

  /** A state move of a message in sending/, retried after an I/O error until it succeeds. */
  private async settle(id: string, move: () => Promise<void>): Promise<void> {
    await this.moves.run(id, async () => {
      this.moving.add(id);
      try {
        await move();
      } finally {
        this.moving.delete(id);
      }
      this.health.succeeded();
    });
  }

  /**
   * Durable replace: the new copy is safe on disk before the old one goes. The entry changes
   * only when both steps are done, so a half-done move is never claimed (it stays "sending").
   */
  private async rewrite(from: SpoolState, to: SpoolState, header: SpoolHeader, raw: Buffer): Promise<void> {
    await writeDurably(this.io, this.paths.tmp(header.id), this.paths.file(to, header.id), encodeSpoolFile(header, raw));
    await this.sync(to);
    await this.unlinkIfThere(this.paths.file(from, header.id));
    await this.sync(from);
    this.entries.record(header.id, to, header);
  }

  /**
   * Writes a dead-letter copy of a message for some of its recipients. It is valid only once the
   * parent reaches the next rev (or leaves the spool): see SpoolHeader.splitRev.
   */
  private async writeSplit(id: string, message: SpoolMessage, recipients: string[], attempt: Attempt): Promise<SpoolHeader> {
    const { header: parent } = message;
    const header: SpoolHeader = {
      ...parent, id, rev: 0, splitFrom: parent.id, splitRev: parent.rev + 1, envelope: { ...parent.envelope, to: recipients },
      attempts: [...parent.attempts, attempt], deadReason: `recipients refused: ${attempt.response}`,
    };
    delete header.nextAttemptAt;
    await writeDurably(this.io, this.paths.tmp(id), this.paths.file('dead', id), encodeSpoolFile(header, message.raw));
    await this.sync('dead');
    this.entries.record(id, 'dead', header);
    return header;
  }

  private async drop(state: SpoolState, id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.state !== state) throw new SpoolMessageNotFoundError(id, state);
    await this.unlinkIfThere(this.paths.file(state, id));
    await this.sync(state);
    this.entries.forget(id);
  }

  /** A retried move may find its old copy already gone. */
  private async unlinkIfThere(path: string): Promise<void> {
    await this.io.unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

function isGoneOrCorrupt(error: unknown): boolean {
  return error instanceof SpoolCorruptError || (error as NodeJS.ErrnoException).code === 'ENOENT';
}
