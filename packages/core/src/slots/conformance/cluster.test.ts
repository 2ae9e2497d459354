import { RedisCluster } from '@smtp-slots/testkit';
import { mailboxKeys } from '../../redis/keys.js';
import { slotClientTarget } from './slot-client-target.js';
import { describeSlotBackendConformance } from './suite.js';

let cluster: RedisCluster;

describeSlotBackendConformance(slotClientTarget({
  name: 'Redis Cluster (3 masters, 1 replica each)',
  async start() {
    cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
    return { cluster: cluster.startupNodes.slice(0, 3) };
  },
  stop: () => cluster.stop(),
  fault: {
    name: "SIGKILL the master serving the mailbox's hash slot; its replica takes over",
    async inject(mailbox) {
      const master = await cluster.masterFor(mailboxKeys(mailbox).state);
      await cluster.killNode(master);
      await cluster.waitForFailover(master);
    },
  },
}));
