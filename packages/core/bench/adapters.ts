/**
 * The three semaphores under test behind one tiny interface: acquire() resolves once the caller
 * may use the slot; the returned release() resolves once the slot is free again in Redis.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';
import { SLOT_CONNECTION_OPTIONS, SlotClient } from '../src/index.js';

export type ImplName = 'smtp-slots' | 'smtp-slots (baseline)' | 'redis-semaphore' | 'bottleneck';
/** BENCH_BASELINE_SRC: another checkout's packages/core/src, measured side by side as "smtp-slots (baseline)". */
const BASELINE_SRC = process.env['BENCH_BASELINE_SRC'];
export const IMPLS: ImplName[] = ['smtp-slots', ...(BASELINE_SRC ? (['smtp-slots (baseline)'] as const) : []), 'redis-semaphore', 'bottleneck'];

export interface Held {
  release(): Promise<void>;
}

export interface SemaphoreAdapter {
  acquire(worker: string): Promise<Held>;
  close(): Promise<void>;
}

export const LIMIT = 3;

export async function createAdapter(impl: ImplName, redisUrl: string, key: string): Promise<SemaphoreAdapter> {
  // The agent's connection options (the baseline column ignores them).
  const redis = new Redis(redisUrl, SLOT_CONNECTION_OPTIONS);
  switch (impl) {
    case 'smtp-slots':
    case 'smtp-slots (baseline)': {
      const Client = impl === 'smtp-slots' ? SlotClient
        : ((await import(pathToFileURL(resolve(BASELINE_SRC!, 'index.ts')).href)) as { SlotClient: typeof SlotClient }).SlotClient;
      // Defaults (15 s lease, renew every 5 s), except the grace period: the bench Redis is fresh.
      const slots = new Client({ redis, holder: { agentId: `bench-${process.pid}`, host: 'bench', pid: process.pid }, defaultLimit: LIMIT, epochGraceMs: 0 });
      return {
        acquire: async (worker) => {
          const lease = await slots.acquire(key, { worker });
          return { release: () => lease.release() };
        },
        close: async () => {
          await slots.close();
          redis.disconnect();
        },
      };
    }
    case 'redis-semaphore':
      return {
        // Library defaults (lockTimeout 10 s, retryInterval 10 ms: waiters poll every 10 ms) except
        // acquireTimeout (default 10 s): waiters here may wait longer, the semaphore is not FIFO.
        acquire: async () => {
          const semaphore = new Semaphore(redis, key, LIMIT, { acquireTimeout: 600_000 });
          await semaphore.acquire();
          return { release: () => semaphore.release() };
        },
        close: async () => void redis.disconnect(),
      };
    case 'bottleneck': {
      const url = new URL(redisUrl);
      const limiter = new Bottleneck({
        id: key,
        maxConcurrent: LIMIT,
        datastore: 'ioredis',
        clearDatastore: false,
        clientOptions: { host: url.hostname, port: Number(url.port) },
      });
      await limiter.ready();
      return {
        acquire: (worker) =>
          new Promise<Held>((resolveGrant, reject) => {
            let finish!: () => void;
            const job = limiter.schedule({ id: `${worker}-${Math.random()}` }, () => {
              resolveGrant({ release: () => (finish(), job) });
              return new Promise<void>((r) => (finish = r));
            });
            job.catch(reject);
          }),
        close: async () => {
          await limiter.disconnect(false);
          redis.disconnect();
        },
      };
    }
  }
}
