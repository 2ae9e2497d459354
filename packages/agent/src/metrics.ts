import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayRejection } from './relay/relay-server.js';
import { AUTH_PAUSE_CAUSES, authPauseCause } from './sender/pause-reason.js';
import type { HoldReason, SenderObserver } from './sender/sender-observer.js';
import type { MailboxSpoolStats } from './spool/spool-entries.js';
import { SPOOL_STATES } from './spool/spool-file.js';

/** What the metrics read on every scrape (gauges are computed in `collect()`). */
export interface MetricsSources {
  spoolStats(): Map<string, MailboxSpoolStats>;
  /** limit, paused and the pause reason as last read from Redis. */
  mailboxConfig(mailbox: string): { limit: number; paused: boolean; pauseReason?: string | undefined };
  /** Rolling 24 h recipients as last read from Redis (undefined when unknown). */
  recipients24h(mailbox: string): number | undefined;
  redisUp(): boolean;
  /** Whether the spool can make messages durable now. */
  spoolWritable(): boolean;
}

const HOLD_REASONS: HoldReason[] = ['rate', 'recipients', 'connect', 'throttled'];

/**
 * The agent's Prometheus metrics (prefix `smtp_slots_`, default label `agent`). Labels are
 * bounded: configured mailbox addresses, reply codes, fixed reasons; never recipients, message
 * ids or secrets.
 */
export class AgentMetrics implements SenderObserver {
  readonly registry = new Registry();
  private readonly holds = new Map<string, Set<HoldReason>>();
  private readonly inUse = new Map<string, number>();

  private readonly slotWait: Histogram<'mailbox'>;
  private readonly leasesLost: Counter<'mailbox' | 'reason'>;
  private readonly sentTotal: Counter<'mailbox'>;
  private readonly deferredTotal: Counter<'mailbox' | 'code'>;
  private readonly failedTotal: Counter<'mailbox' | 'code'>;
  private readonly rejections: Counter<'mailbox' | 'code'>;
  private readonly duplicates: Counter<'mailbox'>;
  private readonly perConnection: Histogram<'mailbox'>;
  private readonly relayTotal: Counter<'result'>;
  private readonly spoolWriteErrors: Counter<'code' | 'operation'>;

