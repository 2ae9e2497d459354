import type { TestProject } from 'vitest/node';
import { RedisProcess } from './redis-process.js';
import './provided-context.js';

/**
 * vitest globalSetup: starts one redis-server on a free port for the project's test files and
 * shares its URL through `inject('redisUrl')`. Tests use random mailbox names, so files can run
 * in parallel against it. Fault tests start their own RedisProcess instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv) {
    project.provide('redisUrl', fromEnv);
    return async () => undefined;
  }
  const redis = await RedisProcess.start();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
