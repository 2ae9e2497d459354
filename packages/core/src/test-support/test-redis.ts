import { inject } from 'vitest';
import type { RedisOptions } from 'ioredis';
import { createRedisClient, type RedisClient, type RedisConnectionConfig } from '../redis/connect.js';
import { SLOT_CONNECTION_OPTIONS } from '../slots/run-id-claim.js';
import './provided-context.js';

/** Whether this test run talks to a Redis Cluster (`core-cluster`) rather than one redis-server. */
export const onCluster = inject('redisCluster') !== undefined;

/** The `redis` connection config of this test run's Redis, standalone or Cluster. */
export function testRedisConfig(): RedisConnectionConfig {
  const cluster = inject('redisCluster');
  return cluster ? { cluster } : { url: inject('redisUrl') };
}

/**
 * A new connection to this test run's Redis: an ioredis `Redis` on the project's redis-server,
 * or a `Cluster` in the `core-cluster` project, with the options a SlotClient's connection has in
 * the agent (so tests run the scripts with a run id claim). The caller disconnects it.
 */
export function createTestRedis(redisOptions: RedisOptions = {}): RedisClient {
  return createRedisClient(testRedisConfig(), { redisOptions: { ...SLOT_CONNECTION_OPTIONS, ...redisOptions } });
}
