/**
 * Fixture process for the multi-process and fault tests: N workers of one SlotClient that hold
 * an upstream TCP connection exactly while they hold a slot. Configured by SLOT_WORKER (JSON),
 * reports to the parent over IPC. Run with `node --import tsx --conditions=source`.
 *   hammer: acquire, connect, hold a random time, close, release, repeat until durationMs
 *   hold:   acquire once, connect, write a byte every 25 ms while the lease is live; on loss
 *           destroy the socket; on {type:'release'} close and release
 */
import { connect, type Socket } from 'node:net';
import { LeaseLostError } from '../errors.js';
import { createRedisClient, type RedisConnectionConfig } from '../redis/connect.js';
import { SLOT_CONNECTION_OPTIONS } from '../slots/run-id-claim.js';
import { SlotClient, type Lease } from '../slots/slot-client.js';

export interface SlotWorkerConfig {
  name: string;
  /** A redis-server URL or a Cluster's startup nodes. */
  redis: RedisConnectionConfig;
  mailbox: string;
  upstreamPort: number;
  workers: number;
  mode: 'hammer' | 'hold';
  durationMs?: number;
  holdMs?: [number, number];
  leaseTtlMs: number;
  safetyMarginMs?: number;
  renewIntervalMs?: number;
  safetyPollMs?: number;
  epochGraceMs?: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'grant'; worker: string; slot: number; token: number; ticket: number; waitedMs: number; at: number }
  | { type: 'holding'; worker: string; slot: number; token: number }
  | { type: 'lost'; worker: string; reason: string; at: number }
  | { type: 'done'; grants: number };

const config = JSON.parse(process.env['SLOT_WORKER'] ?? '{}') as SlotWorkerConfig;
const send = (message: WorkerMessage) => process.send?.(message);
const redis = createRedisClient(config.redis, { redisOptions: { maxRetriesPerRequest: 1, ...SLOT_CONNECTION_OPTIONS } });
const slots = new SlotClient({
  redis,
  holder: { agentId: config.name, host: 'test', pid: process.pid },
  leaseTtlMs: config.leaseTtlMs,
  ...(config.safetyMarginMs === undefined ? {} : { safetyMarginMs: config.safetyMarginMs }),
  ...(config.renewIntervalMs === undefined ? {} : { renewIntervalMs: config.renewIntervalMs }),
  ...(config.safetyPollMs === undefined ? {} : { safetyPollMs: config.safetyPollMs }),
  ...(config.epochGraceMs === undefined ? {} : { epochGraceMs: config.epochGraceMs }),
});
slots.on('error', () => undefined); // Redis faults are part of the tests
const releaseRequested = new Promise<void>((resolve) => process.on('message', (m: { type?: string }) => m.type === 'release' && resolve()));

function open(label: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: config.upstreamPort, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
    socket.write(`${label}\n`);
  });
}

/** Like SMTP QUIT: a last line, half-close, and wait for the server's side (it counts the close first). */
function closeGracefully(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.end('QUIT\n');
  });
}

async function granted(worker: string): Promise<Lease> {
  const lease = await slots.acquire(config.mailbox, { worker });
  send({ type: 'grant', worker, slot: lease.slot, token: lease.token, ticket: lease.ticket, waitedMs: lease.waitedMs, at: Date.now() });
  return lease;
}

async function hammer(worker: string): Promise<number> {
  const [min, max] = config.holdMs ?? [5, 25];
  const until = Date.now() + (config.durationMs ?? 10_000);
  let count = 0;
  while (Date.now() < until) {
    const lease = await granted(worker);
    const socket = await open(`${config.name}/${worker}`);
    await new Promise((r) => setTimeout(r, min + Math.random() * (max - min)));
    await closeGracefully(socket);
    await lease.release();
    count += 1;
  }
  return count;
}

async function hold(worker: string): Promise<number> {
  const lease = await granted(worker);
  const socket = await open(`${config.name}/${worker}`);
  let gone = false;
  const lost = () => {
    if (gone) return;
    gone = true;
    clearInterval(timer);
    socket.destroy();
    const reason = lease.signal.reason instanceof LeaseLostError ? lease.signal.reason.reason : 'deadline';
    send({ type: 'lost', worker, reason, at: Date.now() });
  };
  lease.signal.addEventListener('abort', lost, { once: true });
  // Before every use of the connection: is the lease still ours by the local deadline?
  const timer = setInterval(() => {
    if (gone) return;
    if (lease.signal.aborted || lease.remainingMs() <= 0) return lost();
    socket.write('W');
  }, 25);
  send({ type: 'holding', worker, slot: lease.slot, token: lease.token });
  await releaseRequested;
  clearInterval(timer);
  if (!gone) {
    lease.signal.removeEventListener('abort', lost);
    await closeGracefully(socket);
  }
  await lease.release();
  return 1;
}

send({ type: 'ready' });
const run = config.mode === 'hold' ? hold : hammer;
const counts = await Promise.all(Array.from({ length: config.workers }, (_, i) => run(`${config.name}-w${i}`)));
send({ type: 'done', grants: counts.reduce((a, b) => a + b, 0) });
await slots.close();
redis.disconnect();
process.disconnect?.();
