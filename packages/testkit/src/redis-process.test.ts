import { describe, expect, inject, it } from 'vitest';
import { CountingServer } from './counting-server.js';
import { ping, RedisProcess } from './redis-process.js';
import { createConnection } from 'node:net';
import { waitFor } from './wait-for.js';

describe('RedisProcess', () => {
  it('the shared server from globalSetup answers PING', async () => {
    const port = Number(new URL(inject('redisUrl')).port);
    expect(await ping(port)).toBe(true);
  });

  it('can be paused, resumed, killed and restarted on the same port', async () => {
    const redis = await RedisProcess.start();
    try {
      redis.pause();
      expect(await ping(redis.port, '127.0.0.1', 200)).toBe(false);
      redis.resume();
      expect(await ping(redis.port)).toBe(true);
      await redis.kill();
      expect(await ping(redis.port, '127.0.0.1', 200)).toBe(false);
      await redis.restart();
      expect(await ping(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});

describe('CountingServer', () => {
  it('records the peak of concurrently open connections', async () => {
    const server = await new CountingServer().start();
    const sockets = [1, 2, 3].map(() => createConnection({ port: server.port, host: '127.0.0.1' }));
    await waitFor(() => server.open === 3);
    sockets[0]!.destroy();
    await waitFor(() => server.open === 2);
    const late = createConnection({ port: server.port, host: '127.0.0.1' });
    await waitFor(() => server.total === 4);
    expect(server.peak).toBe(3);
    for (const s of [...sockets, late]) s.destroy();
    await server.stop();
  });
});
