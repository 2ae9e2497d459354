import { afterAll, describe, expect, it } from 'vitest';
import { CountingServer } from '@smtp-slots/testkit';
import { MailboxAdmin } from '../admin/mailbox-admin.js';
import { randomMailbox } from '../test-support/scripts.js';
import { createTestRedis, testRedisConfig } from '../test-support/test-redis.js';
import { WorkerProcess } from '../test-support/worker-processes.js';

const processes: WorkerProcess[] = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
});

describe('multi-process safety', () => {
  it('4 processes x 4 workers on limit 3 for 10 s: upstream never sees more than 3, nobody starves, grants are FIFO', { timeout: 60_000 }, async () => {
    const redis = createTestRedis();
    const mailbox = randomMailbox();
    await new MailboxAdmin(redis).ensureMailbox(mailbox, { limit: 3 });
    const upstream = await new CountingServer().start();
    for (let p = 0; p < 4; p++) {
      processes.push(new WorkerProcess({
        name: `p${p}`, redis: testRedisConfig(), mailbox, upstreamPort: upstream.port, workers: 4,
        mode: 'hammer', durationMs: 10_000, holdMs: [5, 30], leaseTtlMs: 5000, epochGraceMs: 0,
      }));
    }
    const codes = await Promise.all(processes.map((p) => p.exited));
    await upstream.stop();
    redis.disconnect();

    expect(codes).toEqual([0, 0, 0, 0]);
    const grants = processes.flatMap((p) => p.of('grant'));
    expect(upstream.peak).toBeLessThanOrEqual(3);
    expect(upstream.peak).toBe(3); // the limit was actually used
    expect(upstream.total).toBe(grants.length); // every grant opened exactly one connection
    // No starvation: every one of the 16 workers was served many times.
    const perWorker = new Map<string, number>();
    for (const g of grants) perWorker.set(g.worker, (perWorker.get(g.worker) ?? 0) + 1);
    expect(perWorker.size).toBe(16);
    const counts = [...perWorker.values()];
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(Math.max(...counts) / 2);
    // FIFO across processes: in grant order (fencing tokens), arrival tickets only go up.
    const byToken = [...grants].sort((a, b) => a.token - b.token);
    const outOfOrder = byToken.filter((g, i) => i > 0 && g.ticket < byToken[i - 1]!.ticket);
    expect(outOfOrder).toEqual([]);
    expect(grants.filter((g) => g.waitedMs > 1).length).toBeGreaterThan(grants.length / 2); // they really queued
  });
});
