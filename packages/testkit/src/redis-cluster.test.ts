import { describe, expect, it } from 'vitest';
import { redisCli } from './redis-cli.js';
import { RedisCluster } from './redis-cluster.js';

describe('RedisCluster', () => {
  it('starts 3 masters that cover every hash slot and route keys by hash tag', { timeout: 30_000 }, async () => {
    const cluster = await RedisCluster.start({ masters: 3 });
    try {
      const info = await cluster.info();
      expect(info.get('cluster_state')).toBe('ok');
      expect(info.get('cluster_size')).toBe('3');
      const owner = await cluster.masterFor('{mailbox-a}:leases');
      expect(await redisCli(owner.port, ['set', '{mailbox-a}:leases', '1'])).toContain('OK');
      const other = cluster.nodes.find((n) => n !== owner)!;
      expect(await redisCli(other.port, ['set', '{mailbox-a}:leases', '1'])).toContain('MOVED');
      // Without replicas, losing a master leaves hash slots uncovered.
      await cluster.killNode(owner);
      await cluster.waitForState('fail');
    } finally {
      await cluster.stop();
    }
  });

  it('promotes a replica when a master is killed', { timeout: 30_000 }, async () => {
    const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
    try {
      const owner = await cluster.masterFor('{mailbox-b}');
      await cluster.killNode(owner);
      await cluster.waitForFailover(owner);
      const promoted = await cluster.masterFor('{mailbox-b}');
      expect(promoted).not.toBe(owner);
      expect(await redisCli(promoted.port, ['set', '{mailbox-b}:x', '1'])).toContain('OK');
    } finally {
      await cluster.stop();
    }
  });
});
