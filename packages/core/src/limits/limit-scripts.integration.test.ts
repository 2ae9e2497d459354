import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '@smtp-slots/testkit';
import { EVENTS_CHANNEL, mailboxKeys } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';
import { evalScript, randomMailbox, redisOlderThan, slotScripts } from '../test-support/scripts.js';
import { createTestRedis } from '../test-support/test-redis.js';

// rate, recipient and 432 scripts called directly with explicit KEYS/ARGV.
let redis: RedisClient;
beforeAll(async () => {
  redis = createTestRedis();
  await redisOlderThan(redis, 2);
});
afterAll(() => redis.disconnect());

describe('rateTake-1 (GCRA)', () => {
  const take = (key: string, perMinute: number, burst = 1) => evalScript(redis, 'rateTake', [key], [perMinute, burst]) as Promise<number[]>;

  it('spaces tokens exactly 60 000 / perMinute apart: no burst above the rate', async () => {
    const key = mailboxKeys(randomMailbox()).rate;
    expect(await take(key, 600)).toEqual([1, 0]); // one token per 100 ms
    const denied = await take(key, 600);
    expect(denied[0]).toBe(0);
    expect(denied[1]).toBeGreaterThan(0);
    expect(denied[1]).toBeLessThanOrEqual(100);
    await sleep(denied[1]! + 5);
    expect((await take(key, 600))[0]).toBe(1);
  });

  it('hammered for 550 ms at 600/min it lets through at most 6 (a fixed window would allow up to 2x)', async () => {
    const key = mailboxKeys(randomMailbox()).rate;
    const started = Date.now();
    let allowed = 0;
    while (Date.now() - started < 550) {
      if ((await take(key, 600))[0] === 1) allowed += 1;
    }
    expect(allowed).toBeGreaterThanOrEqual(4);
    expect(allowed).toBeLessThanOrEqual(6);
  });

  it('a burst allowance lets that many through back to back, then holds the rate', async () => {
    const key = mailboxKeys(randomMailbox()).rate;
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await take(key, 60, 3))[0]);
    expect(results).toEqual([1, 1, 1, 0]);
  });
});

describe('rcptReserve-2 (rolling window)', () => {
  // window 1 s in buckets of 100 ms instead of 24 h in minutes: same script, same arithmetic
  const reserveWithBucket = (mailbox: string, n: number, perDay: number) => {
    const k = mailboxKeys(mailbox);
    return evalScript(redis, 'rcptReserve', [k.recipients, k.recipientCounts], [n, perDay, 100, 1000]) as Promise<number[]>;
  };
  /** {allowed, retryAfterMs, used} */
  const reserve = async (mailbox: string, n: number, perDay: number) => (await reserveWithBucket(mailbox, n, perDay)).slice(0, 3);
  const giveBack = (mailbox: string, bucket: number, n: number) => {
    const k = mailboxKeys(mailbox);
    return evalScript(redis, 'rcptReturn', [k.recipients, k.recipientCounts], [bucket, n]) as Promise<number[]>;
  };

  it('reserves up to the budget, then says when enough has left the window', async () => {
    const mailbox = randomMailbox();
    expect(await reserve(mailbox, 6, 10)).toEqual([1, 0, 6]);
    await sleep(250);
    expect(await reserve(mailbox, 3, 10)).toEqual([1, 0, 9]);
    const [allowed, retryAfter, used] = await reserve(mailbox, 3, 10);
    expect([allowed, used]).toEqual([0, 9]);
    // the first 6 leave the window 1 s (+ one bucket) after they were counted
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(1100);
    expect(await reserve(mailbox, 0, 10)).toEqual([1, 0, 9]); // read only
    await sleep(retryAfter! + 20);
    expect(await reserve(mailbox, 3, 10)).toEqual([1, 0, 6]);
  });

  it('more than a whole day of recipients can never pass', async () => {
    expect(await reserve(randomMailbox(), 11, 10)).toEqual([-7, 0]);
  });

  it('rcptReturn-2 gives back from the bucket a reservation was counted in, never more than that bucket holds', async () => {
    const mailbox = randomMailbox();
    const [, , , first] = await reserveWithBucket(mailbox, 4, 10);
    expect(first! % 100).toBe(0); // a bucket start
    expect(await giveBack(mailbox, first!, 1)).toEqual([1, 3]); // one recipient refused at RCPT
    const [allowed, , used, second] = await reserveWithBucket(mailbox, 7, 10);
    expect([allowed, used]).toEqual([1, 10]); // the place given back is usable again
    expect(await giveBack(mailbox, second!, 7)).toEqual([7, 3]);
    // More than the bucket holds: only what it holds leaves (3, whether or not both shared it).
    expect(await giveBack(mailbox, first!, 50)).toEqual([3, 0]);
    // A bucket that is gone (left the window, or lost with Redis' data) is not touched.
    expect(await giveBack(mailbox, first!, 3)).toEqual([0, 0]);
    expect((await reserveWithBucket(mailbox, 0, 10))[3]).toBe(0); // a read reserves nothing
  });
});

