// Types what globalSetup shares with tests through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a redis-server owned by this test run (or REDIS_URL when given). */
    redisUrl: string;
  }
}
export {};
