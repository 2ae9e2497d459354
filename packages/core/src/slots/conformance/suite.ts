import { randomUUID } from 'node:crypto';
import { CountingServer, waitFor } from '@smtp-slots/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AcquireAbortedError, AcquireTimeoutError } from '../../errors.js';
import type { SlotBackend } from '../slot-backend.js';
import type { Lease } from '../../types.js';
import type { ConformanceTarget } from './target.js';
import { UpstreamLoad } from './upstream-load.js';

const LEASE_TTL_MS = 3_000;

/**
 * Registers the behaviour every slot backend must show, against one deployment: capacity,
 * release, waiting, timeouts, crash recovery, safety under contention (peak upstream
 * connections ≤ limit), FIFO where promised, and safety + progress through the target's fault.
 */
export function describeSlotBackendConformance(target: ConformanceTarget): void {
  describe(`slot backend conformance: ${target.name}`, { timeout: 60_000 }, () => {
    const open: SlotBackend[] = [];
    let server: CountingServer;

    const backend = async () => {
      const created = await target.createBackend({ leaseTtlMs: LEASE_TTL_MS, agentId: `agent-${open.length}` });
      open.push(created);
      return created;
    };
    const mailbox = async (limit: number) => {
      const name = `conformance-${randomUUID()}@example.test`;
      await target.setLimit(name, limit);
      return name;
    };

    beforeAll(async () => {
      await target.setup();
      server = await new CountingServer().start();
      // A freshly started Redis makes no grant for one lease TTL (it cannot know what it forgot).
      const warmup = await target.createBackend({ leaseTtlMs: LEASE_TTL_MS, agentId: 'warmup' });
      const box = await mailbox(1);
      const lease = await waitFor(() => warmup.tryAcquire(box, { worker: 'warmup' }), { timeoutMs: 20_000, message: 'a first grant' });
      await lease.release();
      await warmup.close();
    }, 120_000);
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
    });
    afterAll(async () => {
      await server?.stop();
      await target.teardown();
    }, 60_000);

    it('grants up to the limit, then tryAcquire answers null until a release', async () => {
      const slots = await backend();
      const box = await mailbox(2);
      const a = await slots.tryAcquire(box, { worker: 'a' });
      const b = await slots.tryAcquire(box, { worker: 'b' });
      expect(a && b).toBeTruthy();
      expect(new Set([a!.slot, b!.slot])).toEqual(new Set([1, 2]));
      expect(b!.token).not.toBe(a!.token);
      expect(await slots.tryAcquire(box, { worker: 'c' })).toBeNull();
      await a!.release();
      await a!.release(); // idempotent
      const c = await slots.tryAcquire(box, { worker: 'c' });
      expect(c?.slot).toBe(a!.slot);
      expect(c!.token).toBeGreaterThan(b!.token);
      expect(a!.signal.aborted).toBe(false); // a normal release is not a loss
    });

    it('a waiter gets the slot when the holder releases; timeouts and aborts reject', async () => {
      const [one, two] = [await backend(), await backend()];
      const box = await mailbox(1);
      const held = await one.acquire(box, { worker: 'holder' });
      await expect(two.acquire(box, { worker: 'late', timeoutMs: 300 })).rejects.toBeInstanceOf(AcquireTimeoutError);
      const controller = new AbortController();
      const aborted = two.acquire(box, { worker: 'cancelled', signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toBeInstanceOf(AcquireAbortedError);
      const waiting = two.acquire(box, { worker: 'waiter', timeoutMs: 10_000 });
      await held.release();
      const next = await waiting;
      expect(next.slot).toBe(1);
      expect(next.remainingMs()).toBeGreaterThan(0);
      await next.release();
    });

    it("a crashed holder's lease aborts on its side before the slot is granted again", async () => {
      const [crashing, survivor] = [await backend(), await backend()];
      const box = await mailbox(1);
      const orphan = await crashing.acquire(box, { worker: 'crashes' });
      await target.crash(crashing);
      const next = await survivor.acquire(box, { worker: 'next', timeoutMs: LEASE_TTL_MS * 3 });
      // The holder that lost contact must have stopped before anyone else could start.
      expect(orphan.signal.aborted).toBe(true);
      expect(orphan.remainingMs()).toBe(0);
      await next.release();
    });

    it('never exceeds the limit upstream with 3 backends × 4 workers contending', async () => {
      const backends = [await backend(), await backend(), await backend()];
      const box = await mailbox(3);
      server.resetPeak();
      const load = new UpstreamLoad(backends, { mailbox: box, workersPerBackend: 4, server, holdMs: 10 }).start();
      try {
        await waitFor(() => load.grants >= 150, { timeoutMs: 40_000, message: '150 grants' });
      } finally {
        await load.stop();
      }
      expect(server.peak).toBeLessThanOrEqual(3);
      expect(server.peak).toBe(3); // the limit is actually used
      expect(load.lost).toBe(0);
      if (target.fifo) expect(load.grantsByWorker.size).toBe(12); // nobody starves
    });

    if (target.fifo) {
      it('grants in arrival order across backends', async () => {
        const backends = [await backend(), await backend(), await backend()];
        const box = await mailbox(1);
        const holder = await backends[0]!.acquire(box, { worker: 'first' });
        const order: string[] = [];
        const waiting: Array<Promise<void>> = [];
        for (let i = 0; i < 6; i += 1) {
          const worker = `w${i}`;
          waiting.push(backends[i % 3]!.acquire(box, { worker, timeoutMs: 20_000 }).then(async (lease: Lease) => {
            order.push(worker);
            await lease.release();
          }));
          await waitFor(async () => (await target.waiters!(box)) === i + 1, { message: `${worker} queued` });
        }
        await holder.release();
        await Promise.all(waiting);
        expect(order).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
      });
    }

    if (target.fault) {
      const fault = target.fault;
      it(`keeps the limit and resumes grants through a fault: ${fault.name}`, async () => {
        const backends = [await backend(), await backend(), await backend()];
        const box = await mailbox(3);
        server.resetPeak();
        // Holds longer than the outage: holders from before the fault are still connected when
        // Redis answers again, which is what could over-grant.
        const load = new UpstreamLoad(backends, { mailbox: box, workersPerBackend: 3, server, holdMs: 400 }).start();
        try {
          await waitFor(() => load.grants >= 6 && server.open === 3, { timeoutMs: 20_000, message: 'all slots held' });
          await fault.inject(box);
          const before = load.grants;
          await waitFor(() => load.grants >= before + 10, { timeoutMs: 40_000, message: 'grants after the fault' });
        } finally {
          await load.stop();
        }
        expect(server.peak).toBeLessThanOrEqual(3);
      });
    }
  });
}
