import { SpoolCorruptError } from '../errors.js';
import type { Disposition } from '../sender/reply-classifier.js';
import { plainSpoolIo, type SpoolIo } from './spool-io.js';

/** Where a message is in its life; each state is a directory, moves are renames. */
export type SpoolState = 'queued' | 'sending' | 'deferred' | 'dead';
export const SPOOL_STATES: readonly SpoolState[] = ['queued', 'sending', 'deferred', 'dead'];

/** How an attempt ended: the reply classification, or `recipient` for refusals of some recipients at RCPT TO. */
export type AttemptKind = Disposition | 'recipient';

/** What happened on one delivery attempt, with the upstream's full reply text. */
export interface Attempt {
  /** ISO time of the attempt (local clock; for people, not for arithmetic across machines). */
  at: string;
  /** Outcome class from the reply classification table. */
  kind: AttemptKind;
  /** SMTP reply code, when there was a reply. */
  code?: number;
  /** Full reply text, or the connection error's message. */
  response: string;
  /** Recipients this attempt concerned, when only some were affected. */
  recipients?: string[];
}

export interface SpoolEnvelope {
  from: string;
  to: string[];
}

/** Everything the spool knows about a message besides its bytes. */
export interface SpoolHeader {
  id: string;
  /** Bumped on every rewrite; after a crash between writing a new copy and removing the old, the higher wins. */
  rev: number;
  /** Configured mailbox address (lower case) that sends it. */
  mailbox: string;
  envelope: SpoolEnvelope;
  messageId: string;
  /** Raw message size in bytes. */
  size: number;
  /** The Subject header as written (unfolded, not decoded), for the fleet trail and dead-letter lists. */
  subject?: string;
  /** Local epoch ms when the relay or API accepted it. */
  receivedAt: number;
  /** Retry lifetime starts here (receivedAt, or the last manual retry of a dead letter). */
  lifetimeStart: number;
  origin: 'relay' | 'api';
  attempts: Attempt[];
  /** Attempts that spent retry budget (432s and lease losses do not). */
  failures: number;
  /** Local epoch ms before which a deferred message is not retried. */
  nextAttemptAt?: number;
  /** A previous attempt may have delivered it (connection lost after the final dot). */
  possibleDuplicate?: boolean;
  /** Why it is dead, in one line. */
  deadReason?: string;
  /** Set on the copies made when recipients of one message had different outcomes. */
  splitFrom?: string;
  /**
   * The rev the parent (`splitFrom`) reaches when the split commits. A parent still on disk
   * with an older rev means the process died before the split committed: the copy is dropped
   * and the parent is retried whole (as a possible duplicate), so no recipient is owed twice.
   */
  splitRev?: number;
}

// One line of magic + header length, the JSON header, a newline, then the raw message.
const MAGIC = 'SMTPSLOTS-SPOOL 1';

export function encodeSpoolFile(header: SpoolHeader, raw: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  return Buffer.concat([Buffer.from(`${MAGIC} ${json.length}\n`), json, Buffer.from('\n'), raw]);
}

export function decodeSpoolFile(file: string, data: Buffer): { header: SpoolHeader; raw: Buffer } {
  const newline = data.indexOf(10);
  const first = newline > 0 ? data.subarray(0, newline).toString('latin1') : '';
  const match = /^SMTPSLOTS-SPOOL 1 (\d+)$/.exec(first);
  if (!match) throw new SpoolCorruptError(file, 'unknown format');
  const length = Number(match[1]);
  const start = newline + 1;
  if (data.length < start + length + 1) throw new SpoolCorruptError(file, 'truncated');
  let header: SpoolHeader;
  try {
    header = JSON.parse(data.subarray(start, start + length).toString('utf8')) as SpoolHeader;
  } catch {
    throw new SpoolCorruptError(file, 'header is not JSON');
  }
  return { header, raw: data.subarray(start + length + 1) };
}

/** Reads only the header of a spool file (start-up scans do not need the bodies). */
export async function readSpoolHeader(file: string, io: SpoolIo = plainSpoolIo): Promise<SpoolHeader> {
  const handle = await io.openRead(file);
  try {
    const probe = Buffer.alloc(64);
    const { bytesRead } = await handle.read(probe, 0, 64, 0);
    const newline = probe.subarray(0, bytesRead).indexOf(10);
    const match = newline > 0 ? /^SMTPSLOTS-SPOOL 1 (\d+)$/.exec(probe.subarray(0, newline).toString('latin1')) : null;
    if (!match) throw new SpoolCorruptError(file, 'unknown format');
    const length = Number(match[1]);
    const buffer = Buffer.alloc(length);
    const read = await handle.read(buffer, 0, length, newline + 1);
    if (read.bytesRead < length) throw new SpoolCorruptError(file, 'truncated');
    return JSON.parse(buffer.toString('utf8')) as SpoolHeader;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `tmpPath`, fsyncs it and renames it to `finalPath`. The caller fsyncs the
 * target directory (batched, see DirSync) before telling anyone the file is safe.
 */
export async function writeDurably(io: SpoolIo, tmpPath: string, finalPath: string, data: Buffer): Promise<void> {
  await io.writeNew(tmpPath, data);
  try {
    await io.rename(tmpPath, finalPath);
  } catch (error) {
    await io.unlink(tmpPath).catch(() => undefined);
    throw error;
  }
}
