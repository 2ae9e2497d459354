import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, parseMetrics, RedisProcess, waitFor } from '@smtp-slots/testkit';
import { AgentRegistry, incrementCounter, settlesWithin } from '@smtp-slots/core';
import { HUNG_FLOOR_MS, READ_TIMEOUT_MS } from './metrics/cluster-metrics.js';
import { randomMailbox, startTestCoordinator, type TestCoordinator } from './testing/fixture.js';

const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL);
/** Far above a scrape served from the cache, below the bound on one read of the cluster state. */
const PROMPT_SCRAPE_MS = 4_000;

let redis: RedisProcess;
let coordinator: TestCoordinator;
const busy = randomMailbox('metrics-busy');
const paused = randomMailbox('metrics-paused');

beforeAll(async () => {
  redis = await RedisProcess.start();
  coordinator = await startTestCoordinator({ redisUrl: redis.url });
  await coordinator.admin.ensureMailbox(busy, { limit: 3, ratePerMinute: 20, recipientsPerDay: 8000 });
  await coordinator.admin.ensureMailbox(paused, { limit: 2 });
  await coordinator.admin.pause(paused, 'quota');
  await incrementCounter(coordinator.redis, busy, 'sent', 5);
  await incrementCounter(coordinator.redis, busy, 'rejections:432', 2);
  await incrementCounter(coordinator.redis, busy, 'deferred:421', 1);
  await incrementCounter(coordinator.redis, busy, 'failed:550', 1);
  await incrementCounter(coordinator.redis, busy, 'rejections:not-a-code', 1);
  await new AgentRegistry(coordinator.redis).heartbeat(
    { agentId: 'agent-m', host: 'metrics-host', pid: 1, version: '0.1.0', spoolDepth: 7, mailboxes: [busy, paused], startedAt: Date.now() },
    60_000,
  );
});
afterAll(async () => {
  await coordinator.close();
  await redis.stop();
});

