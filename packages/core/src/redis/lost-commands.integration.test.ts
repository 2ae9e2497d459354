import { Redis } from 'ioredis';
import { RedisProcess } from '@smtp-slots/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisUnavailableError } from '../errors.js';
import { SLOT_CONNECTION_OPTIONS } from '../slots/run-id-claim.js';
import { failCommandsLostOnReconnect } from './lost-commands.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

describe('commands in flight when the connection drops (SLOT_CONNECTION_OPTIONS)', () => {
  it('fail once the connection is back instead of never settling (Redis restarted under a blocked command)', { timeout: 30_000 }, async () => {
    const server = await RedisProcess.start();
    cleanup.push(() => server.stop());
    const redis = new Redis(server.url, { maxRetriesPerRequest: 2, retryStrategy: () => 50, ...SLOT_CONNECTION_OPTIONS });
    cleanup.push(async () => redis.disconnect());
    failCommandsLostOnReconnect(redis);
    await redis.ping();

    // In flight for 10 s: still unanswered when the server goes away.
    const inFlight = redis.blpop('never-pushed', 10).then(() => 'answered', (error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.restart();
    await redis.ping(); // the connection is back ...
    // ... and the command that was on the old one has settled, well before its 10 s.
    const outcome = await Promise.race([inFlight, new Promise((resolve) => setTimeout(() => resolve('still pending'), 2_000))]);
    expect(outcome).toBeInstanceOf(RedisUnavailableError);
  });
});
