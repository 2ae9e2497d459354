import { defineConfig } from 'vitest/config';

// Each workspace package is a vitest project with its own redis-server (see packages/testkit).
export default defineConfig({
  test: {
    projects: ['packages/*', 'test'],
    // Two cores: the fault and multi-process tests spawn real processes of their own.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env['CI'] ? ['default'] : ['default'],
  },
});