describe('GET /metrics', () => {
  it('reads slot state from Redis at scrape time', async () => {
    const client = coordinator.slotClient('agent-m', 'metrics-host');
    const first = await client.acquire(busy, { worker: 'w1' });
    await client.acquire(busy, { worker: 'w2' });
    await client.acquire(busy, { worker: 'w3' });
    const waiting = client.acquire(busy, { worker: 'w4' });
    waiting.catch(() => undefined); // awaited below; closing the client must not leave it unhandled
    await waitFor(async () => (await coordinator.admin.snapshot(busy))?.waiters.length === 1, { message: 'a waiter' });

    const response = await coordinator.call('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const samples = parseMetrics(response.body as string);
    const at = (name: string, labels: Record<string, string>) => metricValue(samples, name, labels);
    expect(at('smtp_slots_slots_limit', { mailbox: busy })).toBe(3);
    expect(at('smtp_slots_slots_effective_limit', { mailbox: busy })).toBe(3);
    expect(at('smtp_slots_slots_in_use', { mailbox: busy })).toBe(3);
    expect(at('smtp_slots_slots_waiters', { mailbox: busy })).toBe(1);
    expect(at('smtp_slots_mailbox_paused', { mailbox: busy })).toBe(0);
    expect(at('smtp_slots_mailbox_paused', { mailbox: paused })).toBe(1);
    expect(at('smtp_slots_slot_grants_total', { mailbox: busy })).toBe(3);
    expect(at('smtp_slots_messages_sent_total', { mailbox: busy })).toBe(5);
    expect(at('smtp_slots_upstream_rejections_total', { mailbox: busy, code: '432' })).toBe(2);
    expect(at('smtp_slots_upstream_rejections_total', { mailbox: busy, code: 'other' })).toBe(1);
    expect(at('smtp_slots_messages_deferred_total', { mailbox: busy, code: '421' })).toBe(1);
    expect(at('smtp_slots_messages_failed_total', { mailbox: busy, code: '550' })).toBe(1);
    expect(at('smtp_slots_rate_tokens_available', { mailbox: busy })).toBeGreaterThan(0);
    expect(at('smtp_slots_recipients_24h', { mailbox: busy })).toBe(0);
    expect(at('smtp_slots_recipients_limit', { mailbox: busy })).toBe(8000);
    expect(at('smtp_slots_recipients_limit', { mailbox: paused })).toBe(10_000);
    expect(at('smtp_slots_rate_limit_per_minute', { mailbox: busy })).toBe(20);
    expect(at('smtp_slots_rate_limit_per_minute', { mailbox: paused })).toBe(30);
    expect(at('smtp_slots_mailboxes', {})).toBe(2);
    expect(at('smtp_slots_agents', { state: 'alive' })).toBe(1);
    expect(at('smtp_slots_spool_messages', { agent: 'agent-m' })).toBe(7);
    // Alive means heard from within its heartbeat ttl (60 s here).
    expect(at('smtp_slots_agent_last_seen_seconds', { agent: 'agent-m' })).toBeGreaterThanOrEqual(0);
    expect(at('smtp_slots_agent_last_seen_seconds', { agent: 'agent-m' })).toBeLessThanOrEqual(60);
    // Known series exist at 0 before anything happened.
    expect(at('smtp_slots_upstream_rejections_total', { mailbox: paused, code: '432' })).toBe(0);
    expect(at('smtp_slots_messages_sent_total', { mailbox: paused })).toBe(0);
    expect(at('smtp_slots_leases_expired_total', { mailbox: paused })).toBe(0);
    expect(at('smtp_slots_coordinator_redis_up', {})).toBe(1);
    // Nothing unbounded or secret in labels.
    for (const sample of samples) {
      expect(Object.keys(sample.labels).every((label) => ['mailbox', 'code', 'agent', 'state', 'method', 'route', 'status', 'type', 'kind', 'le', 'version', 'quantile', 'space', 'major', 'minor', 'patch'].includes(label)), JSON.stringify(sample)).toBe(true);
    }

    await first.release();
    await waiting;
    const after = parseMetrics((await coordinator.call('GET', '/metrics')).body as string);
    expect(metricValue(after, 'smtp_slots_slots_waiters', { mailbox: busy })).toBe(0);
    expect(metricValue(after, 'smtp_slots_slot_grants_total', { mailbox: busy })).toBe(4);
  });

  it('counts its own HTTP requests by route pattern, never by raw path', async () => {
    await coordinator.call('GET', `/api/mailboxes/${encodeURIComponent(busy)}`);
    await coordinator.call('GET', '/api/mailboxes/nobody%40example.test');
    const samples = parseMetrics((await coordinator.call('GET', '/metrics')).body as string);
    expect(metricValue(samples, 'smtp_slots_coordinator_http_requests_total', { method: 'GET', route: '/api/mailboxes/:address', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(samples, 'smtp_slots_coordinator_http_requests_total', { method: 'GET', route: '/api/mailboxes/:address', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes('@')) && s.name.startsWith('smtp_slots_coordinator_'))).toBe(false);
  });

  // Skipped (and listed as skipped) when promtool is missing: apt-get install prometheus.
  it.skipIf(!hasPromtool)(`passes promtool check metrics on a live scrape${hasPromtool ? '' : ' (skipped: /usr/bin/promtool not installed, apt-get install prometheus)'}`, async () => {
    const scrape = (await coordinator.call('GET', '/metrics')).body as string;
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
  it('above metrics.cacheAboveMailboxes, a frozen or dead Redis shows as redis_up 0 in prompt scrapes, and up again after', async () => {
    // Its own Redis (killed below) and coordinator: every scrape past its first is served from the cache.
    const own = await RedisProcess.start();
    const cached = await startTestCoordinator({ redisUrl: own.url, metrics: { cacheAboveMailboxes: 0 } });
    const mailbox = randomMailbox('metrics-cached');
    const scrape = async () => {
      const answer = cached.call('GET', '/metrics');
      expect(await settlesWithin(answer, PROMPT_SCRAPE_MS), 'a scrape answers while Redis does not').toBe(true);
      return parseMetrics((await answer).body as string);
    };
    const up = (samples: ReturnType<typeof parseMetrics>) => metricValue(samples, 'smtp_slots_coordinator_redis_up');
    const recovered = async (message: string) => {
      await waitFor(async () => up(await scrape()) === 1, { timeoutMs: 15_000, message });
      await cached.admin.ensureMailbox(mailbox, { limit: 3 });
      await waitFor(async () => metricValue(await scrape(), 'smtp_slots_slots_limit', { mailbox }) === 3, { timeoutMs: 15_000, message });
    };
    try {
      await cached.admin.ensureMailbox(mailbox, { limit: 3 });
      expect(up(await scrape())).toBe(1);
      const served = await scrape();
      expect(up(served)).toBe(1);
      expect(metricValue(served, 'smtp_slots_coordinator_state_age_seconds')).toBeGreaterThan(0);

      own.pause();
      try {
        // The first scrapes may show the state read before the freeze; the read they started never answers.
        await waitFor(async () => up(await scrape()) === 0, { timeoutMs: HUNG_FLOOR_MS + PROMPT_SCRAPE_MS, message: 'redis_up 0 while frozen' });
        const frozen = await scrape();
        expect(up(frozen)).toBe(0);
        expect(metricValue(frozen, 'smtp_slots_slots_limit', { mailbox })).toBeUndefined();
      } finally {
        own.resume();
      }
      await recovered('redis_up 1 after SIGCONT');

      await own.kill();
      await waitFor(async () => ((await cached.call('GET', '/healthz')).body as { redis: string }).redis === 'down', { message: 'the connection seen down' });
      // The read before the kill succeeded, yet the very next scrape says Redis is gone.
      expect(up(await scrape())).toBe(0);
      expect(up(await scrape())).toBe(0);
      await own.restart();
      await recovered('redis_up 1 after a restart');
    } finally {
      await cached.close();
      await own.stop();
    }
  });
  it('reading for itself, a scrape answers redis_up 0 once the read bound passes while Redis is frozen, instead of hanging', async () => {
    redis.pause();
    try {
      const answer = coordinator.call('GET', '/metrics');
      expect(await settlesWithin(answer, READ_TIMEOUT_MS + PROMPT_SCRAPE_MS), 'the scrape answers').toBe(true);
      const samples = parseMetrics((await answer).body as string);
      expect(metricValue(samples, 'smtp_slots_coordinator_redis_up')).toBe(0);
      expect(metricValue(samples, 'smtp_slots_slots_limit', { mailbox: busy })).toBeUndefined();
    } finally {
      redis.resume();
    }
    await waitFor(async () => metricValue(parseMetrics((await coordinator.call('GET', '/metrics')).body as string), 'smtp_slots_coordinator_redis_up') === 1, {
      timeoutMs: 15_000,
      message: 'redis_up 1 after SIGCONT',
    });
  });
});
