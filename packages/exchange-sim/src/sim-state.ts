import type { ResolvedApp } from './entra/app-directory.js';
import { IssuedTokens } from './entra/issued-tokens.js';
import { ExchangeSimError, checkInteger } from './errors.js';
import { FaultState, parseFaultPatch, type Faults } from './faults.js';
import { MailboxState, type UserStats } from './mailbox-state.js';
import type { AcceptedMessage } from './message-log.js';
import type { ResolvedOptions } from './options.js';
import { UserDirectory } from './user-directory.js';

/** Raw TCP connections to the SMTP port (authenticated or not). */
export interface ConnectionStats {
  open: number;
  peak: number;
  total: number;
}

const SUMMED = [
  'accepted',
  'duplicates',
  'withoutMessageId',
  'delayed',
  'pendingRelease',
  'rejected432',
  'rejectedQuota',
  'rejectedMailboxFull',
  'rejectedContent',
  'rejectedRecipients',
  'transient451',
  'disconnected421',
  'droppedAfterAccept',
  'rejectedSender',
  'authFailures',
] as const;

/**
 * Sums over all users (every SUMMED counter; `authFailures` also counts AUTHs for unknown user
 * names), plus events that belong to no user.
 */
export interface SimTotals extends Record<(typeof SUMMED)[number], number> {
  uniqueMessageIds: number;
  /** `530 5.7.57` replies to MAIL/RCPT/DATA before AUTH. */
  notAuthenticated: number;
  /** The highest `peakConcurrency` of any user. */
  peakConcurrency: number;
  /** Graph sendMail requests, accepted ones, 429 MailboxConcurrency replies, and the highest `graph.peakInFlight` of any user. */
  graphRequests: number;
  graphAccepted: number;
  graphThrottledConcurrency: number;
  graphPeakInFlight: number;
  /** Token endpoint: requests, tokens issued, clients refused (bad secret or assertion, unknown app). */
  tokenRequests: number;
  tokensIssued: number;
  tokensRefused: number;
}

/** Graph sendMail requests of one app (client id) across all its mailboxes. */
export interface AppStats {
  /** Admitted requests in flight now. */
  inFlight: number;
  /** Most admitted requests in flight at once, over every mailbox of the app. */
  peakInFlight: number;
}

export interface SimStats {
  hostname: string;
  startedAt: string;
  connections: ConnectionStats;
  totals: SimTotals;
  users: Record<string, UserStats>;
  /** By client id: Graph requests in flight across mailboxes (Graph's per-app limits span mailboxes). */
  apps: Record<string, AppStats>;
}

export interface StatsOptions {
  /** Include every user's list of Message-IDs. Default true. */
  messageIds?: boolean;
}


/** The simulator's shared state: users, faults, counters. Both the SMTP side and the admin API use it. */
export class SimState {
  readonly directory: UserDirectory;
  /** Access tokens handed out by the token endpoint. */
  readonly tokens: IssuedTokens;
  readonly #token = { requests: 0, issued: 0, refused: 0 };
  readonly faults: FaultState;
  readonly connections: ConnectionStats = { open: 0, peak: 0, total: 0 };
  readonly startedAt = new Date();
  #mailboxes = new Map<string, MailboxState>();
  #apps = new Map<string, AppStats>();
  #unknownAuthFailures = 0;
  #notAuthenticated = 0;
  #listeners = new Set<(message: AcceptedMessage) => void>();

  constructor(readonly options: ResolvedOptions) {
    this.faults = new FaultState(options.faults, options.random);
    this.tokens = new IssuedTokens(options.now);
    this.directory = new UserDirectory(options, this.faults, this.tokens);
    for (const user of this.directory.listed()) this.mailbox(user.address);
  }

  /** The state of a known user (listed, or any user in permissive mode). */
  mailbox(address: string): MailboxState | undefined {
    const user = this.directory.find(address);
    if (!user) return undefined;
    let state = this.#mailboxes.get(user.address);
    if (!state) {
      state = new MailboxState(user, this.options.now);
      this.#mailboxes.set(user.address, state);
    }
    return state;
  }

  countAuthFailure(username: string): void {
    const known = this.#mailboxes.get(username.trim().toLowerCase());
    if (known) known.count('authFailures');
    else this.#unknownAuthFailures++;
  }

  /** App registrations by client id. */
  get apps(): ReadonlyMap<string, ResolvedApp> {
    return this.options.apps;
  }

  countTokenRequest(): void {
    this.#token.requests++;
  }

  countTokenIssued(): void {
    this.#token.issued++;
  }

  countTokenRefused(): void {
    this.#token.refused++;
  }

  countNotAuthenticated(): void {
    this.#notAuthenticated++;
  }

  tcpOpened(): void {
    this.connections.open++;
    this.connections.total++;
    this.connections.peak = Math.max(this.connections.peak, this.connections.open);
  }

