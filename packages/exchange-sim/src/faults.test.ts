import { describe, expect, it } from 'vitest';
import { FaultState, NO_FAULTS } from './faults.js';
import { ExchangeSimError } from './index.js';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';
import { useSimFixture } from './testing/sim-fixture.js';

const USER = 'faulty@contoso.test';
const OTHER = 'other@contoso.test';

const fixture = useSimFixture({
  users: [
    { address: USER, password: 'pw' },
    { address: OTHER, password: 'pw' },
  ],
});
const start = fixture.start;

async function session(user = USER): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect(fixture.sim.smtpPort);
  fixture.track(c);
  expect((await c.login(user, 'pw')).code).toBe(235);
  return c;
}

const send = (c: RawSmtpClient, message = testMessage(USER, 'r@fabrikam.test'), from = USER) =>
  c.sendMessage(from, ['r@fabrikam.test'], message.raw);

describe('421 disconnect', () => {
  it('answers the next N messages with 421 and closes those connections, then recovers', async () => {
    await start({ faults: { ghostMs: 10_000 } });
    fixture.sim.setFaults({ disconnectNext: 2 });
    for (let i = 0; i < 2; i++) {
      const c = await session();
      expect((await send(c)).lines).toEqual([
        '421 4.3.2 Service not available, closing transmission channel [Hostname=EXSIM01.prod.exchange-sim.local]',
      ]);
      await c.closed;
    }
    expect((await send(await session())).code).toBe(250);
    // The server closed those sessions itself, so they leave no ghosts behind.
    expect(fixture.sim.userStats(USER)).toMatchObject({ disconnected421: 2, accepted: 1, ghostSessions: 0 });
    expect(fixture.sim.getFaults().disconnectNext).toBe(0);
  });

  it('a per-user count only hits that user', async () => {
    await start();
    fixture.sim.setFaults({ disconnectNext: 1 }, USER);
    expect((await send(await session(OTHER), testMessage(OTHER, 'r@fabrikam.test'), OTHER)).code).toBe(250);
    expect((await send(await session())).code).toBe(421);
  });
});

describe('451 transient errors', () => {
  it('answers 451 4.3.111 at the configured rate and keeps the session usable', async () => {
    await start({ faults: { transientRate: 1 } });
    const c = await session();
    expect((await send(c)).lines).toEqual(['451 4.3.111 Temporary server error. Please try again later']);
    fixture.sim.setFaults({ transientRate: 0 });
    expect((await send(c)).code).toBe(250);
    expect(fixture.sim.userStats(USER)).toMatchObject({ transient451: 1, accepted: 1 });
  });

  it('draws from the random source: a rate of 0.5 fails exactly the draws below 0.5', async () => {
    const draws = [0.9, 0.1, 0.6, 0.4];
    await start({ faults: { transientRate: 0.5 }, random: () => draws.shift() ?? 0.99 });
    const c = await session();
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await send(c)).code);
    expect(codes).toEqual([250, 451, 250, 451]);
  });
});

describe('lost replies (accepted, then the connection drops)', () => {
  it('records the message, cuts the connection without a reply, and counts the resend as a duplicate', async () => {
    await start();
    fixture.sim.setFaults({ dropAfterAcceptNext: 1 });
    const message = testMessage(USER, 'r@fabrikam.test');
    const first = await session();
    await expect(send(first, message)).rejects.toThrow('connection closed');

    expect((await send(await session(), message)).code).toBe(250);
    expect(fixture.sim.userStats(USER)).toMatchObject({
      accepted: 2,
      messageIds: [message.messageId],
      duplicates: 1,
      duplicateMessageIds: [message.messageId],
      droppedAfterAccept: 1,
    });
    expect(fixture.sim.stats().totals).toMatchObject({ accepted: 2, uniqueMessageIds: 1, duplicates: 1 });
  });
});

describe('latency', () => {
  it('delays the reply to the end of DATA per user (a slow user is overtaken by a fast one)', async () => {
    await start();
    fixture.sim.setFaults({ latencyMs: 400 }, USER);
    const slow = await session();
    const fast = await session(OTHER);
    const order: string[] = [];
    const slowDone = send(slow).then((r) => order.push(`slow ${r.code}`));
    await send(fast, testMessage(OTHER, 'r@fabrikam.test'), OTHER).then((r) => order.push(`fast ${r.code}`));
    await slowDone;
    expect(order).toEqual(['fast 250', 'slow 250']);
  });

  it('draws a latency range uniformly from the random source', () => {
    const draws = [0, 0.5, 0.999];
    const faults = new FaultState({ ...NO_FAULTS, latencyMs: [10, 20] }, () => draws.shift() ?? 0);
    expect([faults.latencyFor(USER), faults.latencyFor(USER), faults.latencyFor(USER)]).toEqual([10, 15, 20]);
  });
});

describe('fault validation', () => {
  it('rejects unknown faults and bad values with a message naming them', async () => {
    await start();
    expect(() => fixture.sim.setFaults({ transientRate: 2 })).toThrow(/transientRate must be a number from 0 to 1, got 2/);
    expect(() => fixture.sim.setFaults({ latencyMs: [50, 10] })).toThrow(ExchangeSimError);
    expect(() => fixture.sim.setFaults({ bogus: 1 } as never)).toThrow(/unknown fault "bogus"/);
    expect(() => fixture.sim.setFaults({ mailboxFull: true }, 'nobody@contoso.test')).toThrow(/unknown user/);
  });

  it('a user override wins over the global value and can be removed with null', async () => {
    await start();
    fixture.sim.setFaults({ latencyMs: 5 });
    expect(fixture.sim.setFaults({ latencyMs: [1, 3] }, USER).latencyMs).toEqual([1, 3]);
    expect(fixture.sim.getFaults(OTHER).latencyMs).toBe(5);
    expect(fixture.sim.setFaults({ latencyMs: null }, USER).latencyMs).toBe(5);
  });
});

describe('permanent refusals', () => {
  it('contentRejected answers 554 5.6.0 at the end of DATA for that user until cleared', async () => {
    await start();
    fixture.sim.setFaults({ contentRejected: true }, USER);
    const c = await session();
    const reply = await send(c);
    expect(reply.code).toBe(554);
    expect(reply.lines[0]).toMatch(/^554 5\.6\.0 Corrupt message content/);
    expect((await send(await session(OTHER), testMessage(OTHER, 'r@fabrikam.test'), OTHER)).code).toBe(250);
    fixture.sim.setFaults({ contentRejected: null }, USER);
    expect((await send(c)).code).toBe(250);
    expect(fixture.sim.userStats(USER)).toMatchObject({ rejectedContent: 1, accepted: 1 });
  });

  it('unknownRecipients refuses those addresses at RCPT TO with 550 5.1.1 and takes the others', async () => {
    await start();
    fixture.sim.setFaults({ unknownRecipients: ['Gone@Fabrikam.test'] }, USER);
    const c = await session();
    expect((await c.command(`MAIL FROM:<${USER}>`)).code).toBe(250);
    const refused = await c.command('RCPT TO:<gone@fabrikam.test>');
    expect(refused.lines).toEqual(['550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup']);
    expect((await c.command('RCPT TO:<r@fabrikam.test>')).code).toBe(250);
    expect(fixture.sim.userStats(USER)).toMatchObject({ rejectedRecipients: 1 });
    expect(() => fixture.sim.setFaults({ unknownRecipients: 'gone@fabrikam.test' } as never)).toThrow(/unknownRecipients must be an array/);
  });
});
