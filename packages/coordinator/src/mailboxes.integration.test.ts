import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@smtp-slots/testkit';
import type { Lease } from '@smtp-slots/core';
import type { MailboxDetail, MailboxPage } from './index.js';
import { mailboxPath, randomMailbox, startTestCoordinator, type TestCoordinator } from './testing/fixture.js';

let coordinator: TestCoordinator;
beforeAll(async () => {
  coordinator = await startTestCoordinator();
});
afterAll(() => coordinator.close());

describe('GET /api/mailboxes/:address', () => {
  it('shows holders, waiters in order and counters from real leases, and follows a hand-off', async () => {
    const mailbox = randomMailbox('detail');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 3, ratePerMinute: 30, recipientsPerDay: 10_000 });
    const web1 = coordinator.slotClient('agent-web-1', 'web-1');
    const web2 = coordinator.slotClient('agent-web-2', 'web-2');
    const leases: Lease[] = [];
    for (const worker of ['w1', 'w2', 'w3']) leases.push(await web1.acquire(mailbox, { worker }));
    const queued = [web2.acquire(mailbox, { worker: 'w4' }), web2.acquire(mailbox, { worker: 'w5' })];
    queued[1]!.catch(() => undefined); // still queued when the client closes

    const detail = await waitFor(async () => {
      const { body } = await coordinator.call('GET', mailboxPath(mailbox));
      return (body as MailboxDetail).waiters?.length === 2 ? (body as MailboxDetail) : null;
    }, { message: 'two waiters' });
    expect(detail).toMatchObject({ address: mailbox, limit: 3, effectiveLimit: 3, inUse: 3, waiting: 2, paused: false });
    expect(detail.config).toEqual({ limit: 3, ratePerMinute: 30, recipientsPerDay: 10_000, paused: false });
    expect(detail.holders.map((h) => [h.slot, h.agent, h.host, h.worker, h.pid])).toEqual(
      leases.map((lease, i) => [lease.slot, 'agent-web-1', 'web-1', `w${i + 1}`, process.pid]).sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    for (const holder of detail.holders) {
      expect(holder.token).toBe(leases.find((lease) => lease.slot === holder.slot)!.token);
      expect(holder.heldForMs).toBeGreaterThanOrEqual(0);
      expect(holder.expiresInMs).toBeGreaterThan(0);
      expect(holder.expiresInMs).toBeLessThanOrEqual(15_000);
    }
    expect(detail.waiters.map((w) => [w.position, w.agent, w.worker])).toEqual([[1, 'agent-web-2', 'w4'], [2, 'agent-web-2', 'w5']]);
    expect(detail.rate.perMinute).toBe(30);
    expect(detail.recipients).toEqual({ perDay: 10_000, used24h: 0 });
    expect(detail.counters['grants']).toBe(3);

    // Releasing w2's slot hands it to the head waiter (w4) at once.
    const freed = leases[1]!;
    await freed.release();
    const w4 = await queued[0]!;
    expect(w4.slot).toBe(freed.slot);
    const after = (await coordinator.call('GET', mailboxPath(mailbox))).body as MailboxDetail;
    expect(after.holders.find((h) => h.slot === freed.slot)).toMatchObject({ agent: 'agent-web-2', host: 'web-2', worker: 'w4', token: w4.token });
    expect(after.waiters.map((w) => w.worker)).toEqual(['w5']);
    expect(after.counters['grants']).toBe(4);
  });

  it('answers 404 for an unknown mailbox and 400 naming a bad parameter', async () => {
    const missing = await coordinator.call('GET', mailboxPath(randomMailbox('missing')));
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'MAILBOX_NOT_FOUND', message: expect.stringContaining('is not registered') } });

    const badLimit = await coordinator.call('GET', '/api/mailboxes?limit=lots');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.code).toBe('INVALID_INPUT');
    expect(badLimit.body.error.message).toContain('limit');
    expect(badLimit.body.error.message).toContain('"lots"');

    const badState = await coordinator.call('GET', '/api/mailboxes?state=sleepy');
    expect(badState.status).toBe(400);
    expect(badState.body.error.message).toMatch(/state.*"sleepy"/);

    const unknownRoute = await coordinator.call('GET', '/api/nothing-here');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body.error.code).toBe('NOT_FOUND');
  });
});

describe('GET /api/mailboxes', () => {
  it('searches case-insensitively and filters by state', async () => {
    const tag = `Srch${Math.random().toString(36).slice(2, 8)}`;
    const [busy, idle, paused] = ['busy', 'idle', 'paused'].map((name) => `${name}-${tag.toLowerCase()}@example.test`) as [string, string, string];
    for (const mailbox of [busy, idle, paused]) await coordinator.admin.ensureMailbox(mailbox, { limit: 2 });
    await coordinator.admin.pause(paused, 'test');
    const lease = await coordinator.slotClient('agent-list', 'list-host').acquire(busy, { worker: 'w1' });

    const all = (await coordinator.call('GET', `/api/mailboxes?q=${tag.toUpperCase()}&limit=500`)).body as MailboxPage;
    const everything: MailboxPage['items'] = [...all.items];
    let cursor = all.nextCursor;
    while (cursor) {
      const page = (await coordinator.call('GET', `/api/mailboxes?q=${tag}&limit=500&cursor=${encodeURIComponent(cursor)}`)).body as MailboxPage;
      everything.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(everything.map((item) => item.address).sort()).toEqual([busy, idle, paused].sort());
    expect(all.total).toBeGreaterThanOrEqual(3);
    const busyItem = everything.find((item) => item.address === busy)!;
    expect(busyItem).toMatchObject({ inUse: 1, limit: 2, waiting: 0, paused: false });
    expect(busyItem.holders).toEqual([expect.objectContaining({ slot: lease.slot, agent: 'agent-list', host: 'list-host', worker: 'w1', token: lease.token })]);
    expect(everything.find((item) => item.address === paused)).toMatchObject({ paused: true, pauseReason: 'test' });

    const onlyPaused = await collect(`/api/mailboxes?q=${tag}&state=paused&limit=500`);
    expect(onlyPaused).toEqual([paused]);
    const onlyBusy = await collect(`/api/mailboxes?q=${tag}&state=busy&limit=500`);
    expect(onlyBusy).toEqual([busy]);
  });
});

async function collect(path: string): Promise<string[]> {
  const addresses: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (await coordinator.call('GET', cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path)).body as MailboxPage;
    addresses.push(...page.items.map((item) => item.address));
    cursor = page.nextCursor;
  } while (cursor);
  return addresses.sort();
}
