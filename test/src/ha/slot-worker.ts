// One agent-like process for the HA tests: W workers share a SlotClient connected through the
// given Redis config and hold a TCP connection to the test's counting server while they hold a
// slot. Prints one JSON line per event on stdout; SIGTERM closes everything gracefully.
import { connect } from 'node:net';
import { once } from 'node:events';
import { createRedisClient, SLOT_CONNECTION_OPTIONS, SlotClient, type Lease, type RedisConnectionConfig } from '@smtp-slots/core';

interface WorkerConfig {
  redis: RedisConnectionConfig;
  mailbox: string;
  workers: number;
  leaseTtlMs: number;
  upstreamPort: number;
  holdMs: number;
  name: string;
}

const config = JSON.parse(process.env['SLOT_WORKER_CONFIG'] ?? '{}') as WorkerConfig;
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ process: config.name, ...event })}\n`);

const redis = createRedisClient(config.redis, { redisOptions: SLOT_CONNECTION_OPTIONS });
const subscriber = redis.duplicate();
for (const c of [redis, subscriber]) c.on('error', () => undefined); // failovers are the point of the test
const slots = new SlotClient({ redis, subscriber, holder: { agentId: config.name, host: 'ha-test', pid: process.pid }, leaseTtlMs: config.leaseTtlMs, safetyPollMs: 250 });
slots.on('lost', (lease, reason) => say({ type: 'lost', slot: lease.slot, reason }));
let running = true;
const stopping = new AbortController();

async function hold(lease: Lease): Promise<void> {
  const socket = connect({ port: config.upstreamPort, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  const stop = () => socket.destroy(); // lost: drop the upstream connection at once
  lease.signal.addEventListener('abort', stop, { once: true });
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopping.signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, config.holdMs * (0.5 + Math.random()));
    stopping.signal.addEventListener('abort', done, { once: true });
  });
  lease.signal.removeEventListener('abort', stop);
  socket.end();
  await closed;
  await lease.release().catch(() => undefined);
}

async function worker(id: number): Promise<void> {
  while (running) {
    try {
      const lease = await slots.acquire(config.mailbox, { worker: `w${id}`, timeoutMs: 2_000 });
      say({ type: 'grant', worker: id, slot: lease.slot, token: lease.token });
      await hold(lease);
    } catch (error) {
      say({ type: 'error', code: (error as { code?: string }).code ?? 'unknown' });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const workers = Array.from({ length: config.workers }, (_, i) => worker(i));
say({ type: 'ready' });
// Fire and forget: the handler ends the process itself.
process.once('SIGTERM', () => void stop());

async function stop(): Promise<void> {
  running = false;
  stopping.abort();
  // Workers close their sockets before releasing; close() afterwards only cancels what is left.
  await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, 3_000))]);
  await slots.close().catch(() => undefined);
  redis.disconnect();
  subscriber.disconnect();
  process.exit(0);
}
