import { describe, expect, it } from 'vitest';
import { waitFor } from '@smtp-slots/testkit';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';
import { useSimFixture } from './testing/sim-fixture.js';

const USER = 'shared@contoso.test';
const PASSWORD = 'pw';
const LIMIT_REPLY =
  '432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=EXSIM01.prod.exchange-sim.local]';

const fixture = useSimFixture({ users: [{ address: USER, password: PASSWORD }] });
const start = fixture.start;

/** Opens `n` sessions and authenticates them one after the other (so their rank is their index + 1). */
async function loggedIn(n: number): Promise<RawSmtpClient[]> {
  const opened: RawSmtpClient[] = [];
  for (let i = 0; i < n; i++) {
    const client = await RawSmtpClient.connect(fixture.sim.smtpPort);
    fixture.track(client);
    expect((await client.login(USER, PASSWORD)).code).toBe(235);
    opened.push(client);
  }
  return opened;
}

/** Every client sends one message; DATA ends concurrently. Returns each client's final reply line. */
async function sendFromAll(sessions: RawSmtpClient[]) {
  const messages = sessions.map(() => testMessage(USER, 'rcpt@fabrikam.test'));
  await Promise.all(
    sessions.map(async (c) => expect((await c.beginMessage(USER, ['rcpt@fabrikam.test'])).code).toBe(354)),
  );
  const replies = await Promise.all(sessions.map((c, i) => c.endData(messages[i]!.raw)));
  return { messages, lines: replies.map((r) => r.lines.join('\n')) };
}

describe('per-user concurrency limit', () => {
  it('answers the fourth concurrent session with 432 at the end of DATA and keeps it open', async () => {
    await start();
    const sessions = await loggedIn(4);
    const { messages, lines } = await sendFromAll(sessions);

    expect(lines.slice(0, 3).every((l) => l.startsWith('250 2.0.0 OK <'))).toBe(true);
    expect(lines[3]).toBe(LIMIT_REPLY);
    // The refused session is still usable: a new transaction gets through the command phase, QUIT works.
    expect((await sessions[3]!.command('NOOP')).code).toBe(250);
    expect((await sessions[3]!.quit()).code).toBe(221);

    const stats = fixture.sim.userStats(USER)!;
    expect(stats.peakConcurrency).toBe(4);
    expect(stats.rejected432).toBe(1);
    expect(stats.accepted).toBe(3);
    expect(stats.messageIds).toEqual(expect.arrayContaining(messages.slice(0, 3).map((m) => m.messageId)));
    expect(stats.messageIds).not.toContain(messages[3]!.messageId);
    expect(fixture.sim.stats().totals.rejected432).toBe(1);
  });

  it('ranks by AUTH order: after an earlier session quits, the later one moves within the limit', async () => {
    await start({ limit: 2 });
    const [first, second, third] = await loggedIn(3);
    const refused = await third!.sendMessage(USER, ['r@fabrikam.test'], testMessage(USER, 'r@fabrikam.test').raw);
    expect(refused.code).toBe(432);

    expect((await first!.quit()).code).toBe(221);
    const accepted = await third!.sendMessage(USER, ['r@fabrikam.test'], testMessage(USER, 'r@fabrikam.test').raw);
    expect(accepted.code).toBe(250);
    expect((await second!.sendMessage(USER, ['r@fabrikam.test'], testMessage(USER, 'r@fabrikam.test').raw)).code).toBe(250);
  });

  it('counts only authenticated sessions; unauthenticated connections show in the TCP figures', async () => {
    await start();
    const idle = await RawSmtpClient.connect(fixture.sim.smtpPort);
    fixture.track(idle);
    await loggedIn(2);
    const stats = fixture.sim.stats();
    expect(stats.users[USER]!.openSessions).toBe(2);
    expect(stats.connections.open).toBe(3);
    expect(stats.connections.peak).toBe(3);
    expect(stats.totals.peakConcurrency).toBe(2);
  });

  it('limits each user separately', async () => {
    const other = 'other@contoso.test';
    await start({ users: [{ address: USER, password: PASSWORD }, { address: other, password: PASSWORD }], limit: 1 });
    await loggedIn(1);
    const client = await RawSmtpClient.connect(fixture.sim.smtpPort);
    fixture.track(client);
    expect((await client.login(other, PASSWORD)).code).toBe(235);
    expect((await client.sendMessage(other, ['r@fabrikam.test'], testMessage(other, 'r@fabrikam.test').raw)).code).toBe(250);
  });
});

describe('sessions held from outside', () => {
  it('occupied slots ahead of the sessions push them over the limit until released', async () => {
    await start();
    const [session] = await loggedIn(1);
    const occupied = fixture.sim.occupy(USER, 3, { front: true });
    expect(occupied.ids).toHaveLength(3);
    expect(occupied.countedSessions).toBe(4);

    const message = () => testMessage(USER, 'r@fabrikam.test').raw;
    expect((await session!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(432);
    expect(fixture.sim.releaseOccupied(USER, [occupied.ids[0]!]).released).toBe(1);
    expect((await session!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(250);

    const stats = fixture.sim.userStats(USER)!;
    expect(stats).toMatchObject({ externalSessions: 2, openSessions: 1, countedSessions: 3, peakCountedSessions: 4 });
    // Outside sessions do not count as this server's concurrency.
    expect(stats.peakConcurrency).toBe(1);
  });

  it('occupied slots taken after the sessions only affect sessions that authenticate later', async () => {
    await start();
    const [early] = await loggedIn(1);
    fixture.sim.occupy(USER, 3);
    const [late] = await loggedIn(1);
    const message = () => testMessage(USER, 'r@fabrikam.test').raw;
    expect((await early!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(250);
    expect((await late!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(432);
    expect(fixture.sim.releaseOccupied(USER).released).toBe(3);
    expect((await late!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(250);
  });
});

describe('ghost sessions', () => {
  it('a session dropped without QUIT keeps counting for the ghost period; a clean QUIT does not', async () => {
    await start({ limit: 1, faults: { ghostMs: 400 } });
    const [dropped] = await loggedIn(1);
    await dropped!.destroy();
    await waitFor(() => fixture.sim.userStats(USER)!.ghostSessions === 1, { message: 'the dropped session to become a ghost' });
    const [next] = await loggedIn(1);
    expect(fixture.sim.userStats(USER)).toMatchObject({ ghostSessions: 1, openSessions: 1, countedSessions: 2 });
    const message = () => testMessage(USER, 'r@fabrikam.test').raw;
    expect((await next!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(432);

    await waitFor(() => fixture.sim.userStats(USER)!.ghostSessions === 0, { message: 'the ghost to expire' });
    expect((await next!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(250);

    expect((await next!.quit()).code).toBe(221);
    const [after] = await loggedIn(1);
    expect(fixture.sim.userStats(USER)!.ghostSessions).toBe(0);
    expect((await after!.sendMessage(USER, ['r@fabrikam.test'], message())).code).toBe(250);
  });
});
