import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@smtp-slots/testkit';
import { startExchangeSim, type ExchangeSim, type SimStats, type UserStats } from './index.js';

const USERS = ['alpha@contoso.test', 'beta@contoso.test'];
const LIMIT_REPLY =
  '432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=EXSIM01.prod.exchange-sim.local]';

let sim: ExchangeSim | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const getJson = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${sim!.httpUrl}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

function transport(user: string, pool: boolean) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: sim!.smtpPort,
    auth: { user, pass: 'pw' },
    ...(pool ? { pool: true, maxConnections: 3, maxMessages: 20 } : {}),
  });
}

describe('stats match what was sent', () => {
  it('reports every Message-ID exactly once per user, with peak concurrency and totals (library and HTTP agree)', async () => {
    sim = await startExchangeSim({ users: USERS.map((address) => ({ address, password: 'pw' })), ratePerMinute: 1000 });
    const sent = new Map<string, string[]>();
    await Promise.all(
      USERS.map(async (user) => {
        const t = transport(user, true);
        const infos = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            t.sendMail({ from: user, to: [`r${i}@fabrikam.test`, 'cc@fabrikam.test'], subject: `m${i}`, text: `body ${i}` }),
          ),
        );
        t.close();
        sent.set(user, infos.map((info) => info.messageId));
      }),
    );

    const viaHttp = await getJson<SimStats>('/stats');
    expect(viaHttp).toEqual(JSON.parse(JSON.stringify(sim.stats())));
    for (const user of USERS) {
      const stats = viaHttp.users[user]!;
      expect(stats.accepted).toBe(60);
      expect(new Set(stats.messageIds)).toEqual(new Set(sent.get(user)));
      expect(stats).toMatchObject({ duplicates: 0, duplicateMessageIds: [], withoutMessageId: 0, rejected432: 0, recipients24h: 120 });
      expect(stats.peakConcurrency).toBeGreaterThanOrEqual(1);
      expect(stats.peakConcurrency).toBeLessThanOrEqual(3);
    }
    expect(viaHttp.totals).toMatchObject({ accepted: 120, uniqueMessageIds: 120, duplicates: 0, rejected432: 0 });
    expect(viaHttp.connections.total).toBeGreaterThanOrEqual(2);
  });

  it('nodemailer sees the 432 verbatim when outside sessions hold the limit, and stats count it', async () => {
    sim = await startExchangeSim({ users: [{ address: USERS[0]!, password: 'pw' }] });
    sim.occupy(USERS[0]!, 3);
    const error = await transport(USERS[0]!, false)
      .sendMail({ from: USERS[0]!, to: 'r@fabrikam.test', subject: 's', text: 't' })
      .then(() => undefined, (e: unknown) => e as { responseCode?: number; response?: string });
    expect(error?.responseCode).toBe(432);
    expect(error?.response).toBe(LIMIT_REPLY);
    const stats = await getJson<UserStats>(`/stats/users/${encodeURIComponent(USERS[0]!)}`);
    expect(stats).toMatchObject({ rejected432: 1, accepted: 0, peakConcurrency: 1, peakCountedSessions: 4 });
  });

  it('reset zeroes counters and message logs; peaks restart from what is open', async () => {
    sim = await startExchangeSim({ users: [{ address: USERS[0]!, password: 'pw' }] });
    const t = transport(USERS[0]!, false);
    await t.sendMail({ from: USERS[0]!, to: 'r@fabrikam.test', subject: 's', text: 't' });
    expect(sim.stats().totals.accepted).toBe(1);
    // nodemailer resolves on the 250 and sends QUIT afterwards.
    await waitFor(() => sim!.stats().connections.open === 0, { message: 'the session to close' });
    const response = await fetch(`${sim.httpUrl}/admin/reset`, { method: 'POST' });
    expect(await response.json()).toEqual({ ok: true });
    expect(sim.userStats(USERS[0]!)).toMatchObject({
      accepted: 0,
      messageIds: [],
      recipients24h: 0,
      peakConcurrency: 0,
      sessionsTotal: 0,
    });
    expect(sim.stats().connections).toEqual({ open: 0, peak: 0, total: 0 });
  });
});
