/**
 * Quorum mode next to the default backend: limit 3, 24 workers in 4 processes, the same
 * measurements as run.ts. The default backend runs on one Redis, quorum mode on 3 independent
 * masters (all on this machine, so the extra cost shown is round trips, not network distance).
 *   BENCH_SECONDS         contended run length per backend (default 8)
 *   BENCH_HOLD_MS         how long a worker holds its slot (default 50)
 *   BENCH_QUORUM_POLL_MS  quorum waiters' re-check interval (default 50, the library default)
 * Run alone: node --import tsx --conditions=source bench/quorum.bench.ts
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import type { Cycle } from './bench-worker.js';
import { openBackend, type Backend, type QuorumWorkerConfig } from './quorum-worker.js';
import { handOffs, percentile, utilisation } from './stats.js';

const LIMIT = 3;
const PROCESSES = 4;
const WORKERS_PER_PROCESS = 6;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const HOLD_MS = Number(process.env['BENCH_HOLD_MS'] ?? 50);
const POLL_MS = Number(process.env['BENCH_QUORUM_POLL_MS'] ?? 50);
const LEASE_TTL_MS = 5_000;
const UNCONTENDED_ROUNDS = 1000;
const WORKER = fileURLToPath(new URL('./quorum-worker.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

interface Result {
  acquire: number[];
  release: number[];
  handOff: number[];
  utilisation: number;
  grantsPerSecond: number;
  waitP99: number;
  fairness: string;
  roundTrips: number;
}

async function uncontended(backend: Backend, urls: string[], key: string, rounds: number) {
  const slots = await openBackend({ backend, urls, leaseTtlMs: LEASE_TTL_MS, pollMs: POLL_MS });
  const acquire: number[] = [];
  const release: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const t0 = now();
    const lease = await slots.acquire(key, { worker: 'solo' });
    const t1 = now();
    await lease.release();
    acquire.push(t1 - t0);
    release.push(now() - t1);
  }
  await slots.close();
  return { acquire, release };
}

async function contended(backend: Backend, urls: string[], key: string): Promise<Cycle[]> {
  const config: QuorumWorkerConfig = { backend, urls, key, workers: WORKERS_PER_PROCESS, holdMs: HOLD_MS, leaseTtlMs: LEASE_TTL_MS, pollMs: POLL_MS };
  const children = Array.from({ length: PROCESSES }, () =>
    fork(WORKER, [], { cwd: PACKAGE_DIR, execArgv: ['--import', 'tsx', '--conditions=source'], env: { ...process.env, QUORUM_BENCH_WORKER: JSON.stringify(config) } }));
  const runs = children.map((child) => ({
    ready: new Promise<void>((resolve) => child.once('message', () => resolve())),
    done: new Promise<Cycle[]>((resolve) => child.on('message', (m: { type: string; cycles?: Cycle[] }) => m.type === 'done' && resolve(m.cycles!))),
  }));
  await Promise.all(runs.map((r) => r.ready));
  const endAt = now() + SECONDS * 1000;
  for (const child of children) child.send({ endAt });
  const cycles = (await Promise.all(runs.map((r) => r.done))).flat();
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  return cycles;
}

/** Commands clients sent to all servers per uncontended acquire+release (MONITOR on each). */
async function roundTrips(backend: Backend, urls: string[], key: string): Promise<number> {
  const clients = urls.map((url) => new Redis(url));
  const monitors = await Promise.all(clients.map((c) => c.monitor()));
  let sent = 0;
  for (const m of monitors) m.on('monitor', (_t: string, _a: string[], source: string) => void (source !== 'lua' && (sent += 1)));
  const rounds = 200;
  await uncontended(backend, urls, key, rounds);
  await new Promise((r) => setTimeout(r, 200));
  for (const c of [...monitors, ...clients]) c.disconnect();
  return sent / rounds;
}

