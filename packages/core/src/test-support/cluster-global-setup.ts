import { RedisCluster } from '@smtp-slots/testkit';
import type { TestProject } from 'vitest/node';
import './provided-context.js';

/**
 * vitest globalSetup of `core-cluster`: starts a real 3-master Redis Cluster and shares its
 * startup nodes through `inject('redisCluster')` (see createTestRedis).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await RedisCluster.start({ masters: 3 });
  project.provide('redisCluster', cluster.startupNodes);
  return () => cluster.stop();
}
