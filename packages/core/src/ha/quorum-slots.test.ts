import { guardPort, ping, RedisProcess, waitFor } from '@smtp-slots/testkit';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MailboxPausedError, RedisUnavailableError } from '../errors.js';
import { createQuorumClients, waitForMajority } from './quorum-clients.js';
import { QuorumSlots } from './quorum-slots.js';

const TTL = 2_000;

describe('QuorumSlots', { timeout: 30_000 }, () => {
  let masters: RedisProcess[];
  const open: QuorumSlots[] = [];
  const guards = new Map<RedisProcess, () => Promise<void>>();
  /** SIGKILL, keeping the port from other tests' processes until the master restarts. */
  const kill = async (master: RedisProcess) => {
    await master.kill();
    guards.set(master, await guardPort(master.port));
  };
  const restart = async (master: RedisProcess) => {
    await guards.get(master)?.();
    guards.delete(master);
    await master.restart();
  };

  async function slots(): Promise<QuorumSlots> {
    const clients = createQuorumClients(masters.map((m) => m.url));
    await waitForMajority(clients);
    const created = new QuorumSlots({ masters: clients, ownsMasters: true, holder: { agentId: 'a', host: 'h', pid: 1 }, leaseTtlMs: TTL, safetyMarginMs: 300 });
    open.push(created);
    return created;
  }
  const mailbox = () => `quorum-${randomUUID()}`;
  /** A master votes only once it has been up for one TTL. */
  const votingAgain = async (client: QuorumSlots) => {
    const probe = mailbox();
    const lease = await waitFor(() => client.tryAcquire(probe, { worker: 'probe' }), { timeoutMs: 15_000, message: 'a grant' });
    await lease.release();
  };

  beforeAll(async () => {
    masters = await Promise.all([0, 1, 2].map(() => RedisProcess.start()));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    for (const master of masters) if (!(await ping(master.port, '127.0.0.1', 300))) await restart(master);
  });
  afterAll(async () => {
    await Promise.all(masters.map((m) => m.stop()));
    await Promise.all([...guards.values()].map((free) => free()));
  });

  it('lowering the limit revokes nothing and grants again only below the new limit', async () => {
    const client = await slots();
    await votingAgain(client);
    const box = mailbox();
    const held = [await client.acquire(box, { worker: '1' }), await client.acquire(box, { worker: '2' }), await client.acquire(box, { worker: '3' })];
    await client.setConfig(box, { limit: 2 });
    expect(held.every((l) => !l.signal.aborted)).toBe(true);
    const bySlot = new Map(held.map((l) => [l.slot, l]));
    await bySlot.get(1)!.release();
    expect(await client.tryAcquire(box, { worker: 'x' })).toBeNull(); // 2 still held, new limit 2
    await bySlot.get(3)!.release();
    const next = await client.tryAcquire(box, { worker: 'x' });
    expect(next?.slot).toBe(1);
    await client.setConfig(box, { paused: true, pauseReason: 'quota' });
    await expect(client.acquire(box, { worker: 'y' })).rejects.toBeInstanceOf(MailboxPausedError);
  });

  it('a master that restarted empty abstains for one TTL, so it cannot hand out a held slot twice', async () => {
    const [a, b] = [await slots(), await slots()];
    await votingAgain(a);
    const box = mailbox();
    await a.setConfig(box, { limit: 1 });
    await kill(masters[2]!);
    const held = await a.acquire(box, { worker: 'holder' }); // locked on masters 0 and 1 only
    await restart(masters[2]!);
    await votingAgain(b); // master 2 votes again (empty)
    await masters[1]!.restart(); // master 1 forgets the lock: only master 0 still has it
    await waitFor(() => b.options.masters.every((c) => c.status === 'ready'), { message: 'reconnected' });
    // Without abstention masters 1 and 2 would form a majority for a second holder.
    expect(await b.tryAcquire(box, { worker: 'intruder' })).toBeNull();
    const next = await b.acquire(box, { worker: 'next', timeoutMs: 15_000 });
    expect(held.signal.aborted).toBe(true); // the first holder gave up before the second started
    await next.release();
  });

  it('fails closed when a majority of masters is down: no grant, and held leases abort', async () => {
    const client = await slots();
    await votingAgain(client);
    const box = mailbox();
    const held = await client.acquire(box, { worker: 'holder' });
    await Promise.all([kill(masters[0]!), kill(masters[1]!)]);
    await expect(client.tryAcquire(box, { worker: 'x' })).rejects.toBeInstanceOf(RedisUnavailableError);
    await waitFor(() => held.signal.aborted, { timeoutMs: TTL * 2, message: 'the lease to abort' });
  });
});

