import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'coordinator',
    include: ['src/**/*.test.ts'],
    globalSetup: ['../testkit/src/global-setup.ts'],
    // Integration tests use real Redis servers and sockets; the 10,000-mailbox file seeds for seconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
