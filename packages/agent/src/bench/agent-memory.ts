import { join } from 'node:path';
import { startExchangeSim } from '@smtp-slots/exchange-sim';
import { waitFor, type RedisProcess } from '@smtp-slots/testkit';
import type { AgentConfigInput } from '../config.js';
import { startBenchAgent, submit } from './agent-processes.js';

/**
 * Agent resident memory (RSS from /proc) on the relay path: one agent, password auth, 4 workers.
 * Idle: right after /healthz answers and again 10 s later; busy: once 1,500 messages from 20 SMTP
 * clients were delivered. With BENCH_BEFORE_CLI (another build's dist/cli.js) both builds run
 * here, one after the other, so the columns compare under the same load.
 */

const MAILBOX = 'memory@contoso.example';
const PASSWORD = 'memory-secret';
const MESSAGES = 1_500;
const GOAL = { idle: 70, busy: 100 };
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface Figures {
  idle: number;
  idleLater: number;
  busy: number;
}

async function measure(root: string, redis: RedisProcess, cli: string | undefined, name: string): Promise<Figures> {
  const sim = await startExchangeSim({ users: [{ address: MAILBOX, password: PASSWORD }], limit: 3, ratePerMinute: 10_000_000, recipientsPerDay: 100_000_000, faults: { latencyMs: 5 } });
  let delivered = 0;
  const unsubscribe = sim.onMessage(() => delivered++);
  const config: AgentConfigInput = {
    agentId: `bench-memory-${name}`, redis: { url: redis.url }, slots: { leaseTtlMs: 5_000 }, heartbeatMs: 1_000, sender: { workers: 4, maxMessagesPerConnection: 100 },
    mailboxes: [{ address: MAILBOX, upstream: { host: '127.0.0.1', port: sim.smtpPort, auth: { user: MAILBOX, pass: PASSWORD } }, limit: 3, ratePerMinute: 1_000_000, recipientsPerDay: 100_000_000 }],
  };
  const agent = await startBenchAgent(join(root, `memory-${name}`), config, ...(cli ? [cli] : []));
  try {
    const idle = agent.rss();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const idleLater = agent.rss();
    await submit([agent.relayPort], MAILBOX, MESSAGES, 20);
    await waitFor(() => delivered >= MESSAGES, { timeoutMs: 300_000, intervalMs: 100, message: 'all delivered' });
    return { idle, idleLater, busy: agent.rss() };
  } finally {
    unsubscribe();
    await agent.stop();
    await sim.stop();
  }
}

export async function agentMemory(root: string, redis: RedisProcess): Promise<Array<[string, string]>> {
  const beforeCli = process.env['BENCH_BEFORE_CLI'];
  const before = beforeCli ? await measure(root, redis, beforeCli, 'before') : undefined;
  const now = await measure(root, redis, undefined, 'now');
  const row = (label: string, pick: (f: Figures) => number, goal: number): [string, string] => [
    `agent RSS ${label} (goal <= ${goal} MiB)`,
    before ? `${mib(pick(now))} (before ${mib(pick(before))})` : mib(pick(now)),
  ];
  return [
    row('idle, at start', (f) => f.idle, GOAL.idle),
    row('idle, 10 s later', (f) => f.idleLater, GOAL.idle),
    row(`after ${MESSAGES.toLocaleString('en')} msgs from 20 clients`, (f) => f.busy, GOAL.busy),
  ];
}
