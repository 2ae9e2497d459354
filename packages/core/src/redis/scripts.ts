import type { ChainableCommander } from 'ioredis';
import { asRedisError, scriptError } from '../errors.js';
import { EVENTS_CHANNEL, GLOBAL_KEYS, mailboxKeys, stateKeys } from './keys.js';
import { loadLuaScripts } from './lua-loader.js';
import { decodeReply, type ReplyOf, type ScriptName } from './replies.js';
import type { RedisClient } from './connect.js';

/**
 * Typed wrappers, one per Lua script. Scripts are registered with ioredis `defineCommand`
 * (EVALSHA, falling back to EVAL after NOSCRIPT, e.g. when Redis restarted); every reply goes
 * through its script's table in replies.ts.
 */
type Arg = string | number;
/** A defineCommand function: call it with the connection (or a pipeline) as `this`. */
type Command = (this: unknown, ...args: Arg[]) => Promise<unknown>;

const COMMAND_PREFIX = 'smtpSlots_';
let loaded: ReturnType<typeof loadLuaScripts> | undefined;
const registered = new WeakSet<object>();

function command(redis: RedisClient, name: ScriptName): Command {
  if (!registered.has(redis)) {
    loaded ??= loadLuaScripts();
    for (const script of loaded) {
      redis.defineCommand(COMMAND_PREFIX + script.name, script.numberOfKeys === undefined ? { lua: script.lua } : { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    registered.add(redis);
  }
  const fn = (redis as unknown as Record<string, Command | undefined>)[COMMAND_PREFIX + name];
  if (!fn) throw new Error(`Lua script ${name} is missing`);
  return fn;
}

async function run<S extends ScriptName>(redis: RedisClient, name: S, keys: readonly string[], args: Arg[]): Promise<ReplyOf<S>> {
  let raw: Arg[];
  try {
    raw = (await command(redis, name).apply(redis, [...keys, ...args])) as Arg[];
  } catch (error) {
    throw asRedisError(error);
  }
  return decodeReply(name, raw);
}

/** stateKeys() per mailbox, built once: every slot script call needs all of them. */
const stateKeyCache = new Map<string, readonly string[]>();
const STATE_KEY_CACHE_SIZE = 1000;

function slotKeys(mailbox: string): readonly string[] {
  let keys = stateKeyCache.get(mailbox);
  if (!keys) {
    if (stateKeyCache.size >= STATE_KEY_CACHE_SIZE) stateKeyCache.clear();
    stateKeyCache.set(mailbox, (keys = stateKeys(mailbox)));
  }
  return keys;
}

/** Settings every slot script needs (ARGV[3..5], see lua/includes/slot-state.lua). */
export interface SlotScriptContext {
  /** Limit used when the mailbox has no config hash. */
  defaultLimit: number;
  /** Epoch grace period (invariant 5). */
  graceMs: number;
  /**
   * The run id of the Redis process this call will reach, when the caller knows it for certain
   * (see slots/run-id-claim.ts); '' or absent makes the script read it with INFO.
   */
  runIdClaim?: () => string;
}

/** ARGV[1..5] of every slot script. */
const slotArgs = (mailbox: string, ctx: SlotScriptContext): Arg[] => [mailbox, EVENTS_CHANNEL, ctx.defaultLimit, ctx.graceMs, ctx.runIdClaim?.() ?? ''];

export interface GrantReply {
  slot: number;
  token: number;
  /** Redis ms */
  expiresAt: number;
  epoch: string;
  ticket: number;
  /** Redis ms */
  now: number;
}

export interface QueuedReply {
  position: number;
  /** ms until the queue can move without a notification (-1: only on notification or poll) */
  nextCheckMs: number;
  ticket: number;
  /** Redis ms */
  now: number;
}

export type WaitReply = { granted: GrantReply } | { queued: QueuedReply };

function grantFrom(r: { slot: Arg; token: Arg; expiresAt: Arg; epoch: Arg; ticket: Arg; now: Arg }): GrantReply {
  return { slot: Number(r.slot), token: Number(r.token), expiresAt: Number(r.expiresAt), epoch: String(r.epoch), ticket: Number(r.ticket), now: Number(r.now) };
}

/** Negative statuses become typed errors (errors.ts, the one place). */
function failOnNegative(r: { status: number; reason?: Arg }, mailbox: string, slot?: number): void {
  if (r.status < 0) throw scriptError(r.status, { mailbox, ...(slot === undefined ? {} : { slot }), detail: String(r.reason ?? '') });
}

export interface AcquireArgs {
  id: string;
  holder: { agentId: string; host: string; pid: number; worker: string; channel: string };
  leaseTtlMs: number;
  waiterTtlMs: number;
  /** -1 try only, 0 no timeout, > 0 timeout */
  waitMs: number;
  /** Keep this ticket after having been dropped (0: new). */
  ticket: number;
}

export async function acquireSlot(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, a: AcquireArgs): Promise<WaitReply> {
  const r = await run(redis, 'acquire', slotKeys(mailbox), [
    ...slotArgs(mailbox, ctx), a.id, JSON.stringify(a.holder), a.leaseTtlMs, a.waiterTtlMs, a.waitMs, a.ticket,
  ]);
  failOnNegative(r, mailbox);
  if (r.kind === 'granted') return { granted: grantFrom(r) };
  if (r.kind !== 'queued') throw new Error(`acquire answered ${r.kind}`);
  return { queued: { position: Number(r.position), nextCheckMs: Number(r.nextCheckMs), ticket: Number(r.ticket), now: Number(r.now) } };
}

export async function checkWaiter(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, id: string, leaseTtlMs: number): Promise<WaitReply> {
  const r = await run(redis, 'check', slotKeys(mailbox), [...slotArgs(mailbox, ctx), id, leaseTtlMs]);
  failOnNegative(r, mailbox);
  if (r.kind === 'granted') return { granted: grantFrom(r) };
  if (r.kind !== 'queued') throw new Error(`check answered ${r.kind}`);
  return { queued: { position: Number(r.position), nextCheckMs: Number(r.nextCheckMs), ticket: 0, now: Number(r.now) } };
}

export interface LeaseRef {
  id: string;
  slot: number;
  token: number;
  epoch: string;
}

/** The time a reply was computed at (Redis ms). */
export function replyTime(reply: WaitReply): number {
  return 'granted' in reply ? reply.granted.now : reply.queued.now;
}

/** Resolves with the new expiry (Redis ms); rejects with LeaseLostError when the lease is gone. */
export async function renewLease(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, lease: LeaseRef, leaseTtlMs: number): Promise<number> {
  const r = await run(redis, 'renew', slotKeys(mailbox), [...slotArgs(mailbox, ctx), lease.id, lease.slot, lease.token, leaseTtlMs, lease.epoch]);
  failOnNegative(r, mailbox, lease.slot);
  if (r.kind !== 'renewed') throw new Error(`renew answered ${r.kind}`);
  return Number(r.expiresAt);
}

/** A waiter served by a release, as the release reply names it (the same grant is pushed to its client). */
export interface HandOff {
  waiterId: string;
  grant: GrantReply;
}

/**
 * `released`: this call released the lease (false: it was already gone or is someone else's).
 *
 * `waitersLikely`: send the release behind a PING in one write. Redis (7.x) writes the clients
 * with output of one event-loop turn newest-first, so the caller's reply, queued after the
 * script, would go out before the grant the script pushes to the head waiter; with the PING's
 * reply already queued, the caller keeps its place and the waiter (the hand-off's critical path)
 * is written first. Nothing depends on this order: it only shortens a hand-off (about 0.1 ms
 * here), and costs the releaser a pipeline, so it is worth it only when somebody waits.
 */
export async function releaseLease(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, lease: Omit<LeaseRef, 'epoch'>, waitersLikely = false): Promise<{ released: boolean; handedOff: number; handOffs: HandOff[] }> {
  const args = [...slotKeys(mailbox), ...slotArgs(mailbox, ctx), lease.id, lease.slot, lease.token];
  let raw: Arg[];
  try {
    if (waitersLikely) {
      const pipeline = redis.pipeline().ping();
      // On a pipeline the command only queues; its reply comes from exec() below.
      void command(redis, 'release').apply(pipeline, args);
      const [, [error, reply] = [new Error('no reply to release')]] = (await pipeline.exec()) ?? [];
      if (error) throw error;
      raw = reply as Arg[];
    } else {
      raw = (await command(redis, 'release').apply(redis, args)) as Arg[];
    }
  } catch (error) {
    throw asRedisError(error);
  }
  const r = decodeReply('release', raw);
  const now = Number(r.now);
  const epoch = String(r.epoch);
  const handOffs = r.grants.map((g): HandOff => ({
    waiterId: String(g.waiterId),
    grant: { slot: Number(g.slot), token: Number(g.token), expiresAt: Number(g.expiresAt), epoch, ticket: Number(g.ticket), now },
  }));
  return { released: Number(r.released) === 1, handedOff: Number(r.handedOff), handOffs };
}

/** 'dequeued', 'released' (it had been granted meanwhile) or 'unknown'. */
export async function cancelWaiter(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, id: string): Promise<'dequeued' | 'released' | 'unknown'> {
  return (await run(redis, 'cancel', slotKeys(mailbox), [...slotArgs(mailbox, ctx), id])).kind;
}

export async function forceReleaseSlot(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, slot: number): Promise<boolean> {
  return (await run(redis, 'forceRelease', stateKeys(mailbox), [...slotArgs(mailbox, ctx), slot])).kind === 'freed';
}

export interface ConfigPatch {
  limit?: number;
  ratePerMinute?: number;
  recipientsPerDay?: number;
  paused?: boolean;
  pauseReason?: string;
}

const configOf = (pairs: ReadonlyArray<{ field: Arg; value: Arg }>): Record<string, string> =>
  Object.fromEntries(pairs.map(({ field, value }) => [String(field), String(value)]));

/** Returns the config after the change. */
export async function setMailboxConfig(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, patch: ConfigPatch): Promise<Record<string, string>> {
  return configOf((await run(redis, 'setConfig', stateKeys(mailbox), [...slotArgs(mailbox, ctx), JSON.stringify(patch)])).config);
}

export async function ensureMailboxConfig(redis: RedisClient, mailbox: string, defaults: ConfigPatch): Promise<Record<string, string>> {
  return configOf((await run(redis, 'ensureMailbox', [mailboxKeys(mailbox).state], [JSON.stringify(defaults)])).config);
}

export async function takeRateToken(redis: RedisClient, mailbox: string, perMinute: number, burst: number): Promise<{ allowed: boolean; retryAfterMs: number }> {
  const r = await run(redis, 'rateTake', [mailboxKeys(mailbox).rate], [perMinute, burst]);
  return { allowed: r.kind === 'allowed', retryAfterMs: Number(r.retryAfterMs) };
}

export const RECIPIENT_BUCKET_MS = 60_000;
export const RECIPIENT_WINDOW_MS = 86_400_000;

export async function reserveRecipients(redis: RedisClient, mailbox: string, recipients: number, perDay: number): Promise<{ allowed: boolean; retryAfterMs: number; used: number; bucket: number }> {
  const k = mailboxKeys(mailbox);
  const r = await run(redis, 'rcptReserve', [k.recipients, k.recipientCounts], [recipients, perDay, RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS]);
  if (r.kind === 'overBudget') throw scriptError(r.status, { mailbox, detail: `${recipients} recipients` });
  return { allowed: r.kind === 'reserved', retryAfterMs: Number(r.retryAfterMs), used: Number(r.used), bucket: r.kind === 'reserved' ? Number(r.bucket) : 0 };
}

export async function returnRecipients(redis: RedisClient, mailbox: string, bucket: number, recipients: number): Promise<{ returned: number; used: number }> {
  const k = mailboxKeys(mailbox);
  const r = await run(redis, 'rcptReturn', [k.recipients, k.recipientCounts], [bucket, recipients]);
  return { returned: Number(r.returned), used: Number(r.used) };
}

export type MessageTakeReply =
  /** bucket: where the recipients were counted (RecipientLedger.giveBack takes them back from it). */
  | { allowed: true; used: number; bucket: number }
  | { allowed: false; limit: 'rate' | 'recipients'; retryAfterMs: number; used: number };

export async function takeMessage(redis: RedisClient, mailbox: string, o: { perMinute: number; burst: number; recipients: number; perDay: number }): Promise<MessageTakeReply> {
  const k = mailboxKeys(mailbox);
  const r = await run(redis, 'messageTake', [k.rate, k.recipients, k.recipientCounts], [o.perMinute, o.burst, o.recipients, o.perDay, RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS]);
  switch (r.kind) {
    case 'allowed':
      return { allowed: true, used: Number(r.used), bucket: Number(r.bucket) };
    case 'rateNotNow':
      return { allowed: false, limit: 'rate', retryAfterMs: Number(r.retryAfterMs), used: Number(r.used) };
    case 'recipientsNotNow':
      return { allowed: false, limit: 'recipients', retryAfterMs: Number(r.retryAfterMs), used: Number(r.used) };
    case 'overBudget':
      throw scriptError(r.status, { mailbox, detail: `${o.recipients} recipients` });
  }
}

export async function report432(redis: RedisClient, mailbox: string, defaultLimit: number, o: { cooldownMs: number; raiseEveryMs: number; debounceMs: number }): Promise<number> {
  const k = mailboxKeys(mailbox);
  const r = await run(redis, 'report432', [k.state, k.stats], [mailbox, EVENTS_CHANNEL, defaultLimit, o.cooldownMs, o.raiseEveryMs, o.debounceMs]);
  return Number(r.effectiveLimit);
}

/** snapshotMany-n.lua over `keys` (8 per mailbox; on a Cluster all of one hash slot); bulk-snapshot.ts shapes the reply. */
export async function readSnapshotBatch(redis: RedisClient, keys: readonly string[]): Promise<ReplyOf<'snapshotMany'>> {
  let raw: Arg[];
  try {
    raw = (await command(redis, 'snapshotMany').call(redis, keys.length, ...keys, RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS)) as Arg[];
  } catch (error) {
    throw asRedisError(error);
  }
  return decodeReply('snapshotMany', raw);
}

/** figuresMany-n.lua over `keys` (6 per mailbox; on a Cluster all of one hash slot); bulk-figures.ts shapes the reply. */
export async function readFiguresBatch(redis: RedisClient, keys: readonly string[], defaults: { limit: number; ratePerMinute: number; recipientsPerDay: number }): Promise<ReplyOf<'figuresMany'>> {
  let raw: Arg[];
  try {
    raw = (await command(redis, 'figuresMany').call(
      redis, keys.length, ...keys, RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS, defaults.limit, defaults.ratePerMinute, defaults.recipientsPerDay,
    )) as Arg[];
  } catch (error) {
    throw asRedisError(error);
  }
  return decodeReply('figuresMany', raw);
}

export async function agentHeartbeat(redis: RedisClient, agentId: string, record: object, ttlMs: number): Promise<number> {
  return Number((await run(redis, 'agentHeartbeat', [GLOBAL_KEYS.agents], [agentId, JSON.stringify(record), ttlMs])).now);
}

export async function agentList(redis: RedisClient): Promise<{ now: number; records: Map<string, string> }> {
  const r = await run(redis, 'agentList', [GLOBAL_KEYS.agents], []);
  return { now: Number(r.now), records: new Map(r.agents.map(({ id, record }) => [String(id), String(record)])) };
}

/**
 * Queues a script on a pipeline of `redis` instead of sending it alone: writers that batch their
 * per-message Redis work (trail, counters, history) pay one round trip for all of it.
 */
export function queueScript(redis: RedisClient, pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: Arg[]): void {
  command(redis, name);
  const fn = (pipeline as unknown as Record<string, Command | undefined>)[COMMAND_PREFIX + name];
  if (fn) {
    void fn.apply(pipeline, [...keys, ...args]);
    return;
  }
  // A pipeline made before the scripts were defined on `redis` lacks them: send the source once.
  const script = loaded?.find((s) => s.name === name);
  if (!script) throw new Error(`Lua script ${name} is missing`);
  pipeline.eval(script.lua, keys.length, ...keys, ...args);
}
