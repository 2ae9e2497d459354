import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@smtp-slots/testkit';
import type { RedisClient } from '../redis/connect.js';
import { randomMailbox, redisOlderThan, slotScripts } from '../test-support/scripts.js';
import { createTestRedis } from '../test-support/test-redis.js';

// Every slot script called directly with explicit KEYS/ARGV against a real redis-server.
let redis: RedisClient;
let listener: RedisClient;
beforeAll(async () => {
  redis = createTestRedis();
  listener = createTestRedis();
  await redisOlderThan(redis, 2);
});
afterAll(() => {
  redis.disconnect();
  listener.disconnect();
});

type Grant = [1, number, number, number, string, number, number];
const granted = (reply: unknown[]) => {
  expect(reply[0]).toBe(1);
  const [, slot, token, expiresAt, epoch, ticket] = reply as Grant;
  return { slot, token, expiresAt, epoch, ticket };
};

async function messagesOn(channel: string): Promise<{ received: Array<Record<string, unknown>>; stop: () => Promise<void> }> {
  const received: Array<Record<string, unknown>> = [];
  const onMessage = (ch: string, msg: string) => ch === channel && received.push(JSON.parse(msg) as Record<string, unknown>);
  listener.on('message', onMessage);
  await listener.subscribe(channel);
  return { received, stop: async () => { listener.off('message', onMessage); await listener.unsubscribe(channel); } };
}

describe('acquire-5 / release-5', () => {
  it('grants slots 1..limit, then queues in arrival order; try-only never queues', async () => {
    const s = slotScripts(redis, randomMailbox());
    const grants = [granted(await s.acquire('a')), granted(await s.acquire('b')), granted(await s.acquire('c'))];
    expect(grants.map((g) => g.slot)).toEqual([1, 2, 3]);
    expect(grants[1]!.token).toBeGreaterThan(grants[0]!.token);
    expect(await s.acquire('try', { waitMs: -1 })).toEqual([0, 0, expect.any(Number), 0, expect.any(Number)]);
    expect(await s.acquire('d')).toEqual([0, 1, expect.any(Number), 4, expect.any(Number)]);
    expect(await s.acquire('e')).toEqual([0, 2, expect.any(Number), 5, expect.any(Number)]);
    expect(await s.acquire('d')).toEqual([0, 1, expect.any(Number), 4, expect.any(Number)]); // repeating a request is safe
    expect(await s.waiters()).toEqual(['d', 'e']);
  });

  it('release hands the slot to the head waiter inside the same script and notifies it', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const channel = `ss:notify:${Math.random()}`;
    const sub = await messagesOn(channel);
    const a = granted(await s.acquire('a'));
    await s.acquire('b', { channel });
    // the reply names the grant too (id, slot, token, expiresAt, ticket), for a waiter in the releasing client
    const reply = await s.release('a', a.slot, a.token);
    expect(reply).toEqual([1, 1, expect.any(Number), a.epoch, 'b', 1, a.token + 1, expect.any(Number), 2]);
    expect(reply[7]).toBe((reply[2] as number) + 10_000);
    expect(await s.holders()).toEqual({ 1: 'b' });
    expect(await s.waiters()).toEqual([]);
    const b = granted(await s.check('b'));
    expect(b.slot).toBe(1);
    expect(b.token).toBeGreaterThan(a.token);
    await waitFor(() => sub.received.length > 0, { message: 'the push' });
    // the push carries the whole grant: the waiter can use the slot without another round trip
    expect(sub.received).toEqual([{ type: 'grant', mailbox: expect.any(String), id: 'b', slot: 1, token: b.token, ticket: 2, epoch: a.epoch, expiresAt: expect.any(Number), now: expect.any(Number) }]);
    await sub.stop();
  });

  it('release is idempotent and owner-checked', async () => {
    const s = slotScripts(redis, randomMailbox());
    const a = granted(await s.acquire('a'));
    const nobodyServed = (released: number) => [released, 0, expect.any(Number), ''];
    expect(await s.release('a', a.slot, a.token + 1)).toEqual(nobodyServed(0)); // foreign token
    expect(await s.release('x', a.slot, a.token)).toEqual(nobodyServed(0)); // foreign id
    expect(await s.holders()).toEqual({ 1: 'a' });
    expect(await s.release('a', a.slot, a.token)).toEqual(nobodyServed(1));
    expect(await s.release('a', a.slot, a.token)).toEqual(nobodyServed(0));
    expect(await s.holders()).toEqual({});
  });

  it('serves waiters FIFO and a dropped waiter can come back to its old place', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    let held = granted(await s.acquire('h'));
    for (const id of ['w1', 'w2', 'w3']) await s.acquire(id);
    expect((await s.cancel('w1'))[0]).toBe(1);
    const [, , , ticket] = await s.acquire('w1', { ticket: 2 }); // same ticket as before
    expect(ticket).toBe(2);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await s.release(Object.values(await s.holders())[0]!, held.slot, held.token);
      const id = Object.values(await s.holders())[0]!;
      order.push(id);
      held = granted(await s.check(id));
    }
    expect(order).toEqual(['w1', 'w2', 'w3']);
  });
});

