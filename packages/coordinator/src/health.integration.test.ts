import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { publishEvent, type SlotEvent } from '@smtp-slots/core';
import { SseReader } from './testing/sse-reader.js';
import { startTestCoordinator, type TestCoordinator } from './testing/fixture.js';

let redis: RedisProcess;
let coordinator: TestCoordinator;
beforeAll(async () => {
  redis = await RedisProcess.start();
  coordinator = await startTestCoordinator({ redisUrl: redis.url });
});
afterAll(async () => {
  await coordinator.close();
  await redis.stop();
});

describe('health', () => {
  it('stays live while Redis is down and reports not-ready until it is back', async () => {
    expect(await coordinator.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok', redis: 'up' } });
    expect(await coordinator.call('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', redis: 'up' } });

    await redis.kill();
    const down = await waitFor(async () => {
      const response = await coordinator.call('GET', '/readyz');
      return response.status === 503 ? response : null;
    }, { message: '/readyz to report Redis down' });
    expect(down.body).toMatchObject({ status: 'unavailable', redis: 'down', error: { code: 'REDIS_UNAVAILABLE' } });
    // Liveness stays 200 and, like the agent's, its body shows the lost connection.
    await waitFor(async () => (await coordinator.call('GET', '/healthz')).body.redis === 'down', { message: '/healthz to show Redis down' });
    expect((await coordinator.call('GET', '/healthz')).status).toBe(200);
    const api = await coordinator.call('GET', '/api/mailboxes');
    expect(api.status).toBe(503);
    expect(api.body.error.code).toBe('REDIS_UNAVAILABLE');
    // /metrics still answers with the coordinator's own series and reports Redis down.
    const metrics = await coordinator.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^smtp_slots_coordinator_redis_up 0$/m);

    await redis.restart();
    await waitFor(async () => (await coordinator.call('GET', '/readyz')).status === 200, { timeoutMs: 15_000, message: '/readyz to recover' });
  });

  it('reports not-ready while Redis is frozen (SIGSTOP) and ready after SIGCONT', async () => {
    await waitFor(async () => (await coordinator.call('GET', '/readyz')).status === 200, { timeoutMs: 15_000, message: '/readyz ready before the freeze' });
    redis.pause();
    try {
      // The TCP connection stays open, so only the PING timeout can notice.
      const frozen = await coordinator.call('GET', '/readyz');
      expect(frozen).toMatchObject({ status: 503, body: { status: 'unavailable', redis: 'down' } });
      expect((await coordinator.call('GET', '/healthz')).status).toBe(200);
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await coordinator.call('GET', '/readyz')).status === 200, { timeoutMs: 15_000, message: '/readyz after SIGCONT' });
  });

  it('starts while Redis is down and streams events once it is up', async () => {
    const late = await RedisProcess.start();
    await late.kill();
    const early = await startTestCoordinator({ redisUrl: late.url });
    try {
      expect((await early.call('GET', '/readyz')).status).toBe(503);
      await late.restart();
      await waitFor(async () => (await early.call('GET', '/readyz')).status === 200, { timeoutMs: 15_000, message: 'Redis reachable' });
      const stream = new SseReader(`${early.url}/api/events`);
      const publisher = new Redis(late.url);
      try {
        const event: SlotEvent = { type: 'pause', mailbox: 'late@example.test', at: Date.now() };
        // Publish until the hub's retried subscription is in place.
        await waitFor(async () => {
          await publishEvent(publisher, event);
          return stream.events<SlotEvent>().some((e) => e.mailbox === 'late@example.test');
        }, { timeoutMs: 15_000, intervalMs: 200, message: 'the event through the late subscription' });
      } finally {
        stream.close();
        await publisher.quit();
      }
    } finally {
      await early.close();
      await late.stop();
    }
  });
});
