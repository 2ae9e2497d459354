/**
 * `pnpm bench`: the Redis cost of a fleet. Simulated agents (fleet-worker.ts: many workers in a
 * few processes, 0-latency upstream) send at every active mailbox's rate limit against one real
 * redis-server, then against a 3-shard Cluster. From INFO deltas over the measured window:
 * Redis CPU and commands per delivered message, renewals/s, memory per mailbox, and the mailbox
 * count one Redis core carries at 30 msg/min below 50 % CPU (extrapolated from the measured
 * cost per mailbox, labelled so).
 *
 * All N mailboxes of a row are registered; at most ACTIVE of them send (this 2-core machine
 * cannot drive 50,000 × 30/min = 25,000 msg/s), so the larger rows measure the cost of a busy
 * Redis that also holds many idle mailboxes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { MailboxAdmin, mailboxKeys } from '../src/index.js';
import { parseInfo, RedisCluster, RedisProcess } from '@smtp-slots/testkit';
import type { FleetWorkerConfig, FleetWorkerReport } from './fleet-worker.js';

const SIZES = (process.env['FLEET_SIZES'] ?? '1000,10000,50000').split(',').map(Number);
const ACTIVE = Number(process.env['FLEET_ACTIVE'] ?? 1_000);
const PROCESSES = 2;
const RATE_PER_MINUTE = 30;
const SESSION = 20;
const WARMUP_MS = 6_000;
const WINDOW_MS = 20_000;
/** Issue 16's figures for today's scripts and its goals. */
const TODAY = { cpuUs: 258, commands: 16.5, mailboxesPerCore: 7_700 };
const GOAL = { cpuUs: 40, commands: 4 };

const WORKER = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
const PACKAGE_DIR = dirname(dirname(WORKER));
const mailbox = (i: number) => `fleet${i}@bench.test`;

interface NodeStats {
  cpu: number;
  calls: number;
  memory: number;
}

async function nodeStats(redis: Redis): Promise<NodeStats> {
  const info = parseInfo(await redis.info('all'));
  let calls = 0;
  for (const [key, value] of info) {
    // Commands clients sent plus those run inside scripts, as INFO counts them; not our INFO.
    if (key.startsWith('cmdstat_') && key !== 'cmdstat_info') calls += Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
  }
  return { cpu: Number(info.get('used_cpu_sys')) + Number(info.get('used_cpu_user')), calls, memory: Number(info.get('used_memory')) };
}

async function register(admin: MailboxAdmin, size: number): Promise<void> {
  for (let i = 0; i < size; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, size - i) }, (_, j) => admin.ensureMailbox(mailbox(i + j), { ratePerMinute: RATE_PER_MINUTE })));
  }
}

/** Bytes a full 24 h recipient ledger (one bucket per minute) adds to one mailbox. */
async function dayLedgerBytes(redis: Redis, node: Redis): Promise<number> {
  const before = (await nodeStats(node)).memory;
  const now = Date.now();
  const sample = 50;
  for (let s = 0; s < sample; s++) {
    const k = mailboxKeys(`ledger${s}@bench.test`);
    const pipeline = redis.pipeline();
    for (let m = 0; m < 1440; m++) {
      const bucket = Math.floor((now - m * 60_000) / 60_000) * 60_000;
      pipeline.zadd(k.recipients, bucket, bucket).hincrby(k.recipientCounts, String(bucket), 1);
    }
    await pipeline.hincrby(k.recipientCounts, 'total', 1440).exec();
  }
  return ((await nodeStats(node)).memory - before) / sample;
}

function startAgents(redisConfig: FleetWorkerConfig['redis'], active: number): Array<{ child: ChildProcess; ready: Promise<void> }> {
  return Array.from({ length: PROCESSES }, (_, p) => {
    const mailboxes = Array.from({ length: active }, (_, i) => i).filter((i) => i % PROCESSES === p).map(mailbox);
    const config: FleetWorkerConfig = { agentId: `fleet-agent-${p}`, redis: redisConfig, mailboxes, ratePerMinute: RATE_PER_MINUTE, session: SESSION };
    const child = fork(WORKER, [], { cwd: PACKAGE_DIR, execArgv: ['--import', 'tsx', '--conditions=source'], env: { ...process.env, FLEET_WORKER: JSON.stringify(config) } });
    const ready = new Promise<void>((resolve) => child.once('message', () => resolve()));
    return { child, ready };
  });
}

const ask = (child: ChildProcess) =>
  new Promise<FleetWorkerReport>((resolve) => {
    const on = (m: { type: string } & FleetWorkerReport) => {
      if (m.type !== 'report') return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ type: 'report' });
  });

interface Run {
  seconds: number;
  delivered: number;
  renewals: number;
  /** Per node: CPU seconds and commands in the window, memory before and after. */
  nodes: Array<{ cpu: number; calls: number; idleMemory: number; busyMemory: number }>;
}

