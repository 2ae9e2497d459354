import { Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from '../redis/connect.js';

const RUN_ID = /run_id:([0-9a-f]+)/;

/**
 * Options for the connection a SlotClient sends its scripts on, so that it can claim the server's
 * run id and the scripts skip INFO (see RunIdClaim). A command in flight when the connection
 * drops then fails instead of being sent again to whatever server the reconnect reaches; the
 * slot client's callers already retry (acquire) or fall back to their lease deadline (renew).
 */
export const SLOT_CONNECTION_OPTIONS: Readonly<RedisOptions> = Object.freeze({ autoResendUnfulfilledCommands: false });

/**
 * The run id of the Redis process behind one connection, read with INFO once per connection, so
 * that the slot scripts need not ask INFO on every call (invariant 5: they compare it with the
 * run id stored with the mailbox's epoch).
 *
 * A claim must name the process that runs the script, or a restarted or promoted Redis holding
 * the old epoch would grant during what must be its grace period. So a claim is given only
 *  - on a single-node connection (`Redis`: standalone or Sentinel; a Cluster redirects commands
 *    between nodes), that never sends a command again after a reconnect
 *    (`autoResendUnfulfilledCommands: false`, no `reconnectOnError`) and writes each command at
 *    once (no auto-pipelining);
 *  - while it is ready with a writable socket (else ioredis would queue the command and send
 *    it on the next connection);
 *  - when the run id was read on this very connection: a close forgets it, and an INFO reply
 *    counts only if no close came between its request and its reply.
 * Everywhere else the claim is '' and the script reads INFO itself, as before.
 */
export class RunIdClaim {
  private runId = '';
  /** Bumped on every close: a reply learnt under an older generation is not used. */
  private generation = 0;
  private reading = false;
  private readonly connection: Redis | undefined;

  constructor(redis: RedisClient) {
    if (!(redis instanceof Redis) || !RunIdClaim.allows(redis)) return;
    this.connection = redis;
    redis.on('close', this.forget);
    redis.on('end', this.forget);
  }

  /** Stops listening to the connection (the caller owns it and may keep using it). */
  dispose(): void {
    this.connection?.off('close', this.forget).off('end', this.forget);
  }

  private readonly forget = (): void => {
    this.generation += 1;
    this.runId = '';
  };

  /** Whether a connection's options let a claim name the process that runs the command. */
  static allows(redis: Redis): boolean {
    const o = redis.options;
    return o.autoResendUnfulfilledCommands === false && !o.reconnectOnError && !o.enableAutoPipelining;
  }

  /** The claim for a command sent now ('' when none can be made; the first call starts reading it). */
  current(): string {
    const redis = this.connection;
    if (!redis || redis.status !== 'ready' || !redis.stream?.writable) return '';
    if (!this.runId) this.read(redis);
    return this.runId;
  }

  private read(redis: Redis): void {
    if (this.reading) return;
    this.reading = true;
    const generation = this.generation;
    redis.info('server').then(
      (info) => {
        const run = RUN_ID.exec(info)?.[1];
        if (run && generation === this.generation) this.runId = run;
      },
      () => undefined, // no claim: the scripts ask INFO themselves
    ).finally(() => (this.reading = false));
  }
}
