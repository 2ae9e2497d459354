import type { ChainableCommander } from 'ioredis';
import { asRedisError, scriptError } from '../errors.js';
import { GLOBAL_KEYS, mailboxKeys, stateKeys } from './keys.js';
import { loadLuaScripts } from './lua-loader.js';
import type { RedisClient } from './connect.js';

/**
 * Typed wrappers, one per Lua script. Scripts are registered with ioredis `defineCommand`
 * (EVALSHA, falling back to EVAL after NOSCRIPT, e.g. when Redis restarted).
 */
type Arg = string | number;
/** A defineCommand function: call it with the connection (or a pipeline) as `this`. */
type Command = (this: unknown, ...args: Arg[]) => Promise<unknown>;

const COMMAND_PREFIX = 'smtpSlots_';
let loaded: ReturnType<typeof loadLuaScripts> | undefined;
const registered = new WeakSet<object>();

function command(redis: RedisClient, name: string): Command {
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

async function run(redis: RedisClient, name: string, keys: readonly string[], args: Arg[]): Promise<Arg[]> {
  try {
    return (await command(redis, name).apply(redis, [...keys, ...args])) as Arg[];
  } catch (error) {
    throw asRedisError(error);
  }
}

/** stateKeys() per mailbox, built once: every slot script call needs all twelve. */
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

/** Settings every slot script needs (ARGV[1], ARGV[2]). */
export interface SlotScriptContext {
  /** Limit used when the mailbox has no config hash. */
  defaultLimit: number;
  /** Epoch grace period (invariant 5). */
  graceMs: number;
}

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

function grantFrom(r: Arg[]): GrantReply {
  return { slot: Number(r[1]), token: Number(r[2]), expiresAt: Number(r[3]), epoch: String(r[4]), ticket: Number(r[5]), now: Number(r[6]) };
}

function statusOf(r: Arg[], mailbox: string, slot?: number): number {
  const status = Number(r[0]);
  if (status < 0) throw scriptError(status, { mailbox, ...(slot === undefined ? {} : { slot }), detail: String(r[1] ?? '') });
  return status;
}

const ctxArgs = (ctx: SlotScriptContext): Arg[] => [ctx.defaultLimit, ctx.graceMs];

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
    ...ctxArgs(ctx), a.id, JSON.stringify(a.holder), a.leaseTtlMs, a.waiterTtlMs, a.waitMs, a.ticket,
  ]);
  if (statusOf(r, mailbox) === 1) return { granted: grantFrom(r) };
  return { queued: { position: Number(r[1]), nextCheckMs: Number(r[2]), ticket: Number(r[3]), now: Number(r[4]) } };
}

export async function checkWaiter(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, id: string, leaseTtlMs: number): Promise<WaitReply> {
  const r = await run(redis, 'check', slotKeys(mailbox), [...ctxArgs(ctx), id, leaseTtlMs]);
  if (statusOf(r, mailbox) === 1) return { granted: grantFrom(r) };
  return { queued: { position: Number(r[1]), nextCheckMs: Number(r[2]), ticket: 0, now: Number(r[3]) } };
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
  const r = await run(redis, 'renew', slotKeys(mailbox), [...ctxArgs(ctx), lease.id, lease.slot, lease.token, leaseTtlMs, lease.epoch]);
  statusOf(r, mailbox, lease.slot);
  return Number(r[1]);
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
  const args = [...slotKeys(mailbox), ctx.defaultLimit, ctx.graceMs, lease.id, lease.slot, lease.token];
  let r: Arg[];
  if (waitersLikely) {
    const pipeline = redis.pipeline().ping();
    command(redis, 'release').apply(pipeline, args);
    try {
      const [, [error, reply] = [new Error('no reply to release')]] = (await pipeline.exec()) ?? [];
      if (error) throw error;
      r = reply as Arg[];
    } catch (error) {
      throw asRedisError(error);
    }
  } else {
    r = await run(redis, 'release', [], args);
  }
  const now = Number(r[2]);
  const epoch = String(r[3]);
  const handOffs: HandOff[] = [];
  for (let i = 4; i + 4 < r.length; i += 5) {
    handOffs.push({
      waiterId: String(r[i]),
      grant: { slot: Number(r[i + 1]), token: Number(r[i + 2]), expiresAt: Number(r[i + 3]), epoch, ticket: Number(r[i + 4]), now },
    });
  }
  return { released: Number(r[0]) === 1, handedOff: Number(r[1]), handOffs };
}

