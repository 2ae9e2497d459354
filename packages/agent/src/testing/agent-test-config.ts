import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfigInput } from '../config.js';

export interface AgentTestConfigOptions {
  redisUrl: string;
  mailbox: string;
  /** Port of the test's upstream; the mailbox authenticates as itself with password `pw`. */
  upstreamPort: number;
  /** Prefix of the fresh spool folder under the system's temp folder. */
  spoolPrefix: string;
  /** Mailbox keys over the defaults (limit 2, no practical rate limit). */
  mailboxOverrides?: Record<string, unknown>;
  /** Top-level keys over the defaults. */
  top?: Partial<AgentConfigInput>;
}

/** One in-process agent on a loopback relay and free ports, fast retries, silent, for integration tests. */
export function agentTestConfig(o: AgentTestConfigOptions): AgentConfigInput {
  return {
    agentId: `agent-${randomBytes(3).toString('hex')}`,
    redis: { url: o.redisUrl },
    relay: { port: 0 },
    spool: { dir: mkdtempSync(join(tmpdir(), o.spoolPrefix)) },
    metrics: { port: 0 },
    slots: { leaseTtlMs: 3_000 },
    sender: { workers: 3, retry: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 } },
    heartbeatMs: 500,
    shutdownTimeoutMs: 3_000,
    logLevel: 'silent',
    mailboxes: [{ address: o.mailbox, upstream: { host: '127.0.0.1', port: o.upstreamPort, auth: { user: o.mailbox, pass: 'pw' } }, limit: 2, ratePerMinute: 1_000_000, ...o.mailboxOverrides }],
    ...o.top,
  };
}
