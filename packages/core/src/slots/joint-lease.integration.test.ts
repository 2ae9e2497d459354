import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@smtp-slots/testkit';
import { AcquireAbortedError, LeaseLostError } from '../errors.js';
import { MailboxAdmin } from '../admin/mailbox-admin.js';
import type { RedisClient } from '../redis/connect.js';
import { randomMailbox } from '../test-support/scripts.js';
import { createTestRedis } from '../test-support/test-redis.js';
import { acquireJoint, JointLease } from './joint-lease.js';
import { SlotClient } from './slot-client.js';

let redis: RedisClient;
let admin: MailboxAdmin;
const clients: SlotClient[] = [];
const connections: RedisClient[] = [];

beforeAll(() => {
  redis = createTestRedis();
  admin = new MailboxAdmin(redis);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of connections.splice(0)) c.disconnect();
});
afterAll(() => redis.disconnect());

function client(): SlotClient {
  const connection = createTestRedis();
  connections.push(connection);
  const c = new SlotClient({
    redis: connection,
    holder: { agentId: `agent-${clients.length}`, host: 'test-host', pid: process.pid },
    leaseTtlMs: 2000, safetyMarginMs: 500, safetyPollMs: 250, epochGraceMs: 0,
  });
  clients.push(c);
  return c;
}

async function limited(limit: number, name = randomMailbox()): Promise<string> {
  await admin.ensureMailbox(name, { limit });
  return name;
}

const inUse = async (name: string) => (await admin.snapshot(name))?.inUse;

describe('acquireJoint (a mailbox slot plus a shared limit)', () => {
  it('the shared limit caps holders across mailboxes whose own limits are higher; every part is released', async () => {
    const app = await limited(3, `app:${randomUUID()}`);
    const mailboxes = [await limited(4), await limited(4)];
    const [a, b] = [client(), client()];
    let inFlight = 0;
    let peak = 0;
    let done = 0;
    // Two processes, four workers per mailbox, each lease used for a short "request".
    await Promise.all(mailboxes.flatMap((mailbox, m) => Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 5; i += 1) {
        const lease = await acquireJoint(m === 0 ? a : b, [mailbox, app], { worker: `w${w}`, timeoutMs: 10_000 });
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await sleep(15);
        inFlight -= 1;
        done += 1;
        await lease.release();
      }
    })));
    expect(done).toBe(40);
    expect(peak).toBe(3);
    expect([await inUse(app), await inUse(mailboxes[0]!), await inUse(mailboxes[1]!)]).toEqual([0, 0, 0]);
  });

  it('a joint lease is lost when either part is lost, and its release still frees the other part', async () => {
    const app = await limited(1, `app:${randomUUID()}`);
    const mailbox = await limited(1);
    const lease = await acquireJoint(client(), [mailbox, app], { worker: 'w' });
    expect(lease).toBeInstanceOf(JointLease);
    expect(lease.mailbox).toBe(mailbox);
    expect(lease.remainingMs()).toBeGreaterThan(0);
    expect(await inUse(app)).toBe(1);
    await admin.forceRelease(app, 1);
    await waitFor(() => lease.signal.aborted);
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(lease.remainingMs()).toBe(0);
    expect(await inUse(mailbox)).toBe(1);
    await lease.release();
    expect(await inUse(mailbox)).toBe(0);
  });

  it('waiting for the shared limit ends when the mailbox slot already held is lost; nothing stays held', async () => {
    const app = await limited(1, `app:${randomUUID()}`);
    const mailbox = await limited(1);
    const other = client();
    const blocker = await other.acquire(app, { worker: 'other-mailbox' });
    const waiting = acquireJoint(client(), [mailbox, app], { worker: 'w' });
    await waitFor(async () => (await admin.snapshot(app))?.waiters.length === 1);
    expect(await inUse(mailbox)).toBe(1);
    await admin.forceRelease(mailbox, 1);
    await expect(waiting).rejects.toBeInstanceOf(AcquireAbortedError);
    await waitFor(async () => (await admin.snapshot(app))?.waiters.length === 0);
    expect(await inUse(mailbox)).toBe(0);
    await blocker.release();
  });

  it('a failed wait for the shared limit releases the mailbox slot', async () => {
    const app = await limited(1, `app:${randomUUID()}`);
    const mailbox = await limited(1);
    const blocker = await client().acquire(app, { worker: 'other-mailbox' });
    await expect(acquireJoint(client(), [mailbox, app], { worker: 'w', timeoutMs: 300 })).rejects.toMatchObject({ code: 'ACQUIRE_TIMEOUT' });
    expect(await inUse(mailbox)).toBe(0);
    await blocker.release();
  });
});

describe('JointLease write fence', () => {
  it('checkLive ends the joint lease at once when one part\'s deadline passed while the loop was busy', async () => {
    const [mailbox, app] = [await limited(1), await limited(1, `app:${randomUUID()}`)];
    const lease = await acquireJoint(client(), [mailbox, app], { worker: 'w1', timeoutMs: 5_000 });
    expect(lease.checkLive()).toBe(true);
    // Starved past the deadline (ttl 2 s − margin 0.5 s): no timer has run yet, the clock says it passed.
    const until = performance.now() + 1_700;
    while (performance.now() < until) { /* busy */ }
    expect(lease.signal.aborted).toBe(false);
    expect(lease.checkLive()).toBe(false);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as LeaseLostError).reason).toBe('deadline');
    await lease.release();
  });
});