describe('messageTake-3 (rate token and recipients in one call)', () => {
  const take = (mailbox: string, perMinute: number, n: number, perDay: number) => {
    const k = mailboxKeys(mailbox);
    // {status, used} or {status, retryAfterMs, used}; the bucket of a grant is checked apart.
    return (evalScript(redis, 'messageTake', [k.rate, k.recipients, k.recipientCounts], [perMinute, 1, n, perDay, 100, 1000]) as Promise<number[]>).then((r) => (r[0] === 1 ? r.slice(0, 2) : r));
  };
  const reserve = (mailbox: string, n: number, perDay: number) => {
    const k = mailboxKeys(mailbox);
    // {allowed, retryAfterMs, used}; the reservation's bucket is not what this test looks at.
    return (evalScript(redis, 'rcptReserve', [k.recipients, k.recipientCounts], [n, perDay, 100, 1000]) as Promise<number[]>).then((r) => r.slice(0, 3));
  };

  it('takes both or neither: a message held back by one limit spends nothing of the other', async () => {
    const mailbox = randomMailbox();
    expect(await take(mailbox, 1, 3, 5)).toEqual([1, 3]);
    const [status, retryAfter, used] = await take(mailbox, 1, 1, 5); // the next token is a minute away
    expect([status, used]).toEqual([0, 3]);
    expect(retryAfter).toBeGreaterThan(50_000);
    expect(await reserve(mailbox, 0, 5)).toEqual([1, 0, 3]); // its recipient was not counted

    const full = randomMailbox();
    expect(await reserve(full, 2, 2)).toEqual([1, 0, 2]);
    const [held, wait] = await take(full, 1, 1, 2);
    expect(held).toBe(2); // the recipients must wait
    expect(wait).toBeGreaterThan(0);
    expect(await take(full, 1, 1, 3)).toEqual([1, 3]); // the rate token was still there
    expect(await take(randomMailbox(), 1, 4, 3)).toEqual([-7, 0]); // more than a whole day
  });

  it('names the bucket it counted in: rcptReturn-2 gives back from it, and the window still drops it on time', async () => {
    const mailbox = randomMailbox();
    const k = mailboxKeys(mailbox);
    const granted = (await evalScript(redis, 'messageTake', [k.rate, k.recipients, k.recipientCounts], [600_000, 1, 4, 10, 100, 1000])) as number[];
    expect(granted[0]).toBe(1);
    expect(granted[2]! % 100).toBe(0); // a bucket start
    expect(await evalScript(redis, 'rcptReturn', [k.recipients, k.recipientCounts], [granted[2]!, 1])).toEqual([1, 3]);
    await sleep(150);
    expect(await take(mailbox, 600_000, 5, 10)).toEqual([1, 8]); // a second bucket
    const [held, wait] = await take(mailbox, 600_000, 5, 10);
    expect(held).toBe(2);
    await sleep(wait! + 20); // the first bucket left the window, the second not yet
    expect(await reserve(mailbox, 0, 10)).toEqual([1, 0, 5]);
    expect(await take(mailbox, 600_000, 5, 10)).toEqual([1, 10]);
  });
});

describe('report432-2 (feedback)', () => {
  const report = (mailbox: string, o: { cooldown: number; every: number; debounce: number }) => {
    const k = mailboxKeys(mailbox);
    return evalScript(redis, 'report432', [k.state, k.stats], [mailbox, EVENTS_CHANNEL, 3, o.cooldown, o.every, o.debounce]) as Promise<number[]>;
  };

  it('cuts the effective limit by one, debounces, and the slot scripts honour it until it rises back', async () => {
    const mailbox = randomMailbox();
    const o = { cooldown: 300, every: 700, debounce: 100 };
    expect(await report(mailbox, o)).toEqual([2]);
    expect(await report(mailbox, o)).toEqual([2]); // same incident seen by another holder
    const s = slotScripts(redis, mailbox);
    expect((await s.acquire('a'))[0]).toBe(1);
    expect((await s.acquire('b'))[0]).toBe(1);
    expect((await s.acquire('c'))[0]).toBe(0); // queued: effective limit 2
    await sleep(150);
    expect(await report(mailbox, o)).toEqual([1]);
    await sleep(320); // cool-down over: back to 2, still below in-use + 1
    expect((await s.check('c'))[0]).toBe(0);
    await sleep(720); // risen to 3
    expect((await s.check('c'))[0]).toBe(1);
    expect(await redis.hget(mailboxKeys(mailbox).stats, 'rejections:432')).toBe('3');
  });
});
