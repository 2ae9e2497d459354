import { describe, expect, it } from 'vitest';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';
import { useSimFixture } from './testing/sim-fixture.js';

const USER = 'quota@contoso.test';
const OTHER = 'other@contoso.test';
const QUOTA_REPLY = '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException';
const FULL_REPLY =
  '554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded';
const HOUR = 60 * 60 * 1000;

let clock = Date.UTC(2026, 0, 5, 9);
const fixture = useSimFixture({
  users: [
    { address: USER, password: 'pw' },
    { address: OTHER, password: 'pw' },
  ],
  now: () => clock,
});
const start = fixture.start;

async function session(user = USER): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect(fixture.sim.smtpPort);
  fixture.track(c);
  expect((await c.login(user, 'pw')).code).toBe(235);
  return c;
}

const recipients = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@fabrikam.test`);
const send = (c: RawSmtpClient, to: string[], from = USER) => c.sendMessage(from, to, testMessage(from, to[0]!).raw);

describe('rolling 24 h recipient quota', () => {
  it('rejects the message that would go over the quota with 554 5.2.0 verbatim, until the window moves on', async () => {
    await start({ recipientsPerDay: 5 });
    const c = await session();
    expect((await send(c, recipients(3))).code).toBe(250);
    clock += 2 * HOUR;
    const over = await send(c, recipients(3));
    expect(over.lines).toEqual([QUOTA_REPLY]);
    expect((await send(c, recipients(2))).code).toBe(250); // exactly 5 in 24 h
    expect((await send(c, recipients(1))).lines).toEqual([QUOTA_REPLY]);
    expect(fixture.sim.userStats(USER)).toMatchObject({ recipients24h: 5, rejectedQuota: 2, accepted: 2 });

    // 24 h after the first message its 3 recipients leave the window; the later 2 still count.
    clock += 22 * HOUR;
    expect(fixture.sim.userStats(USER)!.recipients24h).toBe(2);
    expect((await send(c, recipients(3))).code).toBe(250);
    expect((await send(c, recipients(1))).lines).toEqual([QUOTA_REPLY]);
    // The connection survives a 554.
    expect((await c.quit()).code).toBe(221);
  });

  it('counts each user separately', async () => {
    await start({ recipientsPerDay: 2 });
    expect((await send(await session(), recipients(2))).code).toBe(250);
    expect((await send(await session(OTHER), recipients(2), OTHER)).code).toBe(250);
  });
});

describe('mailbox full', () => {
  it('a per-user toggle answers 554 5.2.2 verbatim for that user only, and can be switched off', async () => {
    await start({});
    fixture.sim.setFaults({ mailboxFull: true }, USER);
    const c = await session();
    expect((await send(c, recipients(1))).lines).toEqual([FULL_REPLY]);
    expect((await send(await session(OTHER), recipients(1), OTHER)).code).toBe(250);

    fixture.sim.setFaults({ mailboxFull: null }, USER);
    expect((await send(c, recipients(1))).code).toBe(250);
    expect(fixture.sim.userStats(USER)).toMatchObject({ rejectedMailboxFull: 1, accepted: 1 });
  });

  it('a global toggle affects every user', async () => {
    await start({ faults: { mailboxFull: true } });
    expect((await send(await session(OTHER), recipients(1), OTHER)).lines).toEqual([FULL_REPLY]);
  });

  it('a byte quota fills up with accepted messages', async () => {
    await start({ mailboxQuotaBytes: 600 });
    const c = await session();
    const small = testMessage(USER, 'r@fabrikam.test', 'x'.repeat(100));
    const large = testMessage(USER, 'r@fabrikam.test', 'x'.repeat(400));
    expect((await c.sendMessage(USER, ['r@fabrikam.test'], small.raw)).code).toBe(250);
    expect((await c.sendMessage(USER, ['r@fabrikam.test'], large.raw)).lines).toEqual([FULL_REPLY]);
    expect((await c.sendMessage(USER, ['r@fabrikam.test'], small.raw)).code).toBe(250);
    expect(fixture.sim.userStats(USER)!.acceptedBytes).toBeLessThanOrEqual(600);
  });
});
