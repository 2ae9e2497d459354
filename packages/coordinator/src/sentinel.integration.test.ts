import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, MailboxAdmin, SlotClient, type RedisClient } from '@smtp-slots/core';
import { RedisSentinelSet } from '@smtp-slots/testkit';
import { parseConfig } from './config.js';
import type { MailboxDetail } from './index.js';
import { startCoordinator, type RunningCoordinator } from './main.js';
import { mailboxPath, randomMailbox } from './testing/fixture.js';

describe('coordinator on Redis Sentinel', { timeout: 60_000 }, () => {
  let set: RedisSentinelSet;
  let coordinator: RunningCoordinator;
  let redis: RedisClient;

  beforeAll(async () => {
    set = await RedisSentinelSet.start();
    // Only the sentinels are named ("host:port" strings, as in a YAML file): they say where the primary is.
    const sentinels = set.sentinelAddresses.map(({ host, port }) => `${host}:${port}`);
    const parsed = parseConfig({ redis: { sentinels, name: set.name }, http: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' });
    if (!parsed.ok || parsed.help) throw new Error(`bad config: ${parsed.ok ? 'help' : parsed.problems.join('; ')}`);
    coordinator = await startCoordinator(parsed.config);
    redis = createRedisClient(parsed.config.redis);
  }, 60_000);

  afterAll(async () => {
    await coordinator?.close();
    await redis?.quit();
    await set?.stop();
  });

  it('serves /readyz and a mailbox detail with its holder', async () => {
    const mailbox = randomMailbox('sentinel');
    await new MailboxAdmin(redis).ensureMailbox(mailbox, { limit: 2 });
    const slots = new SlotClient({ redis, holder: { agentId: 'agent-s1', host: 's1', pid: process.pid }, epochGraceMs: 0 });
    const lease = await slots.acquire(mailbox, { worker: 'w1' });
    try {
      const ready = await fetch(`${coordinator.url}/readyz`);
      expect(ready.status).toBe(200);
      const response = await fetch(`${coordinator.url}${mailboxPath(mailbox)}`);
      expect(response.status).toBe(200);
      const detail = (await response.json()) as MailboxDetail;
      expect(detail).toMatchObject({ address: mailbox, limit: 2, inUse: 1 });
      expect(detail.holders.map((h) => [h.slot, h.token, h.agent, h.host, h.worker])).toEqual([[lease.slot, lease.token, 'agent-s1', 's1', 'w1']]);
    } finally {
      await lease.release();
      await slots.close();
    }
  });
});
