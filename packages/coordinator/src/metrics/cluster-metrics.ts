import { Counter, Gauge, type Registry } from 'prom-client';
import { settlesWithin } from '@smtp-slots/core';
import type { ClusterState, ClusterStateReader, MailboxFigures } from './cluster-state.js';
import { SeriesSelector } from './series-selector.js';

/** Label value of the series that sums every mailbox without a series of its own. */
export const OTHER_MAILBOXES = '_other';

type CodedCounter = 'deferred' | 'failed' | 'rejections';

/** Per label value (a mailbox or `_other`): the figures summed over its mailboxes. */
interface SeriesFigures {
  limit: number;
  effectiveLimit: number;
  inUse: number;
  waiting: number;
  paused: number;
  rateTokensAvailable: number;
  ratePerMinute: number;
  recipients24h: number;
  recipientsLimit: number;
  grants: number;
  sent: number;
  expired: number;
  lost: number;
  deadLetters: number;
  coded: Record<CodedCounter, Map<string, number>>;
}

interface ClusterView {
  series: Map<string, SeriesFigures>;
  mailboxCount: number;
  agents: ClusterState['agents'];
}

export interface ClusterMetricsOptions {
  maxMailboxes: number;
  /** Above this many mailboxes a scrape shows the state read after the previous one. */
  cacheAboveMailboxes: number;
  /** ...unless that state is older than this. */
  cacheMaxAgeMs: number;
  /** Called with the error when Redis could not be read for a scrape. */
  onReadError: (error: unknown) => void;
  /** Whether the Redis connection is up (ioredis `ready`); when not, a cached scrape shows redis_up 0 at once. */
  redisReady: () => boolean;
}

interface Scrape {
  /** null when Redis could not be read: the cluster metrics are then left out. */
  view: ClusterView | null;
  seconds: number;
  /** How long ago the view was read (0: for this scrape). */
  ageSeconds: number;
}

/**
 * Bound on one read of the cluster state: well above a read of 50,000 mailboxes (~2 s), below
 * Prometheus's default 10 s scrape timeout, so a scrape that waits still answers redis_up 0.
 */
export const READ_TIMEOUT_MS = 8_000;
/**
 * A pending read counts as hung once it has run this many times as long as the last good one
 * (and at least the floor): a second scraper (a Prometheus pair) arriving mid-read still gets the
 * cached state.
 */
const HUNG_FACTOR = 4;
export const HUNG_FLOOR_MS = 1_000;

/** Said in the help of every family that may show a cached state. */
const CACHE_NOTE = ' Above metrics.cacheAboveMailboxes mailboxes: as read after the previous scrape (see smtp_slots_coordinator_state_age_seconds).';

/**
 * Registers the cluster-wide metrics. Every value is read from Redis when Prometheus scrapes
 * (collect()), so several coordinators report alike. Past `cacheAboveMailboxes`, where one read
 * takes a good part of a second, a scrape shows the read started by the previous scrape instead
 * of waiting for its own (stale by one scrape interval, said in the state age gauge). Such a
 * scrape never waits on Redis: while that read is unanswered for long, or it failed, or the
 * connection is down, it shows redis_up 0 and leaves the cluster metrics out.
 */
