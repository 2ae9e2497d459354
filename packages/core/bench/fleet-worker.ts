/**
 * One simulated agent of the fleet bench: one SlotClient (one connection plus its subscriber)
 * and one sender worker per mailbox, doing what an agent's worker does per message with a
 * 0-latency upstream: hold a slot for a session, take a rate token (waiting in place, as the
 * agent does for short waits), reserve the recipient, count the message sent; release after
 * SESSION messages. Heartbeats like an agent. Started by fleet.bench.ts over IPC.
 */
import { Cluster, Redis } from 'ioredis';
import { AgentRegistry, incrementCounter, RateLimiter, RecipientLedger, SlotClient } from '../src/index.js';

export interface FleetWorkerConfig {
  agentId: string;
  redis: { url: string } | { cluster: Array<{ host: string; port: number }> };
  mailboxes: string[];
  ratePerMinute: number;
  /** Messages per slot session (the agent's maxMessagesPerConnection). */
  session: number;
}

export interface FleetWorkerReport {
  delivered: number;
  renewals: number;
}

const config = JSON.parse(process.env['FLEET_WORKER'] ?? '{}') as FleetWorkerConfig;
const redis = 'url' in config.redis ? new Redis(config.redis.url) : new Cluster(config.redis.cluster);
const slots = new SlotClient({ redis, holder: { agentId: config.agentId, host: 'fleet-bench', pid: process.pid }, epochGraceMs: 0 });
const rate = new RateLimiter(redis);
const ledger = new RecipientLedger(redis);
const registry = new AgentRegistry(redis);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let counting = false;
let delivered = 0;
let renewals = 0;
let stopping = false;
slots.on('renewed', () => counting && renewals++);

const heartbeat = () => registry.heartbeat({ agentId: config.agentId, host: 'fleet-bench', pid: process.pid, version: 'bench', spoolDepth: 0, mailboxes: [], startedAt: Date.now() }, 15_000);
const beat = setInterval(() => void heartbeat().catch(() => undefined), 5_000);

async function sender(mailbox: string): Promise<void> {
  // Agents come up at different moments: spread the first requests over one rate interval.
  await sleep(Math.random() * (60_000 / config.ratePerMinute));
  while (!stopping) {
    const lease = await slots.acquire(mailbox, { worker: 'w1' });
    for (let sent = 0; sent < config.session && !stopping; ) {
      const token = await rate.take(mailbox, config.ratePerMinute);
      if (!token.allowed) {
        await sleep(token.retryAfterMs);
        continue;
      }
      await ledger.reserve(mailbox, 1, 10_000);
      await incrementCounter(redis, mailbox, 'sent');
      sent++;
      if (counting) delivered++;
    }
    await lease.release();
  }
}

await heartbeat();
process.send?.({ type: 'ready' });
process.on('message', (m: { type: string }) => {
  if (m.type === 'count') {
    counting = true;
  } else if (m.type === 'report') {
    counting = false;
    process.send?.({ type: 'report', delivered, renewals } satisfies FleetWorkerReport & { type: string });
  } else if (m.type === 'stop') {
    stopping = true;
  }
});
await Promise.all(config.mailboxes.map((mailbox) => sender(mailbox)));
clearInterval(beat);
await slots.close();
redis.disconnect();
process.disconnect?.();
