/**
 * `pnpm bench`: how the coordinator answers with many mailboxes registered. Starts its own
 * redis-server, seeds N mailboxes (a few with held leases, some with recipients and counters)
 * and times the list, detail and /metrics endpoints over a real socket. Side by side in one run:
 * the read of every mailbox /metrics made before (snapshots()) against the one it makes now
 * (figures()), with Redis CPU per read, and /metrics with and without the cached state.
 * Prints two rows' tables per mailbox count, beside the figures recorded before and the goal.
 */
import { Redis } from 'ioredis';
import { MailboxAdmin, mailboxKeys, SlotClient } from '@smtp-slots/core';
import { RedisProcess } from '@smtp-slots/testkit';
import { parseConfig } from '../config.js';
import { startCoordinator } from '../main.js';

const SIZES = (process.env['BENCH_SIZES'] ?? '1000,10000,50000').split(',').map(Number);
const ROUNDS = 30;
const READS = 5;

/**
 * p50 in ms with one snapshot script per mailbox (before the bulk read), measured by this bench
 * on the same 2-core machine under a load average of ~35 (/metrics at 10,000 mailboxes took
 * 740 ms on a quiet machine). The goal: 200 ms at 10,000 mailboxes.
 */
const BEFORE_METRICS_MS: Record<number, number> = { 1_000: 716, 10_000: 6_701, 50_000: 20_271 };
const BEFORE_LIST500_MS: Record<number, number> = { 1_000: 329, 10_000: 120, 50_000: 224 };
const GOAL_METRICS_MS = 200;

async function time(url: string, rounds: number, gapMs = 0): Promise<{ p50: number; p95: number }> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)]!, p95: samples[Math.floor(samples.length * 0.95)]! };
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** p50 wall time and mean Redis CPU of `read` over READS runs. */
async function timeRead(redis: Redis, read: () => Promise<unknown>): Promise<{ p50: number; cpu: number }> {
  await read();
  const samples: number[] = [];
  const cpuBefore = await redisCpuMs(redis);
  for (let i = 0; i < READS; i++) {
    const started = performance.now();
    await read();
    samples.push(performance.now() - started);
  }
  const cpu = ((await redisCpuMs(redis)) - cpuBefore) / READS;
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)]!, cpu };
}

async function fullWalk(base: string): Promise<{ ms: number; pages: number }> {
  const started = performance.now();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = (await (await fetch(`${base}/api/mailboxes?limit=500${query}`)).json()) as { nextCursor: string | null };
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { ms: performance.now() - started, pages };
}

/** Every tenth mailbox has sent mail: a day of recipient buckets (one per minute) and counters. */
async function seedTraffic(redis: Redis, size: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < size; i += 10 * 100) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(size, i + 1000); j += 10) {
      const k = mailboxKeys(`user${j}@bench.test`);
      for (let m = 0; m < 60; m++) {
        const bucket = Math.floor((now - m * 60_000) / 60_000) * 60_000;
        pipeline.zadd(k.recipients, bucket, bucket).hincrby(k.recipientCounts, String(bucket), 2).hincrby(k.recipientCounts, 'total', 2);
      }
      pipeline.hset(k.stats, 'sent', 60, 'deferred:451', 1);
    }
    await pipeline.exec();
  }
}