export function registerClusterMetrics(registry: Registry, reader: ClusterStateReader, options: ClusterMetricsOptions): void {
  const selector = new SeriesSelector(options.maxMailboxes);
  /** What the latest settled read found (view null: it failed or timed out). */
  let last: { scrape: Scrape; at: number } | undefined;
  /** Mailbox count of the latest read that succeeded: whether scrapes are served from the cache. */
  let knownMailboxes = 0;
  let readStarted = 0;
  let lastReadMs = 0;

  const load = async (): Promise<Scrape> => {
    const started = performance.now();
    readStarted = started;
    let scrape: Scrape;
    try {
      // ioredis has no command timeout: a hung Redis (TCP open, no replies) would never settle.
      const reading = reader.read();
      if (!(await settlesWithin(reading, READ_TIMEOUT_MS))) throw new Error(`Redis did not answer within ${READ_TIMEOUT_MS} ms`);
      const state = await reading;
      scrape = { view: buildView(state, selector), seconds: (performance.now() - started) / 1000, ageSeconds: 0 };
      knownMailboxes = state.mailboxes.length;
      lastReadMs = performance.now() - started;
    } catch (error) {
      options.onReadError(error);
      scrape = { view: null, seconds: (performance.now() - started) / 1000, ageSeconds: 0 };
    }
    // The age counts from the start of the read: no part of the state is older than that.
    last = { scrape, at: started };
    return scrape;
  };
  /** One read at a time: a scrape during a read (its own or a background one) shares it. */
  const read = sharedWhileInFlight(load);
  const serve = async (): Promise<Scrape> => {
    if (knownMailboxes <= options.cacheAboveMailboxes) return read();
    const now = performance.now();
    const pendingMs = read.inFlight() ? now - readStarted : 0;
    // A read an earlier scrape started, unanswered far longer than reads take: Redis is hung or not keeping up.
    if (pendingMs > Math.max(HUNG_FLOOR_MS, HUNG_FACTOR * lastReadMs) || !options.redisReady()) {
      void read();
      return { view: null, seconds: pendingMs / 1000, ageSeconds: 0 };
    }
    const outcome = last;
    const age = outcome ? now - outcome.at : Infinity;
    if (!outcome || age > options.cacheMaxAgeMs) return read();
    void read();
    // A failed read shows as such (redis_up 0) until a later read succeeds.
    return outcome.scrape.view ? { ...outcome.scrape, ageSeconds: age / 1000 } : outcome.scrape;
  };
  /**
   * prom-client starts every collect() of a scrape before any of them settles, so they all share
   * one answer; the next scrape asks afresh.
   */
  const scrape = sharedWhileInFlight(serve);
  const view = async (): Promise<ClusterView | null> => (await scrape()).view;

  const mailboxGauge = (name: string, help: string, pick: (f: SeriesFigures) => number) =>
    new Gauge({
      name,
      help: help + CACHE_NOTE,
      labelNames: ['mailbox'] as const,
      registers: [registry],
      async collect() {
        const current = await view();
        this.reset();
        for (const [mailbox, figures] of current?.series ?? []) this.set({ mailbox }, pick(figures));
      },
    });

  const mailboxCounter = (name: string, help: string, pick: (f: SeriesFigures) => number) =>
    new Counter({
      name,
      help: help + CACHE_NOTE,
      labelNames: ['mailbox'] as const,
      registers: [registry],
      async collect() {
        const current = await view();
        this.reset();
        for (const [mailbox, figures] of current?.series ?? []) this.inc({ mailbox }, pick(figures));
      },
    });

  const codedCounter = (name: string, help: string, kind: CodedCounter, knownCodes: string[]) =>
    new Counter({
      name,
      help: help + CACHE_NOTE,
      labelNames: ['mailbox', 'code'] as const,
      registers: [registry],
      async collect() {
        const current = await view();
        this.reset();
        for (const [mailbox, figures] of current?.series ?? []) {
          for (const code of knownCodes) this.inc({ mailbox, code }, 0);
          for (const [code, value] of figures.coded[kind]) this.inc({ mailbox, code }, value);
        }
      },
    });

  mailboxGauge('smtp_slots_slots_limit', 'Configured concurrent connection limit per mailbox.', (f) => f.limit);
  mailboxGauge('smtp_slots_slots_effective_limit', 'Limit applied now (lowered by 432 feedback during a cool-down).', (f) => f.effectiveLimit);
  mailboxGauge('smtp_slots_slots_in_use', 'Slots held by live leases.', (f) => f.inUse);
  mailboxGauge('smtp_slots_slots_waiters', 'Workers queued for a slot.', (f) => f.waiting);
  mailboxGauge('smtp_slots_mailbox_paused', '1 when the mailbox is paused (for _other: number of paused mailboxes).', (f) => f.paused);
  mailboxGauge('smtp_slots_rate_tokens_available', 'Messages that may start now under the per-minute rate limit.', (f) => f.rateTokensAvailable);
  mailboxGauge('smtp_slots_rate_limit_per_minute', 'Configured messages per minute (ratePerMinute; for _other: the sum).', (f) => f.ratePerMinute);
  mailboxGauge('smtp_slots_recipients_24h', 'Recipients sent in the rolling 24 hour window.', (f) => f.recipients24h);
  mailboxGauge('smtp_slots_dead_letters', 'Dead letters (permanently failed messages) held in agent spools, from the index the agents publish.', (f) => f.deadLetters);
  mailboxGauge('smtp_slots_recipients_limit', 'Configured recipients per rolling 24 hours (recipientsPerDay; for _other: the sum).', (f) => f.recipientsLimit);
  mailboxCounter('smtp_slots_slot_grants_total', 'Slots granted.', (f) => f.grants);
  mailboxCounter('smtp_slots_leases_expired_total', 'Leases that expired without renewal.', (f) => f.expired);
  mailboxCounter('smtp_slots_leases_lost_total', 'Leases their holder lost (expiry, epoch change, force-release).', (f) => f.lost);
  mailboxCounter('smtp_slots_messages_sent_total', 'Messages the upstream accepted.', (f) => f.sent);
  codedCounter('smtp_slots_messages_deferred_total', 'Messages deferred for a later retry, by SMTP code.', 'deferred', []);
  codedCounter('smtp_slots_messages_failed_total', 'Messages failed permanently, by SMTP code.', 'failed', []);
  codedCounter('smtp_slots_upstream_rejections_total', 'Upstream rejections by SMTP code (432 = concurrent connection limit).', 'rejections', ['432']);

  new Gauge({
    name: 'smtp_slots_coordinator_redis_up',
    help: '1 when this scrape could read the cluster state from Redis.',
    registers: [registry],
    async collect() {
      this.set((await scrape()).view ? 1 : 0);
    },
  });
  new Gauge({
    name: 'smtp_slots_coordinator_state_read_seconds',
    help: 'Time the read of the cluster state this scrape shows took (see smtp_slots_coordinator_state_age_seconds); while a read goes unanswered, how long it has run.',
    registers: [registry],
    async collect() {
      this.set((await scrape()).seconds);
    },
  });
  new Gauge({
    name: 'smtp_slots_coordinator_state_age_seconds',
    help: 'Age of the cluster state this scrape shows: 0 when read for it; above metrics.cacheAboveMailboxes mailboxes, the state read after the previous scrape.',
    registers: [registry],
    async collect() {
      const current = await scrape();
      this.reset();
      if (current.view) this.set(current.ageSeconds);
    },
  });
  new Gauge({
    name: 'smtp_slots_mailboxes',
    help: 'Mailboxes registered in Redis.' + CACHE_NOTE,
    registers: [registry],
    async collect() {
      const current = await view();
      this.reset();
      if (current) this.set(current.mailboxCount);
    },
  });
  new Gauge({
    name: 'smtp_slots_agents',
    help: 'Agents known from heartbeats, by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const current = await view();
      this.reset();
      if (!current) return;
      const alive = current.agents.filter((agent) => agent.alive).length;
      this.set({ state: 'alive' }, alive);
      this.set({ state: 'stale' }, current.agents.length - alive);
    },
  });
  new Gauge({
    name: 'smtp_slots_agent_last_seen_seconds',
    help: 'Time since each registered agent\'s last heartbeat (agents silent for a day are forgotten).',
    labelNames: ['agent'] as const,
    registers: [registry],
    async collect() {
      const current = await view();
      this.reset();
      for (const agent of current?.agents ?? []) this.set({ agent: agent.agentId }, agent.lastSeenSeconds);
    },
  });
  new Gauge({
    name: 'smtp_slots_spool_messages',
    help: 'Messages in an agent spool at its last heartbeat (live agents).',
    labelNames: ['agent'] as const,
    registers: [registry],
    async collect() {
      const current = await view();
      this.reset();
      for (const agent of current?.agents ?? []) if (agent.alive) this.set({ agent: agent.agentId }, agent.spoolDepth);
    },
  });
}

