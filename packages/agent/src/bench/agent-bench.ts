import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExchangeSim } from '@smtp-slots/exchange-sim';
import { getFreePort, RedisProcess, waitFor } from '@smtp-slots/testkit';
import type { AgentConfigInput } from '../config.js';
import { printBenchTable, runBench } from './bench-table.js';
import { startBenchAgent, submit, type BenchAgent } from './agent-processes.js';
import { agentMemory } from './agent-memory.js';
import { fleetRecordCost } from './fleet-cost.js';
import { redisPerMessageRows } from './redis-per-message.js';

/*
 * `pnpm bench` for the agent (runs the built dist/):
 *   1. relay ingest: messages/s a relay answers 250 for (fsynced into the spool), Redis down so
 *      nothing competes with the intake;
 *   2. end-to-end: delivery rate at the Exchange simulator as a fraction of the ideal
 *      limit / latency, for one agent and for five agents sharing the mailbox;
 *   3. agent RSS (resident memory) idle and after the run;
 *   4. the fleet records (trail, history): Redis memory and per-message commands (fleet-cost.ts);
 *   5. Redis CPU and commands per delivered message, end to end (redis-per-message.ts), beside a
 *      baseline checkout's agent when BENCH_BASELINE_AGENT names its dist/cli.js.
 *   6. agent RSS idle and busy against the goal, beside another build with BENCH_BEFORE_CLI (agent-memory.ts).
 */

const MAILBOX = 'bench@contoso.example';
const PASSWORD = 'bench-secret';
const rows: Array<[string, string]> = [];
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function agentConfig(agentId: string, redisUrl: string, upstreamPort: number, workers: number, maxMessagesPerConnection = 100): AgentConfigInput {
  return {
    agentId, redis: { url: redisUrl }, slots: { leaseTtlMs: 5_000 }, heartbeatMs: 1_000, sender: { workers, maxMessagesPerConnection },
    mailboxes: [{ address: MAILBOX, upstream: { host: '127.0.0.1', port: upstreamPort, auth: { user: MAILBOX, pass: PASSWORD } }, limit: 3, ratePerMinute: 1_000_000, recipientsPerDay: 100_000_000 }],
  };
}

async function relayIngest(root: string): Promise<void> {
  const nowhere = await getFreePort(); // no Redis there: the agent spools and sends nothing
  const agent = await startBenchAgent(join(root, 'ingest'), agentConfig('bench-ingest', `redis://127.0.0.1:${nowhere}`, 9, 4));
  try {
    await submit([agent.relayPort], MAILBOX, 200, 20); // warm-up
    const count = 3_000;
    const ms = await submit([agent.relayPort], MAILBOX, count, 20);
    rows.push(['relay ingest (20 SMTP clients, fsync per message)', `${Math.round((count / ms) * 1000)} msg/s`]);
    rows.push(['agent RSS with 3,200 messages spooled', mib(agent.rss())]);
  } finally {
    await agent.stop();
  }
}

/** `perConnection`: the agents' maxMessagesPerConnection (each new connection costs the simulator's 100 ms greeting delay, EHLO and AUTH). */
async function endToEnd(root: string, redis: RedisProcess, agents: number, latencyMs: number, count: number, perConnection = 100): Promise<BenchAgent[]> {
  await redis.restart(); // a clean Redis per run (the agents then wait out its start-up grace)
  const sim = await startExchangeSim({ users: [{ address: MAILBOX, password: PASSWORD }], limit: 3, ratePerMinute: 10_000_000, recipientsPerDay: 100_000_000, faults: { latencyMs } });
  const started: BenchAgent[] = [];
  const arrivals: number[] = [];
  const unsubscribe = sim.onMessage(() => arrivals.push(performance.now()));
  try {
    for (let i = 0; i < agents; i += 1) started.push(await startBenchAgent(join(root, `e2e-${agents}-${latencyMs}-${perConnection}-${i}`), agentConfig(`bench-${agents}-${i}`, redis.url, sim.smtpPort, 4, perConnection)));
    const idle = started[0]!.rss();
    await submit(started.map((a) => a.relayPort), MAILBOX, count, 20);
    const submitted = performance.now();
    await waitFor(() => arrivals.length >= count, { timeoutMs: 300_000, intervalMs: 100, message: 'all delivered' });
    const ideal = 3 / (latencyMs / 1000);
    const percent = (rate: number) => `${rate.toFixed(1)} msg/s = ${((rate / ideal) * 100).toFixed(1)}% of ideal ${ideal.toFixed(0)}/s`;
    // Whole run: first to last arrival (excludes the start-up grace of a fresh Redis), while the relays still ingest.
    const last = arrivals[arrivals.length - 1]!;
    rows.push([`end-to-end, ${agents} agent(s) × 4 workers, limit 3, ${latencyMs} ms latency, ${count} msgs, ${perConnection} msgs/connection`, percent((count - 1) / ((last - arrivals[0]!) / 1000))]);
    // Steady state: after the last submission, when sending has the machine to itself.
    const after = arrivals.filter((t) => t > submitted);
    if (after.length > 10) rows.push(['  of which after ingest ended (steady state)', percent((after.length - 1) / ((last - after[0]!) / 1000))]);
    rows.push([`  agent RSS idle → after (${agents} agent(s), max)`, `${mib(idle)} → ${mib(Math.max(...started.map((a) => a.rss())))}`]);
    const stats = sim.userStats(MAILBOX, { messageIds: false });
    rows.push(['  simulator: peak sessions / 432s / duplicates', `${stats?.peakConcurrency} / ${stats?.rejected432} / ${stats?.duplicates}`]);
    return started;
  } finally {
    unsubscribe();
    await Promise.all(started.map((a) => a.stop()));
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'smtp-slots-agent-bench-'));
  const loadBefore = loadavg()[0]!; // other processes on the machine skew every number below
  const redis = await RedisProcess.start();
  try {
    await relayIngest(root);
    await endToEnd(root, redis, 1, 20, 1_500);
    await endToEnd(root, redis, 1, 20, 1_500, 1_000);
    await endToEnd(root, redis, 5, 20, 1_500);
    await endToEnd(root, redis, 5, 20, 1_500, 1_000);
    await endToEnd(root, redis, 5, 50, 1_000);
    rows.push(...(await fleetRecordCost(redis.url)));
    rows.push(...(await redisPerMessageRows(root)));
    rows.push(...(await agentMemory(root, redis)));
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
  printBenchTable('@smtp-slots/agent benchmark', rows, loadBefore);
}

runBench(main);
