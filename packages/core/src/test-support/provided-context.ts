import type { RedisNodeAddress } from '../redis/connect.js';

// Types what core's cluster globalSetup shares with tests through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Startup nodes of the Redis Cluster the `core-cluster` project runs on (absent elsewhere). */
    redisCluster?: RedisNodeAddress[];
  }
}
export {};
