import { randomUUID } from 'node:crypto';
import { createRedisClient, MailboxAdmin, type RedisConnectionConfig } from '@smtp-slots/core';
import { CountingServer, RedisSentinelSet, waitFor } from '@smtp-slots/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerFleet } from './worker-fleet.js';

// Longer than a Sentinel failover (≈ 2–4 s here): holders from before the failover are still
// connected when the promoted replica starts answering, which is what the grace period is for.
const LEASE_TTL_MS = 5_000;
const LIMIT = 3;

describe('Sentinel failover under load', { timeout: 90_000 }, () => {
  let shared: RedisSentinelSet;
  let upstream: CountingServer;

  beforeAll(async () => {
    [shared, upstream] = await Promise.all([RedisSentinelSet.start(), new CountingServer().start()]);
  }, 60_000);
  afterAll(async () => {
    await upstream?.stop();
    await shared?.stop();
  });

  it('3 processes × 3 workers: the primary is SIGKILLed, the upstream never sees more than the limit, grants resume', async () => {
    await failoverUnderLoad(shared);
  });

  it('the same when replication lagged and the promoted replica never saw the mailbox', async () => {
    const lagging = await RedisSentinelSet.start();
    try {
      await lagging.cutReplication();
      await failoverUnderLoad(lagging);
    } finally {
      await lagging.stop();
    }
  });

  // Each test names its own set, so afterAll stops the shared one even after the second test ran.
  async function failoverUnderLoad(set: RedisSentinelSet): Promise<void> {
    const config: RedisConnectionConfig = { sentinels: set.sentinelAddresses, name: set.name };
    upstream.resetPeak();
    const mailbox = `ha-${randomUUID()}@example.test`;
    const admin = createRedisClient(config);
    admin.on('error', () => undefined);
    await new MailboxAdmin(admin).ensureMailbox(mailbox, { limit: LIMIT });
    // Holds (1.25–3.75 s) outlast the failover, so connections opened before it are still open after it.
    const fleet = new WorkerFleet({ processes: 3, workers: 3, redis: config, mailbox, leaseTtlMs: LEASE_TTL_MS, upstreamPort: upstream.port, holdMs: 2_500 }).start();
    try {
      await waitFor(() => fleet.count('grant') >= LIMIT && upstream.open === LIMIT, { timeoutMs: 30_000, message: 'the fleet to fill every slot' });
      const killed = await set.killPrimary();
      const promoted = await set.waitForFailover(killed);
      expect(promoted).not.toBe(killed);
      const mark = fleet.events.length;
      await waitFor(() => fleet.count('grant', mark) >= 6 && fleet.processesGranted(mark).size === 3,
        { timeoutMs: 40_000, message: 'grants in every process after the failover' }).catch((error: Error) => {
        throw new Error(`${error.message}; since the failover: ${fleet.summary(mark)}`);
      });
    } finally {
      await fleet.stop();
      admin.disconnect();
    }
    expect(upstream.peak).toBeLessThanOrEqual(LIMIT);
    expect(upstream.peak).toBe(LIMIT);
  }
});
