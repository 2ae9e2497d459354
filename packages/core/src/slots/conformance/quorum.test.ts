import { guardPort, RedisProcess } from '@smtp-slots/testkit';
import type { Redis } from 'ioredis';
import { createQuorumClients, waitForMajority } from '../../ha/quorum-clients.js';
import { QuorumSlots } from '../../ha/quorum-slots.js';
import type { SlotBackend } from '../slot-backend.js';
import { describeSlotBackendConformance } from './suite.js';

let masters: RedisProcess[] = [];
let admin: QuorumSlots;
let freeKilledPort: (() => Promise<void>) | undefined;
const connections = new WeakMap<SlotBackend, Redis[]>();

async function connect(leaseTtlMs: number, agentId: string): Promise<QuorumSlots> {
  const clients = createQuorumClients(masters.map((m) => m.url));
  await waitForMajority(clients);
  const slots = new QuorumSlots({
    masters: clients,
    ownsMasters: true,
    holder: { agentId, host: 'test', pid: process.pid },
    leaseTtlMs,
    safetyMarginMs: 500,
  });
  connections.set(slots, clients);
  return slots;
}

describeSlotBackendConformance({
  name: 'quorum (redlock over 3 independent masters)',
  fifo: false,
  async setup() {
    masters = await Promise.all([0, 1, 2].map(() => RedisProcess.start()));
    admin = await connect(3_000, 'admin');
  },
  async teardown() {
    await admin?.close();
    await Promise.all(masters.map((m) => m.stop()));
    await freeKilledPort?.();
  },
  createBackend: ({ leaseTtlMs, agentId }) => connect(leaseTtlMs, agentId),
  async crash(backend) {
    for (const client of connections.get(backend) ?? []) client.disconnect();
  },
  setLimit: (mailbox, limit) => admin.setConfig(mailbox, { limit }),
  fault: {
    name: 'SIGKILL one of the three masters',
    async inject() {
      await masters[0]!.kill();
      freeKilledPort = await guardPort(masters[0]!.port); // no other test's Redis may answer there
    },
  },
});
