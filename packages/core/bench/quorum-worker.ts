/**
 * One process of the quorum benchmark: `workers` loops of acquire → hold → release on either the
 * default backend (SlotClient on one Redis) or the quorum backend (3 masters), until the shared
 * end time. Same Cycle records as bench-worker.ts.
 */
import { Redis } from 'ioredis';
import { SlotClient, type SlotBackend } from '../src/index.js';
import { QuorumSlots } from '../src/ha/index.js';
import type { Cycle } from './bench-worker.js';

export type Backend = 'slot-client' | 'quorum';

export interface QuorumWorkerConfig {
  backend: Backend;
  urls: string[];
  key: string;
  workers: number;
  holdMs: number;
  leaseTtlMs: number;
  pollMs: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** The backend a benchmark process uses, plus how to close it. */
export async function openBackend(config: Omit<QuorumWorkerConfig, 'key' | 'workers' | 'holdMs'>): Promise<SlotBackend> {
  const holder = { agentId: `bench-${process.pid}`, host: 'bench', pid: process.pid };
  if (config.backend === 'quorum') return QuorumSlots.connect(config.urls, { holder, leaseTtlMs: config.leaseTtlMs, pollMs: config.pollMs });
  const redis = new Redis(config.urls[0]!);
  const slots = new SlotClient({ redis, holder, leaseTtlMs: config.leaseTtlMs, epochGraceMs: 0 });
  const close = slots.close.bind(slots);
  slots.close = async () => {
    await close();
    redis.disconnect();
  };
  return slots;
}

if (process.env['QUORUM_BENCH_WORKER']) {
  const config = JSON.parse(process.env['QUORUM_BENCH_WORKER']) as QuorumWorkerConfig;
  const backend = await openBackend(config);
  const cycles: Cycle[] = [];
  process.send?.({ type: 'ready' });
  const { endAt } = await new Promise<{ endAt: number }>((resolve) => process.once('message', resolve));
  await Promise.all(Array.from({ length: config.workers }, async (_, w) => {
    const worker = `${process.pid}-${w}`;
    while (now() < endAt) {
      const requested = now();
      const lease = await backend.acquire(config.key, { worker });
      const granted = now();
      await new Promise((r) => setTimeout(r, config.holdMs));
      const releasing = now();
      await lease.release();
      cycles.push([worker, requested, granted, releasing, now()]);
    }
  }));
  process.send?.({ type: 'done', cycles });
  await backend.close();
  process.disconnect?.();
}