  tcpClosed(): void {
    this.connections.open--;
  }

  stats(options: StatsOptions = {}): SimStats {
    const users: Record<string, UserStats> = {};
    for (const [address, state] of this.#mailboxes) users[address] = state.snapshot(options.messageIds ?? true);
    const totals: SimTotals = {
      ...(Object.fromEntries(SUMMED.map((key) => [key, 0])) as Record<(typeof SUMMED)[number], number>),
      uniqueMessageIds: 0,
      notAuthenticated: this.#notAuthenticated,
      peakConcurrency: 0,
      graphRequests: 0,
      graphAccepted: 0,
      graphThrottledConcurrency: 0,
      graphPeakInFlight: 0,
      tokenRequests: this.#token.requests,
      tokensIssued: this.#token.issued,
      tokensRefused: this.#token.refused,
    };
    totals.authFailures = this.#unknownAuthFailures;
    for (const user of Object.values(users)) {
      for (const key of SUMMED) totals[key] += user[key];
      totals.uniqueMessageIds += user.accepted - user.withoutMessageId - user.duplicates;
      totals.peakConcurrency = Math.max(totals.peakConcurrency, user.peakConcurrency);
      totals.graphRequests += user.graph.requests;
      totals.graphAccepted += user.graph.accepted;
      totals.graphThrottledConcurrency += user.graph.throttledConcurrency;
      totals.graphPeakInFlight = Math.max(totals.graphPeakInFlight, user.graph.peakInFlight);
    }
    return {
      hostname: this.options.hostname,
      startedAt: this.startedAt.toISOString(),
      connections: { ...this.connections },
      totals,
      users,
      apps: Object.fromEntries([...this.#apps].map(([id, app]) => [id, { ...app }])),
    };
  }

  /** A Graph request of app `clientId` was admitted; `leave` runs when it is answered. */
  appRequestStarted(clientId: string): { leave: () => void } {
    let app = this.#apps.get(clientId);
    if (!app) this.#apps.set(clientId, (app = { inFlight: 0, peakInFlight: 0 }));
    app.inFlight++;
    app.peakInFlight = Math.max(app.peakInFlight, app.inFlight);
    const current = app;
    return { leave: () => void current.inFlight-- };
  }

  userStats(address: string, options: StatsOptions = {}): UserStats | undefined {
    return this.#mailboxes.get(address.trim().toLowerCase())?.snapshot(options.messageIds ?? true);
  }

  /** Zeroes counters, message logs, rate and quota windows; keeps sessions, occupied slots and faults. */
  reset(): void {
    for (const state of this.#mailboxes.values()) state.reset();
    for (const app of this.#apps.values()) app.peakInFlight = app.inFlight;
    this.#unknownAuthFailures = 0;
    this.#notAuthenticated = 0;
    Object.assign(this.#token, { requests: 0, issued: 0, refused: 0 });
    this.connections.peak = this.connections.open;
    this.connections.total = 0;
  }

  /** Validates and applies a fault change, globally or for one user. */
  setFaults(patch: unknown, user?: string, code: 'INVALID_OPTION' | 'INVALID_REQUEST' = 'INVALID_OPTION'): Faults {
    const parsed = parseFaultPatch(patch, code);
    return this.faults.set(parsed, user === undefined ? undefined : this.#requireUser(user, code).user.address);
  }

  /** Holds `count` sessions of `user` from outside; they rank like sessions and count toward the limit. */
  occupy(user: string, count: number, front = false, code: 'INVALID_OPTION' | 'INVALID_REQUEST' = 'INVALID_OPTION') {
    checkInteger('count', count, 1, 1000, code);
    const state = this.#requireUser(user, code);
    const ids = state.ranking.occupy(count, front);
    return { user: state.user.address, ids, countedSessions: state.ranking.counts().counted };
  }

  /** Ends sessions held from outside (all of the user's when `ids` is omitted). */
  release(user: string, ids?: string[], code: 'INVALID_OPTION' | 'INVALID_REQUEST' = 'INVALID_OPTION') {
    const state = this.#requireUser(user, code);
    const released = state.ranking.release(ids);
    return { user: state.user.address, released, countedSessions: state.ranking.counts().counted };
  }

  onMessage(listener: (message: AcceptedMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands an accepted message to the listeners; a throwing listener cannot disturb the SMTP session. */
  emitMessage(message: AcceptedMessage): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch {
        // A listener's bug is the listener's business.
      }
    }
  }

  #requireUser(user: string, code: 'INVALID_OPTION' | 'INVALID_REQUEST'): MailboxState {
    const state = this.mailbox(user);
    if (!state) throw new ExchangeSimError(code, `unknown user ${JSON.stringify(user)}`);
    return state;
  }
}
