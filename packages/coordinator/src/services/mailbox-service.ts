import type { MailboxAdmin, MailboxConfig } from '@smtp-slots/core';
import { LeaseNotFoundError, MailboxNotFoundError } from '../errors.js';
import { toDetail, toSummary, type MailboxDetail, type MailboxSummary } from './mailbox-view.js';

/** Narrows a page of mailboxes to those in one state. */
export type MailboxState = 'paused' | 'busy' | 'waiting' | 'idle';

export interface ListQuery {
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor?: string | undefined;
  limit: number;
  /** Case-insensitive substring of the address. */
  q?: string | undefined;
  state?: MailboxState | undefined;
}

export interface MailboxPage {
  items: MailboxSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** Mailboxes registered in total (before `q`/`state` filtering). */
  total: number;
}

/** Bounds the Redis work of one searched page: at most this many SSCAN calls... */
const MAX_SCANS_PER_PAGE = 50;
/** ...each looking at about this many names. */
const SEARCH_SCAN_COUNT = 1000;

export type ConfigPatch = Partial<Pick<MailboxConfig, 'limit' | 'ratePerMinute' | 'recipientsPerDay'>>;

/** Reads and changes mailbox state through core's MailboxAdmin; the HTTP layer stays thin. */
export class MailboxService {
  constructor(private readonly admin: MailboxAdmin) {}

  /** One page of mailboxes; the page's snapshots are one bulk read (MailboxAdmin.snapshots). */
  async list(query: ListQuery): Promise<MailboxPage> {
    const page = await this.scan(query);
    const snapshots = await this.admin.snapshots(page.mailboxes);
    const items = snapshots
      .filter((snapshot) => snapshot !== null)
      .map(toSummary)
      .filter((item) => query.state === undefined || stateOf(item) === query.state)
      .sort((a, b) => a.address.localeCompare(b.address));
    return { items, nextCursor: page.nextCursor, total: page.total };
  }

  /**
   * Names for one page. With a search, SSCAN's MATCH filters after counting, so one call over a
   * large registry often finds nothing: keep scanning (bounded) until the page has `limit` names.
   */
  private async scan(query: ListQuery): Promise<{ mailboxes: string[]; nextCursor: string | null; total: number }> {
    const mailboxes: string[] = [];
    let cursor = query.cursor;
    let total = 0;
    for (let call = 0; call < MAX_SCANS_PER_PAGE; call++) {
      const page = await this.admin.listMailboxes({
        // MATCH is cheap inside Redis: look at many names per call when searching.
        count: query.q ? Math.max(query.limit, SEARCH_SCAN_COUNT) : query.limit,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(query.q ? { match: caseInsensitiveGlob(query.q) } : {}),
      });
      mailboxes.push(...page.mailboxes);
      total = page.total;
      if (page.nextCursor === null) return { mailboxes, nextCursor: null, total };
      cursor = page.nextCursor;
      if (mailboxes.length >= query.limit || !query.q) break;
    }
    return { mailboxes, nextCursor: cursor ?? null, total };
  }

  async get(address: string): Promise<MailboxDetail> {
    const snapshot = await this.admin.snapshot(address);
    if (snapshot === null) throw new MailboxNotFoundError(address);
    return toDetail(snapshot);
  }

  async setConfig(address: string, patch: ConfigPatch): Promise<MailboxDetail> {
    await this.assertExists(address);
    await this.admin.setConfig(address, patch);
    return this.get(address);
  }

  async pause(address: string, reason: string): Promise<MailboxDetail> {
    await this.assertExists(address);
    await this.admin.pause(address, reason);
    return this.get(address);
  }

  async resume(address: string): Promise<MailboxDetail> {
    await this.assertExists(address);
    await this.admin.resume(address);
    return this.get(address);
  }

  /** Frees a slot now; the holder's lease signal aborts on its next renewal. */
  async forceRelease(address: string, slot: number): Promise<void> {
    await this.assertExists(address);
    if (!(await this.admin.forceRelease(address, slot))) throw new LeaseNotFoundError(address, slot);
  }

  private async assertExists(address: string): Promise<void> {
    if ((await this.admin.getConfig(address)) === null) throw new MailboxNotFoundError(address);
  }
}

export function stateOf(item: Pick<MailboxSummary, 'paused' | 'waiting' | 'inUse'>): MailboxState {
  if (item.paused) return 'paused';
  if (item.waiting > 0) return 'waiting';
  return item.inUse > 0 ? 'busy' : 'idle';
}

/** `Ab*` → `*[aA][bB]\**`: a Redis MATCH pattern for a case-insensitive substring. */
export function caseInsensitiveGlob(text: string): string {
  let pattern = '*';
  for (const char of text) {
    const lower = char.toLowerCase();
    const upper = char.toUpperCase();
    if (lower !== upper) pattern += `[${lower}${upper}]`;
    else pattern += /[*?[\]\\^-]/.test(char) ? `\\${char}` : char;
  }
  return `${pattern}*`;
}
