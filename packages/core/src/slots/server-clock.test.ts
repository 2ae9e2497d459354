import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerClock } from './server-clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('ServerClock', () => {
  it('maps Redis time to a local time no later than it, using the tightest recent sample', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const clock = new ServerClock();
    expect(clock.toLocal(1_000)).toBeUndefined(); // no sample yet
    const sentAt = performance.now();
    clock.observe(50_000, sentAt); // Redis said 50 000 some time after we sent at `sentAt`
    clock.observe(50_010, sentAt); // a looser sample (slower reply) does not replace it
    expect(clock.toLocal(50_000)).toBe(sentAt - 1); // whole-ms Redis time: 1 ms earlier to be safe
  });

  it('keeps a usable bound for a client that keeps calling Redis, and none after silence', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const clock = new ServerClock();
    clock.observe(50_000, performance.now());
    vi.advanceTimersByTime(6_000);
    clock.observe(56_020, performance.now()); // looser, but the tight one is getting old
    vi.advanceTimersByTime(6_000);
    // 12 s after the tight sample, 6 s after the last call: a pushed grant can still be used at once
    expect(clock.toLocal(62_000)).toBe(performance.now() - 21);
    vi.advanceTimersByTime(4_001);
    expect(clock.toLocal(66_000)).toBeUndefined(); // 10 s without a call: ask Redis instead
  });
});
