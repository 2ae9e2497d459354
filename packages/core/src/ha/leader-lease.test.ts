import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { LeaderLease } from './leader-lease.js';

describe('LeaderLease', { timeout: 20_000 }, () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const client = (url: string) => {
    const redis = new Redis(url);
    redis.on('error', () => undefined);
    cleanup.push(() => redis.disconnect());
    return redis;
  };
  const contender = (redis: Redis, name: string) => {
    const lease = new LeaderLease({ redis, name, ttlMs: 1_500, campaignIntervalMs: 200 });
    cleanup.push(() => lease.stop());
    lease.start();
    return lease;
  };

  it('elects exactly one of three; stopping the leader hands the duty over', async () => {
    const name = `duty-${randomUUID()}`;
    const url = inject('redisUrl');
    const leases = [0, 1, 2].map(() => contender(client(url), name));
    const first = await waitFor(() => leases.find((l) => l.isLeader), { message: 'a leader' });
    await new Promise((r) => setTimeout(r, 2_000)); // several renewals and campaigns later
    expect(leases.filter((l) => l.isLeader)).toEqual([first]);
    const signal = first.signal!;
    await first.stop();
    expect(signal.aborted).toBe(true);
    const second = await waitFor(() => leases.find((l) => l.isLeader), { message: 'a new leader' });
    expect(second).not.toBe(first);
    expect(leases.filter((l) => l.isLeader)).toHaveLength(1);
  });

  it('a leader that cannot renew steps down by its deadline', async () => {
    const redis = await RedisProcess.start();
    cleanup.push(() => redis.stop());
    const lease = contender(client(redis.url), `duty-${randomUUID()}`);
    const signal = await waitFor(() => lease.signal, { message: 'elected' });
    const revoked = new Promise((resolve) => lease.once('revoked', resolve));
    redis.pause(); // frozen Redis: renewals hang
    cleanup.push(() => redis.resume());
    expect(await revoked).toBe('lost');
    expect(signal.aborted).toBe(true);
    expect(lease.isLeader).toBe(false);
  });
});
