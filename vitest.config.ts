import { defineConfig } from 'vitest/config';

// Each workspace package is a vitest project (see vitest.project.ts) with its own redis-server;
// core-cluster runs core's integration tests again on a real 3-master Redis Cluster.
export default defineConfig({
  test: {
    projects: ['packages/*', 'test', 'packages/core/vitest.cluster.config.ts'],
    // Two cores: the fault and multi-process tests spawn real processes of their own.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
