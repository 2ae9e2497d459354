import { RedisProcess } from '@smtp-slots/testkit';
import { slotClientTarget } from './slot-client-target.js';
import { describeSlotBackendConformance } from './suite.js';

let redis: RedisProcess;

describeSlotBackendConformance(slotClientTarget({
  name: 'a standalone Redis',
  async start() {
    redis = await RedisProcess.start();
    return { url: redis.url };
  },
  stop: () => redis.stop(),
  fault: {
    name: 'Redis restarts without its data (epoch grace)',
    inject: () => redis.restart(),
  },
}));
