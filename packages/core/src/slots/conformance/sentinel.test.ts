import { RedisSentinelSet } from '@smtp-slots/testkit';
import { slotClientTarget } from './slot-client-target.js';
import { describeSlotBackendConformance } from './suite.js';

let set: RedisSentinelSet;

describeSlotBackendConformance(slotClientTarget({
  name: 'Redis Sentinel (primary, replica, 3 sentinels)',
  async start() {
    set = await RedisSentinelSet.start();
    return { sentinels: set.sentinelAddresses, name: set.name };
  },
  stop: () => set.stop(),
  fault: {
    name: 'SIGKILL the primary; the sentinels promote the replica',
    async inject() {
      await set.waitForFailover(await set.killPrimary());
    },
  },
}));
