/**
 * One benchmark process: `workers` loops of acquire → hold → release on one semaphore until
 * the shared end time. Times are CLOCK_MONOTONIC ms (process.hrtime), comparable across
 * processes on one machine. Started by run.ts over IPC.
 */
import { createAdapter, type ImplName } from './adapters.js';

export interface BenchWorkerConfig {
  impl: ImplName;
  redisUrl: string;
  key: string;
  workers: number;
  holdMs: number;
  /** Think time after a release before asking again (0: at once). */
  pauseMs?: number;
}

/** One lease: asked, granted, release called, release done. */
export type Cycle = [worker: string, requested: number, granted: number, releasing: number, released: number];

const now = () => Number(process.hrtime.bigint()) / 1e6;
const config = JSON.parse(process.env['BENCH_WORKER'] ?? '{}') as BenchWorkerConfig;
const adapter = await createAdapter(config.impl, config.redisUrl, config.key);
const cycles: Cycle[] = [];

process.send?.({ type: 'ready' });
const { endAt } = await new Promise<{ endAt: number }>((resolve) => process.once('message', resolve));
await Promise.all(
  Array.from({ length: config.workers }, async (_, w) => {
    while (now() < endAt) {
      const requested = now();
      const held = await adapter.acquire(`${process.pid}-${w}`);
      const granted = now();
      await new Promise((r) => setTimeout(r, config.holdMs));
      const releasing = now();
      await held.release();
      cycles.push([`${process.pid}-${w}`, requested, granted, releasing, now()]);
      if (config.pauseMs) await new Promise((r) => setTimeout(r, config.pauseMs));
    }
  }),
);
process.send?.({ type: 'done', cycles });
await adapter.close();
process.disconnect?.();
