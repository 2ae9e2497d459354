/**
 * `pnpm bench`: how the coordinator answers with many mailboxes registered. Starts its own
 * redis-server, seeds N mailboxes (a few with held leases) and times the list, detail and
 * /metrics endpoints over a real socket. Prints one table row per mailbox count.
 */
import { Redis } from 'ioredis';
import { MailboxAdmin, SlotClient } from '@smtp-slots/core';
import { RedisProcess } from '@smtp-slots/testkit';
import { parseConfig } from '../config.js';
import { startCoordinator } from '../main.js';

const SIZES = [1_000, 10_000];
const ROUNDS = 30;

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

const rows: string[] = [];
for (const size of SIZES) {
  const server = await RedisProcess.start();
  const redis = new Redis(server.url);
  const admin = new MailboxAdmin(redis);
  for (let i = 0; i < size; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, size - i) }, (_, j) => admin.ensureMailbox(`user${i + j}@bench.test`, { limit: 3 })));
  }
  const client = new SlotClient({ redis, holder: { agentId: 'bench', host: 'bench', pid: process.pid }, epochGraceMs: 0 });
  for (let i = 0; i < 20; i++) await client.acquire(`user${i * 7}@bench.test`, { worker: 'w1' });

  const config = parseConfig({ redis: { url: server.url }, http: { port: 0 }, logLevel: 'silent' });
  if (!config.ok || config.help) throw new Error('bad config');
  const coordinator = await startCoordinator(config.config);
  const list50 = await time(`${coordinator.url}/api/mailboxes?limit=50`, ROUNDS);
  const list500 = await time(`${coordinator.url}/api/mailboxes?limit=500`, ROUNDS);
  const detail = await time(`${coordinator.url}/api/mailboxes/user7%40bench.test`, ROUNDS);
  const metrics = await time(`${coordinator.url}/metrics`, 5);
  const walk = await fullWalk(coordinator.url);
  const scrape = await (await fetch(`${coordinator.url}/metrics`)).text();
  const series = scrape.split('\n').filter((line) => line.startsWith('smtp_slots_') && !line.startsWith('smtp_slots_coordinator_')).length;
  rows.push(
    `| ${size.toLocaleString('en')} | ${list50.p50.toFixed(1)} / ${list50.p95.toFixed(1)} | ${list500.p50.toFixed(1)} / ${list500.p95.toFixed(1)} | ${detail.p50.toFixed(1)} | ${walk.ms.toFixed(0)} (${walk.pages} pages) | ${metrics.p50.toFixed(0)} / ${metrics.p95.toFixed(0)} | ${series} |`,
  );
  await client.close();
  await coordinator.close();
  await redis.quit();
  await server.stop();
}

process.stdout.write(
  [
    'coordinator at scale (ms; p50 / p95 over a real socket, local redis-server)',
    '',
    '| mailboxes | list limit=50 | list limit=500 | detail p50 | walk all, limit=500 | /metrics | cluster series |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
