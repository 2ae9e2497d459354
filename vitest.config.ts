import { defineConfig } from 'vitest/config';

// Each workspace package is a vitest project (see vitest.project.ts) with its own redis-server.
export default defineConfig({
  test: {
    projects: ['packages/*', 'test'],
    // Two cores: the fault and multi-process tests spawn real processes of their own.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
