import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { MailboxAdmin, SlotClient } from '@smtp-slots/core';
import { parseConfig, type CoordinatorConfigInput } from '../config.js';
import { startCoordinator, type RunningCoordinator } from '../main.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestCoordinator extends RunningCoordinator {
  /** A command connection of the test's own, for arranging state. */
  redis: Redis;
  admin: MailboxAdmin;
  /** Calls the API; `token: true` sends the configured admin token. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests check responses field by field
  call(method: string, path: string, options?: { token?: string | true; authorization?: string; body?: unknown }): Promise<{ status: number; body: any; headers: Headers }>;
  /** A SlotClient acting as one agent process; closed with the fixture. */
  slotClient(agentId: string, host: string, leaseTtlMs?: number): SlotClient;
}

/** A coordinator on a free loopback port against real Redis (the project's, unless `redisUrl`). */
export async function startTestCoordinator(overrides: Partial<CoordinatorConfigInput> & { redisUrl?: string } = {}): Promise<TestCoordinator> {
  const { redisUrl = inject('redisUrl'), ...rest } = overrides;
  const parsed = parseConfig({ adminToken: ADMIN_TOKEN, logLevel: 'silent', ...rest, redis: { url: redisUrl }, http: { host: '127.0.0.1', port: 0 } });
  if (!parsed.ok || parsed.help) throw new Error(`bad test config: ${parsed.ok ? 'help' : parsed.problems.join('; ')}`);
  const running = await startCoordinator(parsed.config);
  const redis = new Redis(redisUrl);
  // Some tests stop their Redis on purpose; the coordinator's own handling is what they check.
  redis.on('error', () => undefined);
  const clients: SlotClient[] = [];
  return {
    ...running,
    redis,
    admin: new MailboxAdmin(redis),
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token === true ? ADMIN_TOKEN : options.token}`;
      if (options.authorization !== undefined) headers['authorization'] = options.authorization;
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON (metrics, static files)
      }
      return { status: response.status, body, headers: response.headers };
    },
    slotClient(agentId, host, leaseTtlMs = 15_000) {
      // epochGraceMs 0: a test Redis that just started has no earlier leases to drain (invariant 5
      // is core's to test), so grants need not wait one TTL after its start.
      const client = new SlotClient({ redis, holder: { agentId, host, pid: process.pid }, leaseTtlMs, epochGraceMs: 0 });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await running.close();
      await redis.quit();
    },
  };
}

/** A mailbox address nobody else uses. */
export function randomMailbox(prefix = 'box'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
}

export const mailboxPath = (address: string) => `/api/mailboxes/${encodeURIComponent(address)}`;