/** 'dequeued', 'released' (it had been granted meanwhile) or 'unknown'. */
export async function cancelWaiter(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, id: string): Promise<'dequeued' | 'released' | 'unknown'> {
  const r = await run(redis, 'cancel', slotKeys(mailbox), [...ctxArgs(ctx), id]);
  return (['unknown', 'dequeued', 'released'] as const)[Number(r[0])] ?? 'unknown';
}

export async function forceReleaseSlot(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, slot: number): Promise<boolean> {
  const r = await run(redis, 'forceRelease', stateKeys(mailbox), [...ctxArgs(ctx), slot]);
  return Number(r[0]) === 1;
}

export interface ConfigPatch {
  limit?: number;
  ratePerMinute?: number;
  recipientsPerDay?: number;
  paused?: boolean;
  pauseReason?: string;
}

/** Returns the config hash after the change. */
export async function setMailboxConfig(redis: RedisClient, mailbox: string, ctx: SlotScriptContext, patch: ConfigPatch): Promise<Record<string, string>> {
  const r = await run(redis, 'setConfig', stateKeys(mailbox), [...ctxArgs(ctx), JSON.stringify(patch)]);
  return pairs(r.slice(1));
}

export async function ensureMailboxConfig(redis: RedisClient, mailbox: string, defaults: ConfigPatch): Promise<Record<string, string>> {
  return pairs(await run(redis, 'ensureMailbox', [mailboxKeys(mailbox).config], [JSON.stringify(defaults)]));
}

export async function takeRateToken(redis: RedisClient, mailbox: string, perMinute: number, burst: number): Promise<{ allowed: boolean; retryAfterMs: number }> {
  const r = await run(redis, 'rateTake', [mailboxKeys(mailbox).rate], [perMinute, burst]);
  return { allowed: Number(r[0]) === 1, retryAfterMs: Number(r[1]) };
}

export const RECIPIENT_BUCKET_MS = 60_000;
export const RECIPIENT_WINDOW_MS = 86_400_000;

export async function reserveRecipients(redis: RedisClient, mailbox: string, recipients: number, perDay: number): Promise<{ allowed: boolean; retryAfterMs: number; used: number }> {
  const k = mailboxKeys(mailbox);
  const r = await run(redis, 'rcptReserve', [k.recipients, k.recipientCounts], [recipients, perDay, RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS]);
  if (Number(r[0]) < 0) throw scriptError(Number(r[0]), { mailbox, detail: `${recipients} recipients` });
  return { allowed: Number(r[0]) === 1, retryAfterMs: Number(r[1]), used: Number(r[2]) };
}

export async function report432(redis: RedisClient, mailbox: string, defaultLimit: number, o: { cooldownMs: number; raiseEveryMs: number; debounceMs: number }): Promise<number> {
  const k = mailboxKeys(mailbox);
  const r = await run(redis, 'report432', [k.config, k.feedback, k.stats], [defaultLimit, o.cooldownMs, o.raiseEveryMs, o.debounceMs]);
  return Number(r[0]);
}

/** snapshotMany-n.lua over `keys` (11 per mailbox; on a Cluster all of one hash slot); bulk-snapshot.ts shapes the reply. */
export async function readSnapshotBatch(redis: RedisClient, keys: readonly string[]): Promise<unknown[]> {
  try {
    return (await command(redis, 'snapshotMany').call(redis, keys.length, ...keys, RECIPIENT_BUCKET_MS, RECIPIENT_WINDOW_MS)) as unknown[];
  } catch (error) {
    throw asRedisError(error);
  }
}

export async function agentHeartbeat(redis: RedisClient, agentId: string, record: object, ttlMs: number): Promise<number> {
  return Number(await command(redis, 'agentHeartbeat').call(redis, GLOBAL_KEYS.agents, agentId, JSON.stringify(record), ttlMs).catch((e: unknown) => { throw asRedisError(e); }));
}

export async function agentList(redis: RedisClient): Promise<{ now: number; records: Map<string, string> }> {
  const r = await run(redis, 'agentList', [GLOBAL_KEYS.agents], []);
  return { now: Number(r[0]), records: new Map(Object.entries(pairs(r.slice(1)))) };
}

function pairs(flat: Arg[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/**
 * Queues a script on a pipeline of `redis` instead of sending it alone: writers that batch their
 * per-message Redis work (trail, counters, history) pay one round trip for all of it.
 */
export function queueScript(redis: RedisClient, pipeline: ChainableCommander, name: string, keys: readonly string[], args: Arg[]): void {
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
