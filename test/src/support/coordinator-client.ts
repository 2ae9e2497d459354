import { parseConfig, startCoordinator, type RunningCoordinator } from '@smtp-slots/coordinator';

export const E2E_ADMIN_TOKEN = 'e2e-admin-token-0123456789';

/** A coordinator against the test's Redis, and a small client for its API. */
export interface CoordinatorUnderTest {
  coordinator: RunningCoordinator;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests check responses field by field
  call(method: string, path: string, body?: unknown, admin?: boolean): Promise<{ status: number; body: any }>;
}

export async function startE2eCoordinator(redisUrl: string): Promise<CoordinatorUnderTest> {
  const parsed = parseConfig({ redis: { url: redisUrl }, http: { host: '127.0.0.1', port: 0 }, adminToken: E2E_ADMIN_TOKEN, logLevel: 'silent' });
  if (!parsed.ok || parsed.help) throw new Error(`bad coordinator config: ${parsed.ok ? 'help' : parsed.problems.join('; ')}`);
  const coordinator = await startCoordinator(parsed.config);
  return {
    coordinator,
    async call(method, path, body, admin = false) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (admin) headers['authorization'] = `Bearer ${E2E_ADMIN_TOKEN}`;
      const response = await fetch(`${coordinator.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
  };
}
