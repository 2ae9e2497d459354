import { Redis } from 'ioredis';
import { RedisUnavailableError } from '../errors.js';

/** What ioredis keeps of the commands that were in flight when a connection closed (not public API). */
type WithLostCommands = { prevCommandQueue?: { length: number; shift(): { command: { reject(error: Error): void } } | undefined } | null };

const watched = new WeakSet<Redis>();

/**
 * With `autoResendUnfulfilledCommands: false` (SLOT_CONNECTION_OPTIONS), ioredis 5 keeps the
 * commands that were in flight when the connection closed and, once it is ready again, drops
 * them without settling their promises: a caller awaiting one (a rate token, a recipient
 * reservation) waits forever, and so does a shutdown waiting for that caller. Here they fail at
 * the reconnect instead, as "in flight when the connection dropped" (the reply is unknown: the
 * server may have run them). Idempotent; other connections are left alone.
 */
export function failCommandsLostOnReconnect(redis: unknown): void {
  if (!(redis instanceof Redis) || redis.options.autoResendUnfulfilledCommands !== false || watched.has(redis)) return;
  watched.add(redis);
  // ioredis moves the in-flight commands aside before it announces the reconnect attempt.
  redis.on('reconnecting', () => {
    const internals = redis as unknown as WithLostCommands;
    const lost = internals.prevCommandQueue;
    if (!lost || lost.length === 0) return;
    internals.prevCommandQueue = null;
    const error = new RedisUnavailableError('the Redis connection dropped with this command in flight (not sent again: its outcome is unknown)');
    for (let item = lost.shift(); item; item = lost.shift()) item.command.reject(error);
  });
}
