import { afterEach, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim, type ExchangeSimOptions } from '../index.js';

const USER = 'graph-mail@contoso.test';
let sim: ExchangeSim | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  sim = await startExchangeSim({ users: [{ address: USER }], apps: [{ clientId: 'app', clientSecret: 'secret' }], ...options });
  return sim;
}

async function token(s: ExchangeSim, clientId = 'app', scope = 'https://graph.microsoft.com/.default'): Promise<string> {
  const response = await fetch(`${s.httpUrl}/tenant-1/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'secret', scope }),
  });
  return String(((await response.json()) as { access_token: string }).access_token);
}

let counter = 0;
const mime = (extra = '') => {
  const messageId = `<graph-${++counter}-${Date.now()}@test>`;
  const raw = `From: ${USER}\r\nTo: a@fabrikam.test, B <b@fabrikam.test>\r\nBcc: c@fabrikam.test\r\nMessage-ID: ${messageId}\r\nSubject: hi\r\n\r\nbody${extra}\r\n`;
  return { messageId, raw };
};

function sendMail(s: ExchangeSim, bearer: string, raw: string, user = USER) {
  return fetch(`${s.httpUrl}/v1.0/users/${encodeURIComponent(user)}/sendMail`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'text/plain' },
    body: Buffer.from(raw).toString('base64'),
  });
}

describe('Graph sendMail double', () => {
  it('accepts base64 MIME with 202, keeps the Message-ID and counts the MIME recipients', async () => {
    const s = await start();
    const seen: string[][] = [];
    s.onMessage((m) => seen.push(m.to));
    const message = mime();
    const response = await sendMail(s, await token(s), message.raw);
    expect(response.status).toBe(202);
    expect(s.userStats(USER)).toMatchObject({ accepted: 1, messageIds: [message.messageId], recipients24h: 3, graph: { requests: 1, accepted: 1, inFlight: 0, peakInFlight: 1 } });
    expect(seen).toEqual([['a@fabrikam.test', 'b@fabrikam.test', 'c@fabrikam.test']]);
    expect(s.stats().totals).toMatchObject({ graphRequests: 1, graphAccepted: 1, graphPeakInFlight: 1 });
  });

  it('answers the fifth concurrent request with 429 MailboxConcurrency; outside requests count too', async () => {
    const s = await start({ faults: { latencyMs: 150 } });
    const bearer = await token(s);
    const responses = await Promise.all(Array.from({ length: 6 }, () => sendMail(s, bearer, mime().raw)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
    const throttled = responses.find((r) => r.status === 429)!;
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(await throttled.json()).toEqual({ error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' } });
    expect(s.userStats(USER)!.graph).toMatchObject({ peakInFlight: 4, throttledConcurrency: 2, accepted: 4 });

    s.setFaults({ graphOutsideInFlight: 1 }, USER);
    const withOutside = await Promise.all(Array.from({ length: 4 }, () => sendMail(s, bearer, mime().raw)));
    expect(withOutside.map((r) => r.status).sort()).toEqual([202, 202, 202, 429]);
  });

  it("counts an app's requests in flight across its mailboxes (stats.apps)", async () => {
    const other = 'graph-other@contoso.test';
    const s = await start({ users: [{ address: USER }, { address: other }], faults: { latencyMs: 150 } });
    const bearer = await token(s);
    const responses = await Promise.all([USER, USER, other, other, other].map((user) => sendMail(s, bearer, mime().raw, user)));
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(s.stats().apps).toEqual({ app: { inFlight: 0, peakInFlight: 5 } });
    expect(s.stats().totals.graphPeakInFlight).toBe(3);
  });

  it('throttles past the requests-per-10-minutes budget with 429 and a Retry-After in seconds', async () => {
    let now = 1_000_000;
    const s = await start({ graphRequestsPerTenMinutes: 2, now: () => now });
    const bearer = await token(s);
    expect((await sendMail(s, bearer, mime().raw)).status).toBe(202);
    now += 60_000;
    expect((await sendMail(s, bearer, mime().raw)).status).toBe(202);
    const third = await sendMail(s, bearer, mime().raw);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('540');
    now += 541_000;
    expect((await sendMail(s, bearer, mime().raw)).status).toBe(202);
    expect(s.userStats(USER)!.graph.throttledRate).toBe(1);
  });

  it('refuses a body above the size limit with 413, nothing recorded', async () => {
    const s = await start({ graphMaxRequestBytes: 2000 });
    const response = await sendMail(s, await token(s), mime('x'.repeat(3000)).raw);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RequestBodyTooLarge');
    expect(s.userStats(USER)).toMatchObject({ accepted: 0, graph: { tooLarge: 1 } });
  });

  it('401 without a valid Graph token, 403 when the app lacks Mail.Send, 400 for a JSON body', async () => {
    const s = await start({ apps: [{ clientId: 'app', clientSecret: 'secret' }, { clientId: 'smtp-only', clientSecret: 'secret', permissions: ['SMTP.SendAsApp'] }] });
    expect((await sendMail(s, 'not-a-token', mime().raw)).status).toBe(401);
    expect((await sendMail(s, await token(s, 'app', 'https://outlook.office365.com/.default'), mime().raw)).status).toBe(401);
    const denied = await sendMail(s, await token(s, 'smtp-only'), mime().raw);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('ErrorAccessDenied');
    const json = await fetch(`${s.httpUrl}/v1.0/users/${USER}/sendMail`, {
      method: 'POST', headers: { authorization: `Bearer ${await token(s)}`, 'content-type': 'application/json' }, body: '{}',
    });
    expect(json.status).toBe(400);
    const bearer = await token(s);
    await fetch(`${s.httpUrl}/admin/tokens/revoke`, { method: 'POST', body: '{}' });
    expect((await sendMail(s, bearer, mime().raw)).status).toBe(401);
    expect(s.userStats(USER)!.graph).toMatchObject({ unauthorized: 3, accessDenied: 1, otherErrors: 1, accepted: 0 });
  });
});
