import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'demo',
    include: ['src/**/*.test.ts'],
    globalSetup: ['../testkit/src/global-setup.ts'],
  },
});
