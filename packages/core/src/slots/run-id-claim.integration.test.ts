import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { parseInfo, RedisProcess, waitFor } from '@smtp-slots/testkit';
import { MailboxAdmin } from '../admin/mailbox-admin.js';
import type { LeaseLostReason } from '../types.js';
import { randomMailbox, redisOlderThan, slotScripts } from '../test-support/scripts.js';
import { SLOT_CONNECTION_OPTIONS } from './run-id-claim.js';
import { SlotClient } from './slot-client.js';

// Invariant 5 without INFO on every call: each test has its own redis-server, so that INFO
// counts in commandstats are this test's alone.
const servers: RedisProcess[] = [];
const connections: Redis[] = [];
const clients: SlotClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of connections.splice(0)) c.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(): Promise<{ redis: RedisProcess; admin: Redis }> {
  const redis = await RedisProcess.start();
  servers.push(redis);
  const admin = new Redis(redis.url);
  connections.push(admin);
  return { redis, admin };
}

function connect(url: string, options = {}): Redis {
  const connection = new Redis(url, options);
  connections.push(connection);
  return connection;
}

/** INFO calls since the last reset (inside scripts or not); the reading INFO counts only later. */
async function infoCalls(admin: Redis): Promise<{ info: number; evalsha: number }> {
  const stats = parseInfo(await admin.info('commandstats'));
  const calls = (name: string) => Number(/calls=(\d+)/.exec(stats.get(`cmdstat_${name}`) ?? '')?.[1] ?? 0);
  return { info: calls('info'), evalsha: calls('evalsha') };
}

describe('run id claim (scripts)', () => {
  it('a claim equal to the stored run id spares INFO; any other claim is checked with INFO', async () => {
    const { admin } = await server();
    await redisOlderThan(admin, 2); // a fresh mailbox needs no grace
    const runId = parseInfo(await admin.info('server')).get('run_id')!;
    const mailbox = randomMailbox();
    const first = await slotScripts(admin, mailbox).acquire('a'); // no claim: INFO opens the epoch
    expect(first[0]).toBe(1);
    await admin.config('RESETSTAT');
    const claimed = slotScripts(admin, mailbox, { runIdClaim: runId });
    const b = await claimed.acquire('b');
    expect(b[0]).toBe(1);
    await claimed.release('b', Number(b[1]), Number(b[2]));
    await claimed.renew('a', Number(first[1]), Number(first[2]), String(first[4]));
    expect((await infoCalls(admin)).info).toBe(0);

    // A claim that is not the stored run id is no proof: INFO decides, and finds no change.
    const wrong = slotScripts(admin, mailbox, { runIdClaim: 'e'.repeat(40) });
    expect(await wrong.renew('a', Number(first[1]), Number(first[2]), String(first[4]))).toEqual([1, expect.any(Number)]);
    expect((await infoCalls(admin)).info).toBe(2); // the previous read, and the renewal's own
  });
});

describe('run id claim (SlotClient)', () => {
  const cycle = async (slots: SlotClient, mailbox: string, n: number) => {
    for (let i = 0; i < n; i++) await (await slots.acquire(mailbox, { worker: 'w' })).release();
  };

  it("on the agent's connection options, acquire and release read INFO once per connection, not per call", async () => {
    const { redis, admin } = await server();
    const slots = new SlotClient({ redis: connect(redis.url, SLOT_CONNECTION_OPTIONS), holder: { agentId: 'a', host: 'h', pid: 1 }, epochGraceMs: 0 });
    clients.push(slots);
    const mailbox = randomMailbox();
    await cycle(slots, mailbox, 2); // the first call starts reading the run id
    await admin.config('RESETSTAT');
    await cycle(slots, mailbox, 20);
    expect(await infoCalls(admin)).toEqual({ info: 0, evalsha: 40 });
  });

  it('a connection that may send a command again after a reconnect never claims: INFO on every acquire', async () => {
    const { redis, admin } = await server();
    const slots = new SlotClient({ redis: connect(redis.url), holder: { agentId: 'a', host: 'h', pid: 1 }, epochGraceMs: 0 });
    clients.push(slots);
    const mailbox = randomMailbox();
    await cycle(slots, mailbox, 2);
    await admin.config('RESETSTAT');
    await cycle(slots, mailbox, 20);
    expect((await infoCalls(admin)).info).toBe(20);
  });

  it('a Redis restarted from its dump at the same address is a new epoch for a client that claimed the old run id', async () => {
    const { redis, admin } = await server();
    await redisOlderThan(admin, 7); // a fresh mailbox on this Redis needs no grace of its own
    const connection = connect(redis.url, SLOT_CONNECTION_OPTIONS);
    const slots = new SlotClient({ redis: connection, holder: { agentId: 'a', host: 'h', pid: 1 }, leaseTtlMs: 3000, safetyMarginMs: 500, epochGraceMs: 5000 });
    clients.push(slots);
    const mailbox = randomMailbox();
    await new MailboxAdmin(admin).ensureMailbox(mailbox, { limit: 2 });
    const held = await slots.acquire(mailbox, { worker: 'holder' });
    await cycle(slots, mailbox, 2); // the client claims this process's run id now
    let lost: LeaseLostReason | undefined;
    slots.on('lost', (_lease, reason) => (lost = reason));
    await admin.save(); // the dump holds the lease and the epoch of this process
    await redis.restart(); // same port, same data, another process
    await waitFor(() => connection.status === 'ready', { message: 'the client to reconnect' });
    // Slot 2 is free in the restored state, but its holders may still run: no grant in the grace.
    expect(await slots.tryAcquire(mailbox, { worker: 'newcomer' })).toBeNull();
    await waitFor(() => lost !== undefined, { message: 'the old lease to be lost' });
    expect(lost).toBe('epoch');
    expect(held.signal.aborted).toBe(true);
  });
});