async function drive(redisConfig: FleetWorkerConfig['redis'], nodes: Redis[], active: number): Promise<Run> {
  const idle = await Promise.all(nodes.map(nodeStats));
  const agents = startAgents(redisConfig, active);
  await Promise.all(agents.map((a) => a.ready));
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  for (const { child } of agents) child.send({ type: 'count' });
  const before = await Promise.all(nodes.map(nodeStats));
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const after = await Promise.all(nodes.map(nodeStats));
  const seconds = (performance.now() - started) / 1000;
  const reports = await Promise.all(agents.map((a) => ask(a.child)));
  for (const { child } of agents) child.send({ type: 'stop' });
  await Promise.all(agents.map(({ child }) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  return {
    seconds,
    delivered: reports.reduce((sum, r) => sum + r.delivered, 0),
    renewals: reports.reduce((sum, r) => sum + r.renewals, 0),
    nodes: nodes.map((_, n) => ({ cpu: after[n]!.cpu - before[n]!.cpu, calls: after[n]!.calls - before[n]!.calls, idleMemory: idle[n]!.memory, busyMemory: after[n]!.memory })),
  };
}

/** One row: cost per message and the extrapolated capacity of one core (or of each shard). */
function row(label: string, size: number, active: number, run: Run, baseMemory: number[], ledgerBytes: number): string {
  const cpu = run.nodes.reduce((sum, n) => sum + n.cpu, 0);
  const calls = run.nodes.reduce((sum, n) => sum + n.calls, 0);
  const cpuUs = (cpu / run.delivered) * 1e6;
  const idleBytes = run.nodes.reduce((sum, n, i) => sum + n.idleMemory - baseMemory[i]!, 0) / size;
  const busyBytes = run.nodes.reduce((sum, n) => sum + n.busyMemory - n.idleMemory, 0) / active;
  // The busiest node sets the ceiling: it reaches 50 % of a core at this many mailboxes.
  const busiest = Math.max(...run.nodes.map((n) => n.cpu / run.seconds));
  const capacity = (0.5 / busiest) * active;
  return `| ${label} | ${size.toLocaleString('en')} | ${active.toLocaleString('en')} | ${(run.delivered / run.seconds).toFixed(0)} | **${cpuUs.toFixed(0)}** (${TODAY.cpuUs}; <= ${GOAL.cpuUs}) | **${(calls / run.delivered).toFixed(1)}** (${TODAY.commands}; <= ${GOAL.commands}) | ${(run.renewals / run.seconds).toFixed(0)} | ${(idleBytes / 1024).toFixed(2)} / +${(busyBytes / 1024).toFixed(2)} / +${(ledgerBytes / 1024).toFixed(1)} | ${Math.round(capacity).toLocaleString('en')} (${TODAY.mailboxesPerCore.toLocaleString('en')}${run.nodes.length > 1 ? ' per shard; this row: all shards' : ''}) |`;
}

const rows: string[] = [];
for (const size of SIZES) {
  const server = await RedisProcess.start();
  const redis = new Redis(server.url);
  const base = [(await nodeStats(redis)).memory];
  await register(new MailboxAdmin(redis), size);
  const active = Math.min(size, ACTIVE);
  const run = await drive({ url: server.url }, [redis], active);
  const ledger = size === SIZES[0] ? await dayLedgerBytes(redis, redis) : 0;
  rows.push(row('1 redis-server', size, active, run, base, ledger));
  redis.disconnect();
  await server.stop();
}

{
  const cluster = await RedisCluster.start({ masters: 3 });
  const startup = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  const client = new Cluster(startup);
  const nodes = cluster.nodes.map((n) => new Redis(n.url));
  const base = await Promise.all(nodes.map(async (n) => (await nodeStats(n)).memory));
  const size = SIZES[0]!;
  await register(new MailboxAdmin(client), size);
  const run = await drive({ cluster: startup }, nodes, Math.min(size, ACTIVE));
  rows.push(row('3-shard Cluster', size, Math.min(size, ACTIVE), run, base, 0));
  const perShard = run.nodes.map((n) => `${((n.cpu / run.seconds) * 100).toFixed(1)} %`).join(' / ');
  rows.push(`| | | | | CPU per shard: ${perShard} | | | | |`);
  nodes.forEach((n) => n.disconnect());
  client.disconnect();
  await cluster.stop();
}

process.stdout.write(
  [
    `fleet at ${RATE_PER_MINUTE} msg/min per mailbox (${PROCESSES} simulated agents, one worker per active mailbox, ${SESSION} messages per slot session, 0-latency upstream, ${WINDOW_MS / 1000} s window)`,
    '(value (today; goal)); memory per mailbox KiB: idle registered / busy extra / a full 24 h ledger extra; capacity extrapolated linearly from the measured CPU',
    '',
    '| Redis | mailboxes | sending | msg/s | Redis CPU µs/msg | commands/msg | renewals/s | memory KiB/mailbox | mailboxes per core < 50 % CPU (today) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
