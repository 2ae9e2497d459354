import { InvalidArgumentError } from '../errors.js';
import { GLOBAL_KEYS, mailboxKeys } from '../redis/keys.js';
import { CONFIG_FIELDS, parseMailboxConfig, validateConfigPatch } from './mailbox-config.js';
import { ensureMailboxConfig, forceReleaseSlot, setMailboxConfig, type ConfigPatch, type SlotScriptContext } from '../redis/scripts.js';
import { readMailboxFigures, type MailboxFigures } from './bulk-figures.js';
import { readRawSnapshots } from './bulk-snapshot.js';
import { shapeSnapshot } from './snapshot.js';
import { DEFAULT_MAILBOX_CONFIG, type MailboxConfig, type MailboxSnapshot } from '../types.js';
import type { RedisClient } from '../redis/connect.js';

export interface ListMailboxesOptions {
  /** From the previous page's nextCursor. */
  cursor?: string;
  /** Page size hint. Default 100. */
  count?: number;
  /** Glob on the address, e.g. `*@example.com`. */
  match?: string;
}

export interface ListMailboxesResult {
  mailboxes: string[];
  /** null on the last page. */
  nextCursor: string | null;
  total: number;
}

export interface MailboxAdminOptions {
  /** Limit assumed for mailboxes without a config hash. Default 3. */
  defaultLimit?: number;
}

/** Configuration and operator actions for mailboxes (coordinator, agent start-up). */
export class MailboxAdmin {
  private readonly ctx: SlotScriptContext;

  constructor(readonly redis: RedisClient, options: MailboxAdminOptions = {}) {
    // graceMs is not used: admin scripts never open an epoch (see admin_epoch in includes/epoch.lua).
    this.ctx = { defaultLimit: options.defaultLimit ?? DEFAULT_MAILBOX_CONFIG.limit, graceMs: 0 };
  }

  /** Registers the mailbox and fills in missing config fields; never overwrites existing ones. */
  async ensureMailbox(mailbox: string, defaults: Partial<MailboxConfig> = {}): Promise<MailboxConfig> {
    validateConfigPatch(defaults);
    const merged = { ...DEFAULT_MAILBOX_CONFIG, ...defaults };
    const hash = await ensureMailboxConfig(this.redis, mailbox, {
      limit: merged.limit,
      ratePerMinute: merged.ratePerMinute,
      recipientsPerDay: merged.recipientsPerDay,
    });
    await this.redis.sadd(GLOBAL_KEYS.mailboxes, mailbox);
    return parseMailboxConfig(hash);
  }

  async getConfig(mailbox: string): Promise<MailboxConfig | null> {
    const values = await this.redis.hmget(mailboxKeys(mailbox).state, ...CONFIG_FIELDS);
    const hash = Object.fromEntries(CONFIG_FIELDS.flatMap((field, i) => (values[i] === null ? [] : [[field, values[i]!]])));
    return Object.keys(hash).length === 0 ? null : parseMailboxConfig(hash, { limit: this.ctx.defaultLimit });
  }

  /**
   * Raising the limit serves waiters at once; lowering never revokes a lease (invariant 6).
   * `pauseReason` is ignored here: pause() and resume() change the paused state.
   */
  async setConfig(mailbox: string, patch: Partial<Omit<MailboxConfig, 'paused'>>): Promise<MailboxConfig> {
    validateConfigPatch(patch);
    const clean: ConfigPatch = {};
    if (patch.limit !== undefined) clean.limit = patch.limit;
    if (patch.ratePerMinute !== undefined) clean.ratePerMinute = patch.ratePerMinute;
    if (patch.recipientsPerDay !== undefined) clean.recipientsPerDay = patch.recipientsPerDay;
    const hash = await setMailboxConfig(this.redis, mailbox, this.ctx, clean);
    await this.redis.sadd(GLOBAL_KEYS.mailboxes, mailbox);
    return parseMailboxConfig(hash, { limit: this.ctx.defaultLimit });
  }

  /** No new grants; current waiters fail with MailboxPausedError; holders finish normally. */
  async pause(mailbox: string, reason: string): Promise<void> {
    await setMailboxConfig(this.redis, mailbox, this.ctx, { paused: true, pauseReason: reason });
  }

  async resume(mailbox: string): Promise<void> {
    await setMailboxConfig(this.redis, mailbox, this.ctx, { paused: false });
  }

  /**
   * Frees a slot whatever its holder does (a stuck holder). The holder's lease signal aborts at
   * once if its process is reachable, and on its next renewal otherwise.
   */
  async forceRelease(mailbox: string, slot: number): Promise<boolean> {
    if (!Number.isInteger(slot) || slot < 1) throw new InvalidArgumentError(`slot must be an integer >= 1 (got ${slot})`);
    return forceReleaseSlot(this.redis, mailbox, this.ctx, slot);
  }

  /** Pages through `ss:mailboxes` (SSCAN: a mailbox added meanwhile may or may not appear). */
  async listMailboxes(opts: ListMailboxesOptions = {}): Promise<ListMailboxesResult> {
    const args: Array<string | number> = [];
    if (opts.match) args.push('MATCH', opts.match);
    args.push('COUNT', opts.count ?? 100);
    const [[next, mailboxes], total] = await Promise.all([
      this.redis.sscan(GLOBAL_KEYS.mailboxes, opts.cursor ?? '0', ...(args as ['COUNT', number])),
      this.redis.scard(GLOBAL_KEYS.mailboxes),
    ]);
    return { mailboxes: mailboxes.sort(), nextCursor: next === '0' ? null : next, total };
  }

  /** Everything the API and dashboard show; null for a mailbox Redis knows nothing about. */
  async snapshot(mailbox: string): Promise<MailboxSnapshot | null> {
    return (await this.snapshots([mailbox]))[0]!;
  }

  /**
   * The few numbers /metrics shows of each mailbox, in the order given: one read-only script
   * call per 500 mailboxes, counted inside Redis (much less to move and decode than snapshots()).
   * A mailbox Redis knows nothing about shows the defaults.
   */
  async figures(mailboxes: readonly string[]): Promise<MailboxFigures[]> {
    return readMailboxFigures(this.redis, mailboxes, { ...DEFAULT_MAILBOX_CONFIG, limit: this.ctx.defaultLimit });
  }

  /**
   * snapshot() of many mailboxes at once, in the order given: one read-only script call per 200
   * mailboxes (one per mailbox on a Cluster, see bulk-snapshot.ts), sent together.
   */
  async snapshots(mailboxes: readonly string[]): Promise<Array<MailboxSnapshot | null>> {
    const raws = await readRawSnapshots(this.redis, mailboxes, this.ctx.defaultLimit);
    const unsure = mailboxes.filter((_, i) => !raws[i]!.configured && Object.keys(raws[i]!.counters ?? {}).length === 0);
    const registered = new Set<string>();
    if (unsure.length > 0) {
      const member = await this.redis.smismember(GLOBAL_KEYS.mailboxes, ...unsure);
      unsure.forEach((mailbox, i) => member[i] === 1 && registered.add(mailbox));
    }
    return mailboxes.map((mailbox, i) => {
      const raw = raws[i]!;
      const known = raw.configured || Object.keys(raw.counters ?? {}).length > 0 || registered.has(mailbox);
      return known ? shapeSnapshot(mailbox, raw, this.ctx.defaultLimit) : null;
    });
  }
}
