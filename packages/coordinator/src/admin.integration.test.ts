import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@smtp-slots/testkit';
import type { MailboxDetail } from './index.js';
import { ADMIN_TOKEN, mailboxPath, randomMailbox, startTestCoordinator, type TestCoordinator } from './testing/fixture.js';

let coordinator: TestCoordinator;
beforeAll(async () => {
  coordinator = await startTestCoordinator();
});
afterAll(() => coordinator.close());

describe('admin authentication', () => {
  it('answers 401 without a Bearer token and 403 with a wrong one, and changes nothing', async () => {
    const mailbox = randomMailbox('auth');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 3 });
    const path = `${mailboxPath(mailbox)}/pause`;

    const none = await coordinator.call('POST', path);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.body.error.code).toBe('UNAUTHORIZED');

    const basic = await coordinator.call('POST', path, { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` });
    expect(basic.status).toBe(401);

    for (const token of ['wrong-token-but-long-enough', ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`]) {
      const wrong = await coordinator.call('POST', path, { token });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual({ error: { code: 'FORBIDDEN', message: 'the admin token is not valid' } });
    }
    expect((await coordinator.admin.getConfig(mailbox))?.paused).toBe(false);
    // Errors never echo the token back.
    expect(JSON.stringify(none.body)).not.toContain(ADMIN_TOKEN);
  });

  it('refuses every admin action when no token is configured', async () => {
    const open = await startTestCoordinator({ adminToken: undefined });
    try {
      const mailbox = randomMailbox('noadmin');
      await open.admin.ensureMailbox(mailbox, { limit: 3 });
      const response = await open.call('POST', `${mailboxPath(mailbox)}/pause`, { token: 'anything-at-all-here' });
      expect(response.status).toBe(403);
      expect(response.body.error.message).toContain('SMTP_SLOTS_ADMIN_TOKEN');
      expect((await open.admin.getConfig(mailbox))?.paused).toBe(false);
    } finally {
      await open.close();
    }
  });
});

describe('admin actions', () => {
  it('pauses and resumes: a paused mailbox grants no slot', async () => {
    const mailbox = randomMailbox('pause');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 2 });
    const client = coordinator.slotClient('agent-pause', 'pause-host');

    const paused = await coordinator.call('POST', `${mailboxPath(mailbox)}/pause`, { token: true, body: { reason: 'maintenance window' } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ address: mailbox, paused: true, pauseReason: 'maintenance window' });
    expect(await coordinator.admin.getConfig(mailbox)).toMatchObject({ paused: true, pauseReason: 'maintenance window' });
    await expect(client.acquire(mailbox, { worker: 'w1', timeoutMs: 2000 })).rejects.toMatchObject({ code: 'MAILBOX_PAUSED' });

    const resumed = await coordinator.call('POST', `${mailboxPath(mailbox)}/resume`, { token: true });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ paused: false, pauseReason: null });
    const lease = await client.acquire(mailbox, { worker: 'w1', timeoutMs: 5000 });
    expect(lease.slot).toBe(1);
  });

  it('changes config with validation naming the field and value', async () => {
    const mailbox = randomMailbox('config');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 3, ratePerMinute: 30 });
    const path = `${mailboxPath(mailbox)}/config`;

    const changed = await coordinator.call('PUT', path, { token: true, body: { limit: 5, ratePerMinute: 60 } });
    expect(changed.status).toBe(200);
    expect((changed.body as MailboxDetail).config).toMatchObject({ limit: 5, ratePerMinute: 60, recipientsPerDay: 10_000 });
    expect(await coordinator.admin.getConfig(mailbox)).toMatchObject({ limit: 5, ratePerMinute: 60 });

    for (const [body, field, shown] of [
      [{ limit: 0 }, 'limit', '0'],
      [{ limit: 'three' }, 'limit', '"three"'],
      [{ ratePerMinute: 2.5 }, 'ratePerMinute', '2.5'],
      [{ paused: true }, 'paused', ''],
      [{}, 'body', ''],
    ] as const) {
      const bad = await coordinator.call('PUT', path, { token: true, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error.code).toBe('INVALID_INPUT');
      expect(bad.body.error.message).toContain(field);
      expect(bad.body.error.message).toContain(shown);
    }
    const notJson = await coordinator.call('PUT', path, { token: true, body: '{"limit":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toEqual({ code: 'INVALID_INPUT', message: 'request body is not valid JSON' });
    expect(await coordinator.admin.getConfig(mailbox)).toMatchObject({ limit: 5 });

    const unknown = await coordinator.call('PUT', `${mailboxPath(randomMailbox('nobody'))}/config`, { token: true, body: { limit: 2 } });
    expect(unknown.status).toBe(404);
  });

  it('takes the same limit bounds as the agent config (one schema in core)', async () => {
    const mailbox = randomMailbox('bounds');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 3, ratePerMinute: 30 });
    const path = `${mailboxPath(mailbox)}/config`;

    const highest = await coordinator.call('PUT', path, { token: true, body: { limit: 1_000, ratePerMinute: 1_000_000, recipientsPerDay: 100_000_000 } });
    expect(highest.status).toBe(200);
    for (const [body, field] of [
      [{ limit: 1_001 }, 'limit'],
      [{ ratePerMinute: 1_000_001 }, 'ratePerMinute'],
      [{ recipientsPerDay: 100_000_001 }, 'recipientsPerDay'],
    ] as const) {
      const bad = await coordinator.call('PUT', path, { token: true, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error.message).toContain(field);
    }
  });

  it('force-releases a slot: the holder loses its lease and the slot goes to the next waiter', async () => {
    const mailbox = randomMailbox('force');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 1 });
    const holder = await coordinator.slotClient('agent-stuck', 'stuck-host').acquire(mailbox, { worker: 'w1' });
    const next = coordinator.slotClient('agent-next', 'next-host').acquire(mailbox, { worker: 'w2' });

    const bad = await coordinator.call('DELETE', `${mailboxPath(mailbox)}/leases/zero`, { token: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/slot.*"zero"/);

    const released = await coordinator.call('DELETE', `${mailboxPath(mailbox)}/leases/${holder.slot}`, { token: true });
    expect(released.status).toBe(204);
    await waitFor(() => holder.signal.aborted, { message: 'the holder to notice the force-release' });
    const granted = await next;
    expect(granted.slot).toBe(holder.slot);
    const detail = (await coordinator.call('GET', mailboxPath(mailbox))).body as MailboxDetail;
    expect(detail.holders).toEqual([expect.objectContaining({ agent: 'agent-next', worker: 'w2', token: granted.token })]);
    expect(granted.token).toBeGreaterThan(holder.token);

    await granted.release();
    const again = await coordinator.call('DELETE', `${mailboxPath(mailbox)}/leases/${holder.slot}`, { token: true });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('LEASE_NOT_FOUND');
  });
});