const rows: string[] = [];
const reads: string[] = [];
const fmt = (value: number) => (value > 0 ? value.toFixed(0) : 'n/a');
for (const size of SIZES) {
  const server = await RedisProcess.start();
  const redis = new Redis(server.url);
  const admin = new MailboxAdmin(redis);
  for (let i = 0; i < size; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, size - i) }, (_, j) => admin.ensureMailbox(`user${i + j}@bench.test`, { limit: 3 })));
  }
  await seedTraffic(redis, size);
  const client = new SlotClient({ redis, holder: { agentId: 'bench', host: 'bench', pid: process.pid }, epochGraceMs: 0 });
  for (let i = 0; i < 20; i++) await client.acquire(`user${i * 7}@bench.test`, { worker: 'w1' });

  const names = await redis.smembers('ss:mailboxes');
  const before = await timeRead(redis, () => admin.snapshots(names));
  const after = await timeRead(redis, () => admin.figures(names));
  const start = async (cacheAboveMailboxes: number) => {
    const config = parseConfig({ redis: { url: server.url }, http: { port: 0 }, logLevel: 'silent', metrics: { cacheAboveMailboxes } });
    if (!config.ok || config.help) throw new Error('bad config');
    return startCoordinator(config.config);
  };
  const uncachedCoordinator = await start(Number.MAX_SAFE_INTEGER);
  const uncached = await time(`${uncachedCoordinator.url}/metrics`, size > 10_000 ? 3 : 5);
  await uncachedCoordinator.close();
  const coordinator = await start(2_000);
  const list50 = await time(`${coordinator.url}/api/mailboxes?limit=50`, ROUNDS);
  const list500 = await time(`${coordinator.url}/api/mailboxes?limit=500`, ROUNDS);
  const detail = await time(`${coordinator.url}/api/mailboxes/user7%40bench.test`, ROUNDS);
  // Spaced like Prometheus scrapes (if far less apart): the read each one starts is done before the next.
  await time(`${coordinator.url}/metrics`, 1); // the first scrape reads for itself: it has no cached state yet
  const metrics = await time(`${coordinator.url}/metrics`, 10, size > 10_000 ? 3_000 : 1_000);
  const walk = await fullWalk(coordinator.url);
  const scrape = await (await fetch(`${coordinator.url}/metrics`)).text();
  const series = scrape.split('\n').filter((line) => line.startsWith('smtp_slots_') && !line.startsWith('smtp_slots_coordinator_')).length;
  const age = Number(/^smtp_slots_coordinator_state_age_seconds ([\d.e+-]+)$/m.exec(scrape)?.[1] ?? NaN);
  const goal = size <= 10_000 ? `<= ${GOAL_METRICS_MS}` : 'measured';
  reads.push(
    `| ${size.toLocaleString('en')} | ${before.p50.toFixed(0)} / ${before.cpu.toFixed(0)} | **${after.p50.toFixed(0)}** / ${after.cpu.toFixed(0)} | ${(before.p50 / after.p50).toFixed(1)}x | ${uncached.p50.toFixed(0)} / ${uncached.p95.toFixed(0)} | ${goal} |`,
  );
  rows.push(
    `| ${size.toLocaleString('en')} | ${list50.p50.toFixed(1)} | ${list500.p50.toFixed(1)} (${fmt(BEFORE_LIST500_MS[size] ?? 0)}) | ${detail.p50.toFixed(1)} | ${walk.ms.toFixed(0)} (${walk.pages} pages) | **${metrics.p50.toFixed(1)}** / ${metrics.p95.toFixed(1)} | ${age.toFixed(2)} | ${fmt(BEFORE_METRICS_MS[size] ?? 0)} | ${goal} | ${series} |`,
  );
  await client.close();
  await coordinator.close();
  await redis.quit();
  await server.stop();
}

process.stdout.write(
  [
    'coordinator: reading every mailbox for /metrics, before (snapshots: whole state) vs after (figures: counted in Redis), one run',
    '',
    '| mailboxes | snapshots ms p50 / Redis CPU ms | figures ms p50 / Redis CPU ms | speed-up | /metrics uncached p50 / p95 ms | goal |',
    '|---:|---:|---:|---:|---:|---:|',
    ...reads,
    '',
    'coordinator at scale (ms, p50 over a real socket, local redis-server; /metrics with the default metrics.cacheAboveMailboxes = 2,000, scrapes 1 s apart, 3 s at 50,000)',
    '',
    '| mailboxes | list limit=50 | list limit=500 (before) | detail | walk all, limit=500 | /metrics p50 / p95 | state age s | /metrics before | goal | cluster series |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
