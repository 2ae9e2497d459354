import { fileURLToPath } from 'node:url';
import { workspaceProject } from '../../vitest.project.js';

const clusterSetup = fileURLToPath(new URL('./src/test-support/cluster-global-setup.ts', import.meta.url));

// Core's integration tests once more, on a real 3-master Redis Cluster instead of one redis-server.
export default workspaceProject('core-cluster', {
  include: ['src/{slots,limits,admin,trail}/*.integration.test.ts'],
  globalSetup: [clusterSetup],
});
