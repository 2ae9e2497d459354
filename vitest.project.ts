import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const globalSetup = fileURLToPath(new URL('./packages/testkit/src/global-setup.ts', import.meta.url));

/**
 * The shape every package's vitest project shares: workspace packages resolve to their TypeScript
 * source (the `source` export condition), a private redis-server per project (testkit's globalSetup),
 * and timeouts that hold on a loaded 2-core machine (project configs do not inherit the root's).
 */
export function workspaceProject(name: string, test: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      name,
      include: ['src/**/*.test.ts'],
      globalSetup: [globalSetup],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...test,
    },
  });
}
