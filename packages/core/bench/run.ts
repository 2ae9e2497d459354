/**
 * `pnpm bench`: smtp-slots vs redis-semaphore vs bottleneck (Redis clustering) on a dedicated
 * redis-server: limit 3, 24 workers in 4 processes. Prints one table.
 *   BENCH_SECONDS  contended run length per implementation (default 15; hand-offs, utilisation and waits are measured from 1 s after the first grant to 1 s before the last release)
 *   BENCH_HOLD_MS  how long a worker holds its slot (default 50)
 *   BENCH_LONG_HOLD_MS  hold of the second utilisation run (default 500: an SMTP session's greeting,
 *                   AUTH and several messages)
 *   BENCH_BASELINE_SRC  another checkout's packages/core/src, as an extra column (see adapters.ts)
 * Also light runs: 4 workers in 4 processes (one waiter at a time) for the hand-off alone, once
 * asking again at once and once 10 ms after releasing (so that a releasing worker cannot take
 * the slot back ahead of a polling waiter), and the machine's floor for any hand-off (a bare
 * PUBLISH to an idle process) before and after.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisProcess } from '@smtp-slots/testkit';
import { createAdapter, IMPLS, LIMIT, type ImplName } from './adapters.js';
import type { BenchWorkerConfig, Cycle } from './bench-worker.js';
import { publishFloor } from './publish-floor.js';
import { handOffs, percentile, steadyWindow, utilisation } from './stats.js';

const PROCESSES = 4;
const WORKERS_PER_PROCESS = 6;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const HOLD_MS = Number(process.env['BENCH_HOLD_MS'] ?? 50);
const LONG_HOLD_MS = Number(process.env['BENCH_LONG_HOLD_MS'] ?? 500);
const LONG_SECONDS = Math.max(12, SECONDS);
const PAUSE_MS = 10;
const UNCONTENDED_ROUNDS = 2000;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const WORKER = fileURLToPath(new URL('./bench-worker.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

interface Result {
  acquire: number[];
  release: number[];
  handOff: number[];
  barged: number;
  handOffOneWaiter: number[];
  handOffPaused: number[];
  utilisation: number;
  utilisationLongHold: number;
  cyclesPerSecond: number;
  waitP99: number;
  fairness: string;
  roundTripsUncontended: number;
  commandsUncontended: number;
  roundTripsContended: number;
  pingsContended: number;
  commandsContended: number;
  redisCpuUncontended: number;
  redisCpuContended: number;
}

/** CPU time (µs) the redis-server process has used: unlike latency, not inflated by other load. */
function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, USER_HZ = 100
}

async function uncontended(impl: ImplName, url: string, key: string, rounds: number) {
  const adapter = await createAdapter(impl, url, key);
  const acquire: number[] = [];
  const release: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const held = await adapter.acquire('solo');
    const t1 = now();
    await held.release();
    acquire.push(t1 - t0);
    release.push(now() - t1);
  }
  await adapter.close();
  return { acquire, release };
}

async function contended(impl: ImplName, url: string, key: string, seconds: number, workers = WORKERS_PER_PROCESS, holdMs = HOLD_MS, pauseMs = 0): Promise<Cycle[]> {
  const config: BenchWorkerConfig = { impl, redisUrl: url, key, workers, holdMs, pauseMs };
  const children = Array.from({ length: PROCESSES }, () =>
    fork(WORKER, [], { cwd: PACKAGE_DIR, execArgv: ['--import', 'tsx', '--conditions=source'], env: { ...process.env, BENCH_WORKER: JSON.stringify(config) } }));
  const messages = children.map((child) => {
    const ready = new Promise<void>((resolve) => child.once('message', () => resolve()));
    const done = new Promise<Cycle[]>((resolve) => child.on('message', (m: { type: string; cycles?: Cycle[] }) => m.type === 'done' && resolve(m.cycles!)));
    return { ready, done };
  });
  await Promise.all(messages.map((m) => m.ready));
  const endAt = now() + seconds * 1000;
  for (const child of children) child.send({ endAt });
  const cycles = (await Promise.all(messages.map((m) => m.done))).flat();
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  return cycles;
}

