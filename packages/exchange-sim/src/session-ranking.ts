/**
 * One user's concurrent sessions, in the order Exchange ranks them: by the time they
 * authenticated. A session whose rank is beyond the limit gets 432 at the end of DATA.
 *
 * Three kinds of entries take a place in the ranking:
 * - `session`: an authenticated SMTP session on this server;
 * - `external`: a session "held from outside" (Outlook, a phone) created through the admin API;
 * - `ghost`: a session that dropped without QUIT and still counts for the ghost period.
 */
export type EntryKind = 'session' | 'external' | 'ghost';

interface Entry {
  id: string;
  kind: EntryKind;
  order: number;
  expiresAt: number;
}

export interface RankingCounts {
  sessions: number;
  external: number;
  ghosts: number;
  /** All three: what the limit is applied to. */
  counted: number;
}

export class SessionRanking {
  #entries: Entry[] = [];
  #order = 0;
  #frontOrder = -1e12;
  #externalSeq = 0;
  readonly #now: () => number;
  /** Most authenticated sessions of this server open at once. */
  peakSessions = 0;
  /** Most ranked entries (sessions + external + ghosts) at once. */
  peakCounted = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  addSession(sessionId: string): void {
    this.#insert({ id: sessionId, kind: 'session', order: ++this.#order, expiresAt: Infinity });
  }

  /** Adds `count` sessions held from outside; `front` ranks them ahead of every open session. */
  occupy(count: number, front: boolean): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `ext-${++this.#externalSeq}`;
      const order = front ? ++this.#frontOrder : ++this.#order;
      this.#insert({ id, kind: 'external', order, expiresAt: Infinity });
      ids.push(id);
    }
    return ids;
  }

  /** Releases the given external sessions (all of them when `ids` is omitted); returns how many. */
  release(ids?: readonly string[]): number {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.kind !== 'external' || (ids !== undefined && !ids.includes(e.id)));
    return before - this.#entries.length;
  }

  /**
   * Ends a session. A clean end (QUIT, or the server closed it) frees its place at once; a drop
   * with `ghostMs` > 0 leaves a ghost in the same place until the period is over.
   */
  endSession(sessionId: string, ghostMs: number): void {
    const entry = this.#entries.find((e) => e.id === sessionId && e.kind === 'session');
    if (!entry) return;
    if (ghostMs > 0) {
      entry.kind = 'ghost';
      entry.expiresAt = this.#now() + ghostMs;
    } else {
      this.#entries.splice(this.#entries.indexOf(entry), 1);
    }
  }

  /** 1-based rank of an open session among everything counted now, or undefined if it is not open. */
  rankOf(sessionId: string): number | undefined {
    this.#prune();
    const index = this.#entries.findIndex((e) => e.id === sessionId && e.kind === 'session');
    return index < 0 ? undefined : index + 1;
  }

  counts(): RankingCounts {
    this.#prune();
    const counts: RankingCounts = { sessions: 0, external: 0, ghosts: 0, counted: this.#entries.length };
    for (const e of this.#entries) {
      if (e.kind === 'session') counts.sessions++;
      else if (e.kind === 'external') counts.external++;
      else counts.ghosts++;
    }
    return counts;
  }

  /** External session ids, in rank order. */
  externalIds(): string[] {
    return this.#entries.filter((e) => e.kind === 'external').map((e) => e.id);
  }

  /** Peaks restart from what is open now. */
  resetPeaks(): void {
    const counts = this.counts();
    this.peakSessions = counts.sessions;
    this.peakCounted = counts.counted;
  }

  #insert(entry: Entry): void {
    this.#prune();
    this.#entries.push(entry);
    this.#entries.sort((a, b) => a.order - b.order);
    const counts = this.counts();
    this.peakSessions = Math.max(this.peakSessions, counts.sessions);
    this.peakCounted = Math.max(this.peakCounted, counts.counted);
  }

  #prune(): void {
    const now = this.#now();
    if (this.#entries.some((e) => e.expiresAt <= now)) {
      this.#entries = this.#entries.filter((e) => e.expiresAt > now);
    }
  }
}
