import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExchangeSim } from '@smtp-slots/exchange-sim';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import type { AgentConfigInput } from '../config.js';
import { printBenchTable, runBench } from './bench-table.js';
import { startBenchAgent, submit, type BenchAgent } from './agent-processes.js';

/*
 * `pnpm bench` for the Graph transport (runs the built dist/): delivery rate through the
 * simulator's Graph sendMail as a fraction of the ideal limit / latency (4 requests in flight,
 * each taking the simulated latency), with two agents competing for the mailbox's 4 slots.
 * `--baseline <path to another build's dist/cli.js>` runs every row with that build too, right
 * before this one, so a change is measured side by side under the same machine load.
 */

const MAILBOX = 'graph-bench@contoso.example';
const TENANT = 'contoso.onmicrosoft.com';
const APP = { clientId: 'bench-app', clientSecret: 'bench-app-secret' };
const LIMIT = 4;
const rows: Array<[string, string]> = [];

function agentConfig(agentId: string, redisUrl: string, httpUrl: string, workers: number): AgentConfigInput {
  return {
    agentId, redis: { url: redisUrl }, slots: { leaseTtlMs: 5_000 }, heartbeatMs: 1_000, sender: { workers },
    mailboxes: [{
      address: MAILBOX,
      upstream: {
        type: 'graph', graphUrl: httpUrl,
        auth: { type: 'oauth2', tenantId: TENANT, tokenUrl: `${httpUrl}/${TENANT}/oauth2/v2.0/token`, scope: 'https://graph.microsoft.com/.default', ...APP },
      },
      limit: LIMIT, ratePerMinute: 1_000_000, recipientsPerDay: 100_000_000,
    }],
  };
}

async function graphRun(root: string, redis: RedisProcess, agents: number, latencyMs: number, count: number, build?: { label: string; cli: string }): Promise<void> {
  await redis.restart(); // a clean Redis per run (the agents then wait out its start-up grace)
  const sim = await startExchangeSim({
    users: [{ address: MAILBOX }], apps: [APP], oauthOnly: true, ratePerMinute: 10_000_000, recipientsPerDay: 100_000_000, faults: { latencyMs },
  });
  const started: BenchAgent[] = [];
  const arrivals: number[] = [];
  const unsubscribe = sim.onMessage(() => arrivals.push(performance.now()));
  try {
    const dir = (i: number) => join(root, `graph-${agents}-${latencyMs}-${build ? 'baseline-' : ''}${i}`);
    for (let i = 0; i < agents; i += 1) started.push(await startBenchAgent(dir(i), agentConfig(`bench-graph-${i}`, redis.url, sim.httpUrl!, 4), build?.cli));
    await submit(started.map((a) => a.relayPort), MAILBOX, count, 20);
    const submitted = performance.now();
    await waitFor(() => arrivals.length >= count, { timeoutMs: 300_000, intervalMs: 100, message: 'all delivered' });
    const ideal = LIMIT / (latencyMs / 1000);
    const percent = (rate: number) => `${rate.toFixed(1)} msg/s = ${((rate / ideal) * 100).toFixed(1)}% of ideal ${ideal.toFixed(0)}/s`;
    const last = arrivals[arrivals.length - 1]!;
    rows.push([`${build ? `${build.label}: ` : ''}Graph sendMail, ${agents} agents × 4 workers, limit ${LIMIT}, ${latencyMs} ms latency, ${count} msgs`, percent((count - 1) / ((last - arrivals[0]!) / 1000))]);
    const after = arrivals.filter((t) => t > submitted);
    if (after.length > 10) rows.push(['  of which after ingest ended (steady state)', percent((after.length - 1) / ((last - after[0]!) / 1000))]);
    const stats = sim.userStats(MAILBOX, { messageIds: false });
    rows.push(['  simulator: peak in flight / 429 MailboxConcurrency / duplicates', `${stats?.graph.peakInFlight} / ${stats?.graph.throttledConcurrency} / ${stats?.duplicates}`]);
  } finally {
    unsubscribe();
    await Promise.all(started.map((a) => a.stop()));
    await sim.stop();
  }
}

function baselineArg(): { label: string; cli: string } | undefined {
  const at = process.argv.indexOf('--baseline');
  const cli = at >= 0 ? process.argv[at + 1] : undefined;
  return cli ? { label: 'baseline', cli } : undefined;
}

async function main(): Promise<void> {
  const baseline = baselineArg();
  const root = mkdtempSync(join(tmpdir(), 'smtp-slots-graph-bench-'));
  const loadBefore = loadavg()[0]!; // other processes on the machine skew every number below
  const redis = await RedisProcess.start();
  try {
    for (const [latencyMs, count] of [[50, 1_000], [200, 300]] as const) {
      if (baseline) await graphRun(root, redis, 2, latencyMs, count, baseline);
      await graphRun(root, redis, 2, latencyMs, count);
    }
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
  printBenchTable('@smtp-slots/agent Graph transport benchmark', rows, loadBefore);
}

runBench(main);