describe('renew-5 and expiry', () => {
  it('an expired lease frees its slot, and a late renewal never revives it', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const a = granted(await s.acquire('a', { ttl: 100 }));
    expect((await s.renew('a', a.slot, a.token, a.epoch, 100))[0]).toBe(1);
    await sleep(150);
    expect(await s.renew('a', a.slot, a.token, a.epoch)).toEqual([-3]); // expired, not yet swept
    expect(await s.renew('a', a.slot, a.token, a.epoch)).toEqual([-2]); // swept: gone
    const b = granted(await s.acquire('b'));
    expect(b.slot).toBe(1);
    expect(await s.renew('a', a.slot, a.token, a.epoch)).toEqual([-2]);
    expect(await s.holders()).toEqual({ 1: 'b' });
  });

  it('releasing an expired lease ends it as an expiry, not a release', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const a = granted(await s.acquire('a', { ttl: 100 }));
    await sleep(150);
    expect((await s.release('a', a.slot, a.token)).slice(0, 2)).toEqual([0, 0]);
    expect(await s.holders()).toEqual({});
    expect(await s.counters('expired', 'releases')).toEqual(['1', null]); // stats
  });

  it('a renewal after release fails and does not re-create the lease', async () => {
    const s = slotScripts(redis, randomMailbox());
    const a = granted(await s.acquire('a'));
    await s.release('a', a.slot, a.token);
    expect(await s.renew('a', a.slot, a.token, a.epoch)).toEqual([-2]);
    expect(await s.holders()).toEqual({});
  });

  it('renewal extends the lease from Redis TIME', async () => {
    const s = slotScripts(redis, randomMailbox());
    const a = granted(await s.acquire('a', { ttl: 1000 }));
    const [status, expiresAt] = await s.renew('a', a.slot, a.token, a.epoch, 5000);
    expect(status).toBe(1);
    expect(Number(expiresAt)).toBeGreaterThanOrEqual(a.expiresAt + 4000 - 50);
  });
});

describe('waiters', () => {
  it('a waiter that stops polling drops out; its poll then answers -5', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    granted(await s.acquire('h'));
    await s.acquire('dead', { waiterTtl: 100 });
    await s.acquire('alive');
    await sleep(150);
    expect(await s.check('alive')).toEqual([0, 1, expect.any(Number), expect.any(Number)]);
    expect(await s.check('dead')).toEqual([-5]);
  });

  it('a slot handed to a waiter whose process died passes on when that lease expires', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const h = granted(await s.acquire('h'));
    await s.acquire('gone', { ttl: 100 }); // the lease it would get lives 100 ms
    await s.acquire('next');
    await s.release('h', h.slot, h.token);
    expect(await s.holders()).toEqual({ 1: 'gone' });
    await sleep(150);
    granted(await s.check('next'));
    expect(await s.check('gone')).toEqual([-5]);
  });

  it('cancel leaves the queue, or releases a slot granted meanwhile and hands it on', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const h = granted(await s.acquire('h'));
    await s.acquire('w1');
    await s.acquire('w2');
    await s.release('h', h.slot, h.token); // w1 is granted but has not confirmed
    expect(await s.cancel('w1')).toEqual([2]);
    expect(await s.holders()).toEqual({ 1: 'w2' });
    await s.acquire('w3');
    expect(await s.cancel('w3')).toEqual([1]);
    expect(await s.cancel('w3')).toEqual([0]);
  });
});

