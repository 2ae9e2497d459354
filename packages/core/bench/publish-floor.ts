/**
 * The machine's floor for a hand-off: a bare PUBLISH from this process to a subscriber in an idle
 * child process (the same two hops as release → head waiter, with no script and no semaphore).
 * Measured in the same run as the semaphores, so a loaded machine shows up here too.
 * Run as a child (BENCH_FLOOR_CHANNEL set) it subscribes and reports receive times over IPC.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Latencies (ms) of `samples` publishes, one every `intervalMs` (timer-driven, like a holder). */
export async function publishFloor(redisUrl: string, samples: number, intervalMs: number): Promise<number[]> {
  const channel = `bench-floor-${process.pid}-${Date.now()}`;
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', '--conditions=source'],
    env: { ...process.env, BENCH_FLOOR_CHANNEL: channel, BENCH_FLOOR_URL: redisUrl },
  });
  const received: number[] = [];
  child.on('message', (m: { type: string; at?: number; sent?: number }) => {
    if (m.type === 'got') received.push(m.at! - m.sent!);
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const redis = new Redis(redisUrl);
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, intervalMs));
    await redis.publish(channel, String(now()));
  }
  await new Promise((r) => setTimeout(r, 200));
  redis.disconnect();
  child.kill();
  return received;
}

if (process.env['BENCH_FLOOR_CHANNEL']) {
  const sub = new Redis(process.env['BENCH_FLOOR_URL']!);
  sub.on('message', (_channel: string, message: string) => {
    const at = now();
    process.send?.({ type: 'got', at, sent: Number(message) });
  });
  await sub.subscribe(process.env['BENCH_FLOOR_CHANNEL']);
  process.send?.({ type: 'ready' });
}
