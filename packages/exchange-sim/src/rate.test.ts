import { afterEach, describe, expect, it } from 'vitest';
import { startExchangeSim, type AcceptedMessage, type ExchangeSim } from './index.js';
import { ReleaseSchedule } from './release-schedule.js';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';

const USER = 'rate@contoso.test';
const SECOND = 1000;

describe('ReleaseSchedule (30/min carry-over)', () => {
  it('releases at most `rate` messages in any minute and pushes the rest back', () => {
    const schedule = new ReleaseSchedule(3);
    const t0 = 1_000_000;
    const releases = [0, 0, 0, 0, 0, 1 * SECOND].map((offset) => schedule.schedule(t0 + offset).releaseAt - t0);
    expect(releases).toEqual([0, 0, 0, 60 * SECOND, 60 * SECOND, 60 * SECOND]);
    expect(schedule.delayed).toBe(3);
    expect(schedule.pending(t0 + 30 * SECOND)).toBe(3);
    expect(schedule.pending(t0 + 60 * SECOND)).toBe(0);
    // The window is full again after the carried-over releases: the next one waits for minute two.
    expect(schedule.schedule(t0 + 61 * SECOND).releaseAt - t0).toBe(120 * SECOND);
    expect(schedule.maxDelayMs).toBe(60 * SECOND);
  });

  it('does not delay when the pace is within the rate', () => {
    const schedule = new ReleaseSchedule(2);
    for (let i = 0; i < 10; i++) expect(schedule.schedule(i * 30 * SECOND).delayed).toBe(false);
    expect(schedule.delayed).toBe(0);
  });
});

describe('carry-over through SMTP', () => {
  let sim: ExchangeSim | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('accepts messages beyond the rate with 250, reports them delayed, and releases them a minute later', async () => {
    let clock = 5_000_000;
    sim = await startExchangeSim({ users: [{ address: USER, password: 'pw' }], ratePerMinute: 3, now: () => clock });
    const seen: AcceptedMessage[] = [];
    sim.onMessage((m) => seen.push(m));
    const c = await RawSmtpClient.connect(sim.smtpPort);
    await c.login(USER, 'pw');
    for (let i = 0; i < 5; i++) {
      expect((await c.sendMessage(USER, ['r@fabrikam.test'], testMessage(USER, 'r@fabrikam.test').raw)).code).toBe(250);
    }
    expect(sim.userStats(USER)).toMatchObject({ accepted: 5, delayed: 2, pendingRelease: 2, maxReleaseDelayMs: 60 * SECOND });
    expect(seen.map((m) => m.releaseAt - m.acceptedAt)).toEqual([0, 0, 0, 60 * SECOND, 60 * SECOND]);

    clock += 60 * SECOND;
    expect(sim.userStats(USER)).toMatchObject({ delayed: 2, pendingRelease: 0 });
    await c.quit();
  });
});