describe('setConfig-5 / forceRelease-5', () => {
  it('lowering the limit never revokes; grants resume only below the new limit; raising serves waiters', async () => {
    const s = slotScripts(redis, randomMailbox());
    const held = [granted(await s.acquire('a')), granted(await s.acquire('b')), granted(await s.acquire('c'))];
    await s.setConfig({ limit: 1 });
    expect(Object.keys(await s.holders())).toHaveLength(3);
    await s.acquire('w');
    await s.release('a', held[0]!.slot, held[0]!.token);
    await s.release('b', held[1]!.slot, held[1]!.token);
    expect(await s.waiters()).toEqual(['w']); // in use 1, limit 1
    await s.release('c', held[2]!.slot, held[2]!.token);
    expect(await s.holders()).toEqual({ 1: 'w' });
    await s.acquire('x');
    await s.acquire('y');
    const config = await s.setConfig({ limit: 3 });
    expect(config).toContain('limit');
    expect(Object.values(await s.holders()).sort()).toEqual(['w', 'x', 'y']);
  });

  it('pause turns waiters away without touching holders; resume grants again', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const channel = `ss:notify:${Math.random()}`;
    const sub = await messagesOn(channel);
    const a = granted(await s.acquire('a'));
    await s.acquire('w', { channel });
    await s.setConfig({ paused: true, pauseReason: 'quota' });
    expect(await s.acquire('later')).toEqual([-1, 'quota']);
    expect(await s.check('w')).toEqual([-5]);
    expect(await s.holders()).toEqual({ 1: 'a' });
    await s.release('a', a.slot, a.token);
    expect(await s.holders()).toEqual({}); // paused: nobody is served
    await s.setConfig({ paused: false });
    granted(await s.acquire('after'));
    await waitFor(() => sub.received.length > 0, { message: 'the push' });
    expect(sub.received).toEqual([{ type: 'paused', mailbox: expect.any(String), id: 'w', reason: 'quota' }]);
    await sub.stop();
  });

  it('force-release frees the slot, tells the holder, and hands the slot on', async () => {
    const s = slotScripts(redis, randomMailbox(), { defaultLimit: 1 });
    const channel = `ss:notify:${Math.random()}`;
    const sub = await messagesOn(channel);
    const a = granted(await s.acquire('a', { channel }));
    await s.acquire('w');
    expect(await s.forceRelease(1)).toEqual([1, a.token]);
    expect(await s.forceRelease(2)).toEqual([0]);
    expect(await s.holders()).toEqual({ 1: 'w' });
    expect(await s.renew('a', a.slot, a.token, a.epoch)).toEqual([-2]);
    await waitFor(() => sub.received.length > 0, { message: 'the push' });
    expect(sub.received).toEqual([{ type: 'revoke', mailbox: expect.any(String), id: 'a', slot: 1 }]);
    await sub.stop();
  });
});

describe('epoch', () => {
  it('state written by another Redis process starts a new epoch: old leases are lost and nothing is granted during the grace period', async () => {
    const s = slotScripts(redis, randomMailbox(), { graceMs: 400 });
    const a = granted(await s.acquire('a'));
    // As after a restore from disk or a failover: the epoch names another server process.
    await redis.hset(s.keys.state, 'run', 'f'.repeat(40));
    expect(await s.renew('a', a.slot, a.token, a.epoch)).toEqual([-4]);
    const queued = await s.acquire('b', { waitMs: 5000 });
    expect(queued[0]).toBe(0);
    expect(Number(queued[2])).toBeGreaterThan(300); // next check: when the grace period ends
    expect(await s.acquire('try', { waitMs: -1 })).toEqual([0, 0, expect.any(Number), 0, expect.any(Number)]);
    await sleep(Number(queued[2]) + 20);
    const b = granted(await s.check('b'));
    expect(b.epoch).not.toBe(a.epoch);
    expect(b.token).toBeGreaterThan(a.token); // fencing stays monotonic across epochs
  });

  it('a missing epoch on a long-running Redis (a fresh mailbox) needs no grace', async () => {
    const s = slotScripts(redis, randomMailbox(), { graceMs: 1 });
    granted(await s.acquire('a'));
  });
});