  constructor(agentId: string, private readonly mailboxes: string[], sources: MetricsSources) {
    this.registry.setDefaultLabels({ agent: agentId });
    collectDefaultMetrics({ register: this.registry });
    // These default gauges end in _total, which promtool (rightly) rejects for non-counters; the
    // per-type nodejs_active_* gauges beside them carry the same numbers.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    const registers = [this.registry];
    const mb = ['mailbox'] as const;

    this.slotWait = new Histogram({ name: 'smtp_slots_slot_wait_seconds', help: 'Time from asking for a slot to the grant.', labelNames: mb, registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] });
    this.leasesLost = new Counter({ name: 'smtp_slots_leases_lost_total', help: 'Leases lost while held (the socket was destroyed).', labelNames: ['mailbox', 'reason'], registers });
    this.sentTotal = new Counter({ name: 'smtp_slots_messages_sent_total', help: 'Messages the upstream accepted.', labelNames: mb, registers });
    this.deferredTotal = new Counter({ name: 'smtp_slots_messages_deferred_total', help: 'Temporary failures scheduled for a retry, by reply code.', labelNames: ['mailbox', 'code'], registers });
    this.failedTotal = new Counter({ name: 'smtp_slots_messages_failed_total', help: 'Messages or recipients moved to the dead letters, by reply code.', labelNames: ['mailbox', 'code'], registers });
    this.rejections = new Counter({ name: 'smtp_slots_upstream_rejections_total', help: 'Upstream replies that say the mailbox, not the message, is the problem (432, quota, auth).', labelNames: ['mailbox', 'code'], registers });
    this.duplicates = new Counter({ name: 'smtp_slots_possible_duplicates_total', help: 'Retries after the connection broke past the final dot (the first attempt may have been delivered).', labelNames: mb, registers });
    this.perConnection = new Histogram({ name: 'smtp_slots_messages_per_connection', help: 'Messages sent over one upstream connection.', labelNames: mb, registers,
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500] });
    this.spoolWriteErrors = new Counter({ name: 'smtp_slots_spool_write_errors_total', help: 'Spool file operations that failed, by errno (ENOSPC, EIO, ...) and operation (accept, claim, settle, probe).', labelNames: ['code', 'operation'], registers });
    this.relayTotal = new Counter({ name: 'smtp_slots_relay_messages_total', help: 'Relay outcomes: accepted into the spool, or the reason for refusing.', labelNames: ['result'], registers });

    // collect() runs with `this` bound to the gauge: capture what it reads.
    const { holds, inUse } = this;
    new Gauge({ name: 'smtp_slots_slots_in_use', help: 'Slots this agent holds now.', labelNames: mb, registers,
      collect() { for (const m of mailboxes) this.set({ mailbox: m }, inUse.get(m) ?? 0); } });
    new Gauge({ name: 'smtp_slots_slots_limit', help: 'Configured connection limit (as last read from Redis).', labelNames: mb, registers,
      collect() { for (const m of mailboxes) this.set({ mailbox: m }, sources.mailboxConfig(m).limit); } });
    new Gauge({ name: 'smtp_slots_mailbox_paused', help: '1 while the mailbox is paused (quota, mailbox full, auth, operator).', labelNames: mb, registers,
      collect() { for (const m of mailboxes) this.set({ mailbox: m }, sources.mailboxConfig(m).paused ? 1 : 0); } });
    new Gauge({ name: 'smtp_slots_mailbox_auth_paused', help: '1 while the mailbox is paused because the upstream refused authentication, by cause (basic-auth-disabled: 5.7.30, smtp-auth-disabled: 5.7.139, credential-refused: token endpoint, auth-refused: other).', labelNames: ['mailbox', 'cause'], registers,
      collect() {
        for (const m of mailboxes) {
          const config = sources.mailboxConfig(m);
          const cause = config.paused ? authPauseCause(config.pauseReason) : undefined;
          for (const c of AUTH_PAUSE_CAUSES) this.set({ mailbox: m, cause: c }, c === cause ? 1 : 0);
        }
      } });
    new Gauge({ name: 'smtp_slots_mailbox_held', help: '1 while this agent holds back ready mail of the mailbox (rate, recipient budget, connect failures).', labelNames: ['mailbox', 'reason'], registers,
      collect() { for (const m of mailboxes) for (const r of HOLD_REASONS) this.set({ mailbox: m, reason: r }, holds.get(m)?.has(r) ? 1 : 0); } });
    new Gauge({ name: 'smtp_slots_recipients_24h', help: 'Recipients counted in the rolling 24 h window (shared by all agents).', labelNames: mb, registers,
      collect() { for (const m of mailboxes) { const used = sources.recipients24h(m); if (used !== undefined) this.set({ mailbox: m }, used); } } });
    new Gauge({ name: 'smtp_slots_spool_messages', help: 'Messages in this agent\'s spool by state.', labelNames: ['mailbox', 'state'], registers,
      collect() {
        const stats = sources.spoolStats();
        for (const m of new Set([...mailboxes, ...stats.keys()])) for (const s of SPOOL_STATES) this.set({ mailbox: m, state: s }, stats.get(m)?.[s] ?? 0);
      } });
    new Gauge({ name: 'smtp_slots_spool_oldest_seconds', help: 'Age of the oldest message not yet sent (0 when none).', labelNames: mb, registers,
      collect() {
        const stats = sources.spoolStats();
        for (const m of mailboxes) { const at = stats.get(m)?.oldestReceivedAt; this.set({ mailbox: m }, at === undefined ? 0 : Math.max(0, (Date.now() - at) / 1000)); }
      } });
    new Gauge({ name: 'smtp_slots_spool_writable', help: '1 while the spool can make messages durable; 0 after a failed write (disk full, I/O error) until a write succeeds again.', registers,
      collect() { this.set(sources.spoolWritable() ? 1 : 0); } });
    new Gauge({ name: 'smtp_slots_redis_up', help: '1 while the agent\'s Redis connection is ready.', registers,
      collect() { this.set(sources.redisUp() ? 1 : 0); } });

    // Known series start at 0 so that rate() and alerts work from the first scrape.
    for (const m of mailboxes) {
      this.sentTotal.inc({ mailbox: m }, 0);
      this.duplicates.inc({ mailbox: m }, 0);
      this.rejections.inc({ mailbox: m, code: '432' }, 0);
    }
    this.relayTotal.inc({ result: 'accepted' }, 0);
    for (const code of ['ENOSPC', 'EIO']) this.spoolWriteErrors.inc({ code, operation: 'accept' }, 0);
  }

  /** A spool file operation failed (the code is already a bounded errno label). */
  spoolWriteError(code: string, operation: string): void {
    this.spoolWriteErrors.inc({ code, operation });
  }

  relayAccepted(): void {
    this.relayTotal.inc({ result: 'accepted' });
  }

  relayRejected(reason: RelayRejection): void {
    this.relayTotal.inc({ result: reason });
  }

  // ---- SenderObserver ----
  slotGranted(mailbox: string, waitedSeconds: number): void {
    this.slotWait.observe({ mailbox }, waitedSeconds);
    this.inUse.set(mailbox, (this.inUse.get(mailbox) ?? 0) + 1);
  }
  slotReleased(mailbox: string): void {
    this.inUse.set(mailbox, Math.max(0, (this.inUse.get(mailbox) ?? 0) - 1));
  }
  leaseLost(mailbox: string, reason: string): void {
    this.leasesLost.inc({ mailbox, reason });
  }
  sent(mailbox: string): void {
    this.sentTotal.inc({ mailbox });
  }
  deferred(mailbox: string, code: string): void {
    this.deferredTotal.inc({ mailbox, code });
  }
  failed(mailbox: string, code: string): void {
    this.failedTotal.inc({ mailbox, code });
  }
  rejection(mailbox: string, code: string): void {
    this.rejections.inc({ mailbox, code });
  }
  possibleDuplicate(mailbox: string): void {
    this.duplicates.inc({ mailbox });
  }
  held(mailbox: string, reason: HoldReason, held: boolean): void {
    const set = this.holds.get(mailbox) ?? new Set<HoldReason>();
    this.holds.set(mailbox, set);
    if (held) {
      set.clear();
      set.add(reason);
    } else set.delete(reason);
  }
  paused(): void {
    // Read from the live config on scrape.
  }
  connectionClosed(mailbox: string, messages: number): void {
    this.perConnection.observe({ mailbox }, messages);
  }
}