/** Calls `start` unless its last call is still in flight, whose promise is then returned. */
function sharedWhileInFlight<T>(start: () => Promise<T>): (() => Promise<T>) & { inFlight: () => boolean } {
  let inFlight: Promise<T> | undefined;
  const call = () => {
    if (!inFlight) {
      const current = start();
      inFlight = current;
      void current.finally(() => {
        if (inFlight === current) inFlight = undefined;
      });
    }
    return inFlight;
  };
  return Object.assign(call, { inFlight: () => inFlight !== undefined });
}

function buildView(state: ClusterState, selector: SeriesSelector): ClusterView {
  const chosen = selector.select(
    state.mailboxes.map((figures) => ({ mailbox: figures.mailbox, busy: figures.inUse + figures.waiting, grants: figures.counters['grants'] ?? 0 })),
  );
  const series = new Map<string, SeriesFigures>();
  for (const figures of state.mailboxes) {
    const label = chosen.has(figures.mailbox) ? figures.mailbox : OTHER_MAILBOXES;
    let target = series.get(label);
    if (!target) {
      target = emptySeries();
      series.set(label, target);
    }
    addInto(target, figures);
  }
  return { series, mailboxCount: state.mailboxes.length, agents: state.agents };
}

function emptySeries(): SeriesFigures {
  return {
    limit: 0, effectiveLimit: 0, inUse: 0, waiting: 0, paused: 0, rateTokensAvailable: 0, ratePerMinute: 0,
    recipients24h: 0, recipientsLimit: 0, grants: 0, sent: 0, expired: 0, lost: 0, deadLetters: 0,
    coded: { deferred: new Map(), failed: new Map(), rejections: new Map() },
  };
}

