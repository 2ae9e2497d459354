import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from './index.js';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';

const USER = 'api@contoso.test';
let sim: ExchangeSim;

beforeEach(async () => {
  sim = await startExchangeSim({ users: [{ address: USER, password: 'pw' }] });
});
afterEach(() => sim.stop());

async function call(method: 'GET' | 'POST', path: string, body?: unknown) {
  const response = await fetch(`${sim.httpUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  expect(response.headers.get('content-type')).toBe('application/json');
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('HTTP stats and admin API', () => {
  it('serves health, full stats and one user (with or without the Message-ID list)', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, body: { ok: true } });
    const stats = await call('GET', '/stats');
    expect(stats.body).toMatchObject({ hostname: sim.hostname, connections: { open: 0, peak: 0, total: 0 } });
    expect(Object.keys(stats.body['users'] as object)).toEqual([USER]);

    const c = await RawSmtpClient.connect(sim.smtpPort);
    await c.login(USER, 'pw');
    const message = testMessage(USER, 'r@fabrikam.test');
    await c.sendMessage(USER, ['r@fabrikam.test'], message.raw);
    const user = await call('GET', `/stats/users/${encodeURIComponent(USER.toUpperCase())}`);
    expect(user.body).toMatchObject({ address: USER, accepted: 1, messageIds: [message.messageId], openSessions: 1 });
    const lean = await call('GET', `/stats/users/${encodeURIComponent(USER)}?messageIds=false`);
    expect(lean.body['messageIds']).toBeUndefined();
    expect(lean.body['accepted']).toBe(1);
    await c.quit();
  });

  it('sets, reads and clears faults globally and per user', async () => {
    expect(await call('POST', '/admin/faults', { transientRate: 0.25, latencyMs: [5, 10] })).toMatchObject({
      status: 200,
      body: { faults: { transientRate: 0.25, latencyMs: [5, 10], mailboxFull: false } },
    });
    expect(await call('POST', '/admin/faults', { user: USER, mailboxFull: true, disconnectNext: 2 })).toMatchObject({
      status: 200,
      body: { user: USER, faults: { mailboxFull: true, disconnectNext: 2, transientRate: 0.25 } },
    });
    expect((await call('GET', '/admin/faults')).body).toMatchObject({
      faults: { mailboxFull: false },
      overrides: { [USER]: { mailboxFull: true, disconnectNext: 2 } },
    });
    await call('POST', '/admin/faults', { user: USER, mailboxFull: null, disconnectNext: null });
    expect((await call('GET', `/admin/faults?user=${USER}`)).body).toMatchObject({ user: USER, faults: { mailboxFull: false } });
    expect(sim.getFaults(USER).mailboxFull).toBe(false);
  });

  it('occupies and releases outside sessions', async () => {
    const occupied = await call('POST', '/admin/occupy', { user: USER, count: 2 });
    expect(occupied).toEqual({ status: 200, body: { user: USER, ids: ['ext-1', 'ext-2'], countedSessions: 2 } });
    expect(sim.userStats(USER)).toMatchObject({ externalSessions: 2, openSessions: 0 });
    expect(await call('POST', '/admin/release', { user: USER, ids: ['ext-2'] })).toEqual({
      status: 200,
      body: { user: USER, released: 1, countedSessions: 1 },
    });
    expect((await call('POST', '/admin/release', { user: USER })).body).toMatchObject({ released: 1, countedSessions: 0 });
  });

  it('answers bad requests with 400/404 and one error shape', async () => {
    const cases: [number, string, Awaited<ReturnType<typeof call>>][] = [
      [400, 'INVALID_REQUEST', await call('POST', '/admin/faults', { transientRate: 'lots' })],
      [400, 'INVALID_REQUEST', await call('POST', '/admin/faults', '{not json')],
      [400, 'INVALID_REQUEST', await call('POST', '/admin/occupy', { user: USER, count: 0 })],
      [400, 'INVALID_REQUEST', await call('POST', '/admin/occupy', { user: 'nobody@contoso.test', count: 1 })],
      [400, 'INVALID_REQUEST', await call('GET', '/admin/reset')],
      [404, 'NOT_FOUND', await call('GET', '/stats/users/nobody%40contoso.test')],
      [404, 'NOT_FOUND', await call('GET', '/nothing-here')],
    ];
    for (const [status, code, result] of cases) {
      expect(result.status).toBe(status);
      expect(result.body).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it('never shows passwords or tokens', async () => {
    const text = JSON.stringify([(await call('GET', '/stats')).body, (await call('GET', '/admin/faults')).body]);
    expect(text).not.toContain('"pw"');
    expect(text).not.toContain('password');
  });
});
