import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startExchangeSim } from '@smtp-slots/exchange-sim';
import { parseInfo, RedisProcess, waitFor } from '@smtp-slots/testkit';
import type { AgentConfigInput } from '../config.js';
import { startBenchAgent, submit, type BenchAgent } from './agent-processes.js';

/*
 * Redis work per delivered message, end to end: 5 agents × 4 workers, 20 SMTP clients, 600
 * messages to one mailbox (limit 3), the Exchange simulator upstream, a fresh redis-server.
 * Counted by Redis itself from the first delivery until every message is delivered and the
 * agents' records are written: CPU from INFO cpu, commands from INFO commandstats (commands a
 * script runs count on their own, as Redis counts them; EVALSHA calls also apart).
 */

const MAILBOX = 'per-message@contoso.example';
const PASSWORD = 'bench-secret';
const AGENTS = 5;
const CLIENTS = 20;
const MESSAGES = 600;
/** The figures before the per-message path was folded into one script call (same setup). */
export const RECORDED_BEFORE = { usec: 258, commands: 16.5 };
export const GOAL = { usec: 40, commands: 4 };

export interface PerMessage {
  usec: number;
  /** Of `usec`, the time inside commands; the rest is the event loop, network I/O and timers. */
  commandUsec: number;
  commands: number;
  evalsha: number;
  /** The heaviest commands per message, by name. */
  top: Array<[string, number]>;
}

/** Commands only the scripts run (the agents send none of them on their own). */
const SCRIPTED = new Set(['time', 'hmget', 'hset', 'get', 'set', 'zadd', 'zrangebyscore', 'zcard', 'zscore', 'zrank', 'zrem', 'zrange', 'hget', 'hdel', 'publish', 'zremrangebyscore']);

interface RedisFigures {
  cpuUsec: number;
  calls: Map<string, number>;
  /** Time spent inside commands (EVALSHA includes the commands its script runs). */
  commandUsec: number;
}

async function figures(admin: Redis): Promise<RedisFigures> {
  const cpu = parseInfo(await admin.info('cpu'));
  const cpuUsec = (Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'))) * 1e6;
  const calls = new Map<string, number>();
  let commandUsec = 0;
  for (const [key, value] of parseInfo(await admin.info('commandstats'))) {
    const n = /calls=(\d+),usec=(\d+)/.exec(value);
    if (!key.startsWith('cmdstat_') || !n) continue;
    const name = key.slice('cmdstat_'.length);
    calls.set(name, Number(n[1]));
    // A script's commands count inside its EVALSHA too: count their time once.
    if (name === 'evalsha' || name === 'eval' || !SCRIPTED.has(name)) commandUsec += Number(n[2]);
  }
  return { cpuUsec, calls, commandUsec };
}

function agentConfig(agentId: string, redisUrl: string, upstreamPort: number): AgentConfigInput {
  return {
    agentId, redis: { url: redisUrl }, slots: { leaseTtlMs: 5_000 }, heartbeatMs: 1_000, sender: { workers: 4 },
    mailboxes: [{ address: MAILBOX, upstream: { host: '127.0.0.1', port: upstreamPort, auth: { user: MAILBOX, pass: PASSWORD } }, limit: 3, ratePerMinute: 1_000_000, recipientsPerDay: 100_000_000 }],
  };
}

/** One run of the built agent at `cli` (this checkout's when omitted) against a fresh Redis. */
export async function redisPerMessage(root: string, label: string, cli?: string): Promise<PerMessage> {
  const redis = await RedisProcess.start();
  const admin = new Redis(redis.url);
  const sim = await startExchangeSim({ users: [{ address: MAILBOX, password: PASSWORD }], limit: 3, ratePerMinute: 10_000_000, recipientsPerDay: 100_000_000, faults: { latencyMs: 20 } });
  const agents: BenchAgent[] = [];
  let delivered = 0;
  let start: Promise<RedisFigures> | undefined;
  const unsubscribe = sim.onMessage(() => {
    delivered += 1;
    start ??= figures(admin);
  });
  try {
    for (let i = 0; i < AGENTS; i += 1) agents.push(await startBenchAgent(join(root, `per-message-${label}-${i}`), agentConfig(`per-message-${label}-${i}`, redis.url, sim.smtpPort), cli));
    await submit(agents.map((a) => a.relayPort), MAILBOX, MESSAGES, CLIENTS);
    await waitFor(() => delivered >= MESSAGES, { timeoutMs: 300_000, intervalMs: 50, message: 'all delivered' });
    // The outcome records leave in the turn after the 250; a moment covers the slowest agent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await start!;
    const after = await figures(admin);
    const delta = new Map<string, number>();
    for (const [name, n] of after.calls) {
      // This bench's own INFO calls (two in between the readings) are not the agents' work.
      const d = n - (before.calls.get(name) ?? 0) - (name === 'info' ? 2 : 0);
      if (d > 0) delta.set(name, d / delivered);
    }
    return {
      usec: (after.cpuUsec - before.cpuUsec) / delivered,
      commandUsec: (after.commandUsec - before.commandUsec) / delivered,
      commands: [...delta.values()].reduce((a, b) => a + b, 0),
      evalsha: delta.get('evalsha') ?? 0,
      top: [...delta.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10),
    };
  } finally {
    unsubscribe();
    await Promise.all(agents.map((a) => a.stop()));
    await sim.stop();
    admin.disconnect();
    await redis.stop();
  }
}

/** Rows for the agent benchmark table: a baseline checkout's agent (BENCH_BASELINE_AGENT, its dist/cli.js) when given, else the recorded figure; this one; the goal. */
export async function redisPerMessageRows(root: string): Promise<Array<[string, string]>> {
  const baselineCli = process.env['BENCH_BASELINE_AGENT'];
  const baseline = baselineCli ? await redisPerMessage(root, 'baseline', baselineCli) : undefined;
  const now = await redisPerMessage(root, 'now');
  const show = (r: PerMessage) => `${r.usec.toFixed(0)} µs (${r.commandUsec.toFixed(0)} in commands), ${r.commands.toFixed(1)} commands (${r.evalsha.toFixed(1)} EVALSHA)`;
  const title = `Redis per delivered message (${AGENTS} agents, ${CLIENTS} clients, ${MESSAGES} msgs, Exchange simulator)`;
  return [
    [title, `${show(now)}; before ${baseline ? show(baseline) : `${RECORDED_BEFORE.usec} µs, ${RECORDED_BEFORE.commands} commands (recorded)`}; goal ≤ ${GOAL.usec} µs, ≤ ${GOAL.commands} commands`],
    ['  heaviest commands per message', now.top.map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ')],
    ...(baseline ? [['  heaviest before', baseline.top.map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ')] as [string, string]] : []),
  ];
}