function addInto(target: SeriesFigures, figures: MailboxFigures): void {
  target.limit += figures.limit;
  target.effectiveLimit += figures.effectiveLimit;
  target.inUse += figures.inUse;
  target.waiting += figures.waiting;
  target.paused += figures.paused ? 1 : 0;
  target.rateTokensAvailable += figures.rateTokensAvailable;
  target.ratePerMinute += figures.ratePerMinute;
  target.recipients24h += figures.recipients24h;
  target.recipientsLimit += figures.recipientsPerDay;
  target.deadLetters += figures.deadLetters;
  for (const [name, value] of Object.entries(figures.counters)) {
    if (!Number.isFinite(value) || value < 0) continue;
    const counter = classifyCounter(name);
    if (counter === null) continue;
    if (counter.kind === 'plain') target[counter.name] += value;
    else target.coded[counter.name].set(counter.code, (target.coded[counter.name].get(counter.code) ?? 0) + value);
  }
}

type Classified =
  | { kind: 'plain'; name: 'grants' | 'sent' | 'expired' | 'lost' }
  | { kind: 'coded'; name: CodedCounter; code: string };

/**
 * Maps core's stats counter names (`sent`, `rejections:432`, `deferred:421`, ...) to metrics.
 * Codes become label values only when they look like SMTP codes, so labels stay bounded.
 */
export function classifyCounter(name: string): Classified | null {
  if (name === 'grants' || name === 'sent' || name === 'expired' || name === 'lost') return { kind: 'plain', name };
  const match = /^(deferred|failed|rejections?)(?::(.*))?$/.exec(name);
  if (!match) return null;
  const kind: CodedCounter = match[1] === 'deferred' ? 'deferred' : match[1] === 'failed' ? 'failed' : 'rejections';
  const raw = match[2] ?? '';
  const code = /^[2-5]\d\d$/.test(raw) || /^[245]\.\d{1,3}\.\d{1,3}$/.test(raw) ? raw : raw === '' ? 'unknown' : 'other';
  return { kind: 'coded', name: kind, code };
}