/**
 * Commands Redis executed while `work` ran: sent by clients (round trips) and in total (incl.
 * inside Lua). A PING is counted apart: smtp-slots sends one in the same write as a contended
 * release (to order Redis' replies), which costs no round trip of its own.
 */
async function counted(url: string, work: () => Promise<number>): Promise<{ roundTrips: number; pings: number; total: number }> {
  const client = new Redis(url);
  const monitor = await client.monitor();
  let roundTrips = 0;
  let pings = 0;
  let total = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    total += 1;
    if (source === 'lua') return;
    if (args[0]?.toLowerCase() === 'ping') pings += 1;
    else roundTrips += 1;
  });
  const pairs = await work();
  await new Promise((r) => setTimeout(r, 200));
  monitor.disconnect();
  client.disconnect();
  return { roundTrips: roundTrips / pairs, pings: pings / pairs, total: total / pairs };
}

async function measure(impl: ImplName, server: RedisProcess): Promise<Result> {
  const url = server.url;
  const tag = `${impl.replace(/\W+/g, '-')}-${Date.now()}`;
  await uncontended(impl, url, `{bench}:${tag}:warm`, 200);
  let cpu = cpuMicros(server.pid);
  const { acquire, release } = await uncontended(impl, url, `bench-${tag}-u@example.test`, UNCONTENDED_ROUNDS);
  const redisCpuUncontended = (cpuMicros(server.pid) - cpu) / UNCONTENDED_ROUNDS;
  cpu = cpuMicros(server.pid);
  const cycles = await contended(impl, url, `bench-${tag}-c@example.test`, SECONDS);
  const redisCpuContended = (cpuMicros(server.pid) - cpu) / cycles.length;
  const long = await contended(impl, url, `bench-${tag}-h@example.test`, LONG_SECONDS, WORKERS_PER_PROCESS, LONG_HOLD_MS);
  const light = await contended(impl, url, `bench-${tag}-l@example.test`, Math.max(3, SECONDS / 2), 1);
  const paused = await contended(impl, url, `bench-${tag}-p@example.test`, Math.max(3, SECONDS / 2), 1, HOLD_MS, PAUSE_MS);
  // Every measure over the steady part of its run, the same window for every implementation.
  const [from, to] = steadyWindow(cycles);
  const [longFrom, longTo] = steadyWindow(long);
  const contendedHandOffs = handOffs(cycles, LIMIT, [from, to]);
  const perWorker = new Map<string, number>();
  for (const [worker] of cycles) perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
  const counts = [...perWorker.values()];
  const unc = await counted(url, async () => (await uncontended(impl, url, `bench-${tag}-m@example.test`, 300)).acquire.length);
  const con = await counted(url, async () => (await contended(impl, url, `bench-${tag}-mc@example.test`, 3)).length);
  return {
    acquire,
    release,
    handOff: contendedHandOffs.latency,
    barged: contendedHandOffs.barged / Math.max(1, contendedHandOffs.matched),
    handOffOneWaiter: handOffs(light, LIMIT, steadyWindow(light)).latency,
    handOffPaused: handOffs(paused, LIMIT, steadyWindow(paused)).latency,
    utilisation: utilisation(cycles, LIMIT, from, to),
    utilisationLongHold: utilisation(long, LIMIT, longFrom, longTo),
    cyclesPerSecond: cycles.filter((c) => c[2] >= from && c[2] <= to).length / ((to - from) / 1000),
    waitP99: percentile(cycles.filter((c) => c[2] >= from && c[2] <= to).map((c) => c[2] - c[1]), 99),
    fairness: `${Math.min(...counts)}–${Math.max(...counts)}`,
    roundTripsUncontended: unc.roundTrips,
    commandsUncontended: unc.total,
    roundTripsContended: con.roundTrips,
    pingsContended: con.pings,
    commandsContended: con.total,
    redisCpuUncontended,
    redisCpuContended,
  };
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const server = await RedisProcess.start();
  const results = new Map<ImplName, Result>();
  let floorBefore: number[] = [];
  let floorAfter: number[] = [];
  try {
    floorBefore = await publishFloor(server.url, 250, 20);
    for (const impl of IMPLS) {
      process.stderr.write(`bench: ${impl}...\n`);
      results.set(impl, await measure(impl, server));
    }
    floorAfter = await publishFloor(server.url, 250, 20);
  } finally {
    await server.stop();
  }
  const rows: Array<[string, (r: Result) => string]> = [
    ['uncontended acquire p50 / p99 (ms)', (r) => `${ms(percentile(r.acquire, 50))} / ${ms(percentile(r.acquire, 99))}`],
    ['uncontended release p50 / p99 (ms)', (r) => `${ms(percentile(r.release, 50))} / ${ms(percentile(r.release, 99))}`],
    ['hand-off release→waiting worker p50 / p99 (ms)', (r) => `${ms(percentile(r.handOff, 50))} / ${ms(percentile(r.handOff, 99))}`],
    ['hand-off with one waiter (4 processes x 1) p50 / p99', (r) => `${ms(percentile(r.handOffOneWaiter, 50))} / ${ms(percentile(r.handOffOneWaiter, 99))}`],
    [`hand-off, one waiter, ask again ${PAUSE_MS} ms after release p50 / p99`, (r) => `${ms(percentile(r.handOffPaused, 50))} / ${ms(percentile(r.handOffPaused, 99))}`],
    ['freed slots taken by a newer request ahead of waiters', (r) => `${(r.barged * 100).toFixed(1)} %`],
    [`slot utilisation under backlog (hold ${HOLD_MS} ms)`, (r) => `${(r.utilisation * 100).toFixed(2)} %`],
    [`slot utilisation under backlog (hold ${LONG_HOLD_MS} ms)`, (r) => `${(r.utilisationLongHold * 100).toFixed(2)} %`],
    ['grants per second', (r) => r.cyclesPerSecond.toFixed(1)],
    ['wait for a slot p99 (ms)', (r) => ms(r.waitP99)],
    ['grants per worker min–max (24 workers)', (r) => r.fairness],
    ['round trips per acquire+release, uncontended', (r) => r.roundTripsUncontended.toFixed(2)],
    ['Redis commands per acquire+release, uncontended', (r) => r.commandsUncontended.toFixed(1)],
    ['round trips per acquire+release, contended (+ PINGs in a release\'s write)', (r) => `${r.roundTripsContended.toFixed(2)}${r.pingsContended > 0 ? ` (+${r.pingsContended.toFixed(2)})` : ''}`],
    ['Redis commands per acquire+release, contended', (r) => r.commandsContended.toFixed(1)],
    ['redis-server CPU per acquire+release, uncontended (µs)', (r) => r.redisCpuUncontended.toFixed(0)],
    ['redis-server CPU per acquire+release, contended (µs)', (r) => r.redisCpuContended.toFixed(0)],
  ];
  const header = ['', ...IMPLS];
  const table = [header, ...rows.map(([label, cell]) => [label, ...IMPLS.map((impl) => cell(results.get(impl)!))])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...table.slice(1).map(line)];
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  const floor = (f: number[]) => `${ms(percentile(f, 50))} / ${ms(percentile(f, 99))} ms`;
  process.stdout.write([
    '',
    `limit ${LIMIT}, ${PROCESSES} processes x ${WORKERS_PER_PROCESS} workers, ${SECONDS} s contended (${LONG_SECONDS} s with ${LONG_HOLD_MS} ms holds), ${UNCONTENDED_ROUNDS} uncontended rounds, node ${process.version}`,
    `machine: load average (1/5/15 min) ${load(loadBefore)} before, ${load(loadavg())} after`,
    `floor: bare PUBLISH to an idle process p50 / p99 ${floor(floorBefore)} before, ${floor(floorAfter)} after`,
    '',
    ...out,
    '',
  ].join('\n'));
}

await main();
// Library clients (bottleneck's in particular) may keep sockets and timers alive.
process.exit(0);
