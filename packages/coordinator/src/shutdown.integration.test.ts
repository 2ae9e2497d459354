import { settlesWithin } from '@smtp-slots/core';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { startCoordinator } from './main.js';
import { SseReader } from './testing/sse-reader.js';

const SHUTDOWN_TIMEOUT_MS = 1_500;
/** close() must be back by then: the deadline, the dropped connections' 200 ms, and a loaded machine. */
const CLOSE_BOUND_MS = SHUTDOWN_TIMEOUT_MS + 5_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('coordinator shutdown when Redis stops answering (SIGSTOP)', () => {
  it('close() resolves within shutdownTimeoutMs while an API call and an event stream wait on the frozen Redis', async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.stop());
    const parsed = parseConfig({ logLevel: 'silent', redis: { url: redis.url }, http: { host: '127.0.0.1', port: 0 }, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS });
    if (!parsed.ok || parsed.help) throw new Error('bad test config');
    const coordinator = await startCoordinator(parsed.config);
    cleanups.push(() => coordinator.close());
    await waitFor(async () => (await fetch(`${coordinator.url}/readyz`)).status === 200, { message: 'ready' });
    const stream = new SseReader(`${coordinator.url}/api/events`);
    cleanups.push(async () => stream.close());
    expect(await stream.status).toBe(200);

    redis.pause();
    // Waits on Redis with no answer coming (the TCP connection stays open).
    const pending = fetch(`${coordinator.url}/api/mailboxes`).then((r) => r.status, () => 'closed');
    expect(await settlesWithin(coordinator.close(), CLOSE_BOUND_MS)).toBe(true);
    expect(await settlesWithin(pending, 1_000)).toBe(true);
    redis.resume();
  });
});
