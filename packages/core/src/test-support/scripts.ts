import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/connect.js';
import { EVENTS_CHANNEL, mailboxKeys, stateKeys } from '../redis/keys.js';
import { loadLuaScripts } from '../redis/lua-loader.js';

type Arg = string | number;
const scripts = new Map(loadLuaScripts().map((s) => [s.name, s]));

/** Runs a Lua script with explicit KEYS and ARGV (EVAL, no client logic in between). */
export async function evalScript(redis: RedisClient, name: string, keys: string[], args: Arg[]): Promise<unknown> {
  const script = scripts.get(name);
  if (!script) throw new Error(`no script ${name}`);
  if (script.numberOfKeys !== keys.length) throw new Error(`${name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  return redis.eval(script.lua, keys.length, ...keys, ...args);
}

export const randomMailbox = (): string => `mb-${randomUUID()}@example.test`;

/**
 * Calls the slot scripts of one mailbox the way SlotClient does, with visible ARGV. `runIdClaim`
 * is sent as ARGV[5] (default '': the scripts ask INFO).
 */
export function slotScripts(redis: RedisClient, mailbox: string, opts: { defaultLimit?: number; graceMs?: number; runIdClaim?: string } = {}) {
  const keys = stateKeys(mailbox);
  const named = mailboxKeys(mailbox);
  const ctx = [mailbox, EVENTS_CHANNEL, opts.defaultLimit ?? 3, opts.graceMs ?? 0, opts.runIdClaim ?? ''];
  const holder = (worker: string, channel = 'ss:notify:test') => JSON.stringify({ agentId: 'agent-1', host: 'host-1', pid: 42, worker, channel });
  return {
    keys: named,
    acquire: (id: string, o: { ttl?: number; waiterTtl?: number; waitMs?: number; ticket?: number; channel?: string } = {}) =>
      evalScript(redis, 'acquire', keys, [...ctx, id, holder(id, o.channel), o.ttl ?? 10_000, o.waiterTtl ?? 10_000, o.waitMs ?? 0, o.ticket ?? 0]) as Promise<Arg[]>,
    check: (id: string, ttl = 10_000) => evalScript(redis, 'check', keys, [...ctx, id, ttl]) as Promise<Arg[]>,
    renew: (id: string, slot: number, token: number, epoch: string, ttl = 10_000) =>
      evalScript(redis, 'renew', keys, [...ctx, id, slot, token, ttl, epoch]) as Promise<Arg[]>,
    release: (id: string, slot: number, token: number) => evalScript(redis, 'release', keys, [...ctx, id, slot, token]) as Promise<Arg[]>,
    cancel: (id: string) => evalScript(redis, 'cancel', keys, [...ctx, id]) as Promise<Arg[]>,
    forceRelease: (slot: number) => evalScript(redis, 'forceRelease', keys, [...ctx, slot]) as Promise<Arg[]>,
    setConfig: (patch: object) => evalScript(redis, 'setConfig', keys, [...ctx, JSON.stringify(patch)]) as Promise<Arg[]>,
    /** slot → lease id currently stored */
    holders: async () => {
      const raw = await redis.hget(named.state, 'leases');
      const leases = raw ? (JSON.parse(raw) as Array<{ slot: number; id: string }> | Record<string, never>) : [];
      return Object.fromEntries((Array.isArray(leases) ? leases : []).map((l) => [l.slot, l.id]));
    },
    waiters: () => redis.zrange(named.waiters, 0, -1),
    /** The counters a snapshot shows: the stats hash plus those the state hash keeps. */
    counters: async (...names: string[]) => {
      const [stats, state] = await Promise.all([redis.hmget(named.stats, ...names), redis.hmget(named.state, ...names)]);
      return names.map((_, i) => stats[i] ?? state[i] ?? null);
    },
  };
}

/**
 * Waits until the Redis process is older than `seconds`. A Redis that just started grants nothing
 * for one grace period after its start (it may have restarted empty); script tests that are not
 * about that grace need an older one.
 */
export async function redisOlderThan(redis: RedisClient, seconds: number): Promise<void> {
  // On a Cluster each master runs the scripts of its own hash slots: all of them must be old enough.
  if (redis instanceof Cluster) await redis.ping(); // connected: the masters are known
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const server of servers) {
    for (;;) {
      const uptime = Number(/uptime_in_seconds:(\d+)/.exec(await server.info('server'))?.[1] ?? 0);
      if (uptime >= seconds) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