async function measure(backend: Backend, urls: string[]): Promise<Result> {
  const tag = `${backend}-${Date.now()}`;
  await uncontended(backend, urls, `warm-${tag}`, 100);
  const { acquire, release } = await uncontended(backend, urls, `u-${tag}`, UNCONTENDED_ROUNDS);
  const cycles = await contended(backend, urls, `c-${tag}`);
  const from = Math.min(...cycles.map((c) => c[2])) + 1000;
  const to = Math.max(...cycles.map((c) => c[3])) - 1000;
  const perWorker = new Map<string, number>();
  for (const [worker] of cycles) perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
  const counts = [...perWorker.values()];
  return {
    acquire,
    release,
    handOff: handOffs(cycles, LIMIT).latency,
    utilisation: utilisation(cycles, LIMIT, from, to),
    grantsPerSecond: cycles.filter((c) => c[2] >= from && c[2] <= to).length / ((to - from) / 1000),
    waitP99: percentile(cycles.map((c) => c[2] - c[1]), 99),
    fairness: `${Math.min(...counts)}–${Math.max(...counts)} of ${counts.length}`,
    roundTrips: await roundTrips(backend, urls, `m-${tag}`),
  };
}

async function main(): Promise<void> {
  const servers = await Promise.all([0, 1, 2, 3].map(() => RedisProcess.start()));
  const single = [servers[0]!.url];
  const masters = servers.slice(1).map((s) => s.url);
  const results = new Map<string, Result>();
  try {
    process.stderr.write('bench: default backend (SlotClient, 1 Redis)...\n');
    results.set('SlotClient, 1 Redis', await measure('slot-client', single));
    // Quorum masters vote only after one lease TTL of uptime (restart safety).
    const probe = await openBackend({ backend: 'quorum', urls: masters, leaseTtlMs: LEASE_TTL_MS, pollMs: POLL_MS });
    const lease = await waitFor(() => probe.tryAcquire('probe', { worker: 'probe' }), { timeoutMs: 30_000 });
    await lease.release();
    await probe.close();
    process.stderr.write('bench: quorum mode (redlock, 3 masters)...\n');
    results.set('quorum, 3 masters', await measure('quorum', masters));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const names = [...results.keys()];
  const rows: Array<[string, (r: Result) => string]> = [
    ['uncontended acquire p50 / p99 (ms)', (r) => `${ms(percentile(r.acquire, 50))} / ${ms(percentile(r.acquire, 99))}`],
    ['uncontended release p50 / p99 (ms)', (r) => `${ms(percentile(r.release, 50))} / ${ms(percentile(r.release, 99))}`],
    ['hand-off release→next grant p50 / p99 (ms)', (r) => `${ms(percentile(r.handOff, 50))} / ${ms(percentile(r.handOff, 99))}`],
    [`slot utilisation under backlog (hold ${HOLD_MS} ms)`, (r) => `${(r.utilisation * 100).toFixed(2)} %`],
    ['grants per second', (r) => r.grantsPerSecond.toFixed(1)],
    ['wait for a slot p99 (ms)', (r) => ms(r.waitP99)],
    ['grants per worker min–max', (r) => r.fairness],
    ['client commands per acquire+release (all servers)', (r) => r.roundTrips.toFixed(1)],
  ];
  const header = ['', ...names];
  const table = [header, ...rows.map(([label, cell]) => [label, ...names.map((n) => cell(results.get(n)!))])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...table.slice(1).map(line)];
  const load = loadavg().map((v) => v.toFixed(2)).join(' ');
  process.stdout.write(`\nquorum mode vs default: limit ${LIMIT}, ${PROCESSES} processes x ${WORKERS_PER_PROCESS} workers, ${SECONDS} s contended, quorum poll ${POLL_MS} ms, node ${process.version}\nmachine: load average (1/5/15 min) ${load} at the end\n\n${out.join('\n')}\n`);
}

await main();
