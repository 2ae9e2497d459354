/**
 * `pnpm bench`: how the coordinator answers with many mailboxes registered. Starts its own
 * redis-server, seeds N mailboxes (a few with held leases, some with recipients and counters)
 * and times the list, detail and /metrics endpoints over a real socket. Prints one row per
 * mailbox count, beside the figures measured before the bulk snapshot read and the goal.
 */
import { Redis } from 'ioredis';
import { MailboxAdmin, mailboxKeys, SlotClient } from '@smtp-slots/core';
import { RedisProcess } from '@smtp-slots/testkit';
import { parseConfig } from '../config.js';
import { startCoordinator } from '../main.js';

const SIZES = (process.env['BENCH_SIZES'] ?? '1000,10000,50000').split(',').map(Number);
const ROUNDS = 30;

/**
 * p50 in ms with one snapshot script per mailbox (before the bulk read), measured by this bench
 * on the same 2-core machine under a load average of ~35 (so both columns are inflated alike;
 * issue 16 measured /metrics at 10,000 mailboxes at 740 ms on a quiet machine). Goal: issue 16.
 */
const BEFORE_METRICS_MS: Record<number, number> = { 1_000: 716, 10_000: 6_701, 50_000: 20_271 };
const BEFORE_LIST500_MS: Record<number, number> = { 1_000: 329, 10_000: 120, 50_000: 224 };
const GOAL_METRICS_MS = 200;

async function time(url: string, rounds: number): Promise<{ p50: number; p95: number }> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)]!, p95: samples[Math.floor(samples.length * 0.95)]! };
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

  const config = parseConfig({ redis: { url: server.url }, http: { port: 0 }, logLevel: 'silent' });
  if (!config.ok || config.help) throw new Error('bad config');
  const coordinator = await startCoordinator(config.config);
  const list50 = await time(`${coordinator.url}/api/mailboxes?limit=50`, ROUNDS);
  const list500 = await time(`${coordinator.url}/api/mailboxes?limit=500`, ROUNDS);
  const detail = await time(`${coordinator.url}/api/mailboxes/user7%40bench.test`, ROUNDS);
  const metrics = await time(`${coordinator.url}/metrics`, size > 10_000 ? 3 : 5);
  const walk = await fullWalk(coordinator.url);
  const scrape = await (await fetch(`${coordinator.url}/metrics`)).text();
  const series = scrape.split('\n').filter((line) => line.startsWith('smtp_slots_') && !line.startsWith('smtp_slots_coordinator_')).length;
  rows.push(
    `| ${size.toLocaleString('en')} | ${list50.p50.toFixed(1)} | ${list500.p50.toFixed(1)} (${fmt(BEFORE_LIST500_MS[size] ?? 0)}) | ${detail.p50.toFixed(1)} | ${walk.ms.toFixed(0)} (${walk.pages} pages) | **${metrics.p50.toFixed(0)}** / ${metrics.p95.toFixed(0)} | ${fmt(BEFORE_METRICS_MS[size] ?? 0)} | ${size <= 10_000 ? `<= ${GOAL_METRICS_MS}` : 'measured'} | ${series} |`,
  );
  await client.close();
  await coordinator.close();
  await redis.quit();
  await server.stop();
}

process.stdout.write(
  [
    'coordinator at scale (ms, p50 over a real socket, local redis-server; before = one snapshot script per mailbox)',
    '',
    '| mailboxes | list limit=50 | list limit=500 (before) | detail | walk all, limit=500 | /metrics p50 / p95 | /metrics before | goal | cluster series |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
