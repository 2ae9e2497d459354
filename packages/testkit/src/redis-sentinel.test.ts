import { describe, expect, it } from 'vitest';
import { redisCli, redisCliSession } from './redis-cli.js';
import { RedisSentinelSet } from './redis-sentinel.js';

describe('RedisSentinelSet', () => {
  it('fails over to the replica when the primary is killed', { timeout: 40_000 }, async () => {
    const set = await RedisSentinelSet.start();
    try {
      const primary = await set.primary();
      expect(primary).toBe(set.nodes[0]);
      // WAIT on the writing connection: the replica acknowledged the write before we pull the plug
      // (WAIT on another connection answers at once, whether the write was replicated or not).
      expect(await redisCliSession(primary.port, [['set', 'before-failover', 'kept'], ['wait', '1', '5000']])).toEqual(['OK', '1']);
      const killed = await set.killPrimary();
      const promoted = await set.waitForFailover(killed);
      expect(promoted).toBe(set.nodes[1]);
      expect((await redisCli(promoted.port, ['get', 'before-failover'])).trim()).toBe('kept');
      expect(await redisCli(promoted.port, ['set', 'after-failover', '1'])).toContain('OK');
    } finally {
      await set.stop();
    }
  });

  it('can cut replication so that a failover loses the latest writes', { timeout: 40_000 }, async () => {
    const set = await RedisSentinelSet.start();
    try {
      await set.cutReplication();
      const primary = await set.primary();
      // No replica acknowledges it: WAIT on the writing connection times out with 0.
      expect(await redisCliSession(primary.port, [['set', 'unreplicated', '1'], ['wait', '1', '300']])).toEqual(['OK', '0']);
      const promoted = await set.waitForFailover(await set.killPrimary());
      expect((await redisCli(promoted.port, ['exists', 'unreplicated'])).trim()).toBe('0');
    } finally {
      await set.stop();
    }
  });
});
