import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, parseMetrics, RedisProcess, waitFor } from '@smtp-slots/testkit';
import type { MailboxPage } from './index.js';
import { OTHER_MAILBOXES } from './index.js';
import { startTestCoordinator, type TestCoordinator } from './testing/fixture.js';

const MAILBOXES = 10_000;
const address = (i: number) => `user${String(i).padStart(5, '0')}@scale.test`;

let redis: RedisProcess;
let coordinator: TestCoordinator;
beforeAll(async () => {
  redis = await RedisProcess.start();
  coordinator = await startTestCoordinator({ redisUrl: redis.url, metrics: { maxMailboxes: 20 } });
  for (let i = 0; i < MAILBOXES; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, j) => coordinator.admin.ensureMailbox(address(i + j), { limit: 3 })));
  }
});
afterAll(async () => {
  await coordinator.close();
  await redis.stop();
});

describe('10,000 mailboxes', () => {
  it('pages through every mailbox with a cursor', async () => {
    const first = (await coordinator.call('GET', '/api/mailboxes')).body as MailboxPage;
    expect(first.total).toBe(MAILBOXES);
    expect(first.items.length).toBeGreaterThan(0);
    expect(first.items.length).toBeLessThanOrEqual(100);
    expect(first.nextCursor).not.toBeNull();

    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const response = await coordinator.call('GET', `/api/mailboxes?limit=500${query}`);
      expect(response.status).toBe(200);
      const page = response.body as MailboxPage;
      for (const item of page.items) seen.add(item.address);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 200);
    expect(seen.size).toBe(MAILBOXES);
    expect(pages).toBeGreaterThanOrEqual(MAILBOXES / 1000);

    const search = (await coordinator.call('GET', '/api/mailboxes?q=USER0424&limit=500')).body as MailboxPage;
    const found: string[] = [...search.items.map((item) => item.address)];
    let next = search.nextCursor;
    while (next) {
      const page = (await coordinator.call('GET', `/api/mailboxes?q=user0424&limit=500&cursor=${encodeURIComponent(next)}`)).body as MailboxPage;
      found.push(...page.items.map((item) => item.address));
      next = page.nextCursor;
    }
    expect(found.sort()).toEqual(Array.from({ length: 10 }, (_, i) => address(4240 + i)));

    // A search for one mailbox finds it in the first answer, not after hundreds of empty pages.
    const one = (await coordinator.call('GET', `/api/mailboxes?q=${encodeURIComponent(address(7777))}`)).body as MailboxPage;
    expect(one.items.map((item) => item.address)).toEqual([address(7777)]);
  });

  it('keeps /metrics bounded: the busiest mailboxes get their own series, the rest sum into _other', async () => {
    const client = coordinator.slotClient('agent-scale', 'scale-host');
    await client.acquire(address(9876), { worker: 'w1' });
    await client.acquire(address(9876), { worker: 'w2' });
    await client.acquire(address(1234), { worker: 'w1' });

    const text = (await coordinator.call('GET', '/metrics')).body as string;
    const samples = parseMetrics(text);
    const limits = samples.filter((s) => s.name === 'smtp_slots_slots_limit');
    expect(limits).toHaveLength(21);
    expect(limits.map((s) => s.labels['mailbox'])).toContain(OTHER_MAILBOXES);
    expect(limits.reduce((sum, s) => sum + s.value, 0)).toBe(3 * MAILBOXES);
    expect(metricValue(samples, 'smtp_slots_slots_limit', { mailbox: OTHER_MAILBOXES })).toBe(3 * (MAILBOXES - 20));
    // The quota and rate limits are bounded alike, so recipients_24h / recipients_limit is a ratio per series.
    expect(samples.filter((s) => s.name === 'smtp_slots_recipients_limit')).toHaveLength(21);
    expect(metricValue(samples, 'smtp_slots_recipients_limit', { mailbox: OTHER_MAILBOXES })).toBe(10_000 * (MAILBOXES - 20));
    expect(samples.filter((s) => s.name === 'smtp_slots_rate_limit_per_minute')).toHaveLength(21);
    expect(metricValue(samples, 'smtp_slots_rate_limit_per_minute', { mailbox: address(9876) })).toBe(30);
    expect(metricValue(samples, 'smtp_slots_slots_in_use', { mailbox: address(9876) })).toBe(2);
    expect(metricValue(samples, 'smtp_slots_slots_in_use', { mailbox: address(1234) })).toBe(1);
    expect(metricValue(samples, 'smtp_slots_mailboxes')).toBe(MAILBOXES);
    const mailboxLabels = new Set(samples.map((s) => s.labels['mailbox']).filter((v) => v !== undefined));
    expect(mailboxLabels.size).toBe(21);
    expect(samples.length).toBeLessThan(1000);
  });

  it('above metrics.cacheAboveMailboxes a scrape shows the state read after the previous one, and says how old it is', async () => {
    const mailbox = address(4321);
    const client = coordinator.slotClient('agent-scale-cache', 'scale-host');
    // Busy before the coordinator below starts: it gets a series of its own.
    await client.acquire(mailbox, { worker: 'w1' });
    // A coordinator of its own: its first scrape reads for itself and starts no read that could see the second lease.
    const own = await startTestCoordinator({ redisUrl: redis.url, metrics: { maxMailboxes: 20 } });
    const samplesOf = async () => parseMetrics((await own.call('GET', '/metrics')).body as string);
    const first = await samplesOf();
    expect(metricValue(first, 'smtp_slots_slots_in_use', { mailbox })).toBe(1);
    expect(metricValue(first, 'smtp_slots_coordinator_state_age_seconds')).toBe(0);
    await client.acquire(mailbox, { worker: 'w2' });

    const stale = await samplesOf();
    expect(metricValue(stale, 'smtp_slots_slots_in_use', { mailbox })).toBe(1);
    expect(metricValue(stale, 'smtp_slots_coordinator_state_age_seconds')).toBeGreaterThan(0);
    // The read that scrape started in the background shows the second lease to a later scrape.
    await waitFor(async () => metricValue(await samplesOf(), 'smtp_slots_slots_in_use', { mailbox }) === 2, { message: 'the second lease in a later scrape' });
    await client.close();
    await own.close();
  });
});
