import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
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
    expect(await coordinator.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await coordinator.call('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });

    await redis.kill();
    const down = await waitFor(async () => {
      const response = await coordinator.call('GET', '/readyz');
      return response.status === 503 ? response : null;
    }, { message: '/readyz to report Redis down' });
    expect(down.body.error.code).toBe('REDIS_UNAVAILABLE');
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
});
