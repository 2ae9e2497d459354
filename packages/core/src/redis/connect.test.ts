import { RedisCluster, RedisSentinelSet } from '@smtp-slots/testkit';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisClient, describeRedisConnection, redisConnectionSchema, redisDeployment, type RedisClient } from './connect.js';

const LUA_PAIR = `redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('GET', KEYS[2])`;

async function roundTrip(client: RedisClient, tag: string): Promise<string | null> {
  client.defineCommand('setPair', { numberOfKeys: 2, lua: LUA_PAIR });
  const run = (client as unknown as Record<string, (...a: string[]) => Promise<string | null>>)['setPair']!;
  return run.call(client, `ss:{${tag}}:a`, `ss:{${tag}}:b`, 'v');
}

describe('redisConnectionSchema', () => {
  it('accepts the three deployments and normalises "host:port"', () => {
    expect(redisConnectionSchema.parse({ url: 'redis://127.0.0.1:6379' })).toEqual({ url: 'redis://127.0.0.1:6379' });
    const sentinel = redisConnectionSchema.parse({ sentinels: ['10.0.0.1:26379', { host: 'h', port: 26380 }], name: 'mymaster' });
    expect(sentinel).toEqual({ sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: 'h', port: 26380 }], name: 'mymaster' });
    expect(redisDeployment(sentinel)).toBe('sentinel');
    expect(redisDeployment(redisConnectionSchema.parse({ cluster: ['a:7000'] }))).toBe('cluster');
  });

  it('rejects mixed or incomplete sections', () => {
    expect(redisConnectionSchema.safeParse({ url: 'redis://x', cluster: ['a:1'] }).success).toBe(false);
    expect(redisConnectionSchema.safeParse({ sentinels: ['a:1'] }).success).toBe(false);
    expect(redisConnectionSchema.safeParse({ cluster: [] }).success).toBe(false);
    expect(redisConnectionSchema.safeParse({ cluster: ['no-port'] }).success).toBe(false);
  });

  it('describes a connection without its credentials', () => {
    const text = describeRedisConnection({ url: 'redis://user:s3cret@127.0.0.1:6379/2' });
    expect(text).not.toContain('s3cret');
    expect(text).toContain('127.0.0.1:6379');
    const sentinel = redisConnectionSchema.parse({ sentinels: ['a:1'], name: 'm', password: 's3cret' });
    expect(describeRedisConnection(sentinel)).toBe('sentinel m via a:1');
  });
});

describe('createRedisClient', { timeout: 60_000 }, () => {
  it('connects to a standalone server by URL', async () => {
    const client = createRedisClient({ url: inject('redisUrl') });
    try {
      expect(await roundTrip(client, randomUUID())).toBe('v');
    } finally {
      client.disconnect();
    }
  });

  describe('Cluster', () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await RedisCluster.start({ masters: 3 });
    });
    afterAll(() => cluster?.stop());

    it('runs hash-tagged scripts on the owning master and refuses cross-slot keys', async () => {
      const client = createRedisClient(redisConnectionSchema.parse({ cluster: cluster.startupNodes.slice(0, 1) }));
      try {
        const tags = Array.from({ length: 12 }, () => randomUUID());
        for (const tag of tags) expect(await roundTrip(client, tag)).toBe('v');
        const owners = new Set(await Promise.all(tags.map(async (t) => (await cluster.masterFor(`{${t}}`)).port)));
        expect(owners.size).toBeGreaterThan(1); // the tags really spread over several masters
        await expect(client.mset('{a}x', '1', '{b}y', '2')).rejects.toThrow(/CROSSSLOT|same slot/);
      } finally {
        client.disconnect();
      }
    });
  });

  describe('Sentinel', () => {
    let set: RedisSentinelSet;
    beforeAll(async () => {
      set = await RedisSentinelSet.start();
    });
    afterAll(() => set?.stop());

    it('finds the primary through the sentinels and follows a failover', async () => {
      const client = createRedisClient({ sentinels: set.sentinelAddresses, name: set.name });
      client.on('error', () => undefined); // reconnect attempts to the killed primary
      try {
        expect(await roundTrip(client, 'before')).toBe('v');
        const killed = await set.killPrimary();
        const promoted = await set.waitForFailover(killed);
        // Commands issued during the failover are queued and retried, then land on the new primary.
        expect(await client.set('after-failover', '1')).toBe('OK');
        expect(await client.info('server')).toContain(`tcp_port:${promoted.port}\r\n`);
      } finally {
        client.disconnect();
      }
    });
  });
});
